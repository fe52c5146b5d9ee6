"""Tenant isolation, property-based: business A's token against business B's ids, cursors and
headers never reads or writes anything of B's.

For every generated operation the request carrying B's id must be answered exactly as the same
request carrying an id that exists nowhere (same status, same body once the ids are masked), and
B's data, read back with B's own token, must be unchanged at the end (checked when the module's
fixture is torn down, after every property ran against it).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers import Api, deliver_documents, send_document_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.emulated import create_tenant, emulated_aws

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
PRESIGNED_QUERY = re.compile(r'(https?://[^"?]+)\?[^"]*')
LISTS = ["/api/v1/customers", "/api/v1/invoices", "/api/v1/delayed-charges", "/api/v1/inventory/products",
         "/api/v1/inventory/products/variants", "/api/v1/inventory/locations", "/api/v1/inventory/levels",
         "/api/v1/transactions", "/api/v1/journal-entries"]


def data(reply: Any) -> Any:
    assert 200 <= reply.status < 300, (reply.status, reply.body)
    return reply.json()["data"]


def populate(api: Api) -> dict[str, str]:
    """A customer, a product with a variant in stock at a location, a delayed charge, a draft and
    an open invoice, partly paid from a bank transaction, and a manual journal entry."""
    customer = data(api.post("/api/v1/customers", {"name": "Ada", "email": "ada@example.com"}))["id"]
    product = data(api.post("/api/v1/inventory/products", {"name": "Widget"}))["id"]
    variant = data(api.post("/api/v1/inventory/products/variants",
                            {"product_id": product, "name": "Blue", "sku": "W-1", "unit_price": 1250}))["id"]
    location = data(api.post("/api/v1/inventory/locations", {"name": "Main", "code": "MAIN"}))["id"]
    data(api.post("/api/v1/inventory/adjustments", {"variant_id": variant, "location_id": location,
                                                    "quantity_change": 10, "reason": "Opening"}))
    charge = data(api.post("/api/v1/delayed-charges", {"customer_id": customer, "amount": 500,
                                                       "description": "Late fee"}))["id"]
    body = {"customer_id": customer, "due_date": "2031-01-31",
            "line_items": [{"variant_id": variant, "quantity": 1}, {"description": "Work", "unit_price": 900}]}
    draft = data(api.post("/api/v1/invoices", body))["id"]
    opened = data(api.post("/api/v1/invoices", body))["id"]
    data(api.post(f"/api/v1/invoices/{opened}/finalize"))
    txn = data(api.post("/api/v1/transactions", {"amount": 5_000}))["id"]
    payment = data(api.post(f"/api/v1/invoices/{opened}/payments", {"transaction_id": txn, "amount": 100}))["id"]
    entry = data(api.post("/api/v1/journal-entries", {"description": "Deposit", "lines": [
        {"account_code": "1000", "debit": 10}, {"account_code": "4000", "credit": 10}]}))["id"]
    return {"customer_id": customer, "product_id": product, "variant_id": variant, "location_id": location,
            "charge_id": charge, "invoice_id": draft, "open_invoice_id": opened, "transaction_id": txn,
            "payment_id": payment, "journal_entry_id": entry}


def snapshot(api: Api) -> dict[str, Any]:
    """Everything B has, read with B's token: every list (with totals) and every item."""
    seen: dict[str, Any] = {}
    for path in LISTS:
        listed = json.dumps(data(api.get(path, query="limit=1000&include_total_count=true")))
        # A presigned pdf_url is signed anew at each read: compare the object it names, not its signature.
        seen[path] = json.loads(PRESIGNED_QUERY.sub(r"\1", listed))
    return seen


@pytest.fixture(scope="module")
def two_businesses() -> Iterator[dict[str, Any]]:
    with emulated_aws("invoicing-isolation"):
        a, b = Api(create_tenant(name="Attacker")), Api(create_tenant(name="Victim"))
        ids_a = populate(a)
        ids_b = populate(b)
        # B's open invoice has its PDF and its payment its receipt: a leak would answer 200.
        send_document_event(b.tenant.business_id, ids_b["open_invoice_id"], "payment.created", ids_b["payment_id"])
        deliver_documents()
        cursor_b = data(b.get("/api/v1/customers", query="limit=1"))["next_cursor"]
        data(b.post("/api/v1/customers", {"name": "Bo", "email": "bo@example.com"}))  # so B has a next page
        cursors_b = {path: data(b.get(path, query="limit=1"))["next_cursor"] for path in LISTS}
        before = snapshot(b)
        yield {"a": a, "b": b, "ids": ids_b, "ids_a": ids_a, "cursors": {**cursors_b, "first": cursor_b}}
        # After every property of this module ran on this fixture: nothing of B's moved.
        assert json.dumps(snapshot(b), sort_keys=True) == json.dumps(before, sort_keys=True)


