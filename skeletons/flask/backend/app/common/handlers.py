"""Error handlers: every error the app can answer uses the error envelope."""

from __future__ import annotations

import logging

import pydantic
from flask import Flask, Response, current_app, jsonify
from redis import exceptions as redis_exc
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from app.common.exceptions import AppException
from app.common.response import error_body
from app.common.validation import field_errors
from app.database import DatabaseUnavailableError

log = logging.getLogger(__name__)

# HTTP errors raised by the framework (routing, methods, sizes) and their codes.
HTTP_ERROR_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}

HTTP_ERROR_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
}


def _respond(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppException)
    def handle_app_exception(exc: AppException) -> Response:
        return _respond(exc.status_code, error_body(exc.error_code, exc.message, exc.details), exc.headers)

    @app.errorhandler(pydantic.ValidationError)
    def handle_pydantic_error(exc: pydantic.ValidationError) -> Response:
        # A DTO built by a service from bad data: the client's input is at fault.
        body = error_body("VALIDATION_ERROR", "The request is invalid", {"fields": field_errors(exc)})
        return _respond(400, body)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status >= 500:
            if status == 500:
                log.error("internal error", exc_info=getattr(exc, "original_exception", None) or exc)
            body = error_body("INTERNAL_ERROR", "Internal server error")
            return _respond(status, body)
        code = HTTP_ERROR_CODES.get(status, "HTTP_ERROR")
        message = HTTP_ERROR_MESSAGES.get(status) or (exc.description or exc.name)
        headers = {}
        if status == 405:
            allowed = getattr(exc, "valid_methods", None)
            if allowed:
                headers["Allow"] = ", ".join(sorted(allowed))
        return _respond(status, error_body(code, message), headers)

    @app.errorhandler(DatabaseUnavailableError)
    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(ConnectionError)  # a refused or reset connection (PostgreSQL down)
    @app.errorhandler(redis_exc.ConnectionError)
    @app.errorhandler(redis_exc.TimeoutError)
    def handle_dependency_unavailable(exc: Exception) -> Response:
        # The database (or Redis) is down, missing, locked or read-only: the client may retry.
        # One line in the log, no traceback; idle connections are dropped so the pool recovers.
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.warning("dependency unavailable (%s): %s", type(exc).__name__, first_line)
        database = current_app.extensions.get("database")
        if database is not None and database.is_sqlite:
            try:
                database.reset_pool()
            except Exception as reset_error:
                log.warning("could not reset the database pool: %s", reset_error)
        body = error_body(
            "SERVICE_UNAVAILABLE", "The service is temporarily unavailable; try again", {"retry_after": 1}
        )
        return _respond(503, body, {"Retry-After": "1"})

    @app.errorhandler(sa_exc.DataError)
    def handle_data_error(exc: sa_exc.DataError) -> Response:
        # The database refused a value validation let through (a bug worth fixing, not a 500).
        log.warning("database refused a value: %s", str(exc).splitlines()[0])
        return _respond(400, error_body("VALIDATION_ERROR", "A value is out of range or invalid"))

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        # Logged with its traceback; the client learns nothing about internals.
        log.exception("unhandled error", exc_info=exc)
        return _respond(500, error_body("INTERNAL_ERROR", "Internal server error"))
