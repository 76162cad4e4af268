"""Parse request input into DTOs; every failure becomes a 400 VALIDATION_ERROR."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import pydantic
from quart import request

from app.common.exceptions import ValidationError

M = TypeVar("M", bound=pydantic.BaseModel)


def field_errors(exc: pydantic.ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors reduced to what the client needs: loc, msg, type."""
    return [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def validation_error(exc: pydantic.ValidationError) -> ValidationError:
    return ValidationError("The request is invalid", {"fields": field_errors(exc)})


async def parse_body(model: type[M]) -> M:
    """The JSON body validated as `model`; bad JSON or bad fields → 400."""
    raw = await request.get_data(as_text=False)
    if not raw:
        data: Any = {}
    else:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationError(
                "The request body is not valid JSON",
                {"fields": [{"loc": ["body"], "msg": str(exc), "type": "json_invalid"}]},
            ) from exc
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
    try:
        return model.model_validate(request.args.to_dict())
    except pydantic.ValidationError as exc:
        raise validation_error(exc) from exc
