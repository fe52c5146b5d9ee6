"""Pricing requested lines against the catalog, the one way every invoice gets its lines: POST
and PUT /invoices, each batch item, a recurring template (checked when it is saved) and each
invoice a template's run generates.

The steps: ``requested`` turns the lines into ``LineInput``s and names the variants and locations
they reference; ``fetch`` reads those with the business (and whatever else the caller needs) in
one BatchGetItem; ``price`` checks the references (404) and prices the lines (the rules are
``domain.invoices.price_lines``); ``draft`` does it all for a new draft invoice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from invoicing.domain.clock import today_in
from invoicing.domain.ids import uuid7
from invoicing.domain.invoices import CatalogPrice, LineInput, check_dates, price_lines, total_of
from invoicing.domain.models import Currency, Invoice, LineItem
from invoicing.schemas.invoices import LineItemRequest
from invoicing.storage import lookup


@dataclass(frozen=True)
class Requested:
    """Lines to price, and what they reference in the catalog: the variants of its variant lines,
    the locations of those lines and the invoice's fulfillment location (sorted, unique)."""

    lines: list[LineInput]
    fulfillment_location_id: str | None
    variant_ids: list[str]
    location_ids: list[str]


class Priced(NamedTuple):
    lines: list[LineItem]
    product_ids: set[str]  # the products the lines sell: the invoice is listed under them


class Draft(NamedTuple):
    invoice: Invoice
    product_ids: set[str]


def requested(lines: Iterable[LineItemRequest | Mapping[str, Any]],
              fulfillment_location_id: str | None = None) -> Requested:
    """``lines`` as the API validated them, or as a recurring template stores them (dicts)."""
    inputs = [LineInput(**(line.model_dump() if isinstance(line, LineItemRequest) else line)) for line in lines]
    variants = {line.variant_id for line in inputs if not line.is_custom and line.variant_id}
    locations = {line.location_id for line in inputs if not line.is_custom and line.location_id}
    if fulfillment_location_id:
        locations.add(fulfillment_location_id)
    return Requested(inputs, fulfillment_location_id, sorted(variants), sorted(locations))


def fetch(business_id: str, *requests: Requested, customers: Iterable[str] = (),
          also: Iterable[str] = ()) -> lookup.Lookup:
    """One BatchGetItem: the business, ``customers``, the sort keys ``also`` and everything the
    ``requests`` reference (a batch reads all its items' at once)."""
    variants = sorted({variant_id for request in requests for variant_id in request.variant_ids})
    locations = sorted({location_id for request in requests for location_id in request.location_ids})
    return lookup.fetch(business_id, customers=customers, variants=variants, locations=locations, also=also)


def require_locations(found: lookup.Lookup, request: Requested) -> None:
    """404 for a referenced location that does not exist (``price`` checks them too)."""
    for location_id in request.location_ids:
        found.require_location(location_id)


def price(found: lookup.Lookup, request: Requested, currency: str) -> Priced:
    """The lines priced in ``currency`` at the catalog ``found`` read; 404 for an unknown location
    or variant, 400 for a catalog price in another currency, 422 for an incomplete custom line."""
    require_locations(found, request)
    catalog, products = {}, set()
    for variant_id in request.variant_ids:
        variant = found.variant(variant_id)
        if variant is not None:
            catalog[variant_id] = CatalogPrice(name=variant.name, unit_price=variant.unit_price)
            products.add(variant.product_id)
    lines = price_lines(request.lines, catalog=catalog, invoice_currency=currency,
                        catalog_currency=found.business.currency, new_id=uuid7)
    return Priced(lines, products)


def draft(found: lookup.Lookup, request: Requested, *, customer_id: str, currency: Currency | None, issue: date | None,
          due_date: str, description: str | None, now: str, recurring_template_id: str | None = None) -> Draft:
    """A new draft invoice of ``customer_id`` (its name and email copied on) with the lines priced,
    as it is to be written. ``currency`` and ``issue`` default to the business's currency and
    today in its time zone. 404 for an unknown customer first, then the errors of ``price``, a
    total over the limit and a due date before the issue date (422)."""
    customer = found.require_customer(customer_id)
    business = found.business
    currency = currency or business.currency
    priced = price(found, request, currency)
    total = total_of(priced.lines)
    issue = issue or today_in(business.timezone)
    check_dates(issue, date.fromisoformat(due_date))
    invoice = Invoice(
        id=uuid7(), business_id=found.business_id, created_at=now, updated_at=now, status="draft",
        currency=currency, total=total, total_paid=0, balance_due=total,
        description=description, customer_id=customer.id, customer_name=customer.name, customer_email=customer.email,
        issue_date=issue.isoformat(), due_date=due_date, line_items=priced.lines,
        fulfillment_location_id=request.fulfillment_location_id, recurring_template_id=recurring_template_id,
    )
    return Draft(invoice, priced.product_ids)

