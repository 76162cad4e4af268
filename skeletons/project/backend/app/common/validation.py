"""Parse request input into DTOs; every failure becomes a 400 VALIDATION_ERROR.

Request bodies are untrusted, so before a DTO sees them they are bounded:
the size by MAX_CONTENT_LENGTH (413), the nesting depth by MAX_JSON_DEPTH, integer
literals to 64 bits, and strings may not hold NUL or lone surrogates (PostgreSQL
and the JSON encoder refuse both, which would otherwise surface as a 500).
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import pydantic
from quart import request

from app.common.exceptions import ValidationError

M = TypeVar("M", bound=pydantic.BaseModel)

# Deeper than any DTO needs, far below Python's recursion limit.
MAX_JSON_DEPTH = 32
# Integers must fit a signed 64-bit column; longer literals are refused before conversion
# (Python refuses to convert more than 4,300 digits at all).
INT64_MAX = 2**63 - 1
MAX_INT_LITERAL_LENGTH = 20
# NUL and lone UTF-16 surrogates: no database column or JSON encoder accepts them.
FORBIDDEN_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
NUL_MESSAGE = "Text may not contain NUL characters or lone surrogates"
DEPTH_MESSAGE = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"


class _BodyError(ValueError):
    def __init__(self, message: str, loc: list[str | int], kind: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.kind = kind


def field_errors(exc: pydantic.ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors reduced to what the client needs: loc, msg, type."""
    return [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def validation_error(exc: pydantic.ValidationError) -> ValidationError:
    return ValidationError("The request is invalid", {"fields": field_errors(exc)})


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_LITERAL_LENGTH:
        raise _BodyError("Integer out of range", ["body"], "int_too_large")
    value = int(literal)
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise _BodyError("Integer out of range", ["body"], "int_too_large")
    return value


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise _BodyError("Number out of range", ["body"], "float_too_large")
    return value


def _no_constant(name: str) -> Any:
    raise _BodyError(f"{name} is not a valid JSON number", ["body"], "json_invalid")


def _check_value(data: Any) -> None:
    """Refuse too-deep nesting and forbidden characters, iteratively (no recursion)."""
    stack: list[tuple[Any, list[str | int], int]] = [(data, [], 0)]
    while stack:
        value, loc, depth = stack.pop()
        if isinstance(value, str):
            if FORBIDDEN_CHARACTERS.search(value):
                raise _BodyError(NUL_MESSAGE, loc or ["body"], "string_invalid")
        elif isinstance(value, dict):
            if depth >= MAX_JSON_DEPTH:
                raise _BodyError(DEPTH_MESSAGE, ["body"], "json_too_deep")
            for key, item in value.items():
                if FORBIDDEN_CHARACTERS.search(key):
                    raise _BodyError(NUL_MESSAGE, loc or ["body"], "string_invalid")
                stack.append((item, [*loc, key], depth + 1))
        elif isinstance(value, list):
            if depth >= MAX_JSON_DEPTH:
                raise _BodyError(DEPTH_MESSAGE, ["body"], "json_too_deep")
            stack.extend((item, [*loc, index], depth + 1) for index, item in enumerate(value))


def parse_json(raw: bytes | str) -> Any:
    """Bounded JSON: ValidationError (400) for anything a DTO should never see."""
    try:
        data = json.loads(raw, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)
        _check_value(data)
    except _BodyError as exc:
        raise ValidationError(
            "The request body is invalid",
            {"fields": [{"loc": exc.loc, "msg": str(exc), "type": exc.kind}]},
        ) from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        message = "JSON nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ValidationError(
            "The request body is not valid JSON",
            {"fields": [{"loc": ["body"], "msg": message[:200], "type": "json_invalid"}]},
        ) from None
    return data


async def parse_body(model: type[M]) -> M:
    """The JSON body validated as `model`; bad JSON or bad fields → 400."""
    raw = await request.get_data(as_text=False)
    data: Any = parse_json(raw) if raw else {}
    if not isinstance(data, dict):
        raise ValidationError(
            "The request body must be a JSON object",
            {"fields": [{"loc": ["body"], "msg": "Input should be an object", "type": "model_type"}]},
        )
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc) from exc


def parse_query(model: type[M]) -> M:
    """The query string validated as `model`; bad values → 400."""
    args = request.args.to_dict()
    for key, value in args.items():
        if FORBIDDEN_CHARACTERS.search(key) or FORBIDDEN_CHARACTERS.search(value):
            raise ValidationError(
                "The request is invalid",
                {"fields": [{"loc": [key], "msg": NUL_MESSAGE, "type": "string_invalid"}]},
            )
    try:
        return model.model_validate(args)
    except pydantic.ValidationError as exc:
        raise validation_error(exc) from exc