def missing_like(value: str) -> str:
    """An id of the same shape that exists in no business."""
    return str(uuid.uuid4())


# Each operation: (method, path template, body builder(id)). "{id}" is the foreign or missing id.
Op = tuple[str, str, Callable[[str], Any], str]
OPERATIONS: list[Op] = [
    ("GET", "/api/v1/customers/{id}", lambda i: None, "customer_id"),
    ("PUT", "/api/v1/customers/{id}", lambda i: {"name": "Mallory"}, "customer_id"),
    ("DELETE", "/api/v1/customers/{id}", lambda i: None, "customer_id"),
    ("GET", "/api/v1/delayed-charges/customers/{id}/pending", lambda i: None, "customer_id"),
    ("POST", "/api/v1/delayed-charges", lambda i: {"customer_id": i, "amount": 100, "description": "x"}, "customer_id"),
    ("POST", "/api/v1/invoices", lambda i: {"customer_id": i, "due_date": "2031-01-31",
                                            "line_items": [{"description": "x", "unit_price": 1}]}, "customer_id"),
    ("POST", "/api/v1/invoices/batch", lambda i: {"items": [{"customer_id": i, "due_date": "2031-01-31",
                                                             "line_items": [{"description": "x", "unit_price": 1}]}]},
     "customer_id"),
    ("PUT", "/api/v1/delayed-charges/{id}", lambda i: {"amount": 1}, "charge_id"),
    ("DELETE", "/api/v1/delayed-charges/{id}", lambda i: None, "charge_id"),
    ("GET", "/api/v1/invoices/{id}", lambda i: None, "invoice_id"),
    ("GET", "/api/v1/invoices/{id}", lambda i: None, "open_invoice_id"),
    ("PUT", "/api/v1/invoices/{id}", lambda i: {"description": "hacked"}, "invoice_id"),
    ("DELETE", "/api/v1/invoices/{id}", lambda i: None, "invoice_id"),
    ("POST", "/api/v1/invoices/{id}/finalize", lambda i: None, "invoice_id"),
    ("POST", "/api/v1/invoices/{id}/void", lambda i: None, "open_invoice_id"),
    ("PUT", "/api/v1/invoices/{id}/void", lambda i: None, "open_invoice_id"),
    ("PUT", "/api/v1/invoices/{id}/paid", lambda i: None, "open_invoice_id"),
    ("PUT", "/api/v1/invoices/{id}/delivered", lambda i: None, "open_invoice_id"),
    ("POST", "/api/v1/inventory/products/variants",
     lambda i: {"product_id": i, "name": "x", "sku": "X-1", "unit_price": 1}, "product_id"),
    ("POST", "/api/v1/inventory/adjustments",
     lambda i: {"variant_id": i, "quantity_change": -1, "reason": "x"}, "variant_id"),
    ("POST", "/api/v1/invoices", lambda i: {"customer_id": "A", "due_date": "2031-01-31",
                                            "line_items": [{"variant_id": i, "quantity": 1}]}, "variant_id"),
    ("GET", "/api/v1/transactions/{id}", lambda i: None, "transaction_id"),
    ("GET", "/api/v1/inventory/products/{id}", lambda i: None, "product_id"),
    ("GET", "/api/v1/inventory/products/variants/{id}", lambda i: None, "variant_id"),
    ("POST", "/api/v1/invoices/{id}/payments", lambda i: {"transaction_id": "A", "amount": 1}, "open_invoice_id"),
    ("POST", "/api/v1/invoices/{a_open}/payments", lambda i: {"transaction_id": i, "amount": 1}, "transaction_id"),
    ("GET", "/api/v1/invoices/{id}/payments", lambda i: None, "open_invoice_id"),
    ("DELETE", "/api/v1/invoices/{id}/payments/{payment}", lambda i: None, "open_invoice_id"),
    ("DELETE", "/api/v1/invoices/{open}/payments/{id}", lambda i: None, "payment_id"),
    ("POST", "/api/v1/invoices/{id}/uncollectible", lambda i: None, "open_invoice_id"),
    ("GET", "/api/v1/invoices/{id}/pdf", lambda i: None, "open_invoice_id"),
    ("GET", "/api/v1/invoices/{id}/payments/{payment}/receipt", lambda i: None, "open_invoice_id"),
    ("GET", "/api/v1/invoices/{a_open}/payments/{id}/receipt", lambda i: None, "payment_id"),
    ("POST", "/api/v1/invoices/{id}/journal-entry/link", lambda i: {"journal_entry_id": "A"}, "open_invoice_id"),
    ("POST", "/api/v1/invoices/{a_open}/journal-entry/link", lambda i: {"journal_entry_id": i}, "journal_entry_id"),
]
QUERIES = [("GET", "/api/v1/invoices", "customer_id"), ("GET", "/api/v1/invoices", "id"),
           ("GET", "/api/v1/invoices", "variant_id"), ("GET", "/api/v1/invoices", "product_id"),
           ("GET", "/api/v1/inventory/products/variants", "product_id"),
           ("GET", "/api/v1/inventory/levels", "variant_id"), ("GET", "/api/v1/inventory/levels", "location_id"),
           ("GET", "/api/v1/journal-entries", "invoice_id")]
