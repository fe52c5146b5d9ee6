"""API Gateway REST proxy events, shaped like ``sam local generate-event apigateway aws-proxy``."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

STAGE = "prod"


def api_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    body: Any = None,
    raw_body: str | None = None,
    query: str = "",
    headers: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
    is_base64: bool = False,
) -> dict[str, Any]:
    """A REST API proxy event. ``body`` is JSON-encoded; ``raw_body`` is sent as is."""
    all_headers = {"Accept": "application/json", "Host": "localhost", **(headers or {})}
    if body is not None and raw_body is None:
        raw_body = json.dumps(body)
        all_headers.setdefault("Content-Type", "application/json")
    parsed = parse_qs(query, keep_blank_values=True)
    now = time.time()
    return {
        "body": raw_body,
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "isBase64Encoded": is_base64,
        "queryStringParameters": {k: v[-1] for k, v in parsed.items()} or None,
        "multiValueQueryStringParameters": parsed or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "123456",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": all_headers.get("User-Agent", "local")},
            "path": f"/{STAGE}{path}",
            "resourcePath": resource or path,
            "httpMethod": method.upper(),
            "apiId": "local",
            "protocol": "HTTP/1.1",
            **({"authorizer": authorizer} if authorizer is not None else {}),
        },
    }


def authorizer_event(method_arn_path: str, method: str, headers: dict[str, str], resource: str) -> dict[str, Any]:
    """The REQUEST authorizer's input for a request."""
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:us-east-1:123456789012:local/{STAGE}/{method.upper()}{method_arn_path}",
        "resource": resource,
        "path": method_arn_path,
        "httpMethod": method.upper(),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {"accountId": "123456789012", "apiId": "local", "stage": STAGE, "httpMethod": method.upper(),
                           "resourcePath": resource, "path": f"/{STAGE}{method_arn_path}"},
    }


def function_of_file(event_file: Path) -> str | None:
    """The function an events/ file belongs to by its name (events/README.md):
    ``<folder>[-<case>].json`` (or ``_``), folder = the function's ``functions/<folder>/``; the
    longest matching folder wins."""
    from devstack import template

    stem = Path(event_file).stem
    owners = [(len(fn.code_dir.name), fn.logical_id) for fn in template.functions().values()
              if stem == fn.code_dir.name or stem.startswith((fn.code_dir.name + "-", fn.code_dir.name + "_"))]
    return max(owners)[1] if owners else None


def target_function(event: Any) -> str | None:
    """The template function an event is meant for: an API Gateway proxy event belongs to the
    function of its route, a REQUEST authorizer event to the API's authorizer."""
    from devstack import template

    if not isinstance(event, dict):
        return None
    if event.get("type") == "REQUEST" and "methodArn" in event:
        return template.authorizer()[0]
    if "httpMethod" in event and "path" in event:
        matched = template.match_route(str(event["httpMethod"]), str(event["path"]))
        return matched[0].function if matched else None
    return None
