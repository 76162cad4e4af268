"""/api/auth routes: HTTP in, DTOs to the service, envelopes out."""

from __future__ import annotations

from quart import Blueprint, Response, request

from app.common.response import success
from app.common.validation import contract
from app.modules.auth.decorators import current_user, get_auth_service, require_auth
from app.modules.auth.dtos import (
    AuthResponse,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserResponse,
)

blueprint = Blueprint("auth", __name__)


@blueprint.post("/register")
@contract(body=RegisterRequest, response=AuthResponse, status=201, errors=(409, 429, 503))
async def register(body: RegisterRequest) -> tuple[Response, int]:
    """Create an account and log in."""
    client = request.remote_addr or "unknown"
    return success(await get_auth_service().register(body, client), status=201)


@blueprint.post("/login")
@contract(body=LoginRequest, response=AuthResponse, errors=(401, 429, 503))
async def login(body: LoginRequest) -> tuple[Response, int]:
    """Log in with e-mail and password."""
    client = request.remote_addr or "unknown"
    return success(await get_auth_service().login(body, client))


@blueprint.post("/refresh")
@contract(body=RefreshRequest, response=TokenPair, errors=(401,))
async def refresh(body: RefreshRequest) -> tuple[Response, int]:
    """Exchange a refresh token for a new pair (the old one is consumed)."""
    return success(await get_auth_service().refresh(body.refresh_token))


@blueprint.post("/logout")
@contract(body=LogoutRequest, response=None, errors=(401,))
async def logout(body: LogoutRequest) -> tuple[Response, int]:
    """End the login the refresh token belongs to."""
    await get_auth_service().logout(body.refresh_token)
    return success(None, message="Logged out")


@blueprint.get("/me")
@require_auth
@contract(response=UserResponse)
async def me() -> tuple[Response, int]:
    """The logged-in user."""
    return success(UserResponse.model_validate(current_user()))
