"""What the batch engine takes and answers: the request of POST /invoices/batch, the batch as
answered (API.md), and the queue's message (an item to advance)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from invoicing.domain.invoices import MAX_LINES
from invoicing.schemas.invoices import LineItemRequest
from invoicing.schemas.types import DateString, RequestBody, Text, Uuid

ItemStatus = Literal["pending", "created", "finalized", "failed"]
BatchStatus = Literal["processing", "completed", "completed_with_errors"]

MAX_ITEMS = 1000
# Items per SQS message: a worker's event of 10 messages is then 100 items, read and written in
# a few calls (a transaction takes up to 100 actions, about 2 per item), not one call per 10 items.
ITEMS_PER_MESSAGE = 10


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


class BatchItemResult(BaseModel):
    index: int = Field(description="Position of the item in the request's items, from 0")
    customer_id: str
    invoice_id: str = Field(description="Assigned at acceptance: the id the invoice has once created")
    status: ItemStatus = Field(description="pending -> created (-> finalized), or failed")
    error: str | None = Field(default=None, description="Why the item failed; null otherwise")


class Batch(BaseModel):
    batch_id: str
    business_id: str
    status: BatchStatus = Field(description="processing until every item is done (created, or finalized when "
                                            "finalize is true, or failed); then completed, or completed_with_errors "
                                            "when any item failed")
    total: int = Field(description="Number of items")
    created: int = Field(description="Invoices created so far (finalized ones included)")
    finalized: int = Field(description="Invoices finalized so far")
    failed: int = Field(description="Items that failed; each has its error")
    include_delayed_charges: bool
    finalize: bool
    created_at: str
    updated_at: str
    items: list[BatchItemResult]


class QueuedItem(BaseModel):
    """One item to process: its batch, its index, and its customer (read with the item; None when
    its message did not name it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    business_id: str
    batch_id: str
    index: int = Field(ge=0, lt=MAX_ITEMS)
    customer_id: str | None = None


class MessageItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0, lt=MAX_ITEMS)
    customer_id: str | None = None


class BatchMessage(BaseModel):
    """The SQS message: up to ``ITEMS_PER_MESSAGE`` items of one batch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    business_id: str
    batch_id: str
    items: tuple[MessageItem, ...] = Field(min_length=1, max_length=ITEMS_PER_MESSAGE)

    def queued(self) -> list[QueuedItem]:
        return [QueuedItem(business_id=self.business_id, batch_id=self.batch_id, index=entry.index,
                           customer_id=entry.customer_id) for entry in self.items]
