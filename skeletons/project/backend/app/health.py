"""GET /health: liveness and dependencies, outside /api and not enveloped.

The database check reads a real table through the pool the requests use (on
SQLite it also checks the file exists and is writable), so a lost or read-only
database is a 503. The result is cached for HEALTH_CACHE_SECONDS and computed by
one caller at a time, so a health check under load costs no query per call.

The version is shown only to a caller presenting a valid access token (null otherwise).

GET and HEAD are answered by `HealthEndpoint`, in front of Quart's request
machinery: a load balancer or orchestrator polls this path all the time, and a
cached answer should cost what it is (measured: about half of the CPU time of the
same answer through a Quart route, docs/benchmarks.md of fsi). Nothing the app's
request hooks do applies to it (no session, CORS or body). The blueprint route
stays, for the same answer through the app (and 405 for other methods).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from quart import Blueprint, Quart, Response, current_app, request

from app import __version__
from app.common.dtos import HealthResponse
from app.common.validation import contract
from app.database import get_db
from app.redis_client import get_redis

log = logging.getLogger(__name__)

ASGIApp = Callable[[Scope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]

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


def _may_see_version(authorization: str) -> bool:
    """True for a valid access token in an Authorization header (no database query)."""
    scheme, _, token = authorization.partition(" ")
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


async def health_answer(authorization: str) -> tuple[int, bytes]:
    """The status and JSON body of /health (inside an app context)."""
    checks = await _health_cache().get()
    healthy = all(value in {"ok", "disabled"} for value in checks.values())
    body = HealthResponse(
        status="healthy" if healthy else "unhealthy",
        version=__version__ if authorization and _may_see_version(authorization) else None,
        checks=checks,
    )
    return (200 if healthy else 503), body.model_dump_json().encode()


@blueprint.get("/health")
@contract(response=HealthResponse, envelope=False, extra_statuses=(503,))
async def health() -> Response:
    """Liveness and dependencies (not enveloped); 503 when one is down. `version` needs a token."""
    status, body = await health_answer(request.headers.get("Authorization", ""))
    return Response(body, status=status, content_type="application/json")


class HealthEndpoint:
    """ASGI middleware: answers GET/HEAD /health itself and passes everything else on."""

    def __init__(self, app: Quart, inner: ASGIApp) -> None:
        self.app = app
        self.inner = inner

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if scope["type"] != "http" or scope["path"] != "/health" or scope["method"] not in ("GET", "HEAD"):
            await self.inner(scope, receive, send)
            return
        authorization = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        try:
            async with self.app.app_context():
                status, body = await health_answer(authorization)
        except Exception:
            log.exception("health: the answer could not be computed")
            status, body = 503, b'{"status":"unhealthy","version":null,"checks":{}}'
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
