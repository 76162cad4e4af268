"""Authentication: users, JWT access tokens, rotated refresh tokens."""
