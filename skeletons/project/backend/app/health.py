"""GET /health: liveness and dependencies, outside /api and not enveloped."""

from __future__ import annotations

import asyncio
import logging

from quart import Blueprint, Response, jsonify

from app import __version__
from app.common.dtos import HealthResponse
from app.database import get_db
from app.redis_client import get_redis

log = logging.getLogger(__name__)

blueprint = Blueprint("health", __name__)

CHECK_TIMEOUT_SECONDS = 3.0


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


@blueprint.get("/health")
async def health() -> tuple[Response, int]:
    database, redis = await asyncio.gather(_check_database(), _check_redis())
    checks = {"database": database, "redis": redis}
    healthy = all(value in {"ok", "disabled"} for value in checks.values())
    body = HealthResponse(
        status="healthy" if healthy else "unhealthy",
        version=__version__,
        checks=checks,
    )
    return jsonify(body.model_dump(mode="json")), 200 if healthy else 503
