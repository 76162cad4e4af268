"""Wire shapes shared by every module (mirrored to frontend/src/types/common.ts)."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: `data` of every list endpoint."""

    items: list[T]
    total: int
    page: int
    page_size: int


class SuccessBody(BaseModel, Generic[T]):
    """The success envelope around every /api response."""

    success: Literal[True] = True
    data: T
    message: str | None = None


class FieldError(BaseModel):
    """One invalid field: `details.fields[]` of a VALIDATION_ERROR."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """The error envelope: every error, from validation to 500."""

    success: Literal[False] = False
    error: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class HealthResponse(BaseModel):
    """GET /health (not enveloped). `version` is null unless the caller sends a valid access token."""

    status: Literal["healthy", "unhealthy"]
    version: str | None = None
    checks: dict[str, str]
