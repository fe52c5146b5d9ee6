"""Delayed charges through the emulated API Gateway: create, list, update, delete, a customer's
pending summary, and the transaction actions the invoices use to sweep and release them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from helpers import Api, Tenant, errors_at, ids, make_tenant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack import runtime, template

CHARGES = "/api/v1/delayed-charges"
CUSTOMERS = "/api/v1/customers"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MISSING = "0195f1a0-0000-7000-8000-00000000dead"
INVOICE = "0195f1a0-0000-7000-8000-0000000001a1"
OTHER_INVOICE = "0195f1a0-0000-7000-8000-0000000001a2"
NOW = "2030-01-01T00:00:00.000Z"
RESPONSE_FIELDS = {"id", "business_id", "customer_id", "type", "status", "currency", "amount", "description",
                   "service_date", "internal_notes", "invoiced_invoice_id", "invoiced_at", "created_at", "updated_at",
                   "can_be_updated", "can_be_deleted", "can_be_invoiced"}


def customer(api: Api, as_tenant: Tenant | None = None, name: str = "Northwind Traders") -> str:
    reply = api.post(CUSTOMERS, {"name": name, "email": "billing@northwind.example.com"}, as_tenant=as_tenant)
    assert reply.status == 201, reply.body
    return str(reply.json()["data"]["id"])


def create(api: Api, customer_id: str, as_tenant: Tenant | None = None, **fields: Any) -> dict[str, Any]:
    body = {"customer_id": customer_id, "amount": 2500, "description": "Extra delivery", **fields}
    reply = api.post(CHARGES, body, as_tenant=as_tenant)
    assert reply.status == 201, reply.body
    return reply.json()["data"]




def pending(api: Api, customer_id: str, query: str = "", as_tenant: Tenant | None = None) -> Any:
    return api.get(f"{CHARGES}/customers/{customer_id}/pending", query=query, as_tenant=as_tenant)


def invoice(api: Api, charge_id: str, invoice_id: str = INVOICE) -> None:
    """Sweep a charge onto an invoice the way the invoices code does: its action in a transaction."""
    from invoicing.storage import delayed_charges, transactions

    charge = delayed_charges.get(api.tenant.business_id, charge_id)
    transactions.transact([delayed_charges.invoice_action(charge, invoice_id, NOW)])


def listed(api: Api, charge_id: str) -> dict[str, Any]:
    """The charge as the list shows it (there is no single-charge read)."""
    found = [c for c in api.get(CHARGES, query="limit=1000").json()["data"]["items"] if c["id"] == charge_id]
    assert len(found) == 1, charge_id
    return found[0]


# ---------------------------------------------------------------- create

def test_create_answers_201_with_the_envelope_and_a_pending_charge(api: Api) -> None:
    # Given
    customer_id = customer(api)
    # When
    reply = api.post(CHARGES, {"customer_id": customer_id, "amount": 2500, "description": "  Extra delivery "})
    # Then
    assert reply.status == 201, reply.body
    body = reply.json()
    assert (body["success"], body["code"], body["message"]) == (
        True, "delayed_charge.created", "Delayed charge created")
    charge = body["data"]
    assert set(charge) == RESPONSE_FIELDS
    assert UUID.match(charge["id"])
    assert (charge["business_id"], charge["customer_id"]) == (api.tenant.business_id, customer_id)
    assert (charge["type"], charge["status"], charge["currency"]) == ("charge", "pending", "USD")  # the defaults
    assert (charge["amount"], charge["description"]) == (2500, "Extra delivery")  # trimmed
    assert charge["service_date"] is charge["internal_notes"] is None
    assert charge["invoiced_invoice_id"] is charge["invoiced_at"] is None
    assert charge["can_be_updated"] is charge["can_be_deleted"] is charge["can_be_invoiced"] is True
    assert charge["created_at"].endswith("Z") and charge["created_at"] == charge["updated_at"]
    assert listed(api, charge["id"]) == charge


def test_a_credit_in_another_currency_with_every_field(api: Api) -> None:
    # Given
    customer_id = customer(api)
    # When
    charge = create(api, customer_id, type="credit", amount=126.0, currency="EUR", service_date="2026-02-28",
                    internal_notes="Goodwill, approved by Sam")
    # Then
    assert (charge["type"], charge["currency"], charge["amount"]) == ("credit", "EUR", 126)
    assert (charge["service_date"], charge["internal_notes"]) == ("2026-02-28", "Goodwill, approved by Sam")


def test_the_currency_defaults_to_the_business_s(api: Api) -> None:
    # Given a business that bills in GBP
    gbp = make_tenant(currency="GBP", name="British Co")
    customer_id = customer(api, as_tenant=gbp)
    # When
    charge = create(api, customer_id, as_tenant=gbp)
    # Then
    assert charge["currency"] == "GBP"


def test_customer_amount_and_description_are_required(api: Api) -> None:
    # When
    reply = api.post(CHARGES, {})
    # Then
    errors = errors_at(reply)
    assert set(errors) == {("body", "customer_id"), ("body", "amount"), ("body", "description")}
    assert all(e["type"] == "missing" for e in errors.values())


@pytest.mark.parametrize("fields, loc, error_type", [
    ({"amount": 0}, ("body", "amount"), "greater_than"),
    ({"amount": -100}, ("body", "amount"), "greater_than"),
    ({"amount": 10**15 + 1}, ("body", "amount"), "less_than_equal"),
    ({"amount": 12.5}, ("body", "amount"), "int_from_float"),
    ({"amount": "2500"}, ("body", "amount"), "int_type"),
    ({"amount": True}, ("body", "amount"), "int_type"),
    ({"type": "debit"}, ("body", "type"), "literal_error"),
    ({"currency": "JPY"}, ("body", "currency"), "literal_error"),
    ({"service_date": "2026-02-30"}, ("body", "service_date"), "date_from_datetime_parsing"),
    ({"service_date": "20260101"}, ("body", "service_date"), "string_pattern_mismatch"),
    ({"description": "   "}, ("body", "description"), "string_too_short"),
    ({"description": "x" * 501}, ("body", "description"), "string_too_long"),
    ({"internal_notes": "x" * 2001}, ("body", "internal_notes"), "string_too_long"),
    ({"customer_id": "not-a-uuid"}, ("body", "customer_id"), "string_pattern_mismatch"),
    ({"status": "invoiced"}, ("body", "status"), "extra_forbidden"),
])
def test_invalid_fields_are_422_at_their_location(api: Api, fields: dict[str, Any], loc: tuple[str, ...],
                                                  error_type: str) -> None:
    # Given
    body = {"customer_id": MISSING, "amount": 2500, "description": "Extra delivery", **fields}
    # When
    reply = api.post(CHARGES, body)
    # Then
    errors = errors_at(reply)
    assert set(errors) == {loc}
    assert errors[loc]["type"] == error_type
    assert errors[loc]["input"] == fields[loc[-1]]


def test_the_largest_amount_is_accepted(api: Api) -> None:
    assert create(api, customer(api), amount=10**15)["amount"] == 10**15


def test_malformed_json_is_a_422_at_the_body(api: Api) -> None:
    # When
    reply = api.request("POST", CHARGES, raw='{"amount": 1,', headers={**api.headers(),
                                                                      "Content-Type": "application/json"})
    # Then
    assert list(errors_at(reply)) == [("body",)]


def test_an_unknown_customer_is_a_404_and_nothing_is_written(api: Api) -> None:
    # When
    reply = api.post(CHARGES, {"customer_id": MISSING, "amount": 1, "description": "x"})
    # Then
    assert reply.status == 404
    assert reply.json() == {"detail": f"Customer {MISSING} not found", "code": "customer_not_found"}
    assert ids(api.get(CHARGES)) == []


def test_another_business_s_customer_answers_exactly_like_a_missing_one(api: Api) -> None:
    # Given
    other = make_tenant(name="Other Co")
    theirs = customer(api, as_tenant=other)
    # When
    reply = api.post(CHARGES, {"customer_id": theirs, "amount": 1, "description": "x"})
    # Then
    assert reply.status == 404
    assert reply.json() == {"detail": f"Customer {theirs} not found", "code": "customer_not_found"}
    assert ids(api.get(CHARGES, as_tenant=other)) == []


def test_a_deleted_customer_cannot_get_new_charges(api: Api) -> None:
    # Given
    customer_id = customer(api)
    assert api.delete(f"{CUSTOMERS}/{customer_id}").status == 204
    # When
    reply = api.post(CHARGES, {"customer_id": customer_id, "amount": 1, "description": "x"})
    # Then
    assert reply.status == 404 and reply.json()["code"] == "customer_not_found"


# ---------------------------------------------------------------- list

def test_list_pages_newest_first_in_both_directions(api: Api) -> None:
    # Given five charges, created in order
    customer_id = customer(api)
    newest_first = [create(api, customer_id, description=f"Charge {i}")["id"] for i in range(5)][::-1]
    # When reading forwards two at a time
    first = api.get(CHARGES, query="limit=2&include_total_count=true").json()["data"]
    second = api.get(CHARGES, query=f"limit=2&cursor={first['next_cursor']}").json()["data"]
    third = api.get(CHARGES, query=f"limit=2&cursor={second['next_cursor']}").json()["data"]
    # Then
    assert [c["id"] for c in first["items"]] == newest_first[0:2]
    assert [c["id"] for c in second["items"]] == newest_first[2:4]
    assert [c["id"] for c in third["items"]] == newest_first[4:5]
    assert (first["has_prev"], first["has_next"], first["total"], first["limit"]) == (False, True, 5, 2)
    assert (third["has_next"], third["next_cursor"], third["has_prev"]) == (False, None, True)
    # When reading backwards from the last page
    back = api.get(CHARGES, query=f"limit=2&cursor={third['prev_cursor']}&direction=prev").json()["data"]
    # Then
    assert [c["id"] for c in back["items"]] == newest_first[2:4]
    # and oldest first on request
    assert ids(api.get(CHARGES, query="descending=false")) == newest_first[::-1]


def test_list_filters_by_customer_status_type_and_search(api: Api) -> None:
    # Given two customers' charges and credits, one of them invoiced
    north, south = customer(api, name="North"), customer(api, name="South")
    rush = create(api, north, description="RUSH delivery")["id"]
    credit = create(api, north, type="credit", description="Refund for a rush order")["id"]
    swept = create(api, north, description="Setup fee")["id"]
    other = create(api, south, description="Rush delivery")["id"]
    invoice(api, swept)

    def query(q: str) -> list[str]:
        reply = api.get(CHARGES, query=f"{q}&include_total_count=true")
        assert reply.json()["data"]["total"] == len(ids(reply))
        return ids(reply)

    # When / Then
    assert query(f"customer_id={north}") == [swept, credit, rush]
    assert query(f"customer_id={north.upper()}") == [swept, credit, rush]
    assert query(f"customer_id={north}&status=pending") == [credit, rush]
    assert query(f"customer_id={north}&status=invoiced") == [swept]
    assert query("status=pending") == [other, credit, rush]
    assert query("status=invoiced") == [swept]
    assert query("type=credit") == [credit]
    assert query(f"type=charge&customer_id={north}&status=pending") == [rush]
    assert query("search=rUsH") == [other, credit, rush]
    assert query(f"search=rush&customer_id={north}&type=charge") == [rush]
    assert query("search=nothing-like-it") == []
    assert query(f"customer_id={MISSING}") == []


def test_a_customer_s_pending_list_pages_on_its_index(api: Api) -> None:
    # Given more pending charges of one customer than a page holds, among another's
    north, south = customer(api), customer(api)
    mine = []
    for i in range(5):
        mine.append(create(api, north, description=f"N{i}")["id"])
        create(api, south, description=f"S{i}")
    # When
    first = api.get(CHARGES, query=f"customer_id={north}&status=pending&limit=3").json()["data"]
    second = api.get(CHARGES, query=f"customer_id={north}&status=pending&limit=3&cursor={first['next_cursor']}")
    # Then
    assert [c["id"] for c in first["items"]] == mine[::-1][:3] and first["has_next"]
    assert ids(second) == mine[::-1][3:] and not second.json()["data"]["has_next"]
    # and the cursor of that list is not valid for another customer's
    crossed = api.get(CHARGES, query=f"customer_id={south}&status=pending&cursor={first['next_cursor']}")
    assert crossed.status == 400 and crossed.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("query, loc, error_type", [
    ("status=open", ("query", "status"), "literal_error"),
    ("type=debit", ("query", "type"), "literal_error"),
    ("customer_id=nope", ("query", "customer_id"), "string_pattern_mismatch"),
    ("limit=0", ("query", "limit"), "greater_than_equal"),
    ("limit=1001", ("query", "limit"), "less_than_equal"),
    ("direction=up", ("query", "direction"), "literal_error"),
    ("sort_by=amount", ("query", "sort_by"), "literal_error"),
])
def test_list_parameters_are_validated(api: Api, query: str, loc: tuple[str, ...], error_type: str) -> None:
    assert errors_at(api.get(CHARGES, query=query))[loc]["type"] == error_type


def test_another_business_s_charges_are_never_listed(api: Api) -> None:
    # Given
    other = make_tenant(name="Other Co")
    theirs = customer(api, as_tenant=other)
    create(api, theirs, as_tenant=other)
    # When / Then
    assert ids(api.get(CHARGES)) == []
    assert ids(api.get(CHARGES, query=f"customer_id={theirs}")) == []
    assert ids(api.get(CHARGES, query=f"customer_id={theirs}&status=pending")) == []


# ---------------------------------------------------------------- update

def test_update_changes_only_the_fields_sent(api: Api) -> None:
    # Given
    customer_id = customer(api)
    created = create(api, customer_id, service_date="2026-01-15", internal_notes="note")
    # When
    reply = api.put(f"{CHARGES}/{created['id']}", {"amount": 4000, "type": "credit", "currency": "CAD"})
    # Then
    assert reply.status == 200, reply.body
    assert reply.json()["code"] == "delayed_charge.updated"
    updated = reply.json()["data"]
    assert set(updated) == RESPONSE_FIELDS
    assert (updated["amount"], updated["type"], updated["currency"]) == (4000, "credit", "CAD")
    assert (updated["description"], updated["service_date"], updated["internal_notes"]) == (
        "Extra delivery", "2026-01-15", "note")
    assert updated["created_at"] == created["created_at"] and updated["updated_at"] >= created["updated_at"]
    assert listed(api, created["id"]) == updated


def test_update_with_null_clears_service_date_and_notes(api: Api) -> None:
    # Given
    created = create(api, customer(api), service_date="2026-01-15", internal_notes="note")
    # When
    reply = api.put(f"{CHARGES}/{created['id']}", {"service_date": None, "internal_notes": None})
    # Then
    assert reply.status == 200, reply.body
    assert (reply.json()["data"]["service_date"], reply.json()["data"]["internal_notes"]) == (None, None)


def test_update_can_move_a_charge_to_another_live_customer(api: Api) -> None:
    # Given
    north, south = customer(api), customer(api)
    created = create(api, north)
    # When
    reply = api.put(f"{CHARGES}/{created['id']}", {"customer_id": south})
    # Then it is pending for its new customer only
    assert reply.status == 200 and reply.json()["data"]["customer_id"] == south
    assert [c["id"] for c in pending(api, south).json()["data"]["items"]] == [created["id"]]
    assert pending(api, north).json()["data"]["items"] == []


@pytest.mark.parametrize("body, loc, error_type", [
    ({"amount": None}, ("body", "amount"), "int_type"),
    ({"amount": 0}, ("body", "amount"), "greater_than"),
    ({"description": None}, ("body", "description"), "string_type"),
    ({"type": None}, ("body", "type"), "literal_error"),
    ({"currency": None}, ("body", "currency"), "literal_error"),
    ({"customer_id": None}, ("body", "customer_id"), "string_type"),
    ({"status": "invoiced"}, ("body", "status"), "extra_forbidden"),
    ({"invoiced_invoice_id": INVOICE}, ("body", "invoiced_invoice_id"), "extra_forbidden"),
])
def test_update_validates_what_it_is_sent(api: Api, body: dict[str, Any], loc: tuple[str, ...],
                                          error_type: str) -> None:
    # Given
    created = create(api, customer(api))
    # When
    reply = api.put(f"{CHARGES}/{created['id']}", body)
    # Then
    assert errors_at(reply)[loc]["type"] == error_type
    assert listed(api, created["id"]) == created


def test_update_to_an_unknown_customer_is_a_404(api: Api) -> None:
    # Given
    created = create(api, customer(api))
    # When
    reply = api.put(f"{CHARGES}/{created['id']}", {"customer_id": MISSING})
    # Then
    assert reply.status == 404 and reply.json()["code"] == "customer_not_found"
    assert listed(api, created["id"]) == created


# ---------------------------------------------------------------- update and delete: 404, 409

@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_an_id_that_is_not_a_uuid_is_a_422_at_the_path(api: Api, method: str) -> None:
    reply = api.request(method, f"{CHARGES}/not-a-uuid", json_body={"amount": 1} if method == "PUT" else None)
    error = errors_at(reply)[("path", "charge_id")]
    assert error["type"] == "string_pattern_mismatch" and error["input"] == "not-a-uuid"


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_an_unknown_charge_is_a_404(api: Api, method: str) -> None:
    reply = api.request(method, f"{CHARGES}/{MISSING}", json_body={"amount": 1} if method == "PUT" else None)
    assert reply.status == 404
    assert reply.json() == {"detail": f"Delayed charge {MISSING} not found", "code": "delayed_charge_not_found"}


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_another_business_s_charge_answers_exactly_like_a_missing_one(api: Api, method: str) -> None:
    # Given a charge of another business
    other = make_tenant(name="Other Co")
    theirs = create(api, customer(api, as_tenant=other), as_tenant=other)
    body = {"amount": 1} if method == "PUT" else None
    # When
    reply = api.request(method, f"{CHARGES}/{theirs['id']}", json_body=body)
    missing = api.request(method, f"{CHARGES}/{MISSING}", json_body=body)
    # Then
    assert reply.status == missing.status == 404
    assert reply.json() == {**missing.json(), "detail": missing.json()["detail"].replace(MISSING, theirs["id"])}
    # and their charge is untouched
    assert ids(api.get(CHARGES, as_tenant=other)) == [theirs["id"]]
    assert api.get(CHARGES, as_tenant=other).json()["data"]["items"][0] == theirs


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_an_invoiced_charge_cannot_change_409_naming_its_status(api: Api, method: str) -> None:
    # Given
    created = create(api, customer(api))
    invoice(api, created["id"])
    before = listed(api, created["id"])
    # When
    reply = api.request(method, f"{CHARGES}/{created['id']}", json_body={"amount": 1} if method == "PUT" else None)
    # Then
    assert reply.status == 409
    assert reply.json()["code"] == "delayed_charge_not_pending"
    assert f"Delayed charge {created['id']} is invoiced on invoice {INVOICE}" in reply.json()["detail"]
    assert listed(api, created["id"]) == before


def test_delete_answers_204_without_a_body_and_the_charge_is_gone(api: Api) -> None:
    # Given
    customer_id = customer(api)
    kept, deleted = create(api, customer_id), create(api, customer_id)
    # When
    reply = api.delete(f"{CHARGES}/{deleted['id']}")
    # Then
    assert reply.status == 204 and reply.body == ""
    assert ids(api.get(CHARGES)) == [kept["id"]]
    assert api.delete(f"{CHARGES}/{deleted['id']}").status == 404
    assert api.put(f"{CHARGES}/{deleted['id']}", {"amount": 1}).status == 404


def test_an_update_that_races_a_sweep_loses_cleanly(api: Api, monkeypatch: Any) -> None:
    # Given an invoice that sweeps the charge between this update's read and its write
    from invoicing.storage import delayed_charges as store
    from invoicing.storage import transactions

    created = create(api, customer(api))
    real_get = store.get
    reads: list[int] = []

    def racing_get(business_id: str, charge_id: str) -> Any:
        charge = real_get(business_id, charge_id)
        reads.append(1)
        if len(reads) == 1:
            transactions.transact([store.invoice_action(charge, INVOICE, NOW)])
        return charge

    monkeypatch.setattr(store, "get", racing_get)
    # When
    reply = api.put(f"{CHARGES}/{created['id']}", {"amount": 99})
    # Then the update read again, found it invoiced and changed nothing
    assert reply.status == 409, reply.body
    assert len(reads) == 2
    monkeypatch.setattr(store, "get", real_get)
    assert listed(api, created["id"])["amount"] == 2500
    assert listed(api, created["id"])["status"] == "invoiced"


def test_a_sweep_of_a_charge_changed_since_it_was_read_is_cancelled(api: Api) -> None:
    # Given a sweep that read the charge before an update changed its amount
    from invoicing.storage import delayed_charges, transactions

    created = create(api, customer(api))
    stale = delayed_charges.get(api.tenant.business_id, created["id"])
    assert api.put(f"{CHARGES}/{created['id']}", {"amount": 99}).status == 200
    # When
    with pytest.raises(transactions.Cancelled) as cancelled:
        transactions.transact([delayed_charges.invoice_action(stale, INVOICE, NOW)])
    # Then the stale amount is never invoiced
    assert cancelled.value.failed(0)
    assert listed(api, created["id"])["status"] == "pending"


# ---------------------------------------------------------------- a customer's pending charges

def test_pending_sums_charges_and_credits_oldest_first(api: Api) -> None:
    # Given pending charges and credits, one invoiced charge and another customer's charge
    north, south = customer(api), customer(api)
    made = [create(api, north, amount=5000)["id"], create(api, north, type="credit", amount=1200)["id"],
            create(api, north, amount=300)["id"], create(api, north, type="credit", amount=50)["id"]]
    swept = create(api, north, amount=100_000)["id"]
    invoice(api, swept)
    create(api, south, amount=7)
    # When
    reply = pending(api, north)
    # Then
    assert reply.status == 200, reply.body
    body = reply.json()
    assert (body["code"], body["success"]) == ("delayed_charge.pending", True)
    summary = body["data"]
    assert [c["id"] for c in summary["items"]] == made
    assert all(set(c) == RESPONSE_FIELDS and c["status"] == "pending" for c in summary["items"])
    assert {k: summary[k] for k in ("customer_id", "currency", "total_charges", "total_credits", "net_amount",
                                    "count")} == {"customer_id": north, "currency": "USD", "total_charges": 5300,
                                                  "total_credits": 1250, "net_amount": 4050, "count": 4}
    assert summary["by_currency"] == [{"currency": "USD", "total_charges": 5300, "total_credits": 1250,
                                       "net_amount": 4050, "count": 4}]


def test_pending_net_is_negative_when_credits_exceed_charges(api: Api) -> None:
    north = customer(api)
    create(api, north, amount=100)
    create(api, north, type="credit", amount=250)
    assert pending(api, north).json()["data"]["net_amount"] == -150


def test_pending_of_a_customer_with_none_is_zero_in_the_business_currency(api: Api) -> None:
    # Given a customer whose only charge was invoiced
    north = customer(api)
    invoice(api, create(api, north)["id"])
    # When
    summary = pending(api, north).json()["data"]
    # Then
    assert summary == {"customer_id": north, "currency": "USD", "total_charges": 0, "total_credits": 0,
                       "net_amount": 0, "count": 0, "by_currency": [], "items": []}


def test_pending_in_several_currencies_never_mixes_them(api: Api) -> None:
    # Given
    north = customer(api)
    create(api, north, amount=1000)
    create(api, north, amount=400, type="credit", currency="EUR")
    create(api, north, amount=200, currency="EUR")
    # When
    summary = pending(api, north).json()["data"]
    # Then the top-level totals are null and each currency has its own
    assert (summary["currency"], summary["total_charges"], summary["total_credits"], summary["net_amount"]) == (
        None, None, None, None)
    assert summary["count"] == 3
    assert summary["by_currency"] == [
        {"currency": "EUR", "total_charges": 200, "total_credits": 400, "net_amount": -200, "count": 2},
        {"currency": "USD", "total_charges": 1000, "total_credits": 0, "net_amount": 1000, "count": 1},
    ]
    # When one currency is asked for
    eur = pending(api, north, query="currency=EUR").json()["data"]
    gbp = pending(api, north, query="currency=GBP").json()["data"]
    # Then
    assert (eur["currency"], eur["net_amount"], eur["count"], len(eur["items"])) == ("EUR", -200, 2, 2)
    assert (gbp["currency"], gbp["net_amount"], gbp["count"], gbp["items"]) == ("GBP", 0, 0, [])


def test_pending_currency_is_validated(api: Api) -> None:
    error = errors_at(pending(api, customer(api), query="currency=JPY"))[("query", "currency")]
    assert error["type"] == "literal_error"


def test_pending_of_an_unknown_deleted_or_foreign_customer_is_a_404(api: Api) -> None:
    # Given
    other = make_tenant(name="Other Co")
    theirs = customer(api, as_tenant=other)
    create(api, theirs, as_tenant=other)
    gone = customer(api)
    create(api, gone)
    assert api.delete(f"{CUSTOMERS}/{gone}").status == 204
    # When / Then
    for customer_id in (MISSING, theirs, gone):
        reply = pending(api, customer_id)
        assert reply.status == 404
        assert reply.json() == {"detail": f"Customer {customer_id} not found", "code": "customer_not_found"}
    assert errors_at(pending(api, "nope"))[("path", "customer_id")]["type"] == "string_pattern_mismatch"


Line = st.tuples(st.sampled_from(["charge", "credit"]), st.integers(min_value=1, max_value=10**15))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(Line, min_size=1, max_size=6))
def test_pending_net_is_charges_minus_credits(api: Api, lines: list[tuple[str, int]]) -> None:
    # Given a fresh customer with these pending lines
    north = customer(api)
    for kind, amount in lines:
        create(api, north, type=kind, amount=amount)
    # When
    summary = pending(api, north).json()["data"]
    # Then
    charges = sum(a for k, a in lines if k == "charge")
    credits = sum(a for k, a in lines if k == "credit")
    assert (summary["total_charges"], summary["total_credits"]) == (charges, credits)
    assert summary["net_amount"] == charges - credits == summary["total_charges"] - summary["total_credits"]
    assert summary["count"] == len(lines) == len(summary["items"])
    assert [(c["type"], c["amount"]) for c in summary["items"]] == lines  # oldest first


# ---------------------------------------------------------------- the invoices' actions

def test_a_charge_is_invoiced_once_the_second_sweep_is_cancelled(api: Api) -> None:
    # Given two sweeps that both read the charge while it was pending
    from invoicing.storage import delayed_charges, transactions

    business_id = api.tenant.business_id
    created = create(api, customer(api))
    charge = delayed_charges.get(business_id, created["id"])
    # When
    transactions.transact([delayed_charges.invoice_action(charge, INVOICE, NOW)])
    with pytest.raises(transactions.Cancelled) as cancelled:
        transactions.transact([delayed_charges.invoice_action(charge, OTHER_INVOICE, NOW)])
    # Then the first invoice has it, for good
    assert cancelled.value.failed(0)
    after = listed(api, created["id"])
    assert (after["status"], after["invoiced_invoice_id"], after["invoiced_at"], after["updated_at"]) == (
        "invoiced", INVOICE, NOW, NOW)
    assert after["can_be_updated"] is after["can_be_deleted"] is after["can_be_invoiced"] is False
    # and it moved on the customer's index: no longer pending, listed as invoiced
    assert delayed_charges.pending_for_customer(business_id, created["customer_id"]) == []
    assert ids(api.get(CHARGES, query=f"customer_id={created['customer_id']}&status=invoiced")) == [created["id"]]


def test_release_only_releases_from_the_named_invoice(api: Api) -> None:
    # Given a charge on INVOICE
    from invoicing.storage import delayed_charges, transactions

    business_id = api.tenant.business_id
    created = create(api, customer(api))
    invoice(api, created["id"], INVOICE)
    # When another invoice tries to release it
    with pytest.raises(transactions.Cancelled) as cancelled:
        transactions.transact([delayed_charges.release_action(business_id, created["id"], OTHER_INVOICE, NOW)])
    # Then it stays on INVOICE
    assert cancelled.value.failed(0)
    assert listed(api, created["id"])["invoiced_invoice_id"] == INVOICE
    # When its own invoice releases it
    later = "2030-01-02T00:00:00.000Z"
    transactions.transact([delayed_charges.release_action(business_id, created["id"], INVOICE, later)])
    # Then it is pending again, as it was, and can be changed and swept again
    released = listed(api, created["id"])
    assert released == {**created, "updated_at": later}
    assert [c.id for c in delayed_charges.pending_for_customer(business_id, created["customer_id"])] == [created["id"]]
    # and releasing it once more (a pending charge) is cancelled too
    with pytest.raises(transactions.Cancelled):
        transactions.transact([delayed_charges.release_action(business_id, created["id"], INVOICE, later)])
    assert api.put(f"{CHARGES}/{created['id']}", {"amount": 10}).status == 200
    invoice(api, created["id"], OTHER_INVOICE)
    assert listed(api, created["id"])["invoiced_invoice_id"] == OTHER_INVOICE


def test_pending_for_customer_takes_the_oldest_of_one_currency_up_to_a_limit(api: Api) -> None:
    # Given interleaved USD and EUR pending charges
    from invoicing.storage import delayed_charges

    north = customer(api)
    made = [create(api, north, currency=currency, description=f"{currency} {i}")
            for i, currency in enumerate(["USD", "EUR", "EUR", "USD", "EUR", "USD"])]
    usd = [c["id"] for c in made if c["currency"] == "USD"]
    # When
    two = delayed_charges.pending_for_customer(api.tenant.business_id, north, "USD", limit=2)
    every = delayed_charges.pending_for_customer(api.tenant.business_id, north, "USD")
    # Then
    assert [c.id for c in two] == usd[:2]
    assert [c.id for c in every] == usd
    assert len(delayed_charges.pending_for_customer(api.tenant.business_id, north)) == 6
    # and what it returns (read from the index, version included) can be swept as it is
    from invoicing.storage import transactions

    transactions.transact([delayed_charges.invoice_action(c, INVOICE, NOW) for c in two])
    assert [c.id for c in delayed_charges.pending_for_customer(api.tenant.business_id, north, "USD")] == usd[2:]


# ---------------------------------------------------------------- roles

def test_a_viewer_of_the_business_can_read_but_not_write(api: Api) -> None:
    # Given a viewer in the owner's business
    from invoicing.storage import auth

    customer_id = customer(api)
    created = create(api, customer_id)
    viewer_id = auth.create_user("viewer@example.com")
    auth.add_member(api.tenant.business_id, viewer_id, "viewer")
    viewer = Tenant(api.tenant.business_id, auth.create_token(viewer_id)["token"], viewer_id, "USD", "UTC")
    path = f"{CHARGES}/{created['id']}"
    # When / Then reads work
    assert ids(api.get(CHARGES, as_tenant=viewer)) == [created["id"]]
    assert pending(api, customer_id, as_tenant=viewer).json()["data"]["count"] == 1
    # and every write is refused, changing nothing
    for reply in (api.post(CHARGES, {"customer_id": customer_id, "amount": 1, "description": "x"}, as_tenant=viewer),
                  api.put(path, {"amount": 1}, as_tenant=viewer),
                  api.delete(path, as_tenant=viewer)):
        assert reply.status == 403
        assert reply.json()["detail"] == "Not enough permissions"
    assert api.get(CHARGES).json()["data"]["items"] == [created]


# ---------------------------------------------------------------- sample events

def test_the_sample_events_work_against_the_demo_data(aws: None) -> None:
    # Given the demo data (the local stack's seed, which gives the demo customer pending charges)
    from devstack import seed

    seed.seed()
    events = {name: json.loads((template.ROOT / "events" / name).read_text())
              for name in ("delayed_charges-create.json", "delayed_charges-pending.json")}
    # When
    made = runtime.invoke("DelayedChargesFunction", events["delayed_charges-create.json"])
    summary = runtime.invoke("DelayedChargesFunction", events["delayed_charges-pending.json"])
    # Then
    assert made["statusCode"] == 201, made["body"]
    assert summary["statusCode"] == 200, summary["body"]
    data = json.loads(summary["body"])["data"]
    assert data["customer_id"] == seed.CUSTOMER_ID
    everything = [*seed.DELAYED_CHARGES, json.loads(events["delayed_charges-create.json"]["body"])]
    charges = sum(c["amount"] for c in everything if c.get("type", "charge") == "charge")
    credits = sum(c["amount"] for c in seed.DELAYED_CHARGES if c.get("type") == "credit")
    assert (data["count"], data["net_amount"]) == (len(seed.DELAYED_CHARGES) + 1, charges - credits)
