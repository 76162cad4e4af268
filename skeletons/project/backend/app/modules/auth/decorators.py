"""`require_auth` for routes and `current_user()` inside them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from quart import current_app, g, request

from app.common.exceptions import UnauthorizedError
from app.common.openapi import AUTH_ATTRIBUTE
from app.config import get_settings
from app.database import get_db
from app.modules.auth.models import User
from app.modules.auth.service import AuthService

P = ParamSpec("P")
_READ_ONLY_METHODS = frozenset({"GET", "HEAD"})
R = TypeVar("R")


def get_auth_service() -> AuthService:
    return AuthService(
        get_db(),
        get_settings(),
        current_app.extensions["password_hasher"],
        current_app.extensions["login_limiter"],
        # Set by the realtime module (when present): closes the sockets of a revoked login.
        current_app.extensions.get("on_family_revoked"),
    )


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Missing bearer token")
    return token.strip()


def require_auth(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Reject the request with 401 unless it carries a valid access token."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if request.method not in _READ_ONLY_METHODS:
            g.current_user = await get_auth_service().authenticate(bearer_token())
            return await view(*args, **kwargs)
        # A read-only request checks its token and reads through one pooled connection.
        async with get_db().shared_reads():
            g.current_user = await get_auth_service().authenticate(bearer_token())
            return await view(*args, **kwargs)

    setattr(wrapper, AUTH_ATTRIBUTE, True)  # /openapi.json: the route needs a bearer token
    return wrapper


def current_user() -> User:
    user = g.get("current_user")
    if user is None:
        raise UnauthorizedError()
    return user
