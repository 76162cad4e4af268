from __future__ import annotations

import os

from app.config import Settings
from app.main import create_app


async def test_health_reports_dependencies(client):
    response = await client.get("/health")
    assert response.status_code == 200
    body = await response.get_json()
    assert body["status"] == "healthy"
    assert body["version"] is None  # only for a caller with a valid access token
    assert body["checks"]["database"] == "ok"
    expected_redis = "ok" if os.environ.get("REDIS_URL") else "disabled"
    assert body["checks"]["redis"] == expected_redis
    assert "success" not in body  # /health is not enveloped


async def test_health_is_503_when_the_database_is_down(settings: Settings):
    # Nothing listens on port 1: the connection is refused at once.
    broken = settings.replace(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/nothing",
        redis_url=None,
    )
    app = create_app(broken)
    async with app.test_app():
        response = await app.test_client().get("/health")
    assert response.status_code == 503
    body = await response.get_json()
    assert body["status"] == "unhealthy"
    assert body["checks"] == {"database": "error", "redis": "disabled"}


async def test_health_is_answered_in_front_of_the_app_with_head_and_no_store(app, client):
    hooks = []

    @app.before_request
    async def record() -> None:
        hooks.append("before_request")

    response = await client.get("/health")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert hooks == [], "GET /health does not go through Quart's request machinery"

    head = await client.head("/health")
    assert head.status_code == 200
    assert await head.get_data() == b""

    # Other methods reach the app: the route exists for GET only.
    assert (await client.post("/health")).status_code == 405
    assert hooks == ["before_request"]


async def test_health_answers_503_when_computing_the_answer_fails(app, client, monkeypatch, caplog):
    import app.health as health

    async def broken(authorization: str) -> tuple[int, bytes]:
        raise RuntimeError("boom")

    monkeypatch.setattr(health, "health_answer", broken)
    response = await client.get("/health")
    assert response.status_code == 503
    assert (await response.get_json())["status"] == "unhealthy"
    assert "the answer could not be computed" in caplog.text
