"""Batch creation: accept a whole request, then make each item one invoice or one
failed entry, exactly once, however often its message is delivered.

Accepting validates and prices every item before anything is written (the same pricing as
POST /invoices), assigns the invoice ids, writes the batch and either processes it at once (up
to ``INLINE_LIMIT`` items) or sends them to SQS, ``ITEMS_PER_MESSAGE`` items per message. The
worker takes an event's items of one batch together (``process_items``: a read per ~30 items,
a transaction per ~40 that writes their invoices, already numbered when the batch finalizes)
and any item the group left alone (``process_item``). Every write is conditional on the item's
status, and an invoice, its swept charges, its number and the item's new status are one
transaction, so a crash at any point leaves either nothing or everything of a step, and a
redelivery continues from there.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from invoicing.domain.batches import (
    INLINE_LIMIT,
    ITEM_ACTIONS,
    MAX_TRANSACTION_ACTIONS,
    SHARED_ACTIONS,
    Batch,
    BatchItemResult,
    ItemStatus,
    QueuedItem,
    at_item,
    charge_line,
    messages_of,
    negative_total_reason,
    sweep_room,
    sweeping_indexes,
)
from invoicing.domain.clock import now_iso, today_in
from invoicing.domain.ids import uuid7
from invoicing.domain.invoices import total_of
from invoicing.domain.lifecycle import invoice_number, transition
from invoicing.domain.models import DelayedCharge, Invoice
from invoicing.errors import Conflict, DomainError, NotFound
from invoicing.http.batches import BatchInvoiceRequest
from invoicing.http.invoices import MAX_LINES
from invoicing.observability import logger
from invoicing.operations import invoices as invoice_operations
from invoicing.operations import pricing
from invoicing.storage import batches as store
from invoicing.storage import delayed_charges, queue, retry, transactions
from invoicing.storage import invoices as invoices_store

_TRANSACTION_BYTES = 3_000_000  # TransactWriteItems takes at most 4 MB
_BATCH_IDS = uuid.UUID("0195f1a0-7c3e-7b2a-9d41-6a8f2e0b5c17")  # the namespace of key-derived batch ids
DEAD_LETTER_REASON = "Processing failed repeatedly; the item was given up"
QUEUE_FAILED_REASON = "The item could not be queued for processing"


# ------------------------------------------------------------------------------------ accept
def batch_id_for(business_id: str, idempotency_key: str) -> str:
    """A new batch's id: random (UUIDv7), or, for a request with an Idempotency-Key, derived from
    it, so a retry of a request whose answer was lost finds the batch its first attempt wrote."""
    return str(uuid.uuid5(_BATCH_IDS, f"{business_id}\n{idempotency_key}")) if idempotency_key else uuid7()


def create_batch(business_id: str, request: BatchInvoiceRequest, *, idempotency_key: str = "") -> Batch:
    """Validate and price every item (a 404/400 names the item, a 422's loc is under its index),
    then write the batch and process it inline or fan it out. Nothing is written on any error.

    The header is written last, so a batch with a header is whole. With an Idempotency-Key, a
    retry after the first attempt died (between writing and queueing, or while processing
    inline) resumes that batch instead of writing another: its pending items are processed or
    queued again (processing is idempotent, so a duplicate message changes nothing)."""
    items = request.items
    lines = [pricing.requested(item.line_items) for item in items]
    found = pricing.fetch(business_id, *lines, customers=[i.customer_id for i in items])
    issue = today_in(found.business.timezone)
    now = now_iso()
    drafts = []
    for index, item in enumerate(items):
        try:  # each item's invoice as it will be written, priced now, as POST /invoices would
            drafts.append(pricing.draft(found, lines[index], customer_id=item.customer_id, currency=None, issue=issue,
                                        due_date=item.due_date, description=item.description, now=now))
        except DomainError as error:
            raise at_item(index, error) from None

    batch_id = batch_id_for(business_id, idempotency_key)
    fingerprint = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
    if idempotency_key and (resumed := _resume(business_id, batch_id, fingerprint)) is not None:
        return resumed
    sweeping = sweeping_indexes([i.customer_id for i in items]) if request.include_delayed_charges else set()
    header = store.header_record(business_id, batch_id, total=len(items),
                                 include_delayed_charges=request.include_delayed_charges, finalize=request.finalize,
                                 request_sha256=fingerprint, now=now)
    records = [store.draft_record(business_id, batch_id, index, invoice=invoice, product_ids=products,
                                  sweep=index in sweeping) for index, (invoice, products) in enumerate(drafts)]
    manifest = store.manifest_record(business_id, batch_id, ((draft.customer_id, draft.id) for draft, _ in drafts))
    store.write_new([*records, manifest, header])
    del records

    queued = [QueuedItem(business_id=business_id, batch_id=batch_id, index=i, customer_id=invoice.customer_id)
              for i, (invoice, _) in enumerate(drafts)]
    if len(items) <= INLINE_LIMIT:
        _process_inline(queued)
        return store.read(business_id, batch_id)
    if not _enqueue(queued):
        return store.read(business_id, batch_id)  # some items failed: answer what is stored
    results = [BatchItemResult(index=i, customer_id=invoice.customer_id, invoice_id=invoice.id, status="pending")
               for i, (invoice, _) in enumerate(drafts)]
    return store.batch_of(header, results)


def _resume(business_id: str, batch_id: str, fingerprint: str) -> Batch | None:
    """The batch an earlier attempt of this keyed request wrote, its pending items processed or
    queued again; None if there is none. A different request under the same key is a 409."""
    try:
        batch, created_by = store.read_keyed(business_id, batch_id)
    except NotFound:
        return None
    if created_by not in (fingerprint, None):
        raise Conflict(f"This Idempotency-Key was already used for a different request (batch {batch_id})",
                       code="idempotency_key_reused")
    pending = [QueuedItem(business_id=business_id, batch_id=batch_id, index=item.index, customer_id=item.customer_id)
               for item in batch.items if item.status == "pending"]
    logger.info("Batch resumed by a retry with its Idempotency-Key", extra={"batch_id": batch_id,
                                                                           "pending": len(pending)})
    if not pending:
        return batch
    if batch.total <= INLINE_LIMIT:
        _process_inline(pending)
    else:
        _enqueue(pending)
    return store.read(business_id, batch_id)


def _enqueue(items: list[QueuedItem]) -> bool:
    """The items (all of one batch) in messages of ``ITEMS_PER_MESSAGE``; an item whose message
    could not be sent fails now, saying so (its message may yet arrive: it then finds the item
    failed and does nothing). False if any failed."""
    messages = messages_of(items)
    try:
        queue.send_items([message.model_dump(exclude_none=True) for message in messages])
    except queue.SendFailed as error:
        business_id, batch_id = items[0].business_id, items[0].batch_id
        logger.exception("Batch items could not be queued; they fail", extra={"batch_id": batch_id})
        unsent = [entry.index for position in error.unsent for entry in messages[position].items]
        states, _ = store.load_items(business_id, batch_id, unsent)
        for state in states.values():
            _give_up(state, f"{QUEUE_FAILED_REASON} ({error})")
        return False
    return True


def _process_inline(items: list[QueuedItem]) -> None:
    """Process a small batch now; an item that fails to process (not: fails with a reason) goes
    to the queue instead, as a large batch's would, so it is retried and never lost."""
    done = process_many(items)
    retry = []
    for item in items:
        if item in done:
            continue
        try:
            process_item(item.business_id, item.batch_id, item.index, customer_id=item.customer_id)
        except Exception:  # noqa: BLE001 - retried through SQS, as the worker would be
            logger.exception("Batch item could not be processed inline; queued", extra={
                "batch_id": item.batch_id, "index": item.index})
            retry.append(item)
    if retry:
        _enqueue(retry)


def get_batch(business_id: str, batch_id: str) -> Batch:
    return store.read(business_id, batch_id)


# ------------------------------------------------------------------------------------ process, grouped
@dataclass(frozen=True)
class _Ready:
    """An item ready to be written: its invoice as it will be stored and the charges it takes."""

    state: store.ItemState
    invoice: Invoice
    charges: list[DelayedCharge]
    size: int  # bytes, roughly: what it adds to its transaction


def process_items(business_id: str, batch_id: str, indexes: Iterable[int],
                  customers: Iterable[str | None] = ()) -> dict[int, ItemStatus | None]:
    """Bring several items of one batch to their end together, as ``process_item`` would each:
    BatchGetItem reads them, their ``customers`` (as their messages name them) and the invoice
    counter (100 keys a call), and each transaction (100 actions) writes some 40 items' invoices
    (numbered already, when the batch finalizes: the counter moves in the same transaction), the
    charges they sweep, their statuses and the batch's counts.

    Returns the status each item ended in (None: no such item). An item left out of the answer
    (contention outlasted the attempts, an unexpected cancellation, an item half-way from an
    older run) is for ``process_item`` alone; whatever was written stays consistent."""
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


def process_many(items: Iterable[QueuedItem]) -> dict[QueuedItem, ItemStatus | None]:
    """Items of any batches, each batch's together (``process_items``). A batch whose group
    raised is logged and left out of the answer: its items are for ``process_item`` one by one
    (whatever the group wrote stays; each item's status says what is left to do)."""
    by_batch: dict[tuple[str, str], list[QueuedItem]] = {}
    for item in items:
        by_batch.setdefault((item.business_id, item.batch_id), []).append(item)
    done: dict[QueuedItem, ItemStatus | None] = {}
    for (business_id, batch_id), group in by_batch.items():
        try:
            statuses = process_items(business_id, batch_id, [m.index for m in group], [m.customer_id for m in group])
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
        needs = ITEM_ACTIONS + len(item.charges)
        if group and (actions + needs > MAX_TRANSACTION_ACTIONS or size + item.size > _TRANSACTION_BYTES):
            yield group
            group, actions, size = [], SHARED_ACTIONS, 0
        group.append(item)
        actions, size = actions + needs, size + item.size
    if group:
        yield group


def _write(group: list[_Ready], last: int) -> int:
    """One transaction: the group's invoices (numbered from ``last + 1`` when finalizing), their
    swept charges, each item's status and the batch's counts. Returns the last invoice number
    taken."""
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
            invoice = invoice.model_copy(update={"status": transition("finalize", invoice.status),
                                                 "number": invoice_number(number)})
        actions += [invoices_store.put_new_action(invoice, product_ids=item.state.product_ids,
                                                  number_seq=number if finalize else 0),
                    store.move_action(item.state, to, now),
                    *(delayed_charges.invoice_action(c, invoice.id, now) for c in item.charges)]
    transactions.transact(actions)
    return last + len(group) if finalize else last


# ------------------------------------------------------------------------------------ process
def process_item(business_id: str, batch_id: str, index: int, *, customer_id: str | None = None) -> ItemStatus | None:
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


def give_up_item(business_id: str, batch_id: str, index: int) -> ItemStatus | None:
    """For a message that reached the dead-letter queue: the item fails with that reason unless it
    is done. An item whose invoice was created but could not be finalized fails too, saying so
    (its draft invoice stays)."""
    state = store.load_item(business_id, batch_id, index)
    if state is None:
        logger.warning("No such batch item; dead letter dropped", extra={"batch_id": batch_id, "index": index})
        return None
    return _give_up(state, DEAD_LETTER_REASON).status


def _give_up(state: store.ItemState, reason: str) -> store.ItemState:
    """The item fails with ``reason`` unless it is done."""
    if state.status == "pending":
        return _fail(state, reason)
    if state.status == "created" and state.finalize:
        return _fail(state, f"{reason}: invoice {state.invoice_id} was created as a draft but could not be "
                            "finalized")
    return state
