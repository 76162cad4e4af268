"""Parse request input into DTOs; every failure becomes a 400 VALIDATION_ERROR.

`@contract(...)` declares a route's input and answer (for /openapi.json) and parses the input.

Request bodies are untrusted, so before a DTO sees them they are bounded:
the size by MAX_CONTENT_LENGTH (413), the nesting depth by MAX_JSON_DEPTH, integer
literals to 64 bits, and strings may not hold NUL or lone surrogates (PostgreSQL
and the JSON encoder refuse both, which would otherwise surface as a 500).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import pydantic
from pydantic import TypeAdapter
from quart import Response as QuartResponse
from quart import current_app, request

from app.common.exceptions import ValidationError
from app.common.openapi import CONTRACT_ATTRIBUTE, Contract

M = TypeVar("M", bound=pydantic.BaseModel)
P = ParamSpec("P")
R = TypeVar("R")

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


def contract(
    *,
    body: type[pydantic.BaseModel] | None = None,
    query: type[pydantic.BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    envelope: bool = True,
    errors: tuple[int, ...] = (),
    extra_statuses: tuple[int, ...] = (),
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Declare what a route takes and answers; parse its input with the bounded parsers.

    `body` is parsed by `parse_body` and passed as the view's `body` argument, `query` by
    `parse_query` as `query`; `response` is the type of the envelope's `data` (`None` for
    none), `status` the success status. `/openapi.json` is built from these declarations
    (app/common/openapi.py). Put it below the route and `@require_auth`:

        @blueprint.post("")
        @require_auth
        @contract(body=ItemCreate, response=ItemResponse, status=201)
        async def create_item(body: ItemCreate) -> tuple[Response, int]: ...

    In the test suite (`TESTING`), every success answer is checked against the declaration
    (status and body), so a declaration that lies fails the tests.
    """
    declared = Contract(
        body=body,
        query=query,
        response=response,
        status=status,
        envelope=envelope,
        errors=errors,
        extra_statuses=extra_statuses,
    )

    def decorate(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = await parse_body(body)
            result = await view(*args, **kwargs)
            if current_app.config.get("TESTING"):
                await _check_answer(declared, result)
            return result

        setattr(wrapper, CONTRACT_ATTRIBUTE, declared)
        return wrapper

    return decorate


async def _check_answer(declared: Contract, result: Any) -> None:
    response = result[0] if isinstance(result, tuple) else result
    if not isinstance(response, QuartResponse):
        return
    allowed = {declared.status, *declared.extra_statuses}
    if response.status_code not in allowed:
        raise AssertionError(f"answered {response.status_code}, the contract declares {sorted(allowed)}")
    if declared.response is None and not declared.envelope:
        return
    try:
        TypeAdapter(declared.response_model).validate_json(await response.get_data(as_text=False))
    except pydantic.ValidationError as exc:
        # Not a client error (the handlers would make it a 400): the declaration is wrong.
        raise AssertionError(f"the answer does not match the contract: {exc}") from None
