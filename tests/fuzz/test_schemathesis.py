"""Schemathesis against the checked-in OpenAPI document, through the emulated API Gateway.

Every operation, authenticated as the owner of a business holding the demo data (so generated
requests can meet existing ids: about half the cases get a real id of the right kind in their
path), at least ``FUZZ_REQUESTS_PER_OPERATION`` requests each (125 x 40 operations = 5,000 by
default; ``make fuzz`` asks for more), with fixed seeds. All of schemathesis' checks must pass:
no 5xx, responses and status codes as documented, content types, headers.

The requests go in process: a tiny WSGI app turns each into ``devstack.gateway.request`` (route
match, the REQUEST authorizer, gateway responses, the function's handler), as API Gateway would.
"""

from __future__ import annotations

import base64
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from devstack import gateway
from devstack.emulated import create_tenant, emulated_aws

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
    invoice, an active and a paused recurring template, a completed batch; and the ids to aim at."""
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
    ids = {"invoice_id": invoices, "customer_id": customers, "charge_id": charges, "product_id": [product],
           "variant_id": [variant], "location_id": [location], "template_id": templates,
           "batch_id": [batch["batch_id"]]}
    return {"auth": auth, "ids": ids}


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_conforms(demo: dict[str, Any], label: str, record_property: Callable[[str, Any], None]) -> None:
    method, path = label.split(" ", 1)
    operation = schema[path][method]
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
