"""The batch rules, pure: batch status from the counts, the queue's messages (ten items each),
which item sweeps a customer's delayed charges, how many charges one invoice can take, charges
as lines, and errors that name the item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby

from invoicing.batches.schemas import ITEMS_PER_MESSAGE, BatchMessage, BatchStatus, MessageItem, QueuedItem
from invoicing.domain.models import DelayedCharge, LineItem
from invoicing.errors import DomainError, Unprocessable
from invoicing.storage.transactions import MAX_ACTIONS

INLINE_LIMIT = 10  # batches this small are processed before the answer, the rest through SQS
# The transaction that writes batch items' invoices: for each item its invoice and its status (and,
# when the batch finalizes, its AR entry), plus one action per swept delayed charge; once per
# transaction the batch's counts and the invoice counter. An item written alone can sweep what is left.
ITEM_ACTIONS = 2
ENTRY_ACTIONS = 1
SHARED_ACTIONS = 2
MAX_SWEPT_CHARGES = MAX_ACTIONS - SHARED_ACTIONS - ITEM_ACTIONS - ENTRY_ACTIONS


def messages_of(items: Sequence[QueuedItem]) -> list[BatchMessage]:
    """The items in messages of up to ``ITEMS_PER_MESSAGE``, each of one batch, in order."""
    messages = []
    for (business_id, batch_id), same in groupby(items, key=lambda item: (item.business_id, item.batch_id)):
        entries = [MessageItem(index=item.index, customer_id=item.customer_id) for item in same]
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
