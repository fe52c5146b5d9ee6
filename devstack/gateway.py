"""API Gateway's part, in process: route, authorize, invoke, and answer as the gateway would.

The HTTP front and the tests both go through here, so what a test sees is what a client of
the local stack sees, and both follow template.yaml (routes, authorizer, gateway responses).
Not emulated: the authorizer cache (every request is authorized afresh, so a revoked token
stops working at once here, within ``TokenCacheSeconds`` when deployed).
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

from devstack import runtime, template
from devstack.events import api_event, authorizer_event

log = logging.getLogger("devstack.gateway")

JSON = {"Content-Type": "application/json"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str
    is_base64: bool = False

    def json(self) -> Any:
        return json.loads(self.content) if self.body else None

    @property
    def content(self) -> bytes:
        """The body as sent on the wire (a base64 proxy body decoded)."""
        return base64.b64decode(self.body) if self.is_base64 else self.body.encode()


class LambdaError(RuntimeError):
    """A function raised or returned something API Gateway cannot use."""


def gateway_reply(kind: str) -> Reply:
    """An answer API Gateway gives itself (a gateway response type), as template.yaml declares it."""
    status, body = template.gateway_response(kind)
    return Reply(status, dict(JSON), body)


def _authorize(route: template.Route, path: str, headers: dict[str, str]) -> dict[str, Any] | Reply:
    auth_fn, identity = template.authorizer()
    lowered = {k.lower(): v for k, v in headers.items()}
    if any(not (lowered.get(name.lower()) or "").strip() for name in identity):
        return gateway_reply("UNAUTHORIZED")  # identity source missing: the authorizer is not called
    try:
        answer = runtime.invoke(auth_fn, authorizer_event(path, route.method, headers, route.path))
    except Exception as error:
        if str(error) == "Unauthorized":
            return gateway_reply("UNAUTHORIZED")
        log.exception("The authorizer %s failed", auth_fn)
        return gateway_reply("AUTHORIZER_FAILURE")
    try:
        effects = {s["Effect"] for s in answer["policyDocument"]["Statement"]}
        principal = answer["principalId"]
    except (KeyError, TypeError):
        log.error("The authorizer %s returned no usable policy: %r", auth_fn, answer)
        return gateway_reply("AUTHORIZER_CONFIGURATION_ERROR")
    if effects != {"Allow"}:
        return gateway_reply("ACCESS_DENIED")
    return {**(answer.get("context") or {}), "principalId": principal}


def _proxy_reply(function: str, out: Any) -> Reply:
    if not isinstance(out, dict) or not isinstance(out.get("statusCode"), int | str):
        raise LambdaError(f"{function} returned no proxy response (statusCode missing): {out!r:.200}")
    headers = {str(k): str(v) for k, v in (out.get("headers") or {}).items()}
    for name, values in (out.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(str(v) for v in values)
    return Reply(int(out["statusCode"]), headers, out.get("body") or "", bool(out.get("isBase64Encoded")))


def request(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    query: str = "",
    is_base64: bool = False,
    propagate: bool = True,
) -> Reply:
    """One HTTP request through the emulated API Gateway.

    ``propagate``: a function that raises (or answers nonsense) raises here, which is what a
    test wants to see; the HTTP front passes False and answers 502 as API Gateway does.
    """
    headers = dict(headers or {})
    matched = template.match_route(method, path)
    if matched is None:
        return gateway_reply("MISSING_AUTHENTICATION_TOKEN")
    route, params = matched
    context: dict[str, Any] | None = None
    if route.authorized:
        granted = _authorize(route, path, headers)
        if isinstance(granted, Reply):
            return granted
        context = granted
    event = api_event(method, path, resource=route.path, path_parameters=params, raw_body=body, query=query,
                      headers=headers, authorizer=context, is_base64=is_base64)
    try:
        return _proxy_reply(route.function, runtime.invoke(route.function, event))
    except Exception:
        if propagate:
            raise
        log.exception("%s failed on %s %s", route.function, method, path)
        return gateway_reply("BAD_GATEWAY")
