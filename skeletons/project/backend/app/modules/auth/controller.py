"""/api/auth routes: HTTP in, DTOs to the service, envelopes out."""

from __future__ import annotations

from quart import Blueprint, Response, request

from app.common.response import success
from app.common.validation import parse_body
from app.modules.auth.decorators import current_user, get_auth_service, require_auth
from app.modules.auth.dtos import LoginRequest, LogoutRequest, RefreshRequest, RegisterRequest, UserResponse

blueprint = Blueprint("auth", __name__)


@blueprint.post("/register")
async def register() -> tuple[Response, int]:
    data = await parse_body(RegisterRequest)
    client = request.remote_addr or "unknown"
    return success(await get_auth_service().register(data, client), status=201)


@blueprint.post("/login")
async def login() -> tuple[Response, int]:
    data = await parse_body(LoginRequest)
    client = request.remote_addr or "unknown"
    return success(await get_auth_service().login(data, client))


@blueprint.post("/refresh")
async def refresh() -> tuple[Response, int]:
    data = await parse_body(RefreshRequest)
    return success(await get_auth_service().refresh(data.refresh_token))


@blueprint.post("/logout")
async def logout() -> tuple[Response, int]:
    data = await parse_body(LogoutRequest)
    await get_auth_service().logout(data.refresh_token)
    return success(None, message="Logged out")


@blueprint.get("/me")
@require_auth
async def me() -> tuple[Response, int]:
    return success(UserResponse.model_validate(current_user()))
