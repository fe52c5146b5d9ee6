"""Concurrency attacks on the invoice lifecycle's guarantees (issue 3, "tests that attack the
guarantees"): gapless numbering, one winner per transition, stock deducted once per delivery.

Threads call the operations directly, sharing the process's boto3 client: the in-process API
Gateway runs one event per function at a time (like one warm container), so requests through it
would never overlap. The local stack runs each moto call under one lock (devstack/moto_patches.py),
so under moto the threads take turns and a race proves little: these tests run against AWS's
DynamoDB Local (``DYNAMODB_LOCAL_ENDPOINT``, as ``make test`` sets it), a real engine.
Each race runs several rounds, and each round lines its threads up on a barrier."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from helpers import Api
from helpers import race as helpers_race

from invoicing.errors import Conflict, DomainError, NotFound

pytestmark = [
    pytest.mark.dynamodb_local,
    pytest.mark.skipif(not os.environ.get("DYNAMODB_LOCAL_ENDPOINT"),
                       reason="races need a real engine (moto calls take turns): set DYNAMODB_LOCAL_ENDPOINT"),
]

ROUNDS = range(5)
INVOICES = "/api/v1/invoices"


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """``helpers.race``: a domain error (a 409, say) is returned; anything else, a would-be 500, fails."""
    return helpers_race(calls, returned=DomainError)


@pytest.fixture
def business(api: Api) -> dict[str, str]:
    """Given a business on DynamoDB Local with a customer and a default location."""
    from invoicing.storage.table import client

    assert client().meta.endpoint_url == os.environ["DYNAMODB_LOCAL_ENDPOINT"]  # not moto
    customer = api.post("/api/v1/customers", {"name": "Ada Lovelace", "email": "ada@example.com"}).json()["data"]
    main = api.post("/api/v1/inventory/locations", {"name": "Main", "code": "MAIN"}).json()["data"]
    assert api.tenant is not None
    return {"id": api.tenant.business_id, "customer": customer["id"], "main": main["id"]}


def new_draft(business: dict[str, str], lines: list[dict[str, Any]] | None = None, **fields: Any) -> str:
    from invoicing.operations import invoices
    from invoicing.schemas.invoices import InvoiceCreate

    request = InvoiceCreate.model_validate({
        "customer_id": business["customer"], "due_date": "2030-01-31",
        "line_items": lines or [{"description": "Service", "unit_price": 1000}], **fields})
    return invoices.create_invoice(business["id"], request).id


def new_open(business: dict[str, str], **kw: Any) -> str:
    from invoicing.operations import invoices

    invoice_id = new_draft(business, **kw)
    invoices.finalize_invoice(business["id"], invoice_id)
    return invoice_id


def counter(business_id: str) -> int | None:
    from invoicing.storage import keys
    from invoicing.storage.table import client, key, table_name

    got = client().get_item(TableName=table_name(), Key=key(keys.business(business_id), keys.INVOICE_COUNTER_SK),
                            ConsistentRead=True)
    return int(got["Item"]["n"]["N"]) if "Item" in got else None


def stored(business_id: str, invoice_id: str) -> Any:
    from invoicing.operations import invoices

    try:
        return invoices.get_invoice(business_id, invoice_id)
    except NotFound:
        return None


@pytest.mark.parametrize("round_", ROUNDS)
def test_fifty_concurrent_finalizes_number_one_to_fifty(api: Api, business: dict[str, str], round_: int) -> None:
    from invoicing.operations import invoices

    # Given fifty drafts of one business
    drafts = [new_draft(business) for _ in range(50)]
    # When all are finalized at once
    results = race([lambda i=i: invoices.finalize_invoice(business["id"], i) for i in drafts])
    # Then every one succeeded, with the numbers 1..50: no gap, no duplicate
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    expected = [f"INV-{n:03d}" for n in range(1, 51)]
    assert sorted(r.number for r in results) == expected
    assert {r.id for r in results} == set(drafts)
    # and that is what is stored, and the counter agrees
    assert sorted(stored(business["id"], i).number for i in drafts) == expected
    assert all(stored(business["id"], i).status == "open" for i in drafts)
    assert counter(business["id"]) == 50
    # and the list by number is in that order
    page = api.get(INVOICES, query="sort_by=number&descending=false&limit=1000").json()["data"]
    assert [i["number"] for i in page["items"]] == expected
    # the next one simply follows
    assert invoices.finalize_invoice(business["id"], new_draft(business)).number == "INV-051"


@pytest.mark.parametrize("round_", ROUNDS)
def test_void_against_paid_has_one_winner_and_one_409(business: dict[str, str], round_: int) -> None:
    from invoicing.operations import payments

    # Given open invoices
    targets = [new_open(business) for _ in range(4)]
    # When each is voided and marked paid at the same time
    calls: list[Callable[[], Any]] = []
    for invoice_id in targets:
        calls += [lambda i=invoice_id: payments.void(business["id"], i),
                  lambda i=invoice_id: payments.pay_in_full(business["id"], i)]
    results = race(calls)
    # Then for each: exactly one success, one 409 naming the winner's status, and the winner's state stored
    for n, invoice_id in enumerate(targets):
        voided, paid = results[2 * n], results[2 * n + 1]
        outcomes = [r for r in (voided, paid) if not isinstance(r, Exception)]
        losers = [r for r in (voided, paid) if isinstance(r, Exception)]
        assert len(outcomes) == 1 and len(losers) == 1, (voided, paid)
        (winner,), (loser,) = outcomes, losers
        assert isinstance(loser, Conflict) and loser.status == 409, loser
        assert f"{winner.status} invoice" in loser.detail
        final = stored(business["id"], invoice_id)
        assert final.status == winner.status in ("void", "manual_paid")
        assert final.paid_on == (winner.paid_on if winner.status == "manual_paid" else None)
        assert final.balance_due == (0 if final.status == "manual_paid" else final.total)


@pytest.mark.parametrize("round_", ROUNDS)
def test_finalize_against_delete_has_one_winner_and_spends_no_number(business: dict[str, str], round_: int) -> None:
    from invoicing.operations import invoices

    # Given drafts
    targets = [new_draft(business) for _ in range(4)]
    # When each is finalized and deleted at the same time
    calls: list[Callable[[], Any]] = []
    for invoice_id in targets:
        calls += [lambda i=invoice_id: invoices.finalize_invoice(business["id"], i),
                  lambda i=invoice_id: invoices.delete_invoice(business["id"], i)]
    results = race(calls)
    # Then for each exactly one wins
    numbers = []
    for n, invoice_id in enumerate(targets):
        finalized, deleted = results[2 * n], results[2 * n + 1]
        final = stored(business["id"], invoice_id)
        if isinstance(deleted, Exception):
            # the finalize won: the delete is a 409 and the invoice is open with its number
            assert isinstance(deleted, Conflict), deleted
            assert not isinstance(finalized, Exception), finalized
            assert (final.status, final.number) == ("open", finalized.number)
            numbers.append(final.number)
        else:
            # the delete won: the finalize found a draft that was then gone (409), or no invoice at all (404)
            assert isinstance(finalized, Conflict | NotFound), finalized
            assert final is None
    # and the numbers taken are 1..k: the deleted drafts spent none
    assert sorted(numbers) == [f"INV-{k:03d}" for k in range(1, len(numbers) + 1)]
    assert (counter(business["id"]) or 0) == len(numbers)


@pytest.mark.parametrize("round_", ROUNDS)
def test_two_first_deliveries_deduct_stock_once(api: Api, business: dict[str, str], round_: int) -> None:
    from invoicing.operations import invoices

    # Given three open invoices, each with its own variant: 2 from its line's location, 3 from the invoice's
    product = api.post("/api/v1/inventory/products", {"name": "Widget"}).json()["data"]
    north = api.post("/api/v1/inventory/locations", {"name": "North", "code": "N"}).json()["data"]["id"]
    east = api.post("/api/v1/inventory/locations", {"name": "East", "code": "E"}).json()["data"]["id"]
    targets = {}
    for n in range(3):
        variant = api.post("/api/v1/inventory/products/variants", {
            "product_id": product["id"], "name": f"W{n}", "sku": f"W-{n}", "unit_price": 100}).json()["data"]["id"]
        targets[variant] = new_open(business, fulfillment_location_id=east, lines=[
            {"variant_id": variant, "quantity": 2, "location_id": north}, {"variant_id": variant, "quantity": 3},
            {"description": "Handling", "unit_price": 50}])
    # When each is delivered twice at the same time, with different dates
    calls: list[Callable[[], Any]] = []
    for invoice_id in targets.values():
        calls += [lambda i=invoice_id: invoices.mark_delivered(business["id"], i, "2030-01-15"),
                  lambda i=invoice_id: invoices.mark_delivered(business["id"], i, "2030-01-16T09:00:00Z")]
    results = race(calls)
    # Then each invoice is delivered on one of the dates of a request that succeeded
    for n, invoice_id in enumerate(targets.values()):
        pair = results[2 * n: 2 * n + 2]
        assert all(isinstance(r, Conflict) or not isinstance(r, Exception) for r in pair), pair
        succeeded = [r for r in pair if not isinstance(r, Exception)]
        assert succeeded, pair
        final = stored(business["id"], invoice_id)
        assert final.delivered is True
        assert final.delivered_on in {r.delivered_on for r in succeeded}
    # and the stock left once per invoice: -2 at north and -3 at east for each variant, nothing at main
    levels = api.get("/api/v1/inventory/levels", query="limit=1000").json()["data"]["items"]
    found = {(lv["variant_id"], lv["location_id"]): lv["quantity"] for lv in levels}
    assert found == {**{(v, north): -2 for v in targets}, **{(v, east): -3 for v in targets}}
