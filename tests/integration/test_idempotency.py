"""Idempotency-Key on POST and PUT (API.md "Response shapes"), through the emulated API Gateway.

The same key with the same request within 24 h replays the first status and body without doing
the work again; the same key with a different request is a 409; a concurrent duplicate still in
flight is a 409 too. Keys belong to a business. Only 2xx answers are kept (invoicing.http.idempotency).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import pytest
from helpers import Api, make_tenant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack import runtime, template
from invoicing.http import idempotency
from invoicing.operations import customers, invoices
from invoicing.storage import keys, table

CUSTOMERS = "/api/v1/customers"
INVOICES = "/api/v1/invoices"


def key(api: Api, value: str, name: str = "Idempotency-Key") -> dict[str, str]:
    return api.headers(**{name: value})


def customer_count(api: Api) -> int:
    return len(api.get(CUSTOMERS, query="limit=1000").json()["data"]["items"])


@pytest.fixture
def customer(api: Api) -> str:
    return api.post(CUSTOMERS, {"name": "Ada", "email": "ada@example.com"}).json()["data"]["id"]


def invoice_body(customer_id: str, **extra: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "line_items": [{"description": "Work", "unit_price": 1000}],
            "due_date": "2030-01-31", **extra}


# ---------------------------------------------------------------- replay
@pytest.mark.parametrize("header", ["Idempotency-Key", "idempotency-key", "IDEMPOTENCY-KEY"])
def test_a_retry_replays_the_first_status_and_body_and_creates_one_invoice(api: Api, customer: str,
                                                                           header: str) -> None:
    # Given a created invoice under a key
    first = api.post(INVOICES, invoice_body(customer), headers=key(api, "k-1", header))
    assert first.status == 201, first.body
    # When the same request comes again with the same key
    again = api.post(INVOICES, invoice_body(customer), headers=key(api, "k-1", header))
    # Then it is the first answer, and there is still one invoice
    assert (again.status, again.json()) == (201, first.json())
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(api.get(INVOICES).json()["data"]["items"]) == 1


def test_the_work_runs_once(api: Api, monkeypatch: pytest.MonkeyPatch, customer: str) -> None:
    calls: list[str] = []
    original = invoices.create_invoice

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append("create")
        return original(*args, **kwargs)

    monkeypatch.setattr(invoices, "create_invoice", counting)
    for _ in range(3):
        assert api.post(INVOICES, invoice_body(customer), headers=key(api, "once")).status == 201
    assert calls == ["create"]


def test_json_formatting_does_not_make_a_different_request(api: Api) -> None:
    headers = {**key(api, "fmt"), "Content-Type": "application/json"}
    first = api.request("POST", CUSTOMERS, raw='{"name": "Bo", "email": "bo@example.com"}', headers=headers)
    again = api.request("POST", CUSTOMERS, raw='{"email":"bo@example.com","name":"Bo"}', headers=headers)
    assert first.status == again.status == 201
    assert again.json() == first.json()
    assert customer_count(api) == 1


def test_put_replays_too(api: Api, customer: str) -> None:
    first = api.put(f"{CUSTOMERS}/{customer}", {"name": "Ada L."}, headers=key(api, "put-1"))
    assert first.status == 200
    again = api.put(f"{CUSTOMERS}/{customer}", {"name": "Ada L."}, headers=key(api, "put-1"))
    assert (again.status, again.json()) == (200, first.json())


def test_without_a_key_every_request_does_the_work(api: Api) -> None:
    for _ in range(2):
        assert api.post(CUSTOMERS, {"name": "Cy", "email": "cy@example.com"}).status == 201
    assert customer_count(api) == 2


# ---------------------------------------------------------------- a different request
@pytest.mark.parametrize("second", [
    pytest.param(("POST", CUSTOMERS, {"name": "Other", "email": "o@example.com"}), id="other body"),
    pytest.param(("POST", INVOICES, {"customer_id": "x"}), id="other path"),
    pytest.param(("PUT", CUSTOMERS + "/0195f1a0-0000-7000-8000-00000000dead", {"name": "Ada"}), id="other method"),
])
def test_the_same_key_with_a_different_request_is_a_409(api: Api, second: tuple[str, str, Any]) -> None:
    assert api.post(CUSTOMERS, {"name": "Ada", "email": "ada@example.com"}, headers=key(api, "k-2")).status == 201
    method, path, body = second
    reply = api.request(method, path, json_body=body, headers=key(api, "k-2"))
    assert reply.status == 409, reply.body
    assert reply.json()["code"] == "idempotency_key_reused" and reply.json()["detail"]
    assert customer_count(api) == 1


# ---------------------------------------------------------------- in flight
class _NoLocks(dict[str, Any]):
    def setdefault(self, key: str, default: Any = None) -> Any:
        return contextlib.nullcontext()


def test_a_concurrent_duplicate_in_flight_is_a_409(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()
    original = customers.create_customer

    def slow(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(customers, "create_customer", slow)
    # The local runtime runs one event at a time per function, like one warm container; in AWS a
    # duplicate lands on a second container: let it through here too.
    monkeypatch.setattr(runtime, "_function_locks", _NoLocks())
    body = {"name": "Dee", "email": "dee@example.com"}
    replies: list[Any] = []
    first = threading.Thread(target=lambda: replies.append(api.post(CUSTOMERS, body, headers=key(api, "k-3"))))
    first.start()
    try:
        assert entered.wait(10)
        # While the first is still running, its duplicate is refused
        duplicate = api.post(CUSTOMERS, body, headers=key(api, "k-3"))
        assert duplicate.status == 409, duplicate.body
        assert duplicate.json()["code"] == "idempotency_request_in_progress"
    finally:
        release.set()
        first.join(10)
    assert replies[0].status == 201
    # Once the first is done, a retry replays it
    again = api.post(CUSTOMERS, body, headers=key(api, "k-3"))
    assert (again.status, again.json()) == (201, replies[0].json())
    assert customer_count(api) == 1


# ---------------------------------------------------------------- per business, errors, expiry
def test_keys_are_per_business(api: Api) -> None:
    other = Api(make_tenant())
    mine = api.post(CUSTOMERS, {"name": "Ada", "email": "ada@example.com"}, headers=key(api, "shared"))
    theirs = other.post(CUSTOMERS, {"name": "Ada", "email": "ada@example.com"}, headers=key(other, "shared"))
    assert mine.status == theirs.status == 201
    assert mine.json()["data"]["id"] != theirs.json()["data"]["id"]
    assert theirs.json()["data"]["business_id"] == other.tenant.business_id  # type: ignore[union-attr]
    assert customer_count(api) == customer_count(other) == 1


def test_an_error_is_not_kept_so_the_fixed_retry_works(api: Api) -> None:
    missing = "0195f1a0-0000-7000-8000-00000000dead"
    body = invoice_body(missing)
    assert api.post(INVOICES, body, headers=key(api, "k-4")).status == 404
    assert api.post(INVOICES, body, headers=key(api, "k-4")).status == 404  # no replay: did the work again
    assert api.get(INVOICES).json()["data"]["items"] == []


def test_a_too_long_key_is_a_422_on_the_header(api: Api) -> None:
    reply = api.post(CUSTOMERS, {"name": "Ada", "email": "ada@example.com"}, headers=key(api, "x" * 256))
    assert reply.status == 422
    assert reply.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert customer_count(api) == 0


# ---------------------------------------------------------------- what a key may be (the OpenAPI document)
# functions/docs/openapi.json declares the header as any string of at most MAX_KEY_LENGTH characters
# (surrounding whitespace trimmed, blank = no idempotency): every such value works as a key.
@pytest.mark.parametrize("value", [
    pytest.param("x", id="one character"),
    pytest.param("x" * idempotency.MAX_KEY_LENGTH, id="the longest"),
    pytest.param(" " + "x" * idempotency.MAX_KEY_LENGTH + "\t", id="the longest, padded"),
    pytest.param("clé ñ\xa0\xff", id="latin-1"),
    pytest.param("ключ-😀", id="beyond latin-1"),
    pytest.param("a\tb\x7f\x01", id="controls"),
    pytest.param('{"k": [1, null]} ../* %00 \\', id="json and path-like"),
])
def test_any_documented_key_replays_and_a_different_body_is_a_409(api: Api, value: str) -> None:
    first = api.post(CUSTOMERS, {"name": "Ada", "email": "ada@example.com"}, headers=key(api, value))
    assert first.status == 201, first.body
    again = api.post(CUSTOMERS, {"name": "Ada", "email": "ada@example.com"}, headers=key(api, value.strip()))
    assert (again.status, again.json()) == (201, first.json()), "padding is trimmed: the same key"
    other = api.post(CUSTOMERS, {"name": "Bo", "email": "bo@example.com"}, headers=key(api, value))
    assert other.status == 409 and other.json()["code"] == "idempotency_key_reused", other.body
    assert customer_count(api) == 1


@pytest.mark.parametrize("value", ["", " ", "\t \t"])
def test_a_blank_key_is_no_key(api: Api, value: str) -> None:
    for name in ("Ada", "Bo", "Bo"):
        assert api.post(CUSTOMERS, {"name": name, "email": "x@example.com"}, headers=key(api, value)).status == 201
    assert customer_count(api) == 3


_LATIN_1 = st.characters(codec="latin-1", exclude_characters="\r\n")  # what an HTTP header can carry
HEADER_TEXT = st.text(_LATIN_1, max_size=20) | st.text(_LATIN_1, min_size=idempotency.MAX_KEY_LENGTH - 5,
                                                       max_size=idempotency.MAX_KEY_LENGTH + 5)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(value=HEADER_TEXT | st.text(max_size=40))
def test_any_header_value_is_a_2xx_or_4xx_never_a_5xx(aws: None, value: str) -> None:
    api = Api(make_tenant())  # a business per example: two values trimming to one key do not meet
    path = f"{CUSTOMERS}/{api.post(CUSTOMERS, {'name': 'Ada', 'email': 'ada@example.com'}).json()['data']['id']}"
    first = api.put(path, {"name": "Ada L."}, headers=key(api, value))
    other = api.put(path, {"name": "Ada M."}, headers=key(api, value))
    trimmed = value.strip()
    if len(trimmed) > idempotency.MAX_KEY_LENGTH:
        assert first.status == other.status == 422, first.body
    elif not trimmed:
        assert first.status == other.status == 200, (first.body, other.body)
    else:
        assert first.status == 200, first.body
        assert other.status == 409 and other.json()["code"] == "idempotency_key_reused", other.body


def test_records_live_in_the_business_partition_and_expire_after_24_hours(api: Api) -> None:
    before = int(time.time())
    api.post(CUSTOMERS, {"name": "Ada", "email": "ada@example.com"}, headers=key(api, "k-5"))
    found = table.client().query(
        TableName=table.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": {"S": keys.business(api.tenant.business_id)},  # type: ignore[union-attr]
                                   ":sk": {"S": f"{keys.IDEMPOTENCY}#"}})["Items"]
    assert len(found) == 1
    assert before + 86_400 <= int(found[0]["expires_at"]["N"]) <= int(time.time()) + 86_400
    ttl = template.resources("AWS::DynamoDB::Table")["Table"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}


def test_every_api_function_may_read_and_write_its_records() -> None:
    needed = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    checked = 0
    for name, function in template.functions().items():
        code = function.code_dir / "app.py"
        if "InvoicingApi()" not in code.read_text():
            continue
        checked += 1
        resource = template.load()["Resources"][name]["Properties"]
        granted = {action for policy in resource.get("Policies", []) if isinstance(policy, dict)
                   for statement in policy.get("Statement", [])
                   for action in ([statement["Action"]] if isinstance(statement["Action"], str)
                                  else statement["Action"])}
        assert needed <= granted, f"{name} lacks {needed - granted}"
    assert checked >= 6, "the API functions (invoices, customers, inventory, charges, batch, recurring) were checked"
