"""GET /health: liveness and dependencies, outside /api and not enveloped."""

from __future__ import annotations

import asyncio
import logging
import time

from quart import Blueprint, Response, current_app

from app import __version__
from app.common.dtos import HealthResponse
from app.database import get_db
from app.redis_client import get_redis

log = logging.getLogger(__name__)

blueprint = Blueprint("health", __name__)

CHECK_TIMEOUT_SECONDS = 3.0
# The checks' result is reused this long (per worker process): a load balancer polling /health,
# or a flood of requests to it, costs one database round trip a second, not one per request.
PROBE_TTL_SECONDS = 1.0


async def _check_database() -> str:
    try:
        await asyncio.wait_for(get_db().ping(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means "down"
        log.warning("health: database check failed: %s", exc)
        return "error"
    return "ok"


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


async def _checks() -> dict[str, str]:
    cache = current_app.extensions.setdefault("health_probe", {"at": 0.0, "checks": None})
    now = time.monotonic()
    if cache["checks"] is not None and now - cache["at"] < PROBE_TTL_SECONDS:
        return cache["checks"]
    # Requests arriving while this one probes answer with the previous result.
    cache["at"] = now
    database, redis = await asyncio.gather(_check_database(), _check_redis())
    cache["checks"] = {"database": database, "redis": redis}
    return cache["checks"]


@blueprint.get("/health")
async def health() -> Response:
    checks = await _checks()
    healthy = all(value in {"ok", "disabled"} for value in checks.values())
    body = HealthResponse(
        status="healthy" if healthy else "unhealthy",
        version=__version__,
        checks=checks,
    )
    return Response(body.model_dump_json(), status=200 if healthy else 503, content_type="application/json")
