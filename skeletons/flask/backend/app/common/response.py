"""The success envelope: `{"success": true, "data": ..., "message": null}`."""

from __future__ import annotations

from typing import Any

from flask import Response
from pydantic_core import to_json, to_jsonable_python


def success(data: Any = None, status: int = 200, message: str | None = None) -> tuple[Response, int]:
    """Wrap `data` (pydantic models, lists of them, plain JSON) in the success envelope.

    Pydantic's JSON mode decides the wire format: Decimal becomes a string
    ("9.90"), datetime an ISO 8601 string. The body is serialised to bytes in one
    pass by pydantic-core (Rust), not converted to dicts and then encoded again.
    """
    body = to_json({"success": True, "data": data, "message": message})
    return Response(body, status=status, content_type="application/json"), status


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "success": False,
        "error": code,
        "message": message,
        "details": to_jsonable_python(details or {}),
    }
