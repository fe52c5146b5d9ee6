"""Create an invoice (seed 004): one BatchGetItem for everything referenced, one PutItem."""

from __future__ import annotations

from datetime import date

from invoicing.domain.clock import now_iso, today_in
from invoicing.domain.ids import uuid7
from invoicing.domain.invoices import CatalogPrice, LineInput, check_dates, price_lines, total_of
from invoicing.domain.models import Invoice
from invoicing.errors import Unprocessable
from invoicing.http.invoices import InvoiceCreate
from invoicing.storage import invoices as invoice_store
from invoicing.storage import lookup


def create_invoice(business_id: str, request: InvoiceCreate) -> Invoice:
    if request.recurring is not None:
        raise Unprocessable(
            "Recurring templates are not available yet: create the invoice without 'recurring'",
            loc=("body", "recurring"), type="not_supported", input=request.recurring.model_dump(),
        )
    lines = [LineInput(**line.model_dump()) for line in request.line_items]
    variant_ids = sorted({line.variant_id for line in lines if not line.is_custom and line.variant_id})
    location_ids = sorted(
        {line.location_id for line in lines if not line.is_custom and line.location_id}
        | ({request.fulfillment_location_id} if request.fulfillment_location_id else set())
    )
    found = lookup.fetch(business_id, customers=[request.customer_id], variants=variant_ids, locations=location_ids)

    customer = found.require_customer(request.customer_id)
    for location_id in location_ids:
        found.require_location(location_id)
    business = found.business
    currency = request.currency or business.currency

    catalog = {}
    for variant_id in variant_ids:
        variant = found.variant(variant_id)
        if variant is not None:
            catalog[variant_id] = CatalogPrice(name=variant.name, unit_price=variant.unit_price)
    priced = price_lines(lines, catalog=catalog, invoice_currency=currency, catalog_currency=business.currency,
                         new_id=uuid7)
    total = total_of(priced)

    issue = date.fromisoformat(request.issue_date) if request.issue_date else today_in(business.timezone)
    check_dates(issue, date.fromisoformat(request.due_date))

    now = now_iso()
    invoice = Invoice(
        id=uuid7(), business_id=business_id, created_at=now, updated_at=now, status="draft", currency=currency,
        total=total, total_paid=0, balance_due=total, description=request.description, customer_id=customer.id,
        customer_name=customer.name, customer_email=customer.email, issue_date=issue.isoformat(),
        due_date=request.due_date, line_items=priced, fulfillment_location_id=request.fulfillment_location_id,
    )
    invoice_store.put_new(invoice)
    return invoice
