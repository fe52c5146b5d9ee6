"""Request body of POST /invoices/batch (API.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from invoicing.domain.batches import MAX_ITEMS
from invoicing.http.invoices import MAX_LINES, LineItemRequest
from invoicing.http.types import DateString, RequestBody, Text, Uuid


class BatchInvoiceLineItem(LineItemRequest):
    """A line of a batch item: the same fields and rules as a line of POST /invoices."""


class BatchInvoiceItem(RequestBody):
    customer_id: Annotated[Uuid, Field(description="Customer ID")]
    line_items: Annotated[
        list[BatchInvoiceLineItem],
        Field(min_length=1, max_length=MAX_LINES, description="Line items (at least one, at most 250)"),
    ]
    due_date: Annotated[DateString, Field(description="Due date YYYY-MM-DD; not before today in the business's "
                                                      "time zone (the issue date)")]
    description: Annotated[Text | None, Field(description="Invoice description")] = None


class BatchInvoiceRequest(RequestBody):
    items: Annotated[
        list[BatchInvoiceItem],
        Field(min_length=1, max_length=MAX_ITEMS, description="List of invoices to create (1 to 1000)"),
    ]
    include_delayed_charges: Annotated[
        bool,
        Field(description="If true, sweep pending delayed charges for each customer into their invoice"),
    ] = False
    finalize: Annotated[bool, Field(description="Auto-finalize invoices after creation")] = False
