"""The pricing every invoice's lines go through (operations/pricing.py), against an in-memory lookup."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from invoicing.domain.clock import today_in
from invoicing.errors import NotFound, Unprocessable
from invoicing.operations import pricing
from invoicing.schemas.invoices import LineItemRequest
from invoicing.storage import keys, lookup

BUSINESS = "0195f1a0-0000-7000-8000-0000000000b1"
CUSTOMER = "0195f1a0-0000-7000-8000-0000000000c1"
PRODUCT = "0195f1a0-0000-7000-8000-0000000000d1"
BLUE = "0195f1a0-0000-7000-8000-0000000000e1"
RED = "0195f1a0-0000-7000-8000-0000000000e2"
SHOP = "0195f1a0-0000-7000-8000-0000000000f1"
DEPOT = "0195f1a0-0000-7000-8000-0000000000f2"
NOW = "2025-03-01T10:00:00Z"


def _found(*, customer: bool = True) -> lookup.Lookup:
    stamps = {"created_at": NOW, "updated_at": NOW}
    items: dict[str, dict[str, Any]] = {
        keys.BUSINESS_SK: {"id": BUSINESS, "name": "Shop", "currency": "USD", "timezone": "Pacific/Auckland",
                           "created_at": NOW},
        keys.variant(BLUE): {"id": BLUE, "business_id": BUSINESS, "product_id": PRODUCT, "name": "Blue widget",
                             "sku": "W-BLUE", "unit_price": 1250, **stamps},
        keys.location(SHOP): {"id": SHOP, "business_id": BUSINESS, "name": "Shop", "code": "S", "created_at": NOW},
    }
    if customer:
        items[keys.customer(CUSTOMER)] = {"id": CUSTOMER, "business_id": BUSINESS, "name": "Ada",
                                          "email": "ada@example.com", **stamps}
    return lookup.Lookup(business_id=BUSINESS, items=items)


def test_requested_names_the_variants_and_locations_of_catalog_lines_and_the_fulfillment_location() -> None:
    lines = [LineItemRequest(variant_id=RED, location_id=SHOP), LineItemRequest(variant_id=BLUE, quantity=2),
             LineItemRequest(variant_id=RED), LineItemRequest(description="Setup", unit_price=100)]
    request = pricing.requested(lines, DEPOT)
    assert (request.variant_ids, request.location_ids, request.fulfillment_location_id) == (
        [BLUE, RED], [SHOP, DEPOT], DEPOT)
    stored = pricing.requested([{"variant_id": BLUE, "quantity": 2}, {"description": "Setup", "unit_price": 100}])
    assert stored.lines == request.lines[1::2] and stored.location_ids == []


def test_fetch_reads_what_all_the_requests_reference_in_one_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(lookup, "fetch", lambda business_id, **kw: calls.append((business_id, kw)))
    first = pricing.requested([{"variant_id": RED}, {"variant_id": BLUE, "location_id": SHOP}])
    second = pricing.requested([{"variant_id": BLUE}], DEPOT)
    pricing.fetch(BUSINESS, first, second, customers=[CUSTOMER], also=["X"])
    assert calls == [(BUSINESS, {"customers": [CUSTOMER], "variants": [BLUE, RED], "locations": [SHOP, DEPOT],
                                 "also": ["X"]})]


def test_draft_prices_the_lines_and_copies_the_customer_on() -> None:
    request = pricing.requested([{"variant_id": BLUE, "quantity": 2, "location_id": SHOP},
                                 {"description": "Setup", "unit_price": 100}], SHOP)
    invoice, products = pricing.draft(_found(), request, customer_id=CUSTOMER, currency=None, issue=None,
                                      due_date="2099-01-01", description="March", now=NOW, recurring_template_id="t")
    assert products == {PRODUCT}
    assert (invoice.status, invoice.currency, invoice.total, invoice.balance_due, invoice.total_paid) == (
        "draft", "USD", 2600, 2600, 0)
    assert (invoice.business_id, invoice.customer_name, invoice.customer_email, invoice.created_at) == (
        BUSINESS, "Ada", "ada@example.com", NOW)
    assert invoice.issue_date == today_in("Pacific/Auckland").isoformat()
    assert (invoice.fulfillment_location_id, invoice.recurring_template_id) == (SHOP, "t")
    assert [line.amount for line in invoice.line_items] == [2500, 100]


def test_draft_checks_the_customer_first_then_the_references_then_the_dates() -> None:
    unknown_location = pricing.requested([{"variant_id": BLUE}], DEPOT)
    draft = {"currency": "USD", "issue": date(2025, 3, 1), "description": None, "now": NOW}
    with pytest.raises(NotFound) as missing:
        pricing.draft(_found(customer=False), unknown_location, customer_id=CUSTOMER, due_date="2025-02-01", **draft)
    assert missing.value.code == "customer_not_found"
    with pytest.raises(NotFound) as missing:
        pricing.draft(_found(), unknown_location, customer_id=CUSTOMER, due_date="2025-02-01", **draft)
    assert missing.value.code == "location_not_found"
    with pytest.raises(Unprocessable) as early:
        pricing.draft(_found(), pricing.requested([{"variant_id": BLUE}]), customer_id=CUSTOMER,
                      due_date="2025-02-01", **draft)
    assert early.value.loc == ["body", "due_date"]
