"""The one place that turns exceptions into the contract's error bodies."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from invoicing.errors import DomainError, Unprocessable
from invoicing.observability import logger


def json_response(status: int, body: Any) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body, default=str))


def detail(status: int, message: str, code: str) -> Response:
    return json_response(status, {"detail": message, "code": code})


def _jsonable(value: Any) -> Any:
    """Error ``input``/``ctx`` may hold exceptions, bytes or decimals: keep JSON types, stringify the rest."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def validation_item(loc: Any, msg: str, type_: str, input_: Any = None, ctx: dict[str, Any] | None = None) -> dict:
    return {
        "loc": [part if isinstance(part, int) else str(part) for part in loc],
        "msg": msg,
        "type": type_,
        "input": _jsonable(input_),
        "ctx": {k: _jsonable(v) if isinstance(v, (int, float, bool)) else str(v) for k, v in (ctx or {}).items()},
    }


def unprocessable(error: Unprocessable) -> Response:
    """A 422 at ``error.loc``: the exception handler's answer, and the resolver's guard's, which runs before it."""
    item = validation_item(error.loc, error.detail, error.type, error.input, error.ctx)
    return json_response(422, {"detail": [item]})


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def _validation(error: RequestValidationError) -> Response:
        items = [
            validation_item(e.get("loc", ("body",)), e.get("msg", "Invalid input"), e.get("type", "value_error"),
                            e.get("input"), e.get("ctx"))
            for e in error.errors()
        ]
        for item in items:
            if item["type"] == "json_invalid":  # the position is no part of the body's schema
                item["loc"] = ["body"]
        return json_response(422, {"detail": items})

    app.exception_handler(Unprocessable)(unprocessable)

    @app.exception_handler(DomainError)
    def _domain(error: DomainError) -> Response:
        logger.info("Request refused", extra={"status": error.status, "code": error.code})
        return detail(error.status, error.detail, error.code)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return detail(404, "Not Found", "route_not_found")
