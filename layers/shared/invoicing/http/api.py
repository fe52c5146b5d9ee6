"""The resolver every API function uses, and who is calling.

The API Gateway authorizer has already authenticated the token and checked that its user is a
member of the business in ``x-business-id`` (a non-member is denied, which the gateway answers
as 404 "Business not found"). What is left for the function: roles, and bodies Powertools would
otherwise turn into a 500 (a base64 body that is not UTF-8, multipart without a boundary, JSON
that Python's json cannot read safely: too deep, too many containers, integers too long,
``invoicing.http.jsonbody``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, get_args

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from invoicing.domain.models import Role
from invoicing.errors import Unprocessable
from invoicing.http import idempotency, jsonbody, proxy, snapshot
from invoicing.http.errors import detail, register_error_handlers, unprocessable
from invoicing.observability import logger, metrics, tracer

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROLES = get_args(Role)


@dataclass(frozen=True)
class Caller:
    business_id: str
    user_id: str
    role: str


def caller_of(event: Mapping[str, Any]) -> Caller | None:
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    business_id, user_id, role = context.get("business_id"), context.get("user_id"), context.get("role")
    if not business_id or not user_id or role not in ROLES:
        return None
    return Caller(business_id=str(business_id), user_id=str(user_id), role=str(role))


def _guard(event: Mapping[str, Any]) -> Response | jsonbody.Parsed | None:
    """Answer the request here when it must never reach a route: no caller, a viewer writing, or
    a body that is not readable JSON text or is JSON beyond ``invoicing.http.jsonbody``'s limits.
    Else the write's body as parsed, when it is JSON."""
    caller = caller_of(event)
    if caller is None:
        return detail(401, "Not authenticated", "not_authenticated")
    method = str(event.get("httpMethod", "")).upper()
    if method in WRITE_METHODS and caller.role == "viewer":
        return detail(403, "Not enough permissions", "forbidden")
    body = event.get("body")
    if method not in WRITE_METHODS or body in (None, ""):
        return None
    content_type = proxy.header(event, "content-type").strip().lower()
    if content_type and not content_type.startswith("application/json"):
        return detail(415, f"Unsupported content type '{content_type}': send the body as application/json",
                      "unsupported_media_type")
    text = body
    if event.get("isBase64Encoded"):
        try:
            text = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return detail(400, "The request body is not valid base64-encoded UTF-8 text", "body_not_utf8")
    # Every write's body, whether its route takes one or not: the idempotency wrapper compares it too.
    try:
        parsed = jsonbody.read(text)
    except Unprocessable as refused:
        return unprocessable(refused)
    if parsed is not None and not isinstance(parsed.value, dict | None):
        # Every body of this API is an object; Powertools would validate a list's first element.
        return unprocessable(Unprocessable("Input should be a valid dictionary or object to extract fields from",
                                           loc=("body",), type="model_attributes_type", input=parsed.value))
    return parsed


class InvoicingApi(APIGatewayRestResolver):
    """Powertools' REST resolver with validation on, the contract's error bodies, and the guard."""

    def __init__(self) -> None:
        self._body: jsonbody.Parsed | None = None
        # Powertools' validation reads the body through this: the guard's parse, not a second one.
        super().__init__(enable_validation=True, json_body_deserializer=self._json_body)
        register_error_handlers(self)

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        checked = _guard(event)
        if isinstance(checked, Response):
            return _as_proxy_response(checked)
        caller = caller_of(event)
        assert caller is not None, "_guard answers 401 without a caller"
        self._body = checked
        try:
            # Idempotency-Key on POST/PUT: one place for every API function (invoicing.http.idempotency).
            return idempotency.run(event, context, caller.business_id, partial(super().resolve, event, context),
                                   body=event.get("body") if checked is None else checked.value)
        finally:
            self._body = None  # a warm container keeps no body between requests

    def _json_body(self, text: str) -> Any:
        """The guard's parse of this text; else (the guard found no JSON in it) a parse within the
        same limits, whose ``JSONDecodeError`` Powertools answers as its 422."""
        parsed = self._body
        return parsed.value if parsed is not None and parsed.text == text else jsonbody.parse(text)

    @property
    def idempotency_key(self) -> str:
        """The request's Idempotency-Key ("" without one): what a write derives its new record's
        id from (``domain.ids.keyed_id``), so that a retry finds what its first attempt wrote."""
        return idempotency.key_of(self.current_event.raw_event)

    @property
    def caller(self) -> Caller:
        found = caller_of(self.current_event.raw_event)
        assert found is not None, "resolve() answers 401 before any route runs without a caller"
        return found


def entry_point(app: InvoicingApi, module: str) -> Handler:
    """An API function's ``lambda_handler``: ``app`` with the request's log context, trace and
    metrics. ``module`` is the handler module's name, which the local runtime and the route
    contract test read off the handler to find its ``app``."""

    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    lambda_handler.__module__ = module
    snapshot.prepare(app)
    traced = tracer.capture_lambda_handler(metrics.log_metrics(lambda_handler))
    return logger.inject_lambda_context(traced, correlation_id_path=correlation_paths.API_GATEWAY_REST,
                                        clear_state=True)


def _as_proxy_response(response: Response) -> dict[str, Any]:
    return proxy.response(response.status_code, response.body, response.headers.get("Content-Type", "application/json"))
