"""Schemathesis against the checked-in OpenAPI document, through the emulated API Gateway.

Every operation, authenticated as the owner of a business holding the demo data (so generated
requests can meet existing ids: about half the cases get a real id of the right kind in their
path), at least ``FUZZ_REQUESTS_PER_OPERATION`` requests each (125 x 52 operations = 6,500 by
default; ``make fuzz`` asks for more), with fixed seeds. All of schemathesis' checks must pass:
no 5xx, responses and status codes as documented, content types, headers.

The requests go in process: a tiny WSGI app turns each into ``devstack.gateway.request`` (route
match, the REQUEST authorizer, gateway responses, the function's handler), as API Gateway would.

Then hostile JSON (``test_hostile_bodies_are_4xx``): for every operation that takes a body, bodies
schemathesis generates, with one random place (the root, any member or element) replaced by deep
nesting (to 100,000 levels, closed or not), an integer of thousands of digits, a number JSON cannot
carry or a lone surrogate, sent once, or twice with the same Idempotency-Key: always a 4xx, a 422
in the contract's shape (invoicing.http.jsonbody).
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from helpers import MARK, VALIDATION_KEYS, deliver_documents, send_document_event, written
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from devstack import gateway
from devstack.emulated import create_tenant, emulated_aws
from invoicing.http.jsonbody import MAX_DEPTH, MAX_INT_DIGITS

DOCUMENT = Path(__file__).resolve().parents[2] / "functions" / "docs" / "openapi.json"
PER_OPERATION = int(os.environ.get("FUZZ_REQUESTS_PER_OPERATION", "125"))
SEED = int(os.environ.get("FUZZ_SEED", "20261121"))
MIN_TOTAL_REQUESTS = 5_000

# Valid-by-schema data may still break a rule JSON Schema cannot say (a date matching YYYY-MM-DD
# that is no calendar day, a cursor this API did not issue, a body id differing from the path's,
# due date before issue date): those are 400/422 by contract, so they are accepted answers to
# "schema-valid" data too. Every other check runs with its defaults.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422"]}}})
schema = schemathesis.openapi.from_path(str(DOCUMENT), config=CONFIG)
OPERATIONS = sorted(f"{op.method.upper()} {op.path}" for op in (r.ok() for r in schema.get_all_operations()))


def operation_of(label: str) -> Any:
    method, path = label.split(" ", 1)
    return schema[path][method]


class Counter:
    requests = 0


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """WSGI in front of the emulated API Gateway."""
    Counter.requests += 1
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    body: str | None = None
    is_base64 = False
    if raw:
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:  # API Gateway hands a binary body on base64-encoded
            body, is_base64 = base64.b64encode(raw).decode(), True
    reply = gateway.request(environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/", headers=headers, body=body,
                            query=environ.get("QUERY_STRING", ""), is_base64=is_base64)
    status = f"{reply.status} {'OK' if reply.status < 400 else 'Error'}"
    start_response(status, list(reply.headers.items()))
    return [reply.content]


schema.app = wsgi_app


@pytest.fixture(scope="module")
def aws_for_fuzzing() -> Iterator[None]:
    with emulated_aws("invoicing-fuzz"):
        yield


@pytest.fixture
def demo(aws_for_fuzzing: None) -> dict[str, Any]:
    """A business of its own for each operation (what one operation's fuzzing writes does not
    slow down the next one's lists, and each run is reproducible alone) holding demo-like data:
    customers, a product variant in stock at a location, delayed charges, a draft and an open
    invoice (partly paid from a bank transaction), an active and a paused recurring template, a
    completed batch; and the ids to aim at."""
    tenant = create_tenant()
    auth = {"Authorization": f"Bearer {tenant.token}", "x-business-id": tenant.business_id}

    def call(method: str, path: str, body: Any = None) -> Any:
        reply = gateway.request(method, path, headers={**auth, "Content-Type": "application/json"},
                                body=None if body is None else json.dumps(body))
        assert 200 <= reply.status < 300, (path, reply.body)
        return reply.json()["data"] if reply.body else None

    customers = [call("POST", "/api/v1/customers", {"name": name, "email": f"{name.lower()}@example.com"})["id"]
                 for name in ("Ada", "Grace")]
    product = call("POST", "/api/v1/inventory/products", {"name": "Widget"})["id"]
    variant = call("POST", "/api/v1/inventory/products/variants",
                   {"product_id": product, "name": "Blue", "sku": "W-1", "unit_price": 1250})["id"]
    location = call("POST", "/api/v1/inventory/locations", {"name": "Main", "code": "MAIN", "is_default": True})["id"]
    call("POST", "/api/v1/inventory/adjustments", {"variant_id": variant, "location_id": location,
                                                   "quantity_change": 100, "reason": "Opening stock"})
    charges = [call("POST", "/api/v1/delayed-charges", {"customer_id": customers[0], "amount": 500,
                                                        "description": "Late fee"})["id"]]
    body = {"customer_id": customers[0], "due_date": "2031-01-31",
            "line_items": [{"variant_id": variant, "quantity": 1}, {"description": "Work", "unit_price": 900}]}
    invoices = [call("POST", "/api/v1/invoices", body)["id"] for _ in range(2)]
    call("POST", f"/api/v1/invoices/{invoices[1]}/finalize")
    template = {"name": "Retainer", "customer_id": customers[1], "frequency": "monthly", "start_date": "2031-01-01",
                "days_until_due": 14, "template_data": {"line_items": body["line_items"]}}
    templates = [call("POST", "/api/v1/recurring", template)["id"] for _ in range(2)]
    call("POST", f"/api/v1/recurring/{templates[1]}/pause")
    batch = call("POST", "/api/v1/invoices/batch", {"items": [{k: body[k] for k in ("due_date", "line_items")}
                                                              | {"customer_id": c} for c in customers]})
    txn = call("POST", "/api/v1/transactions", {"amount": 100_000, "description": "Deposit"})["id"]
    payment = call("POST", f"/api/v1/invoices/{invoices[1]}/payments", {"transaction_id": txn, "amount": 100})["id"]
    send_document_event(tenant.business_id, invoices[1], "payment.created", payment)  # its PDF and receipt
    deliver_documents()
    ids = {"invoice_id": invoices, "customer_id": customers, "charge_id": charges, "product_id": [product],
           "variant_id": [variant], "location_id": [location], "template_id": templates,
           "batch_id": [batch["batch_id"]], "transaction_id": [txn], "payment_id": [payment]}
    return {"auth": auth, "ids": ids}


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_conforms(demo: dict[str, Any], label: str, record_property: Callable[[str, Any], None]) -> None:
    operation = operation_of(label)
    ids: dict[str, list[str]] = demo["ids"]
    chooser = random.Random(f"{SEED}:{label}")  # which cases get a real id; deterministic

    def check(case: Any) -> None:
        if Counter.requests - before >= PER_OPERATION:
            return  # this operation's share is done; let hypothesis finish its round quietly
        for name in list(case.path_parameters or {}):
            if ids.get(name) and chooser.random() < 0.5:
                case.path_parameters[name] = chooser.choice(ids[name])
        case.call_and_validate(headers=demo["auth"], app=wsgi_app)

    before, started, round_ = Counter.requests, time.monotonic(), 0
    # Hypothesis stops early once an operation's (small) input space is exhausted: run more seeds
    # until this operation has had its share of the total.
    while Counter.requests - before < PER_OPERATION and round_ < 20:
        test = hypothesis.given(case=operation.as_strategy())(check)
        test = settings(max_examples=PER_OPERATION, deadline=None, database=None, derandomize=False,
                        suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.explicit,
                                                                          hypothesis.Phase.generate])(test)
        hypothesis.seed(SEED + round_)(test)()
        round_ += 1
    made = Counter.requests - before
    record_property("requests", made)
    print(f"{label}: {made} requests in {time.monotonic() - started:.1f}s")
    assert made >= PER_OPERATION, f"{label}: only {made} requests generated"


def test_the_run_is_at_least_5000_requests() -> None:
    """Each operation above asserts its own share; together they make the total."""
    assert len(OPERATIONS) * PER_OPERATION >= MIN_TOTAL_REQUESTS


# ---------------------------------------------------------------- hostile JSON
BODY_OPERATIONS = [label for label in OPERATIONS if len(operation_of(label).body)]
HOSTILE_PER_OPERATION = max(PER_OPERATION // 5, 10)
LEVELS = {"arrays": ("[", "]"), "objects": ('{"k":', "}"), "both": ('[{"k":', "}]")}

huge_integers = st.builds(lambda sign, digits: sign + "9" * digits,
                          st.sampled_from(["", "-"]), st.integers(MAX_INT_DIGITS + 1, 6000))
odd_numbers = st.sampled_from(["1e999999", "-1e400", "NaN", "Infinity", "-Infinity"])
depths = st.sampled_from([MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 100, 500, 1000, 10_000, 100_000]) \
    | st.integers(2, 5000)


@st.composite
def nestings(draw: st.DrawFn) -> str:
    """Levels of arrays, objects or both, around a scalar (or a hostile number), closed or not."""
    opener, closer = LEVELS[draw(st.sampled_from(sorted(LEVELS)))]
    levels = max(draw(depths) // len(closer), 1)
    inner = draw(st.sampled_from(["1", '"x"', "null", "[]", "{}"]) | huge_integers | odd_numbers)
    return opener * levels + inner + (closer * levels if draw(st.booleans()) else "")


class Shown(str):
    """A JSON text that a failure report shows by its length and start (some are 600 KB)."""

    def __repr__(self) -> str:
        return str.__repr__(self) if len(self) <= 100 else f"<{len(self)} characters: {str.__repr__(self[:80])}...>"


hostile_literals = (nestings() | huge_integers | odd_numbers | st.just('"\\ud800"')).map(Shown)


def places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place of a JSON value: the root, then each element and member, depth first."""
    yield path
    items = enumerate(value) if isinstance(value, list) else value.items() if isinstance(value, dict) else ()
    for key, item in items:
        yield from places(item, (*path, key))


def with_literal(body: Any, path: tuple[Any, ...], literal: str) -> str:
    """``body`` as JSON text with the JSON text ``literal`` in place of the value at ``path``."""
    if not path:
        return literal
    copy = json.loads(json.dumps(body))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = MARK
    return written(copy, literal)


def strict_json(content: bytes) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in an answer is not JSON")

    return json.loads(content, parse_constant=refuse)


@pytest.fixture(scope="module")
def hostile_auth(aws_for_fuzzing: None) -> dict[str, str]:
    """One business for every hostile request: the guard refuses them before they read or write anything."""
    tenant = create_tenant()
    return {"Authorization": f"Bearer {tenant.token}", "x-business-id": tenant.business_id,
            "Content-Type": "application/json"}


@pytest.mark.parametrize("label", BODY_OPERATIONS)
def test_hostile_bodies_are_4xx(hostile_auth: dict[str, str], label: str) -> None:
    operation = operation_of(label)
    concrete = re.sub(r"\{[^}]+\}", "0195f1a0-0000-7000-8000-0000000000aa", operation.path)
    keys = iter(range(1_000_000))

    @hypothesis.given(case=operation.as_strategy(), data=st.data())
    @settings(max_examples=HOSTILE_PER_OPERATION, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    @hypothesis.seed(SEED)
    def check(case: Any, data: st.DataObject) -> None:
        place = data.draw(st.sampled_from(list(places(case.body))), label="place")
        text = with_literal(case.body, place, data.draw(hostile_literals, label="literal"))
        keyed = data.draw(st.booleans(), label="with an Idempotency-Key, sent twice")
        headers = {**hostile_auth, **({"Idempotency-Key": f"hostile-{label}-{next(keys)}"} if keyed else {})}
        for _ in range(2 if keyed else 1):
            reply = gateway.request(operation.method.upper(), concrete, headers=headers, body=text)
            assert 400 <= reply.status < 500, (reply.status, reply.body[:300])
            answer = strict_json(reply.content)
            if reply.status == 422:
                assert answer["detail"] and all(set(item) == VALIDATION_KEYS and item["loc"][0] == "body"
                                                for item in answer["detail"]), answer

    started = time.monotonic()
    check()
    print(f"{label}: {HOSTILE_PER_OPERATION} hostile bodies in {time.monotonic() - started:.1f}s")
