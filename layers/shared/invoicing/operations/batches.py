"""Batch creation (seed 000): accept a whole request, then make each item one invoice or one
failed entry, exactly once, however often its message is delivered.

Accepting validates and prices every item before anything is written (the same pricing as
POST /invoices), assigns the invoice ids, writes the batch and either processes it at once (up
to ``INLINE_LIMIT`` items) or sends one SQS message per item. ``process_item`` is what the
worker runs per message; every write it makes is conditional on the item's status, and the
invoice, its swept charges and the item's new status are one transaction, so a crash at any
point leaves either nothing or everything of a step, and a redelivery continues from there.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import date

from invoicing.domain.batches import (
    INLINE_LIMIT,
    Batch,
    BatchItemResult,
    ItemMessage,
    ItemStatus,
    at_item,
    charge_line,
    negative_total_reason,
    sweep_room,
    sweeping_indexes,
)
from invoicing.domain.clock import now_iso, today_in
from invoicing.domain.ids import uuid7
from invoicing.domain.invoices import check_dates, total_of
from invoicing.domain.models import Invoice
from invoicing.errors import Conflict, DomainError, NotFound
from invoicing.http.batches import BatchInvoiceItem, BatchInvoiceRequest
from invoicing.http.invoices import MAX_LINES
from invoicing.observability import logger
from invoicing.operations.invoices import _inputs, _price, _references  # the pricing of POST /invoices
from invoicing.storage import batches as store
from invoicing.storage import delayed_charges, lookup, queue, transactions
from invoicing.storage import invoices as invoices_store

# The transaction that writes an invoice: the invoice, the item's status, the header's count and
# the customer check, plus one action per swept delayed charge.
FIXED_ACTIONS = 4
_SWEEP_ATTEMPTS = 8
DEAD_LETTER_REASON = "Processing failed repeatedly; the item was given up"
QUEUE_FAILED_REASON = "The item could not be queued for processing"


# ------------------------------------------------------------------------------------ accept
def _draft(found: lookup.Lookup, business_id: str, item: BatchInvoiceItem, issue: date, now: str
           ) -> tuple[Invoice, set[str]]:
    """The item's invoice as it will be written (status draft), priced now; the same checks and
    errors as POST /invoices."""
    customer = found.require_customer(item.customer_id)
    lines = _inputs(item.line_items)
    variant_ids, location_ids = _references(lines, None)
    currency = found.business.currency
    priced, products = _price(found, lines, variant_ids, location_ids, currency)
    total = total_of(priced)
    check_dates(issue, date.fromisoformat(item.due_date))
    invoice = Invoice(
        id=uuid7(), business_id=business_id, created_at=now, updated_at=now, status="draft", currency=currency,
        total=total, total_paid=0, balance_due=total, description=item.description, customer_id=customer.id,
        customer_name=customer.name, customer_email=customer.email, issue_date=issue.isoformat(),
        due_date=item.due_date, line_items=priced,
    )
    return invoice, products


def create_batch(business_id: str, request: BatchInvoiceRequest) -> Batch:
    """Validate and price every item (a 404/400 names the item, a 422's loc is under its index),
    then write the batch and process it inline or fan it out. Nothing is written on any error."""
    items = request.items
    variants: set[str] = set()
    locations: set[str] = set()
    for item in items:
        found_variants, found_locations = _references(_inputs(item.line_items), None)
        variants.update(found_variants)
        locations.update(found_locations)
    found = lookup.fetch(business_id, customers=[i.customer_id for i in items], variants=sorted(variants),
                         locations=sorted(locations))
    issue = today_in(found.business.timezone)
    now = now_iso()
    drafts = []
    for index, item in enumerate(items):
        try:
            drafts.append(_draft(found, business_id, item, issue, now))
        except DomainError as error:
            raise at_item(index, error) from None

    batch_id = uuid7()
    sweeping = sweeping_indexes([i.customer_id for i in items]) if request.include_delayed_charges else set()
    records = [store.header_record(business_id, batch_id, total=len(items),
                                   include_delayed_charges=request.include_delayed_charges,
                                   finalize=request.finalize, now=now)]
    for index, (invoice, products) in enumerate(drafts):
        records.append(store.item_record(business_id, batch_id, index, customer_id=invoice.customer_id,
                                         invoice_id=invoice.id, now=now))
        records.append(store.draft_record(business_id, batch_id, index, invoice=invoice, product_ids=products,
                                          sweep=index in sweeping))
    store.write_new(records)
    del records

    if len(items) <= INLINE_LIMIT:
        _process_inline(business_id, batch_id, len(items))
        return store.read(business_id, batch_id)
    if not _enqueue(business_id, batch_id, list(range(len(items)))):
        return store.read(business_id, batch_id)  # some items failed: answer what is stored
    results = [BatchItemResult(index=i, customer_id=invoice.customer_id, invoice_id=invoice.id, status="pending")
               for i, (invoice, _) in enumerate(drafts)]
    header = store.header_record(business_id, batch_id, total=len(items),
                                 include_delayed_charges=request.include_delayed_charges, finalize=request.finalize,
                                 now=now)
    return store.batch_of(header, results)


def _enqueue(business_id: str, batch_id: str, indexes: list[int]) -> bool:
    """One message per item; an item whose message could not be sent fails now, saying so (its
    message may yet arrive: it then finds the item failed and does nothing). False if any failed."""
    try:
        queue.send_items([ItemMessage(business_id=business_id, batch_id=batch_id, index=i).model_dump()
                          for i in indexes])
    except queue.SendFailed as error:
        logger.exception("Batch items could not be queued; they fail", extra={"batch_id": batch_id})
        for position in error.unsent:
            state = store.load_item(business_id, batch_id, indexes[position])
            if state is not None:
                _give_up(state, f"{QUEUE_FAILED_REASON} ({error})")
        return False
    return True


def _process_inline(business_id: str, batch_id: str, count: int) -> None:
    """Process a small batch now; an item that fails to process (not: fails with a reason) goes
    to the queue instead, as a large batch's would, so it is retried and never lost."""
    retry = []
    for index in range(count):
        try:
            process_item(business_id, batch_id, index)
        except Exception:  # noqa: BLE001 - retried through SQS, as the worker would be
            logger.exception("Batch item could not be processed inline; queued", extra={
                "batch_id": batch_id, "index": index})
            retry.append(index)
    if retry:
        _enqueue(business_id, batch_id, retry)


def get_batch(business_id: str, batch_id: str) -> Batch:
    return store.read(business_id, batch_id)


# ------------------------------------------------------------------------------------ process
def process_item(business_id: str, batch_id: str, index: int) -> ItemStatus | None:
    """Bring one item to its end: its invoice created (and finalized, if the batch says so), or
    the item failed with its reason. Safe to run any number of times, also concurrently: a step
    already done is skipped. Raises on trouble worth a retry (throttling, contention)."""
    state = store.load_item(business_id, batch_id, index)
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


def _create(state: store.ItemState) -> store.ItemState:
    """pending -> created in one transaction with the invoice and the charges it sweeps; or
    pending -> failed with the reason."""
    for attempt in range(_SWEEP_ATTEMPTS):
        now = now_iso()
        invoice = state.draft.model_copy(update={"created_at": now, "updated_at": now})
        charges = []
        if state.sweep:
            room = sweep_room(len(invoice.line_items), max_lines=MAX_LINES, fixed_actions=FIXED_ACTIONS)
            charges = delayed_charges.pending_for_customer(state.business_id, state.customer_id, invoice.currency,
                                                           room) if room else []
        if charges:
            lines = [*invoice.line_items, *(charge_line(c, uuid7) for c in charges)]
            try:
                total = total_of(lines)
            except DomainError as error:
                return _fail(state, f"With its delayed charges: {error.detail}")
            if total < 0:
                return _fail(state, negative_total_reason(total, charges))
            invoice = invoice.model_copy(update={"line_items": lines, "total": total, "balance_due": total})
        also = [
            store.move_action(state, "created", now),
            store.count_action(state, "created", now),
            store.customer_live_action(state),
            *(delayed_charges.invoice_action(state.business_id, c, invoice.id, now) for c in charges),
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
            if cancelled.failed(3):
                return _fail(state, f"Customer {state.customer_id} was deleted after the batch was accepted")
            # A charge was taken (or changed) by a concurrent invoice, or the transaction collided
            # with another: read the pending charges again.
            logger.info("Batch item transaction cancelled; retrying", extra={
                "batch_id": state.batch_id, "index": state.index, "reasons": cancelled.reasons})
            time.sleep(random.uniform(0, min(0.01 * 2**attempt, 0.5)))
            continue
        return replace(state, status="created", draft=invoice)
    raise RuntimeError(f"batch {state.batch_id} item {state.index}: the customer's delayed charges kept changing")


def _finalize(state: store.ItemState) -> store.ItemState:
    """created -> finalized with the invoice's draft -> open (its number), in one transaction."""
    now = now_iso()
    try:
        invoices_store.finalize(state.business_id, state.invoice_id, now, also=[
            store.move_action(state, "finalized", now), store.count_action(state, "finalized", now)])
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
                                   store.count_action(state, "finalized", now)])
        except transactions.Cancelled:
            return _reread(state)
    return replace(state, status="finalized")


def _fail(state: store.ItemState, reason: str) -> store.ItemState:
    """The item's status -> failed with ``reason``, once (nothing if it moved on meanwhile)."""
    now = now_iso()
    try:
        transactions.transact([store.move_action(state, "failed", now, error=reason),
                               store.count_action(state, "failed", now)])
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
