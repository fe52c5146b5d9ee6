"""POST /api/v1/invoices/batch and GET /api/v1/invoices/batches/{id} through the emulated API
Gateway: the whole request validated before anything is written, the batch resource, small
batches done inline, large ones through SQS (the local event source mapping drained), delayed
charges swept by the lowest index of each customer, and finalize with gapless numbers."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from batch_support import (
    BATCH,
    BATCHES,
    DUE,
    MISSING,
    assert_consistent,
    batch,
    batch_body,
    charge,
    charge_of,
    data,
    invoices,
    item,
    make_customers,
)
from helpers import Api, errors_at, make_tenant

from devstack.sqs_poller import SqsPoller
from invoicing.domain.clock import today_in

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
BATCH_FIELDS = {"batch_id", "business_id", "status", "total", "created", "finalized", "failed",
                "include_delayed_charges", "finalize", "created_at", "updated_at", "items"}


def assert_nothing_written(api: Api) -> None:
    assert invoices(api) == []
    assert data(api.get("/api/v1/delayed-charges", query="status=invoiced"))["items"] == []


# ---------------------------------------------------------------- validation of the whole request
@pytest.mark.parametrize(("mutate", "loc"), [
    (lambda b: b["items"][7].update(due_date="2030-02-30"), ("body", "items", 7, "due_date")),
    (lambda b: b["items"][3]["line_items"][0].update(unit_price=-1), ("body", "items", 3, "line_items", 0,
                                                                       "unit_price")),
    (lambda b: b["items"][9].pop("customer_id"), ("body", "items", 9, "customer_id")),
    (lambda b: b["items"][2].update(line_items=[]), ("body", "items", 2, "line_items")),
    (lambda b: b["items"][4].update(surprise=1), ("body", "items", 4, "surprise")),
    (lambda b: b.update(items=[]), ("body", "items")),
    (lambda b: b.update(items=b["items"] * 101), ("body", "items")),
    (lambda b: b["items"][5].update(line_items=[{"description": "x", "unit_price": 1}] * 251),
     ("body", "items", 5, "line_items")),
])
def test_an_invalid_item_is_a_422_at_its_index_and_nothing_is_written(api: Api, shop: dict[str, Any], mutate: Any,
                                                                        loc: tuple[Any, ...]) -> None:
    body = batch_body([shop["customers"][i % 5] for i in range(10)])
    mutate(body)
    errors = errors_at(api.post(BATCH, body))
    assert loc in errors, errors
    assert_nothing_written(api)


def test_domain_rules_name_the_item_too(api: Api, shop: dict[str, Any]) -> None:
    """Rules beyond the schema (a custom line needs a description and a price, due >= issue) answer
    the same way: the 422's loc is under the item's index."""
    body = batch_body(shop["customers"][:3])
    body["items"][1]["line_items"] = [{"unit_price": 500}]
    assert ("body", "items", 1, "line_items", 0, "description") in errors_at(api.post(BATCH, body))
    body = batch_body(shop["customers"][:3])
    body["items"][2]["due_date"] = (date.today() - timedelta(days=2)).isoformat()
    error = errors_at(api.post(BATCH, body))[("body", "items", 2, "due_date")]
    assert error["type"] == "greater_than_equal"
    assert_nothing_written(api)


@pytest.mark.parametrize("what", ["customer", "variant", "location", "foreign customer"])
def test_an_unknown_reference_is_a_404_naming_the_index_and_nothing_is_written(api: Api, shop: dict[str, Any],
                                                                                what: str) -> None:
    body = batch_body([shop["customers"][i % 5] for i in range(12)])
    if what == "customer":
        body["items"][11]["customer_id"] = MISSING
    elif what == "variant":
        body["items"][11]["line_items"] = [{"variant_id": MISSING}]
    elif what == "location":
        body["items"][11]["line_items"] = [{"variant_id": shop["variant"], "location_id": MISSING}]
    else:
        other = make_tenant()
        body["items"][11]["customer_id"] = make_customers(api, 1, as_tenant=other)[0]
    reply = api.post(BATCH, body)
    assert reply.status == 404, reply.body
    assert reply.json()["detail"].startswith("items[11]: "), reply.json()
    assert_nothing_written(api)


def test_a_deleted_customer_is_unknown(api: Api, shop: dict[str, Any]) -> None:
    assert api.delete(f"/api/v1/customers/{shop['customers'][1]}").status == 204
    reply = api.post(BATCH, batch_body(shop["customers"][:3]))
    assert reply.status == 404 and reply.json()["detail"].startswith("items[1]: Customer ")


def test_a_viewer_cannot_create_a_batch_but_can_read_one(api: Api, shop: dict[str, Any]) -> None:
    created = data(api.post(BATCH, batch_body(shop["customers"][:1])), 201)
    from devstack.emulated import Tenant
    from invoicing.storage import auth

    assert api.tenant is not None
    viewer_id = auth.create_user("viewer@example.com")
    auth.add_member(api.tenant.business_id, viewer_id, "viewer")
    viewer = Tenant(api.tenant.business_id, auth.create_token(viewer_id)["token"], viewer_id, "USD", "UTC")
    assert api.post(BATCH, batch_body(shop["customers"][:1]), as_tenant=viewer).status == 403
    assert data(api.get(f"{BATCHES}/{created['batch_id']}", as_tenant=viewer))["status"] == "completed"


# ---------------------------------------------------------------- the batch resource
def test_a_small_batch_is_done_before_the_answer(api: Api, shop: dict[str, Any]) -> None:
    customers = shop["customers"]
    body = {"items": [
        item(customers[0], {"variant_id": shop["variant"], "quantity": 2, "location_id": shop["location"]},
             {"description": "Delivery", "unit_price": 1500}, description="First"),
        item(customers[1], description="Second"),
        item(customers[0], due_date=DUE),
    ]}
    reply = api.post(BATCH, body)
    created = data(reply, 201)
    assert reply.json()["code"] == "invoice_batch.created"
    assert set(created) == BATCH_FIELDS
    assert UUID.match(created["batch_id"])
    assert created["business_id"] == api.tenant.business_id  # type: ignore[union-attr]
    assert (created["status"], created["total"], created["created"], created["finalized"], created["failed"]) == (
        "completed", 3, 3, 0, 0)
    assert [(i["index"], i["customer_id"], i["status"], i["error"]) for i in created["items"]] == [
        (0, customers[0], "created", None), (1, customers[1], "created", None), (2, customers[0], "created", None)]
    assert all(UUID.match(i["invoice_id"]) for i in created["items"])
    first = data(api.get(f"/api/v1/invoices/{created['items'][0]['invoice_id']}"))
    assert (first["status"], first["total"], first["currency"], first["description"]) == ("draft", 4000, "USD",
                                                                                          "First")
    assert [line["variant_id"] for line in first["line_items"]] == [shop["variant"], None]
    assert first["line_items"][0]["location_id"] == shop["location"]
    assert first["customer_name"] == "Customer 0" and first["due_date"] == DUE
    assert first["issue_date"] == today_in(api.tenant.timezone).isoformat()  # type: ignore[union-attr]
    assert batch(api, created["batch_id"]) == created
    assert_consistent(api, created)


def test_a_large_batch_fans_out_through_sqs(api: Api, shop: dict[str, Any], poller: SqsPoller) -> None:
    customers = [shop["customers"][i % 5] for i in range(25)]
    created = data(api.post(BATCH, batch_body(customers)), 201)
    # Given the answer: every invoice id already assigned, nothing done yet
    assert (created["status"], created["total"], created["created"]) == ("processing", 25, 0)
    assert [i["status"] for i in created["items"]] == ["pending"] * 25
    assert [i["index"] for i in created["items"]] == list(range(25))
    assert len({i["invoice_id"] for i in created["items"]}) == 25
    assert batch(api, created["batch_id"])["items"] == created["items"]
    assert invoices(api) == []
    # When the queue is drained: ten items a message, the three messages in one invocation
    delivered = poller.drain()
    assert (delivered.records, delivered.failed, delivered.by_function) == (3, 0, {"BatchWorkerFunction": 1})
    done = batch(api, created["batch_id"])
    assert (done["status"], done["created"], done["failed"]) == ("completed", 25, 0)
    assert {i["invoice_id"] for i in done["items"]} == {i["id"] for i in invoices(api)}
    assert [i["invoice_id"] for i in done["items"]] == [i["invoice_id"] for i in created["items"]]
    assert_consistent(api, done)


def test_get_of_an_unknown_or_foreign_batch_is_404(api: Api, shop: dict[str, Any]) -> None:
    created = data(api.post(BATCH, batch_body(shop["customers"][:1])), 201)
    assert api.get(f"{BATCHES}/{MISSING}").status == 404
    other = make_tenant()
    reply = api.get(f"{BATCHES}/{created['batch_id']}", as_tenant=other)
    assert reply.status == 404 and reply.json()["detail"] == f"Batch {created['batch_id']} not found"
    assert api.get(f"{BATCHES}/not-a-uuid").status == 422


def test_other_methods_on_the_batch_resource_are_not_routes(api: Api) -> None:
    """/invoices/batch is its own resource, as in API Gateway: not an invoice id."""
    for method in ("GET", "PUT", "DELETE"):
        reply = api.request(method, BATCH)
        assert reply.status == 404 and reply.json()["code"] == "route_not_found", (method, reply.body)


# ---------------------------------------------------------------- finalize
def test_finalize_numbers_every_invoice_without_gaps(api: Api, shop: dict[str, Any], poller: SqsPoller) -> None:
    # Given a number already taken by hand
    single = data(api.post("/api/v1/invoices", item(shop["customers"][0])), 201)
    assert data(api.post(f"/api/v1/invoices/{single['id']}/finalize"))["number"] == "INV-001"
    small = data(api.post(BATCH, {**batch_body(shop["customers"][:3]), "finalize": True}), 201)
    assert (small["status"], small["created"], small["finalized"]) == ("completed", 3, 3)
    large = data(api.post(BATCH, {**batch_body([shop["customers"][i % 5] for i in range(22)]), "finalize": True}),
                 201)
    assert large["status"] == "processing"
    poller.drain()
    done = batch(api, large["batch_id"])
    assert (done["status"], done["created"], done["finalized"]) == ("completed", 22, 22)
    assert_consistent(api, done)
    numbers = sorted(int(i["number"].removeprefix("INV-")) for i in invoices(api))
    assert numbers == list(range(1, 27))
    assert {i["status"] for i in invoices(api)} == {"open"}
    # each with its AR entry (inline, by the worker, by hand alike), in the journal as on the invoice
    journal = api.get("/api/v1/journal-entries", query="limit=1000").json()["data"]["items"]
    assert sorted(e["invoice_id"] for e in journal) == sorted(i["id"] for i in invoices(api))
    for invoice in invoices(api):
        (entry,) = invoice["journal_entries"]
        assert (entry["source"], entry["entry_date"], entry["total"]) == ("invoice_finalized", invoice["issue_date"],
                                                                          invoice["total"])
        assert [(ln["account_code"], ln["debit"], ln["credit"]) for ln in entry["lines"]] == [
            ("1200", invoice["total"], 0), ("4000", 0, invoice["total"])]


# ---------------------------------------------------------------- delayed charges
def test_charges_and_credits_become_lines_of_the_lowest_index_of_each_customer(api: Api, shop: dict[str, Any]
                                                                                ) -> None:
    alice, bob, carol = shop["customers"][:3]
    first = charge(api, alice, 700)
    credit = charge(api, alice, 200, "credit")
    euro = charge(api, alice, 999, currency="EUR")  # another currency: stays pending
    bobs = charge(api, bob, 300)
    body = {"items": [item(carol), item(alice, description="A1"), item(bob), item(alice, description="A2")],
            "include_delayed_charges": True}
    created = data(api.post(BATCH, body), 201)
    assert created["status"] == "completed" and created["include_delayed_charges"] is True
    by_index = {i["index"]: i["invoice_id"] for i in created["items"]}
    a1 = data(api.get(f"/api/v1/invoices/{by_index[1]}"))
    swept = [(line["delayed_charge_id"], line["quantity"], line["unit_price"], line["amount"])
             for line in a1["line_items"] if line["delayed_charge_id"]]
    assert swept == [(first["id"], 1, 700, 700), (credit["id"], 1, -200, -200)]  # oldest first, credit negative
    assert a1["total"] == 1000 + 700 - 200 and a1["balance_due"] == a1["total"]
    a2 = data(api.get(f"/api/v1/invoices/{by_index[3]}"))
    assert [line["delayed_charge_id"] for line in a2["line_items"]] == [None] and a2["total"] == 1000
    assert data(api.get(f"/api/v1/invoices/{by_index[2]}"))["total"] == 1300
    for swept_charge, invoice_id in ((first, by_index[1]), (credit, by_index[1]), (bobs, by_index[2])):
        now = charge_of(api, swept_charge["id"])
        assert (now["status"], now["invoiced_invoice_id"]) == ("invoiced", invoice_id)
        assert now["invoiced_at"]
    assert charge_of(api, euro["id"])["status"] == "pending"


def test_without_the_flag_charges_stay_pending(api: Api, shop: dict[str, Any]) -> None:
    pending = charge(api, shop["customers"][0], 700)
    created = data(api.post(BATCH, batch_body(shop["customers"][:1])), 201)
    assert created["include_delayed_charges"] is False
    assert charge_of(api, pending["id"])["status"] == "pending"
    assert data(api.get(f"/api/v1/invoices/{created['items'][0]['invoice_id']}"))["total"] == 1000


def test_a_sweep_that_would_make_a_total_negative_fails_that_item_only(api: Api, shop: dict[str, Any],
                                                                        poller: SqsPoller) -> None:
    alice, bob = shop["customers"][:2]
    credit = charge(api, alice, 5000, "credit")
    bobs = charge(api, bob, 100)
    body = {"items": [item(alice), item(bob)] + [item(shop["customers"][2 + i % 3]) for i in range(10)],
            "include_delayed_charges": True, "finalize": True}
    created = data(api.post(BATCH, body), 201)
    poller.drain()
    done = batch(api, created["batch_id"])
    assert (done["status"], done["total"], done["created"], done["finalized"], done["failed"]) == (
        "completed_with_errors", 12, 11, 11, 1)
    failed = done["items"][0]
    assert failed["status"] == "failed" and "negative" in failed["error"] and "-4000" in failed["error"]
    assert failed["invoice_id"] not in {i["id"] for i in invoices(api)}
    assert charge_of(api, credit["id"])["status"] == "pending"
    assert charge_of(api, bobs["id"])["invoiced_invoice_id"] == done["items"][1]["invoice_id"]
    assert_consistent(api, done)
    numbers = sorted(int(i["number"].removeprefix("INV-")) for i in invoices(api))
    assert numbers == list(range(1, 12))  # the failed item took no number


def test_charges_beyond_what_one_invoice_takes_stay_pending_oldest_first(api: Api, shop: dict[str, Any]) -> None:
    """An invoice takes at most 250 lines, and its transaction at most 100 actions, 5 of them the
    invoice, its item's status, its AR entry, the batch's counts and the number counter: 95
    charges, when the batch finalizes or not."""
    alice = shop["customers"][0]
    made = [charge(api, alice, 10 + i)["id"] for i in range(98)]
    body = {"items": [item(alice, *([{"description": "Work", "unit_price": 1}] * 3))],
            "include_delayed_charges": True, "finalize": True}
    created = data(api.post(BATCH, body), 201)
    invoice = data(api.get(f"/api/v1/invoices/{created['items'][0]['invoice_id']}"))
    swept = [line["delayed_charge_id"] for line in invoice["line_items"] if line["delayed_charge_id"]]
    assert swept == made[:95]
    assert [charge_of(api, c)["status"] for c in made[95:]] == ["pending", "pending", "pending"]
    # and the line limit: 248 lines leave room for two
    body = {"items": [item(alice, *([{"description": "Work", "unit_price": 1}] * 249))],
            "include_delayed_charges": True}
    created = data(api.post(BATCH, body), 201)
    invoice = data(api.get(f"/api/v1/invoices/{created['items'][0]['invoice_id']}"))
    assert len(invoice["line_items"]) == 250
    assert [line["delayed_charge_id"] for line in invoice["line_items"][249:]] == [made[95]]
    assert [charge_of(api, c)["status"] for c in made[96:]] == ["pending", "pending"]


def test_deleting_a_batch_invoice_returns_its_charges_to_pending(api: Api, shop: dict[str, Any]) -> None:
    pending = charge(api, shop["customers"][0], 700)
    created = data(api.post(BATCH, {**batch_body(shop["customers"][:1]), "include_delayed_charges": True}), 201)
    assert charge_of(api, pending["id"])["status"] == "invoiced"
    assert api.delete(f"/api/v1/invoices/{created['items'][0]['invoice_id']}").status == 204
    assert charge_of(api, pending["id"])["status"] == "pending"
