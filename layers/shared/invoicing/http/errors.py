"""The one place that turns exceptions into the contract's error bodies."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from invoicing.errors import DomainError, Unprocessable
from invoicing.observability import logger

MAX_VALIDATION_ERRORS = 100  # a 422 lists the first 100 problems: enough to fix, small enough to answer


def json_response(status: int, body: Any) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body, default=str))


def detail(status: int, message: str, code: str) -> Response:
    return json_response(status, {"detail": message, "code": code})


# How much of an error's input its answer repeats, in characters (a value counts one, a string its
# length too): a 9 MB input echoed whole took seconds to convert and made an answer beyond Lambda's
# 6 MB (a 502). Any string a field refuses as too long (2,048 at most) is still echoed whole.
ECHO_LIMIT = 10_000
CUT = "..."


def _jsonable(value: Any) -> Any:
    """Error ``input``/``ctx`` may hold exceptions, bytes or decimals: keep JSON types, stringify the
    rest. Past ``ECHO_LIMIT`` a string is cut, and a container's further values become ``CUT``."""
    left = ECHO_LIMIT

    def convert(value: Any) -> Any:
        nonlocal left
        left -= 1
        if value is None or isinstance(value, (int, float, bool)):
            return value
        if isinstance(value, str):
            kept = value[:max(left, 0)]
            left -= len(kept)
            return value if len(kept) == len(value) else kept + CUT
        if isinstance(value, (list, tuple)):
            items: list[Any] = []
            for item in value:
                if left <= 0:
                    return [*items, CUT]
                items.append(convert(item))
            return items
        if isinstance(value, dict):
            pairs: dict[str, Any] = {}
            for key, item in value.items():
                if left <= 0:
                    return {**pairs, CUT: CUT}
                pairs[str(key)] = convert(item)
            return pairs
        return str(value)

    return convert(value)


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
        # A huge invalid batch would list hundreds of thousands, beyond Lambda's 6 MB response.
        return json_response(422, {"detail": items[:MAX_VALIDATION_ERRORS]})

    app.exception_handler(Unprocessable)(unprocessable)

    @app.exception_handler(DomainError)
    def _domain(error: DomainError) -> Response:
        logger.info("Request refused", extra={"status": error.status, "code": error.code})
        return detail(error.status, error.detail, error.code)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return detail(404, "Not Found", "route_not_found")
