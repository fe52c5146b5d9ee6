"""``Idempotency-Key`` on every POST and PUT of the API, with the Powertools idempotency utility.

API.md: the same key with the same request within 24 h replays the first status and body without
doing the work again; the same key with a different request is a 409; a concurrent duplicate
still in flight is a 409 too.

- Applied once, in ``InvoicingApi.resolve``, so every API function has it, around the whole
  resolver: the stored answer is the proxy response (status, headers, body).
- The key is the business (from the authorizer) and the header's value (any case of the header
  name): the same key in two businesses are two independent requests. Records live in the
  business's partition of the service's table (``invoicing.storage.idempotency``).
- "The same request" is the method, the path, the query string and the body (parsed JSON when
  it is JSON, so whitespace and key order do not matter).
- Only a 2xx answer is stored and replayed. A 4xx/5xx did no work (every write is conditional
  and all-or-nothing), so its record is dropped and the client may retry with the same key
  after fixing what was wrong, e.g. creating the missing customer; a replay of the error would
  only make that retry impossible for 24 h.
- No header (or an empty one): no idempotency, the request runs as always.
- The Powertools utility (and the persistence layer) is imported on the first request that
  carries a key, not at cold start: a GET, or a write without the header, never needs it.
  A SnapStart snapshot imports it during init (``load``, from ``invoicing.http.snapshot``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from invoicing.http import proxy

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

HEADER = "Idempotency-Key"
METHODS = frozenset({"POST", "PUT"})
MAX_KEY_LENGTH = 255
TTL_SECONDS = 24 * 60 * 60
REPLAYED_HEADER = "Idempotent-Replayed"

ProxyResponse = dict[str, Any]


class _NotStored(Exception):
    """Carries a non-2xx answer out of the idempotent call, so its record is deleted, not kept."""

    def __init__(self, response: ProxyResponse) -> None:
        super().__init__(response.get("statusCode"))
        self.response = response


def key_of(event: Mapping[str, Any]) -> str:
    """The header's value, whatever the case of its name (REST proxy events keep the client's)."""
    return proxy.header(event, HEADER).strip()


def _request_of(event: Mapping[str, Any], body: Any) -> dict[str, Any]:
    return {
        "method": str(event.get("httpMethod", "")).upper(),
        "path": event.get("path"),
        "query": event.get("multiValueQueryStringParameters") or event.get("queryStringParameters") or {},
        # Its digest, not the body: the utility deep-copies what it hashes (0.8 s for the largest
        # valid batch, where the digest takes 0.2 s).
        "body": hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(),
    }


def _mark_replay(response: Any, idempotent_data: DataRecord) -> Any:
    if isinstance(response, dict):
        response.setdefault("headers", {})
        if isinstance(response["headers"], dict):
            response["headers"][REPLAYED_HEADER] = "true"
    return response


def _conflict(message: str, code: str) -> ProxyResponse:
    return _proxy(409, {"detail": message, "code": code})


def _proxy(status: int, body: Any) -> ProxyResponse:
    return proxy.response(status, json.dumps(body))


def load() -> None:
    """Import what ``_once`` imports, now."""
    import aws_lambda_powertools.utilities.idempotency  # noqa: F401

    import invoicing.storage.idempotency  # noqa: F401


def run(event: Mapping[str, Any], context: Any, business_id: str, answer: Callable[[], ProxyResponse], *,
        body: Any) -> ProxyResponse:
    """``answer()`` at most once per (business, key) within 24 h when the request carries a key.
    ``body`` is the request's as compared: parsed when it is JSON (``InvoicingApi`` parsed it), else its text."""
    key = key_of(event)
    if str(event.get("httpMethod", "")).upper() not in METHODS or not key:
        return answer()
    if len(key) > MAX_KEY_LENGTH:
        return _proxy(422, {"detail": [{
            "loc": ["header", HEADER], "msg": f"String should have at most {MAX_KEY_LENGTH} characters",
            "type": "string_too_long", "input": key, "ctx": {"max_length": MAX_KEY_LENGTH}}]})
    return _once(event, context, business_id, key, answer, body)


def _once(event: Mapping[str, Any], context: Any, business_id: str, key: str, answer: Callable[[], ProxyResponse],
          body: Any) -> ProxyResponse:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    from invoicing.storage import keys
    from invoicing.storage.idempotency import persistence_layer

    config = IdempotencyConfig(
        event_key_jmespath="[business_id, idempotency_key]",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=TTL_SECONDS,
        response_hook=_mark_replay,
        # With the context, a request that died mid-way frees its key when the invocation's time is up.
        lambda_context=context if hasattr(context, "get_remaining_time_in_millis") else None,
    )

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence_layer(business_id),
                         config=config, key_prefix=keys.IDEMPOTENCY)
    def once(request: dict[str, Any]) -> ProxyResponse:
        response = answer()
        if not 200 <= int(response.get("statusCode", 500)) < 300:
            raise _NotStored(response)
        return response

    try:
        return once(request={"business_id": business_id, "idempotency_key": key, "request": _request_of(event, body)})
    except _NotStored as not_stored:
        return not_stored.response
    except IdempotencyValidationError:
        return _conflict(f"This {HEADER} was already used for a different request", "idempotency_key_reused")
    except IdempotencyAlreadyInProgressError:
        return _conflict(f"A request with this {HEADER} is still in progress; retry later",
                         "idempotency_request_in_progress")
