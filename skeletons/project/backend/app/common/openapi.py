"""The API contract as OpenAPI 3.1, built from the routes and their DTOs.

Framework-neutral (no Quart import): a route declares its contract with `@contract(...)`
(`app.common.validation`), which stores a `Contract` on the view function; `build_document`
walks a werkzeug URL map (Quart's and Flask's are the same) and asks pydantic for every
schema (`models_json_schema`: request bodies and query models in validation mode, response
envelopes in serialization mode), so no schema is written by hand and the document cannot
drift from the DTOs the handlers parse and the frontend's types are generated from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from app.common.dtos import ErrorBody, SuccessBody

REF_TEMPLATE = "#/components/schemas/{model}"
BEARER_SCHEME = "bearerAuth"
ERROR_REF = REF_TEMPLATE.format(model="ErrorBody")

# The error envelope's statuses, their codes (`error`) and the headers sent with them
# (app/common/handlers.py and app/common/exceptions.py).
ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("VALIDATION_ERROR", "The body, query or a field is invalid (`details.fields[]`)"),
    401: ("UNAUTHORIZED", "Missing, invalid or expired token"),
    403: ("FORBIDDEN", "Not allowed"),
    404: ("NOT_FOUND", "No such resource (or not yours)"),
    409: ("CONFLICT", "Conflicts with an existing resource"),
    413: ("PAYLOAD_TOO_LARGE", "The body is over MAX_CONTENT_LENGTH"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "The body is not JSON"),
    429: ("RATE_LIMITED", "Too many attempts; retry after `details.retry_after` seconds"),
    503: ("SERVICE_UNAVAILABLE", "A dependency is down or busy; retry after `details.retry_after` seconds"),
}
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
    503: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
}

# werkzeug converters → parameter schemas (`<id:item_id>`: app/common/converters.py).
CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "id": {"type": "integer", "minimum": 1},
    "int": {"type": "integer", "minimum": 0},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}
_RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Contract:
    """What a route takes and answers; stored on its view as `__api_contract__`."""

    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    # The type of the envelope's `data` (a DTO, `Page[DTO]`, `None`), or of the whole body
    # when `envelope` is false.
    response: Any = None
    status: int = 200
    envelope: bool = True
    # Error statuses besides the ones the declaration implies (400 for a body or query,
    # 413 for a body, 401 with auth, 404 with a path parameter).
    errors: tuple[int, ...] = ()
    # More statuses answered with the same body (503 of /health).
    extra_statuses: tuple[int, ...] = ()

    @property
    def response_model(self) -> type[BaseModel]:
        if not self.envelope:
            return self.response
        return SuccessBody[self.response]  # type: ignore[misc]


CONTRACT_ATTRIBUTE = "__api_contract__"
# Set by `require_auth` (modules/auth/decorators.py): the route needs a bearer token.
AUTH_ATTRIBUTE = "__api_auth__"


def get_contract(view: Callable[..., Any]) -> Contract | None:
    return getattr(view, CONTRACT_ATTRIBUTE, None)


def requires_auth(view: Callable[..., Any]) -> bool:
    return bool(getattr(view, AUTH_ATTRIBUTE, False))


@dataclass(frozen=True)
class RouteInfo:
    """One HTTP route: werkzeug rule text, its methods, endpoint and view."""

    rule: str
    methods: tuple[str, ...]
    endpoint: str
    view: Callable[..., Any]


def routes_of(app: Any) -> list[RouteInfo]:
    """Every HTTP route of a Quart or Flask app (WebSocket routes and static files left out)."""
    routes = []
    for rule in app.url_map.iter_rules():
        if getattr(rule, "websocket", False) or rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        methods = tuple(sorted(m for m in (rule.methods or ()) if m not in _IGNORED_METHODS))
        routes.append(RouteInfo(rule.rule, methods, rule.endpoint, view))
    return routes


def documented(route: RouteInfo) -> bool:
    """Routes in the document: every /api route, and any other route with a contract."""
    return route.rule.startswith("/api/") or route.rule == "/api" or get_contract(route.view) is not None


def _path_and_parameters(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for match in _RULE_ARGUMENT.finditer(rule):
        converter = match.group("converter") or "default"
        parameters.append(
            {
                "name": match.group("name"),
                "in": "path",
                "required": True,
                "schema": dict(CONVERTER_SCHEMAS.get(converter, {"type": "string"})),
            }
        )
    return _RULE_ARGUMENT.sub(lambda m: "{" + m.group("name") + "}", rule), parameters


def _summary(view: Callable[..., Any]) -> tuple[str | None, str | None]:
    doc = (view.__doc__ or "").strip()
    if not doc:
        return None, None
    first, _, rest = doc.partition("\n")
    return first.strip(), (rest.strip() or None)


def build_document(
    routes: Iterable[RouteInfo],
    *,
    title: str,
    version: str,
    description: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `routes` (those `documented`), schemas from pydantic."""
    selected = sorted((r for r in routes if documented(r)), key=lambda r: r.rule)

    # Every model once per mode; pydantic names them and resolves shared definitions.
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for route in selected:
        contract = get_contract(route.view)
        if contract is None:
            continue
        if contract.body is not None:
            wanted.append((contract.body, "validation"))
        if contract.query is not None:
            wanted.append((contract.query, "validation"))
        if contract.response is not None or contract.envelope:
            wanted.append((contract.response_model, "serialization"))
    unique = list(dict.fromkeys(wanted))
    refs, definitions = models_json_schema(unique, ref_template=REF_TEMPLATE)
    schemas: dict[str, Any] = definitions.get("$defs", {})

    paths: dict[str, dict[str, Any]] = {}
    uses_auth = False
    for route in selected:
        path, parameters = _path_and_parameters(route.rule)
        contract = get_contract(route.view)
        auth = requires_auth(route.view)
        uses_auth = uses_auth or auth
        summary, details = _summary(route.view)
        tag = route.endpoint.split(".", 1)[0] if "." in route.endpoint else "default"
        for method in route.methods:
            operation_id = route.endpoint.replace(".", "_")
            if len(route.methods) > 1:
                operation_id += f"_{method.lower()}"
            operation: dict[str, Any] = {"operationId": operation_id, "tags": [tag]}
            if summary:
                operation["summary"] = summary
            if details:
                operation["description"] = details
            op_parameters = [dict(p) for p in parameters]
            errors: set[int] = set()
            responses: dict[str, Any] = {}
            if contract is None:
                responses["default"] = {"description": "Undeclared response (this route has no @contract)"}
            else:
                if contract.query is not None:
                    query_schema = _resolve(refs[(contract.query, "validation")], schemas)
                    required = set(query_schema.get("required", []))
                    for name, schema in query_schema.get("properties", {}).items():
                        parameter: dict[str, Any] = {
                            "name": name,
                            "in": "query",
                            "required": name in required,
                            "schema": schema,
                        }
                        if "description" in schema:
                            parameter["description"] = schema["description"]
                        op_parameters.append(parameter)
                    errors.add(400)
                if contract.body is not None:
                    operation["requestBody"] = {
                        "required": True,
                        "content": {"application/json": {"schema": refs[(contract.body, "validation")]}},
                    }
                    errors.update((400, 413))
                if contract.response is not None or contract.envelope:
                    schema = refs[(contract.response_model, "serialization")]
                    content = {"application/json": {"schema": schema}}
                    responses[str(contract.status)] = {"description": "Success", "content": content}
                    for extra in contract.extra_statuses:
                        responses[str(extra)] = {"description": "See the body", "content": content}
                else:
                    responses[str(contract.status)] = {"description": "Success"}
                errors.update(contract.errors)
            if auth:
                errors.add(401)
                operation["security"] = [{BEARER_SCHEME: []}]
            if parameters:
                errors.add(404)
            for status in sorted(errors):
                code, meaning = ERROR_RESPONSES.get(status, ("HTTP_ERROR", "Error"))
                response: dict[str, Any] = {
                    "description": f"`{code}`: {meaning}",
                    "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
                }
                if status in ERROR_HEADERS:
                    response["headers"] = ERROR_HEADERS[status]
                responses[str(status)] = response
            if op_parameters:
                operation["parameters"] = op_parameters
            operation["responses"] = responses
            paths.setdefault(path, {})[method.lower()] = operation

    components: dict[str, Any] = {"schemas": schemas}
    if uses_auth:
        components["securitySchemes"] = {
            BEARER_SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The access token of POST /api/auth/login or /api/auth/refresh",
            }
        }
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    return {"openapi": "3.1.0", "info": info, "paths": paths, "components": components}


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return schemas[ref.rsplit("/", 1)[-1]]


# The interactive page: Swagger UI from the `flask-swagger-ui` package's copy (no CDN).
# No inline script (the CSP allows scripts from 'self' only): the page loads DOCS_INIT_JS.
SWAGGER_ASSETS: dict[str, str] = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
}
DOCS_INIT_NAME = "init.js"
DOCS_INIT_JS = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No badge fetched from an outside validator: the page talks to this origin only.
    validatorUrl: null,
    persistAuthorization: false,
  });
});
"""
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def docs_html(title: str, prefix: str = "/docs") -> str:
    escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{escaped} API</title>
  <link rel="stylesheet" href="{prefix}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{prefix}/swagger-ui-bundle.js"></script>
  <script src="{prefix}/{DOCS_INIT_NAME}"></script>
</body>
</html>
"""


def swagger_dist_dir() -> str:
    """The directory of Swagger UI's files inside the installed `flask-swagger-ui` (not imported)."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("flask-swagger-ui is not installed (a dependency of the backend)")
    return os.path.join(next(iter(spec.submodule_search_locations)), "dist")
