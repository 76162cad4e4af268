"""Behind nginx: X-Forwarded-* handling must not break WebSocket upgrades."""

from __future__ import annotations

import asyncio

from hypercorn.middleware import ProxyFixMiddleware

from app.proxy import websocket_scheme_fix


def _scope(kind: str, proto: bytes) -> dict:
    return {
        "type": kind,
        "scheme": "ws" if kind == "websocket" else "http",
        "client": ("127.0.0.1", 5555),
        "headers": [(b"x-forwarded-proto", proto), (b"x-forwarded-for", b"203.0.113.9")],
    }


def _seen_through_proxy_fix(kind: str, proto: bytes) -> dict:
    seen: list[dict] = []

    async def inner(scope, receive, send):  # noqa: ANN001 - ASGI signature
        seen.append(scope)

    app = ProxyFixMiddleware(websocket_scheme_fix(inner), mode="legacy", trusted_hops=1)
    asyncio.run(app(_scope(kind, proto), None, None))
    return seen[0]


def test_websocket_upgrades_keep_a_websocket_scheme_behind_tls() -> None:
    scope = _seen_through_proxy_fix("websocket", b"https")
    assert scope["scheme"] == "wss"
    assert scope["client"][0] == "203.0.113.9"


def test_websocket_upgrades_keep_a_websocket_scheme_over_http() -> None:
    assert _seen_through_proxy_fix("websocket", b"http")["scheme"] == "ws"


def test_http_requests_keep_the_forwarded_scheme() -> None:
    assert _seen_through_proxy_fix("http", b"https")["scheme"] == "https"
