"""Hostile JSON bodies are 422s, never 5xx (API.md: nothing a client sends may produce a 5xx).

Python's json module recurses once per nesting level and refuses integers longer than 4,300
digits: a body nested 1,000 deep or a 5,001-digit ``unit_price`` used to answer 502. Every route
that takes a body (read from the OpenAPI document, so a new route is covered without a change
here) gets each hostile shape three times: without an Idempotency-Key, with one, and with the same
key again (the idempotency wrapper compares the parsed body); each answer is a 422 in the
contract's shape at ``["body"]`` (invoicing.http.jsonbody). Writes that take no body are refused
alike, 9 MB bodies quickly; a big value within the limits is a quick 422 that does not echo it
whole; a cursor of hostile JSON is a 400.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import MARK, VALIDATION_KEYS, Api, written

from devstack.emulated import create_tenant, emulated_aws

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "functions" / "docs" / "openapi.json").read_text())
SCHEMAS = DOCUMENT["components"]["schemas"]
AN_ID = "0195f1a0-0000-7000-8000-0000000000aa"  # any well-formed id: the body is refused before the route reads it


def operations(with_body: bool) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, concrete path, request body schema or {}) of every POST/PUT/DELETE of the API."""
    found = []
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            if method.upper() not in ("POST", "PUT", "DELETE"):
                continue
            schema = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
            if bool(schema) == with_body:
                found.append((method.upper(), re.sub(r"\{[^}]+\}", AN_ID, path), schema or {}))
    return sorted(found, key=lambda op: (op[1], op[0]))


BODY_OPERATIONS = operations(with_body=True)


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    for alternative in schema.get("anyOf", []):  # Optional[X] is anyOf [X, null]
        if alternative.get("type") != "null":
            return resolve(alternative)
    return schema


MONEY = ("unit_price", "amount")


