"""GET /health: liveness and dependencies, outside /api and not enveloped.

The database check reads a real table through the pool the requests use (on
SQLite it also checks the file exists and is writable), so a lost or read-only
database is a 503. The result is cached for HEALTH_CACHE_SECONDS and computed by
one caller at a time, so a health check under load costs no query per call.

The version is shown only to a caller presenting a valid access token (null otherwise).

GET and HEAD are answered by `HealthEndpoint`, a WSGI middleware in front of Flask's
request machinery: a load balancer polls this path all the time, and a cached answer should
cost what it is. The blueprint route stays, for the same answer through the app (and 405
for other methods).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from app import __version__
from app.common.dtos import HealthResponse
from app.common.validation import contract
from app.database import get_db
from app.redis_client import get_redis

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

blueprint = Blueprint("health", __name__)

HEALTH_CACHE_SECONDS = 1.0


def _check_database() -> str:
    try:
        get_db().ping()
    except Exception as exc:  # any failure means "down"
        log.warning("health: database check failed: %s", exc)
        _reset_pool()
        return "error"
    return "ok"


def _reset_pool() -> None:
    # Connections opened while the database was broken (read-only, missing) stay broken:
    # drop the idle ones so the pool reconnects once the database is back.
    try:
        get_db().reset_pool()
    except Exception as exc:
        log.warning("health: could not reset the database pool: %s", exc)


def _check_redis() -> str:
    redis = get_redis()
    if redis is None:
        return "disabled"
    try:
        redis.ping()
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
        self._lock = threading.Lock()

    def get(self) -> dict[str, str]:
        if self.checks is not None and time.monotonic() - self.checked_at < self.ttl:
            return self.checks
        with self._lock:
            # Another caller may have refreshed while this one waited.
            if self.checks is None or time.monotonic() - self.checked_at >= self.ttl:
                database, redis = _check_database(), _check_redis()
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


def health_answer(authorization: str) -> tuple[int, bytes]:
    """The status and JSON body of /health (inside an app context)."""
    checks = _health_cache().get()
    healthy = all(value in {"ok", "disabled"} for value in checks.values())
    body = HealthResponse(
        status="healthy" if healthy else "unhealthy",
        version=__version__ if authorization and _may_see_version(authorization) else None,
        checks=checks,
    )
    return (200 if healthy else 503), body.model_dump_json().encode()


@blueprint.get("/health")
@contract(response=HealthResponse, envelope=False, extra_statuses=(503,))
def health() -> Response:
    """Liveness and dependencies (not enveloped); 503 when one is down. `version` needs a token."""
    status, body = health_answer(request.headers.get("Authorization", ""))
    return Response(body, status=status, content_type="application/json")


class HealthEndpoint:
    """WSGI middleware: answers GET/HEAD /health itself and passes everything else on."""

    def __init__(self, app: Flask, inner: WSGIApp) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") != "/health" or method not in ("GET", "HEAD"):
            return self.inner(environ, start_response)
        try:
            with self.app.app_context():
                status, body = health_answer(environ.get("HTTP_AUTHORIZATION", ""))
        except Exception:
            log.exception("health: the answer could not be computed")
            status, body = 503, b'{"status":"unhealthy","version":null,"checks":{}}'
        start_response(
            "200 OK" if status == 200 else "503 Service Unavailable",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [b"" if method == "HEAD" else body]
