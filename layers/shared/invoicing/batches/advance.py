"""Advancing batch items: the only writer of an item's state. Inline processing (``accept``),
the worker and the dead-letter consumer all call ``advance`` or ``give_up``.

Why each item ends as exactly one invoice or one failed entry, however often its message is
delivered, also concurrently:

- An item's state is its status record: none (pending), then created, finalized or failed.
  Every move is a conditional Put on the status it leaves (``records.move_action``; for pending,
  that no record exists), in the same transaction as its effects: the invoice (a Put of a new
  id, assigned at acceptance), the delayed charges it sweeps (conditional on each being pending
  and unchanged), the invoice number (the counter moves from the value read) and the batch's
  counts. So a crash leaves all of a step or none of it, and a second writer of the same step
  is cancelled.
- A cancelled transaction is read again (``retry.optimistic``): an item that moved on is
  reported as it now is and never written twice; a charge another invoice took is not swept.
- ``advance`` first takes an event's items of one batch together (a read per ~30 items, a
  transaction per ~40; numbered in the same transaction when the batch finalizes), then any
  item the group left (a finalize still to do, an unexpected cancellation, contention) alone,
  through the same conditional moves. What raises is reported, so its message comes back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from invoicing.batches import records as store
from invoicing.batches.rules import (
    ENTRY_ACTIONS,
    ITEM_ACTIONS,
    SHARED_ACTIONS,
    charge_line,
    negative_total_reason,
    sweep_room,
)
from invoicing.batches.schemas import ItemStatus, QueuedItem
from invoicing.domain.clock import now_iso
from invoicing.domain.ids import uuid7
from invoicing.domain.invoices import MAX_LINES, total_of
from invoicing.domain.lifecycle import invoice_number, transition
from invoicing.domain.models import DelayedCharge, Invoice
from invoicing.errors import Conflict, DomainError, NotFound
from invoicing.observability import logger
from invoicing.operations import invoices as invoice_operations
from invoicing.storage import delayed_charges, journal, retry, transactions
from invoicing.storage import invoices as invoices_store

_TRANSACTION_BYTES = 3_000_000  # TransactWriteItems takes at most 4 MB (AR entries, ~2 KB an item, fit the margin)
DEAD_LETTER_REASON = "Processing failed repeatedly; the item was given up"

Outcome = ItemStatus | None | Exception  # where an item ended (None: no such item), or why it could not advance


def advance(items: Sequence[QueuedItem]) -> dict[QueuedItem, Outcome]:
    """Bring each item (of any batches) to its end: its invoice created (and finalized, if the
    batch says so), or failed with its reason. Each batch's items go together first
    (``advance_by_batch``), then any item left alone (``advance_one``); an item that raised is
    logged and answered as its exception (its message is to come back)."""
    outcome: dict[QueuedItem, Outcome] = dict(advance_by_batch(items))
    for item in items:
        if item in outcome:
            continue
        try:
            outcome[item] = advance_one(item.business_id, item.batch_id, item.index, customer_id=item.customer_id)
        except Exception as error:  # noqa: BLE001 - reported: the item's message comes back
            logger.exception("Batch item could not be processed", extra={"batch_id": item.batch_id,
                                                                        "index": item.index})
            outcome[item] = error
    return outcome


@dataclass(frozen=True)
class _Ready:
    """An item ready to be written: its invoice as it will be stored and the charges it takes."""

    state: store.ItemState
    invoice: Invoice
    charges: list[DelayedCharge]
    size: int  # bytes, roughly: what it adds to its transaction


def advance_together(business_id: str, batch_id: str, indexes: Iterable[int],
                  customers: Iterable[str | None] = ()) -> dict[int, ItemStatus | None]:
    """Bring several items of one batch to their end together, as ``advance_one`` would each:
    BatchGetItem reads them, their ``customers`` (as their messages name them) and the invoice
    counter (100 keys a call), and each transaction (100 actions) writes some 40 items' invoices
    (numbered already, when the batch finalizes: the counter moves in the same transaction), the
    charges they sweep, their statuses and the batch's counts.

    Returns the status each item ended in (None: no such item). An item left out of the answer
    (contention outlasted the attempts, an unexpected cancellation, an item half-way from an
    older run) is for ``advance_one`` alone; whatever was written stays consistent."""
    wanted = sorted(set(indexes))
    named = list(customers)
    done: dict[int, ItemStatus | None] = {}

    def attempt() -> dict[int, ItemStatus | None]:
        nonlocal wanted
        states, last = store.load_items(business_id, batch_id, wanted, named)
        todo = []
        for index in wanted:
            state = states.get(index)
            if state is None:
                logger.warning("No such batch item; message dropped", extra={"batch_id": batch_id, "index": index})
                done[index] = None
            elif state.status == "pending" and state.customer_live is False:
                done[index] = _fail(state, _customer_deleted(state)).status
            elif state.status == "pending":
                todo.append(state)
            elif state.status != "created" or not state.finalize:
                done[index] = state.status
        ready = []
        for state in todo:
            now = now_iso()
            swept = _swept(state, state.draft.model_copy(update={"created_at": now, "updated_at": now}))
            if isinstance(swept, str):
                done[state.index] = _fail(state, swept).status
            else:
                ready.append(_Ready(state, *swept, size=len(swept[0].model_dump_json())))
        try:
            for group in _transactions(ready):
                last = _write(group, last)
                done.update((item.state.index, _written(item.state)) for item in group)
        except transactions.Cancelled as cancelled:
            if set(cancelled.reasons) - {"None", transactions.CONDITION_FAILED, "TransactionConflict"}:
                logger.warning("Batch items transaction cancelled unexpectedly; items go one by one", extra={
                    "batch_id": batch_id, "reasons": cancelled.reasons})
                return done
            # A number, a charge or an item was taken by another writer meanwhile (or the
            # transaction collided with one): read again.
            logger.info("Batch items transaction cancelled; retrying", extra={
                "batch_id": batch_id, "reasons": cancelled.reasons})
            wanted = [state.index for state in todo if state.index not in done]
            if wanted:
                raise retry.LostRace(f"batch {batch_id}: items changed since they were read") from None
        return done

    return retry.optimistic(attempt, exhausted=lambda: done)


def advance_by_batch(items: Iterable[QueuedItem]) -> dict[QueuedItem, ItemStatus | None]:
    """Items of any batches, each batch's together (``advance_together``). A batch whose group
    raised is logged and left out of the answer: its items are for ``advance_one`` one by one
    (whatever the group wrote stays; each item's status says what is left to do)."""
    by_batch: dict[tuple[str, str], list[QueuedItem]] = {}
    for item in items:
        by_batch.setdefault((item.business_id, item.batch_id), []).append(item)
    done: dict[QueuedItem, ItemStatus | None] = {}
    for (business_id, batch_id), group in by_batch.items():
        try:
            statuses = advance_together(business_id, batch_id, [m.index for m in group], [m.customer_id for m in group])
        except Exception:  # noqa: BLE001 - each item is tried again alone
            logger.exception("Batch items could not be processed together; trying one by one",
                             extra={"batch_id": batch_id})
            continue
        done.update((item, statuses[item.index]) for item in group if item.index in statuses)
    return done


def _written(state: store.ItemState) -> ItemStatus:
    return "finalized" if state.finalize else "created"


def _transactions(ready: list[_Ready]) -> Iterator[list[_Ready]]:
    """The items in groups that each fit one transaction (100 actions, 4 MB)."""
    group: list[_Ready] = []
    actions, size = SHARED_ACTIONS, 0
    for item in ready:
        needs = ITEM_ACTIONS + len(item.charges) + (ENTRY_ACTIONS if item.state.finalize else 0)
        if group and (actions + needs > transactions.MAX_ACTIONS or size + item.size > _TRANSACTION_BYTES):
            yield group
            group, actions, size = [], SHARED_ACTIONS, 0
        group.append(item)
        actions, size = actions + needs, size + item.size
    if group:
        yield group


def _write(group: list[_Ready], last: int) -> int:
    """One transaction: the group's invoices (numbered from ``last + 1`` and with their AR entries
    when finalizing), their swept charges, each item's status and the batch's counts. Returns the
    last invoice number taken."""
    now = now_iso()
    first = group[0].state
    finalize = first.finalize
    to = _written(first)
    actions: list[dict[str, Any]] = [store.count_action(first, now, created=len(group),
                                                         **({"finalized": len(group)} if finalize else {}))]
    if finalize:
        actions.append(invoices_store.take_numbers_action(first.business_id, last, len(group)))
    for number, item in enumerate(group, start=last + 1):
        invoice = item.invoice
        if finalize:
            invoice, entry = invoices_store.with_receivable(invoice.model_copy(update={
                "status": transition("finalize", invoice.status), "number": invoice_number(number)}), now)
            actions.append(journal.put_action(entry))
        actions += [invoices_store.put_new_action(invoice, product_ids=item.state.product_ids,
                                                  number_seq=number if finalize else 0),
                    store.move_action(item.state, to, now),
                    *(delayed_charges.invoice_action(c, invoice.id, now) for c in item.charges)]
    transactions.transact(actions)
    return last + len(group) if finalize else last


def advance_one(business_id: str, batch_id: str, index: int, *, customer_id: str | None = None) -> ItemStatus | None:
    """Bring one item to its end: its invoice created (and finalized, if the batch says so), or
    the item failed with its reason. Safe to run any number of times, also concurrently: a step
    already done is skipped. Raises on trouble worth a retry (throttling, contention).
    ``customer_id`` (as its message names it) is read with the item, in the same call."""
    state = store.load_item(business_id, batch_id, index, customer=True, customer_id=customer_id)
    if state is None:
        logger.warning("No such batch item; message dropped", extra={"batch_id": batch_id, "index": index})
        return None
    if state.status == "pending":
        state = _create(state)
    if state.status == "created" and state.finalize:
        state = _finalize(state)
    return state.status


def _reread(state: store.ItemState) -> store.ItemState:
    fresh = store.load_item(state.business_id, state.batch_id, state.index)
    assert fresh is not None, "batch records are never deleted"
    return fresh


def _swept(state: store.ItemState, invoice: Invoice) -> tuple[Invoice, list[DelayedCharge]] | str:
    """The item's invoice with its customer's pending charges of its currency as lines, when the
    item sweeps (room permitting, oldest first); or the reason the item fails."""
    room = sweep_room(len(invoice.line_items), max_lines=MAX_LINES) if state.sweep else 0
    charges = delayed_charges.pending_for_customer(state.business_id, state.customer_id, invoice.currency,
                                                   room) if room else []
    if not charges:
        return invoice, []
    lines = [*invoice.line_items, *(charge_line(c, uuid7) for c in charges)]
    try:
        total = total_of(lines)
    except DomainError as error:
        return f"With its delayed charges: {error.detail}"
    if total < 0:
        return negative_total_reason(total, charges)
    return invoice.model_copy(update={"line_items": lines, "total": total, "balance_due": total}), charges


def _create(state: store.ItemState) -> store.ItemState:
    """pending -> created in one transaction with the invoice and the charges it sweeps; or
    pending -> failed with the reason."""
    assert state.customer_live is not None, "a pending item is created as read with its customer"
    if not state.customer_live:
        return _fail(state, _customer_deleted(state))

    def attempt() -> store.ItemState:
        now = now_iso()
        swept = _swept(state, state.draft.model_copy(update={"created_at": now, "updated_at": now}))
        if isinstance(swept, str):
            return _fail(state, swept)
        invoice, charges = swept
        also = [
            store.move_action(state, "created", now),
            store.count_action(state, now, created=1),
            *(delayed_charges.invoice_action(c, invoice.id, now) for c in charges),
        ]
        try:
            invoices_store.put_new(invoice, product_ids=state.product_ids, also=also)
        except transactions.Cancelled as cancelled:
            if cancelled.failed(1):
                return _reread(state)  # no longer pending: an earlier delivery did it, carry on from there
            unexpected = set(cancelled.reasons) - {"None", transactions.CONDITION_FAILED, "TransactionConflict"}
            if cancelled.failed(0) or cancelled.failed(2) or unexpected:
                raise RuntimeError(f"batch {state.batch_id} item {state.index}: invoice transaction cancelled: "
                                   f"{cancelled.reasons}") from None
            # A charge was taken (or changed) by a concurrent invoice, or the transaction collided
            # with another: read the pending charges again.
            logger.info("Batch item transaction cancelled; retrying", extra={
                "batch_id": state.batch_id, "index": state.index, "reasons": cancelled.reasons})
            raise retry.LostRace(f"batch {state.batch_id} item {state.index}: a charge changed") from None
        return replace(state, status="created", draft=invoice)

    return retry.optimistic(attempt, exhausted=RuntimeError(
        f"batch {state.batch_id} item {state.index}: the customer's delayed charges kept changing"))


def _finalize(state: store.ItemState) -> store.ItemState:
    """created -> finalized with the invoice's draft -> open (its number), in one transaction."""
    now = now_iso()
    try:
        invoice_operations.finalize(state.business_id, state.invoice_id, now, also=[
            store.move_action(state, "finalized", now), store.count_action(state, now, finalized=1)])
    except transactions.Cancelled:
        return _reread(state)  # the item moved on: an earlier delivery finalized it
    except NotFound:
        return _fail(state, f"Invoice {state.invoice_id} was deleted before it could be finalized")
    except Conflict as conflict:
        if conflict.code != "invalid_status":
            raise  # contention: let the message come back
        # No longer a draft: it was finalized (by an earlier delivery whose status change is
        # in the same transaction, so only by hand): record it as finalized, once.
        try:
            transactions.transact([store.move_action(state, "finalized", now),
                                   store.count_action(state, now, finalized=1)])
        except transactions.Cancelled:
            return _reread(state)
    return replace(state, status="finalized")


def _customer_deleted(state: store.ItemState) -> str:
    return f"Customer {state.customer_id} was deleted after the batch was accepted"


def _fail(state: store.ItemState, reason: str) -> store.ItemState:
    """The item's status -> failed with ``reason``, once (nothing if it moved on meanwhile)."""
    now = now_iso()
    try:
        transactions.transact([store.move_action(state, "failed", now, error=reason),
                               store.count_action(state, now, failed=1)])
    except transactions.Cancelled:
        return _reread(state)
    logger.info("Batch item failed", extra={"batch_id": state.batch_id, "index": state.index, "reason": reason})
    return replace(state, status="failed")


def give_up(business_id: str, batch_id: str, indexes: Iterable[int], reason: str = DEAD_LETTER_REASON
            ) -> dict[int, ItemStatus]:
    """The items fail with ``reason`` unless they are done (a message that reached the dead-letter
    queue, or could not be sent). An item whose invoice was created but could not be finalized
    fails too, saying so (its draft invoice stays). Answers the status each existing item ends in."""
    wanted = list(indexes)
    states, _ = store.load_items(business_id, batch_id, wanted)
    for index in wanted:
        if index not in states:
            logger.warning("No such batch item; dead letter dropped", extra={"batch_id": batch_id, "index": index})
    return {index: _give_up(state, reason).status for index, state in states.items()}


def _give_up(state: store.ItemState, reason: str) -> store.ItemState:
    """The item fails with ``reason`` unless it is done."""
    if state.status == "pending":
        return _fail(state, reason)
    if state.status == "created" and state.finalize:
        return _fail(state, f"{reason}: invoice {state.invoice_id} was created as a draft but could not be "
                            "finalized")
    return state
