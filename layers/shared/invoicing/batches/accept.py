"""Accepting a batch: validate and price every item before anything is written (the same
pricing as POST /invoices), assign the invoice ids, write the batch, then advance it at once (up
to ``INLINE_LIMIT`` items) or send its items to SQS, ``ITEMS_PER_MESSAGE`` a message, for the
worker to advance. Accepting writes no item state: ``advance`` is its only writer.
"""

from __future__ import annotations

import hashlib

from invoicing.batches import advance
from invoicing.batches import records as store
from invoicing.batches.rules import INLINE_LIMIT, at_item, messages_of, sweeping_indexes
from invoicing.batches.schemas import Batch, BatchInvoiceRequest, BatchItemResult, QueuedItem
from invoicing.domain.clock import now_iso, today_in
from invoicing.domain.ids import keyed_id
from invoicing.errors import Conflict, DomainError, NotFound
from invoicing.observability import logger
from invoicing.operations import pricing
from invoicing.storage import queue

QUEUE_FAILED_REASON = "The item could not be queued for processing"


def batch_id_for(business_id: str, idempotency_key: str) -> str:
    """A new batch's id: random (UUIDv7), or, for a request with an Idempotency-Key, derived from
    it, so a retry of a request whose answer was lost finds the batch its first attempt wrote."""
    return keyed_id("batch", business_id, idempotency_key)


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
        advance.give_up(business_id, batch_id, unsent, f"{QUEUE_FAILED_REASON} ({error})")
        return False
    return True


def _process_inline(items: list[QueuedItem]) -> None:
    """Advance a small batch now; an item that fails to advance (not: fails with a reason) goes
    to the queue instead, as a large batch's would, so it is retried and never lost."""
    outcome = advance.advance(items)
    retry = [item for item in items if isinstance(outcome[item], Exception)]
    if retry:
        _enqueue(retry)


def get_batch(business_id: str, batch_id: str) -> Batch:
    return store.read(business_id, batch_id)