QUERY_ID_KIND = {"id": "invoice_id", ("/api/v1/journal-entries", "invoice_id"): "open_invoice_id"}
A_OWN = {"customer_id": "customer_id", "transaction_id": "transaction_id", "journal_entry_id": "journal_entry_id"}


def masked(reply: Any) -> tuple[int, str]:
    return reply.status, UUID.sub("<id>", reply.body)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(choice=st.integers(min_value=0, max_value=len(OPERATIONS) + len(QUERIES) - 1),
       idempotency=st.booleans(), mixed_case_header=st.booleans())
def test_foreign_ids_are_indistinguishable_from_missing_ones(two_businesses: dict[str, Any], choice: int,
                                                              idempotency: bool, mixed_case_header: bool) -> None:
    a: Api = two_businesses["a"]
    ids: dict[str, str] = two_businesses["ids"]
    headers = a.headers(**({"Idempotency-Key": f"iso-{choice}"} if idempotency else {}))
    if mixed_case_header:
        headers = {key.upper(): value for key, value in headers.items()}
    if choice < len(OPERATIONS):
        method, template, body_of, kind = OPERATIONS[choice]
        foreign, missing = ids[kind], missing_like(ids[kind])
        replies = []
        for value in (foreign, missing):
            body = body_of(value)
            for field, kind_a in A_OWN.items():  # A's own customer (transaction, entry), B's other id
                if isinstance(body, dict) and body.get(field) == "A":
                    body[field] = two_businesses["ids_a"][kind_a]
            path = template.format(id=value, a_open=two_businesses["ids_a"]["open_invoice_id"],
                                   payment=ids["payment_id"], open=ids["open_invoice_id"])
            query = "delivered_on=2031-01-01" if path.endswith("/delivered") else ""
            replies.append(a.request(method, path, json_body=body, query=query,
                                     headers={**headers, "Idempotency-Key": f"iso-{choice}-{value}"}
                                     if idempotency else headers))
        assert replies[0].status in (400, 404, 409, 422), (method, template, replies[0].body)
        assert masked(replies[0]) == masked(replies[1]), (method, template)
    else:
        method, path, param = QUERIES[choice - len(OPERATIONS)]
        kind = QUERY_ID_KIND.get((path, param)) or QUERY_ID_KIND.get(param, param)
        foreign = a.request(method, path, query=f"{param}={ids[kind]}", headers=headers)
        missing = a.request(method, path, query=f"{param}={missing_like(ids[kind])}", headers=headers)
        assert masked(foreign) == masked(missing), (path, param)
        if foreign.status == 200:
            assert foreign.json()["data"]["items"] == []


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(LISTS), direction=st.sampled_from(["next", "prev"]))
def test_a_foreign_cursor_never_pages_into_the_other_business(two_businesses: dict[str, Any], path: str,
                                                              direction: str) -> None:
    a: Api = two_businesses["a"]
    b_id = two_businesses["b"].tenant.business_id
    cursor = two_businesses["cursors"].get(path) or two_businesses["cursors"]["first"]
    reply = a.get(path, query=f"cursor={cursor}&direction={direction}&limit=1000")
    assert reply.status in (200, 400, 422), reply.body
    assert b_id not in reply.body
    for item_id in two_businesses["ids"].values():
        assert item_id not in reply.body


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from([*LISTS, "/api/v1/customers/{customer_id}", "/api/v1/invoices/{invoice_id}"]),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
def test_a_token_with_the_other_business_header_is_refused(two_businesses: dict[str, Any], path: str,
                                                           method: str) -> None:
    a: Api = two_businesses["a"]
    b: Api = two_businesses["b"]
    path = path.format(**two_businesses["ids"])
    headers = {"Authorization": f"Bearer {a.tenant.token}", "x-business-id": b.tenant.business_id}  # type: ignore[union-attr]
    reply = a.request(method, path, json_body={} if method in ("POST", "PUT") else None, headers=headers)
    assert reply.status in (403, 404), reply.body  # 404 Business not found, or 403 for a method not routed
    for item_id in two_businesses["ids"].values():
        assert item_id not in reply.body
