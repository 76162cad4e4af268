"""ASGI glue for running behind a reverse proxy (nginx)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

_WS_SCHEMES = {"http": "ws", "https": "wss"}


def websocket_scheme_fix(asgi_app: ASGIApp) -> ASGIApp:
    """Give WebSocket scopes their ws/wss scheme back.

    hypercorn's ProxyFixMiddleware copies X-Forwarded-Proto (``http``/``https``, as nginx sends
    it) into every scope, WebSocket ones included, and Quart then refuses the upgrade with a 400.
    Wrap the app *inside* ProxyFixMiddleware so the scheme is corrected after it ran.
    """

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") == "websocket" and scope.get("scheme") in _WS_SCHEMES:
            scope = dict(scope, scheme=_WS_SCHEMES[scope["scheme"]])
        await asgi_app(scope, receive, send)

    return app
