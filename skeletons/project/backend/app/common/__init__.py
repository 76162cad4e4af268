"""Pieces every module shares: envelopes, errors, request validation."""
