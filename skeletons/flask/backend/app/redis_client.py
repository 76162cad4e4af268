"""The optional Redis connection (REDIS_URL): cross-worker fan-out, shared rate limits, health."""

from __future__ import annotations

from flask import current_app
from redis import Redis


def create_redis(url: str) -> Redis:
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
    )


def get_redis() -> Redis | None:
    """The current application's Redis client, or None when REDIS_URL is unset."""
    return current_app.extensions.get("redis")
