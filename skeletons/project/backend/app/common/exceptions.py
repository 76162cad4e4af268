"""Application errors.

Services raise these; `app.common.handlers` turns every one of them (and every
other error) into the error envelope
`{"success": false, "error": CODE, "message": ..., "details": {...}}`.
"""

from __future__ import annotations

from typing import Any


class AppException(Exception):
    status_code: int = 400
    error_code: str = "BAD_REQUEST"
    default_message: str = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)


class ValidationError(AppException):
    status_code = 400
    error_code = "VALIDATION_ERROR"
    default_message = "The request is invalid"


class UnauthorizedError(AppException):
    status_code = 401
    error_code = "UNAUTHORIZED"
    default_message = "Authentication required"

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details, headers={"WWW-Authenticate": "Bearer"})


class ForbiddenError(AppException):
    status_code = 403
    error_code = "FORBIDDEN"
    default_message = "You are not allowed to do this"


class NotFoundError(AppException):
    status_code = 404
    error_code = "NOT_FOUND"
    default_message = "Not found"


class ConflictError(AppException):
    status_code = 409
    error_code = "CONFLICT"
    default_message = "Conflict"


class RateLimitedError(AppException):
    status_code = 429
    error_code = "RATE_LIMITED"
    default_message = "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(
            message,
            {"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


class ServiceUnavailableError(AppException):
    """A dependency is down or the server is saturated: try again after `retry_after` seconds."""

    status_code = 503
    error_code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable"

    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(
            message,
            {"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
