"""Request bodies of the invoices endpoints (API.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from invoicing.domain.invoices import MAX_LINES
from invoicing.domain.models import Frequency
from invoicing.schemas.types import Cents, Currency, DateString, Integer, Quantity, RequestBody, Text, Uuid

VariantRef = Annotated[
    Uuid | Literal["custom"],
    Field(description="UUID of product variant. Omit or use 'custom' for manual line items."),
]


class LineItemRequest(RequestBody):
    variant_id: VariantRef | None = None
    quantity: Annotated[Quantity | None, Field(description="Quantity ordered. Defaults to 1.")] = None
    description: Annotated[
        str | None,
        Field(min_length=1, max_length=500,
              description="Line item description (required for custom items; defaults to the variant's name)"),
    ] = None
    unit_price: Annotated[
        Cents | None,
        Field(description="Price per unit in cents. Required for custom items. For variant-linked items an optional "
                          "override of the catalog price; either way the price is copied onto the invoice."),
    ] = None
    amount: Annotated[
        Cents | None,
        Field(deprecated=True, description="Deprecated: if unit_price is not set, amount is treated as unit_price."),
    ] = None
    location_id: Annotated[
        Uuid | None,
        Field(description="Warehouse to deduct this line from; overrides fulfillment_location_id. "
                          "Ignored for custom lines."),
    ] = None


class InvoiceRecurringConfig(RequestBody):
    frequency: Frequency
    start_date: DateString | None = None
    day_of_month: Annotated[Integer | None, Field(ge=1, le=31)] = None
    day_of_week: Annotated[Integer | None, Field(ge=0, le=6, description="0=Monday .. 6=Sunday")] = None
    end_date: DateString | None = None
    max_occurrences: Annotated[Integer | None, Field(ge=1, le=10_000)] = None
    days_until_due: Annotated[Integer | None, Field(ge=0, le=3650)] = None
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    auto_finalize: bool = False


class InvoiceCreate(RequestBody):
    customer_id: Annotated[Uuid, Field(description="UUID of the customer to invoice.")]
    currency: Annotated[Currency | None, Field(description="Defaults to the business's default currency.")] = None
    line_items: Annotated[
        list[LineItemRequest],
        Field(min_length=1, max_length=MAX_LINES, description="Line items (at least one, at most 250)."),
    ]
    due_date: Annotated[DateString, Field(description="Payment due date in YYYY-MM-DD format.")]
    issue_date: Annotated[
        DateString | None,
        Field(description="Optional date of issue (may be in the past: backdating). Default: today in the "
                          "business's time zone."),
    ] = None
    description: Text | None = None
    fulfillment_location_id: Annotated[
        Uuid | None, Field(description="Default warehouse for inventory deductions when the invoice is delivered.")
    ] = None
    recurring: Annotated[
        InvoiceRecurringConfig | None, Field(description="If provided, creates a recurring template for this invoice.")
    ] = None


class InvoiceUpdate(RequestBody):
    """PUT /invoices/{id}: fields left out keep their value."""

    id: Annotated[Uuid, Field(description="The invoice's id; must equal the id in the path")]
    customer_id: Annotated[Uuid | None, Field(description="Drafts only.")] = None
    line_items: Annotated[
        list[LineItemRequest] | None,
        Field(min_length=1, max_length=MAX_LINES,
              description="Drafts only. Replaces the invoice's own lines; lines swept from delayed charges stay."),
    ] = None
    due_date: DateString | None = None
    description: Text | None = None
    fulfillment_location_id: Annotated[
        Uuid | None, Field(description="Ignored once the invoice is delivered.")
    ] = None
    recurring: InvoiceRecurringConfig | None = None