def find(schema: dict[str, Any], wanted: Callable[[tuple[str | int, ...], dict[str, Any]], bool],
         path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """The path of the first field ``wanted`` in a body of ``schema``, depth first."""
    schema = resolve(schema)
    if path and wanted(path, schema):
        return path
    if schema.get("type") == "array":
        return find(schema.get("items", {}), wanted, (*path, 0))
    for name, field in schema.get("properties", {}).items():
        found = find(field, wanted, (*path, name))
        if found is not None:
            return found
    return None


def field_of(schema: dict[str, Any]) -> tuple[str | int, ...]:
    """Where a hostile value goes in a body: its first money field, else its first integer field, else its
    first string field (a name)."""
    path = (find(schema, lambda path, field: field.get("type") == "integer" and path[-1] in MONEY)
            or find(schema, lambda path, field: field.get("type") == "integer")
            or find(schema, lambda path, field: field.get("type") == "string"))
    assert path, f"no integer or string field in {schema}"
    return path


def at(path: tuple[str | int, ...], literal: str) -> str:
    """A body holding ``literal`` at ``path``, e.g. {"line_items": [{"unit_price": ...}]}."""
    value: Any = MARK
    for part in reversed(path):
        value = [value] if isinstance(part, int) else {part: value}
    return written(value, literal)


def arrays(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def at_a_field(literal: str) -> Callable[[dict[str, Any]], str]:
    return lambda schema: at(field_of(schema), literal)


def whole(text: str) -> Callable[[dict[str, Any]], str]:
    return lambda schema: text


# Each: the body for an operation's request schema; "at-a-field" ones hold the value at the
# schema's money (or integer, or string) field, in a body otherwise shaped like the schema's.
SHAPES: dict[str, Callable[[dict[str, Any]], str]] = {
    **{f"arrays-{n}-at-a-field": at_a_field(arrays(n)) for n in (33, 100, 500, 1000, 10_000, 100_000)},
    **{f"objects-{n}-at-a-field": at_a_field(objects(n)) for n in (100, 1000, 100_000)},
    **{f"arrays-{n}-top-level": whole(arrays(n)) for n in (1000, 100_000)},
    **{f"objects-{n}-top-level": whole(objects(n)) for n in (500, 10_000)},
    "unclosed-arrays-100000": whole("[" * 100_000),
    "integer-5001-digits-at-a-field": at_a_field("9" * 5001),
    "integer-4301-digits-at-a-field": at_a_field("-" + "9" * 4301),
    "integer-21-digits-at-a-field": at_a_field("1" + "0" * 20),
    **{f"{literal}-at-a-field": at_a_field(literal) for literal in ("1e999999", "NaN", "Infinity", "-Infinity")},
}


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """One business for the module: every request here is refused before it reads or writes anything."""
    with emulated_aws("invoicing-hostile-json"):
        yield Api(create_tenant())


@pytest.fixture(scope="module")
def customer(api: Api) -> str:
    reply = api.post("/api/v1/customers", {"name": "Ada", "email": "ada@example.com"})
    assert reply.status == 201, reply.body
    return reply.json()["data"]["id"]  # type: ignore[no-any-return]


def invoice(customer: str, unit_price: str) -> str:
    return written({"customer_id": customer, "due_date": "2031-01-31",
                    "line_items": [{"description": "Work", "unit_price": MARK}]}, unit_price)


def send(api: Api, method: str, path: str, text: str, **headers: str) -> Any:
    return api.request(method, path, raw=text, headers=api.headers(**{"Content-Type": "application/json", **headers}))


def assert_refused(reply: Any) -> dict[str, Any]:
    """A 422 in the contract's (FastAPI's) shape at ["body"], naming JSON this API does not read."""
    assert reply.status == 422, reply.body[:500]
    details = reply.json()["detail"]
    assert isinstance(details, list) and details, details
    for item in details:
        assert set(item) == VALIDATION_KEYS, item
        assert isinstance(item["msg"], str) and item["msg"], item
        assert isinstance(item["ctx"], dict), item
    assert [(d["loc"], d["type"]) for d in details] == [(["body"], "json_invalid")], details
    return details[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("method", "path", "schema"), BODY_OPERATIONS,
                         ids=[f"{m} {p.replace(AN_ID, '{id}')}" for m, p, _ in BODY_OPERATIONS])
def test_a_hostile_body_is_a_422_with_and_without_an_idempotency_key(
        api: Api, method: str, path: str, schema: dict[str, Any], shape: str) -> None:
    # Given a hostile body for this route
    text = SHAPES[shape](schema)
    key = f"hostile-{method}-{path}-{shape}"
    # When it is sent without a key, with a key, and with the same key again
    replies = [send(api, method, path, text), send(api, method, path, text, **{"Idempotency-Key": key}),
               send(api, method, path, text, **{"Idempotency-Key": key})]
    # Then each answer is the same 422 at ["body"]
    first = assert_refused(replies[0])
    for reply in replies[1:]:
        assert assert_refused(reply) == first
        assert "Idempotent-Replayed" not in reply.headers


def test_every_route_that_takes_a_body_is_covered() -> None:
    covered = {(method, path) for method, path, _ in BODY_OPERATIONS}
    assert ("POST", "/api/v1/invoices") in covered and ("POST", "/api/v1/invoices/batch") in covered
    assert ("POST", "/api/v1/customers") in covered and len(covered) >= 13
    assert field_of(SCHEMAS["InvoiceCreate"]) == ("line_items", 0, "unit_price")


@pytest.mark.parametrize(("method", "path", "schema"), operations(with_body=False),
                         ids=[f"{m} {p.replace(AN_ID, '{id}')}" for m, p, _ in operations(with_body=False)])
def test_a_hostile_body_on_a_write_that_takes_none_is_a_422_too(
        api: Api, method: str, path: str, schema: dict[str, Any]) -> None:
    # A route without a body ignores one, but the idempotency wrapper compares it, parsed.
    for headers in ({}, {"Idempotency-Key": f"hostile-{method}-{path}"}):
        assert_refused(send(api, method, path, arrays(1000), **headers))
        assert_refused(send(api, method, path, at(("n",), "9" * 5001), **headers))


NINE_MB = {
    "arrays": arrays(4_500_000),
    "objects": objects(1_500_000),
    "unclosed": "[" * 9_000_000,
    "many-40-deep": ",".join([arrays(40)] * 100_000).join("[]"),
    "millions-of-small-lists": ",".join([arrays(28)] * 150_000).join("[]"),  # 31 deep: 400 MB once parsed
    "millions-of-empty-objects": ",".join(["{}"] * 3_000_000).join("[]"),
}


@pytest.mark.parametrize("text", NINE_MB.values(), ids=NINE_MB.keys())
def test_a_9_mb_hostile_body_is_refused_quickly(api: Api, text: str) -> None:
    assert 8_000_000 < len(text) < 10 * 1024 * 1024  # what API Gateway lets through
    for headers in ({}, {"Idempotency-Key": "nine-mb"}):
        started = time.monotonic()
        assert_refused(send(api, "POST", "/api/v1/invoices", text, **headers))
        assert time.monotonic() - started < 10  # seconds, on a busy 2-core machine; well under one alone


@pytest.mark.parametrize("value", [json.dumps([[1]] * 250_000), json.dumps("x" * 9_000_000)],
                         ids=["250000-lists", "9-mb-string"])
def test_a_big_value_within_the_limits_is_a_quick_422_that_does_not_echo_it_whole(
        api: Api, customer: str, value: str) -> None:
    text = written({"customer_id": customer, "due_date": "2031-01-31",
                    "line_items": [{"description": MARK, "unit_price": 1}]}, value)
    for headers in ({}, {"Idempotency-Key": f"big-{len(text)}"}):
        started = time.monotonic()
        reply = send(api, "POST", "/api/v1/invoices", text, **headers)
        assert reply.status == 422, reply.body[:500]
        assert reply.json()["detail"][0]["loc"] == ["body", "line_items", 0, "description"]
        assert time.monotonic() - started < 20  # API Gateway gives up at 29 s; a second or so alone
        assert len(reply.content) < 100_000  # echoed whole, the input made answers beyond Lambda's 6 MB


def test_a_base64_encoded_hostile_body_is_refused_the_same(api: Api) -> None:
    raw = base64.b64encode(at(("name",), "9" * 5001).encode()).decode()
    reply = api.request("POST", "/api/v1/customers", raw=raw, is_base64=True,
                        headers=api.headers(**{"Content-Type": "application/json"}))
    assert assert_refused(reply)["ctx"]["max_digits"] == 20


# ---------------------------------------------------------------- valid bodies around the limits
@pytest.mark.parametrize("unit_price", ["9" * 5001, "9" * 4300, "1" + "0" * 20])
def test_a_huge_unit_price_in_an_otherwise_valid_invoice_is_refused(api: Api, customer: str,
                                                                   unit_price: str) -> None:
    detail = assert_refused(send(api, "POST", "/api/v1/invoices", invoice(customer, unit_price)))
    assert "20 digits" in detail["msg"]


def test_a_huge_number_as_a_customer_name_is_refused(api: Api) -> None:
    body = written({"name": MARK, "email": "a@example.com"}, "9" * 5001)
    assert_refused(send(api, "POST", "/api/v1/customers", body))


def test_numbers_within_the_limits_reach_validation_at_their_field(api: Api, customer: str) -> None:
    # 20 digits is read, then refused by the field's own rule, at its path
    reply = send(api, "POST", "/api/v1/invoices", invoice(customer, "9" * 20))
    assert reply.status == 422, reply.body
    [detail] = reply.json()["detail"]
    assert (detail["loc"], detail["type"]) == (["body", "line_items", 0, "unit_price"], "less_than_equal")
    # a float literal beyond the cents limit, but finite, too
    reply = send(api, "POST", "/api/v1/invoices", invoice(customer, "1e300"))
    assert reply.json()["detail"][0]["loc"] == ["body", "line_items", 0, "unit_price"], reply.body


def test_nesting_up_to_the_limit_reaches_validation_at_its_field(api: Api, customer: str) -> None:
    # 32 levels in all (the body object, the list, the line, 29 arrays): read, then a type error at the field
    reply = send(api, "POST", "/api/v1/invoices", invoice(customer, arrays(29)))
    assert reply.status == 422, reply.body
    assert reply.json()["detail"][0]["loc"] == ["body", "line_items", 0, "unit_price"], reply.body
    # one more level is refused as a whole
    assert assert_refused(send(api, "POST", "/api/v1/invoices", invoice(customer, arrays(30))))["ctx"] == {
        "error": "nested deeper than 32 levels", "max_depth": 32}


def test_lone_surrogates_are_a_422_at_their_field(api: Api) -> None:
    reply = send(api, "POST", "/api/v1/customers", '{"name": "\\ud800", "email": "a@example.com"}')
    assert reply.status == 422, reply.body
    assert reply.json()["detail"][0]["loc"] == ["body", "name"]


def test_duplicate_keys_are_read_the_last_one_winning(api: Api) -> None:
    reply = send(api, "POST", "/api/v1/customers", '{"name": "First", "name": "Last", "email": "a@example.com"}')
    assert reply.status == 201, reply.body
    assert reply.json()["data"]["name"] == "Last"


# ---------------------------------------------------------------- cursors (JSON in a query parameter)
@pytest.mark.parametrize("decoded", [b"[" * 1536, b"[" * 768 + b"]" * 768, b'{"k":' * 256 + b"}" * 256])
def test_a_cursor_of_hostile_json_is_a_400(api: Api, decoded: bytes) -> None:
    cursor = base64.urlsafe_b64encode(decoded).decode().rstrip("=")
    assert len(cursor) <= 2048  # the parameter's own limit
    for path in ("/api/v1/customers", "/api/v1/invoices"):
        reply = api.get(path, query=f"cursor={cursor}")
        assert (reply.status, reply.json()["code"]) == (400, "invalid_cursor"), reply.body


@pytest.mark.parametrize("text", ['[{"name": "Ada", "email": "ada@example.com"}]', '"Ada"', "42", "true"])
def test_a_body_that_is_not_an_object_is_a_422_not_its_first_element(api: Api, text: str) -> None:
    # Powertools would validate the first element of a top-level array and create the customer
    reply = send(api, "POST", "/api/v1/customers", text)
    assert reply.status == 422, reply.body
    assert [(d["loc"], d["type"]) for d in reply.json()["detail"]] == [(["body"], "model_attributes_type")]


def test_a_422_lists_at_most_the_first_hundred_problems(api: Api, customer: str) -> None:
    # Given an invoice whose 250 lines are each wrong twice over
    lines = [{"description": "", "unit_price": "lots"} for _ in range(250)]
    reply = api.post("/api/v1/invoices", {"customer_id": customer, "due_date": "2031-01-31", "line_items": lines})
    details = reply.json()["detail"]
    # Then the answer names the first hundred, in body order, in the contract's shape
    assert reply.status == 422 and len(details) == 100
    assert details[0]["loc"][:3] == ["body", "line_items", 0] and all(set(d) == VALIDATION_KEYS for d in details)
