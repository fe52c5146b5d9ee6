"""Batch creation rules: item and batch statuses, the queue's messages (ten items each), which
item sweeps a customer's delayed charges, how many charges one invoice can take, charges as
lines, and errors that name the item.

Pure functions over plain values; the use case is ``invoicing.operations.batches``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from invoicing.domain.models import DelayedCharge, LineItem
from invoicing.errors import DomainError, Unprocessable

ItemStatus = Literal["pending", "created", "finalized", "failed"]
BatchStatus = Literal["processing", "completed", "completed_with_errors"]

MAX_ITEMS = 1000
INLINE_LIMIT = 10  # batches this small are processed before the answer, the rest through SQS
# Items per SQS message: a worker's event of 10 messages is then 100 items, read and written in
# a few calls (a transaction takes up to 100 actions, about 2 per item), not one call per 10 items.
ITEMS_PER_MESSAGE = 10
MAX_TRANSACTION_ACTIONS = 100  # DynamoDB's TransactWriteItems limit
# The transaction that writes batch items' invoices: for each item its invoice and its status, plus
# one action per swept delayed charge; once per transaction the batch's counts and the invoice
# counter. An item written alone can sweep what is left.
ITEM_ACTIONS = 2
SHARED_ACTIONS = 2
MAX_SWEPT_CHARGES = MAX_TRANSACTION_ACTIONS - SHARED_ACTIONS - ITEM_ACTIONS


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


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0, lt=MAX_ITEMS)
    customer_id: str | None = None


class BatchMessage(BaseModel):
    """The SQS message: up to ``ITEMS_PER_MESSAGE`` items of one batch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    business_id: str
    batch_id: str
    items: tuple[_Entry, ...] = Field(min_length=1, max_length=ITEMS_PER_MESSAGE)

    def queued(self) -> list[QueuedItem]:
        return [QueuedItem(business_id=self.business_id, batch_id=self.batch_id, index=entry.index,
                           customer_id=entry.customer_id) for entry in self.items]


def messages_of(items: Sequence[QueuedItem]) -> list[BatchMessage]:
    """The items in messages of up to ``ITEMS_PER_MESSAGE``, each of one batch, in order."""
    messages = []
    for (business_id, batch_id), same in groupby(items, key=lambda item: (item.business_id, item.batch_id)):
        entries = [_Entry(index=item.index, customer_id=item.customer_id) for item in same]
        messages += [BatchMessage(business_id=business_id, batch_id=batch_id,
                                  items=tuple(entries[start:start + ITEMS_PER_MESSAGE]))
                     for start in range(0, len(entries), ITEMS_PER_MESSAGE)]
    return messages


def batch_status(*, total: int, created: int, finalized: int, failed: int, finalize: bool) -> BatchStatus:
    """Done items are the failed ones plus the created (or, with ``finalize``, the finalized) ones."""
    done = failed + (finalized if finalize else created)
    if done < total:
        return "processing"
    return "completed_with_errors" if failed else "completed"


def sweeping_indexes(customer_ids: Sequence[str]) -> set[int]:
    """The items that take their customer's delayed charges: the lowest index of each customer."""
    first: dict[str, int] = {}
    for index, customer_id in enumerate(customer_ids):
        first.setdefault(customer_id.lower(), index)
    return set(first.values())


def sweep_room(line_count: int, *, max_lines: int) -> int:
    """How many delayed charges an invoice of ``line_count`` lines can still take: every charge is
    one more line and one more action of the transaction that writes the invoice. The rest stay
    pending for a later invoice."""
    return max(0, min(max_lines - line_count, MAX_SWEPT_CHARGES))


def charge_line(charge: DelayedCharge, new_id: Callable[[], str]) -> LineItem:
    """A delayed charge as an invoice line: quantity 1, a credit as a negative price."""
    signed = charge.amount if charge.type == "charge" else -charge.amount
    return LineItem(id=new_id(), variant_id=None, description=charge.description, quantity=1, unit_price=signed,
                    amount=signed, delayed_charge_id=charge.id)


def negative_total_reason(total: int, charges: Sequence[DelayedCharge]) -> str:
    credits = sum(c.amount for c in charges if c.type == "credit")
    return (f"The customer's pending delayed charges ({len(charges)}, credits of {credits} cents) would make the "
            f"invoice total negative ({total} cents); nothing was written and the charges stay pending")


def at_item(index: int, error: DomainError) -> DomainError:
    """The same error, naming the batch item: a 422's ``loc`` moves under ``["body", "items", index]``,
    any other error's detail starts with ``items[index]: ``."""
    if isinstance(error, Unprocessable):
        rest = error.loc[1:] if error.loc[:1] == ["body"] else error.loc
        return Unprocessable(error.detail, loc=("body", "items", index, *rest), type=error.type, input=error.input,
                             ctx=error.ctx)
    return type(error)(f"items[{index}]: {error.detail}", code=error.code)
