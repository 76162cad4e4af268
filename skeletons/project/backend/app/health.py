"""GET /health: liveness and dependencies, outside /api and not enveloped.

The database check reads a real table through the pool the requests use (on
SQLite it also checks the file exists and is writable), so a lost or read-only
database is a 503. The result is cached for HEALTH_CACHE_SECONDS and computed by
one caller at a time, so a health check under load costs no query per call.

The version is shown only to a caller presenting a valid access token (null otherwise).
"""

from __future__ import annotations

import asyncio
import logging
import time

from quart import Blueprint, Response, current_app, request

from app import __version__
from app.common.dtos import HealthResponse
from app.database import get_db
from app.redis_client import get_redis

log = logging.getLogger(__name__)

blueprint = Blueprint("health", __name__)

CHECK_TIMEOUT_SECONDS = 3.0
HEALTH_CACHE_SECONDS = 1.0


async def _check_database() -> str:
    try:
        await asyncio.wait_for(get_db().ping(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means "down"
        log.warning("health: database check failed: %s", exc)
        await _reset_pool()
        return "error"
    return "ok"


async def _reset_pool() -> None:
    # Connections opened while the database was broken (read-only, missing) stay broken:
    # drop the idle ones so the pool reconnects once the database is back.
    try:
        await get_db().reset_pool()
    except Exception as exc:
        log.warning("health: could not reset the database pool: %s", exc)


async def _check_redis() -> str:
    redis = get_redis()
    if redis is None:
        return "disabled"
    try:
        await asyncio.wait_for(redis.ping(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("health: redis check failed: %s", exc)
        return "error"
    return "ok"


class HealthCache:
    """The last checks and when they ran; one refresh at a time."""

    def __init__(self, ttl: float = HEALTH_CACHE_SECONDS) -> None:
        self.ttl = ttl
        self.checks: dict[str, str] | None = None
        self.checked_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> dict[str, str]:
        if self.checks is not None and time.monotonic() - self.checked_at < self.ttl:
            return self.checks
        async with self._lock:
            # Another caller may have refreshed while this one waited.
            if self.checks is None or time.monotonic() - self.checked_at >= self.ttl:
                database, redis = await asyncio.gather(_check_database(), _check_redis())
                self.checks = {"database": database, "redis": redis}
                self.checked_at = time.monotonic()
            return self.checks


def _health_cache() -> HealthCache:
    cache = current_app.extensions.get("health_cache")
    if cache is None:
        cache = current_app.extensions["health_cache"] = HealthCache()
    return cache


def _caller_may_see_version() -> bool:
    """True for a request with a valid access token (checked without a database query)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        from app.modules.auth.security import TokenError, decode_token
    except ImportError:  # a project without auth: nobody sees the version
        return False
    secret = current_app.extensions["settings"].jwt_secret
    try:
        decode_token(token.strip(), secret=secret, expected_type="access")
    except TokenError:
        return False
    return True


@blueprint.get("/health")
async def health() -> Response:
    checks = await _health_cache().get()
    healthy = all(value in {"ok", "disabled"} for value in checks.values())
    body = HealthResponse(
        status="healthy" if healthy else "unhealthy",
        version=__version__ if _caller_may_see_version() else None,
        checks=checks,
    )
    return Response(body.model_dump_json(), status=200 if healthy else 503, content_type="application/json")
