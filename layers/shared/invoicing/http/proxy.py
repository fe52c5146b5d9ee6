"""The API Gateway REST proxy shapes both the resolver and the idempotency wrapper speak:
reading a request header, building a response outside Powertools' own (a guard's rejection, a
stored answer's conflict)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def header(event: Mapping[str, Any], name: str) -> str:
    """The header's value, whatever the case of its name (REST proxy events keep the client's); "" if absent."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value or ""
    return ""


def response(status: int, body: Any, content_type: str | list[str] = "application/json") -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "multiValueHeaders": {},
            "body": body, "isBase64Encoded": False}
