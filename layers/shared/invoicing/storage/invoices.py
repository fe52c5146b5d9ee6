"""Invoice items: one item per invoice, its lines embedded (``BIZ#<b> / INVOICE#<id>``).

Every change is conditional on the item's ``version`` (and, for state changes, its status), so
two racing requests end as one winner and one clean 409, never a lost update. Effects that span
items (number + invoice, invoice + delayed charges, invoice + stock) are one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from invoicing.domain import ledger
from invoicing.domain.ids import uuid7
from invoicing.domain.invoice_queries import search_text
from invoicing.domain.ledger import UNPAID
from invoicing.domain.lifecycle import invoice_number, transition
from invoicing.domain.models import Invoice, JournalEntry
from invoicing.errors import NotFound
from invoicing.storage import documents, journal, keys, lookup, stock, transactions
from invoicing.storage.paging import Filter, PageRequest, Partition, QueryPage, condition, query_every, query_page
from invoicing.storage.retry import LostRace
from invoicing.storage.table import client, get_item, put_item


@dataclass(frozen=True)
class Stored:
    """An invoice as read, with what its next conditional write must check."""

    invoice: Invoice
    version: int
    product_ids: frozenset[str]
    number_seq: int
    pdf_key: str | None = None  # the PDF object of this very version, once rendered


def not_found(invoice_id: str) -> NotFound:
    return NotFound(f"Invoice {invoice_id} not found", code="invoice_not_found")


def item_of(invoice: Invoice, *, version: int, product_ids: Iterable[str] = (), number_seq: int = 0) -> dict[str, Any]:
    index = keys.invoices_index(invoice.business_id)
    variant_ids = {line.variant_id for line in invoice.line_items if line.variant_id}
    return {
        keys.PK: keys.business(invoice.business_id),
        keys.SK: keys.invoice(invoice.id),
        keys.GSI1PK: index, keys.GSI2PK: index, keys.GSI3PK: index,
        **keys.invoice_sort_keys(invoice.due_date, invoice.total, number_seq, invoice.id),
        keys.GSI4PK: keys.invoices_of_customer(invoice.business_id, invoice.customer_id),
        keys.GSI4SK: keys.invoice(invoice.id),
        keys.GSI5PK: keys.invoices_with_status(invoice.business_id, invoice.status),
        keys.GSI5SK: keys.invoice(invoice.id),
        **({keys.GSI6PK: keys.unpaid_invoices(invoice.business_id),
            keys.GSI6SK: keys.unpaid_sort_key(invoice.due_date, invoice.id)} if invoice.status in UNPAID else {}),
        **invoice.model_dump(exclude={"pdf_url"}),  # presigned when read (invoice_of), never stored
        "search_text": search_text(invoice.number, invoice.description, invoice.customer_name),
        "variant_ids": variant_ids or None,  # string sets: the variant_id / product_id filters
        "product_ids": set(product_ids) or None,
        "number_seq": number_seq,
        "version": version,
    }


def invoice_of(item: dict[str, Any]) -> Invoice:
    """The invoice of an item as a read shows it: with ``pdf_url`` when the PDF of this very
    version exists. (A write answers its new version, whose PDF is not rendered yet: null.)"""
    return Invoice.model_validate({**item, "pdf_url": documents.pdf_url_of(item)})


def stored_of(item: dict[str, Any]) -> Stored:
    return Stored(
        invoice=Invoice.model_validate(item),
        pdf_key=documents.invoice_pdf_key(item),
        version=int(item.get("version", 1)),
        product_ids=frozenset(item.get("product_ids") or ()),
        number_seq=int(item.get("number_seq", 0)),
    )


def put_new(invoice: Invoice, *, product_ids: Iterable[str] = (), also: Sequence[dict[str, Any]] = ()) -> None:
    """Write a new invoice (never over an existing id), with ``also`` in the same transaction."""
    item = item_of(invoice, version=1, product_ids=product_ids)
    if not also:
        put_item(item)
        return
    transactions.transact([transactions.put(item), *also])


def put_new_action(invoice: Invoice, *, product_ids: Iterable[str] = (), number_seq: int = 0) -> dict[str, Any]:
    """The transaction action writing a new invoice (never over an existing id); ``number_seq``
    for one written already numbered (with ``take_numbers_action`` in the same transaction)."""
    return transactions.put(item_of(invoice, version=1, product_ids=product_ids, number_seq=number_seq))


def last_number(found: lookup.Lookup) -> int:
    """The business's last invoice number, from a lookup that read ``keys.INVOICE_COUNTER_SK``."""
    return int((found.raw(keys.INVOICE_COUNTER_SK) or {}).get("n", 0))


def take_numbers_action(business_id: str, last: int, count: int) -> dict[str, Any]:
    """The action taking the next ``count`` invoice numbers: the counter moves from ``last`` (as
    read) to ``last + count``, and fails if another writer took a number since. A number is only
    ever taken in the transaction that writes the invoice carrying it: numbers stay gapless."""
    return transactions.update(
        keys.business(business_id), keys.INVOICE_COUNTER_SK, "SET n = :next",
        condition="attribute_not_exists(PK)" if last == 0 else "n = :n",
        values={":next": last + count, **({":n": last} if last else {})},
    )


def get(business_id: str, invoice_id: str) -> Stored:
    item = get_item(keys.business(business_id), keys.invoice(invoice_id))
    if item is None:
        raise not_found(invoice_id)
    return stored_of(item)


def read(business_id: str, invoice_id: str) -> Invoice:
    """The invoice as GET shows it (``invoice_of``)."""
    item = get_item(keys.business(business_id), keys.invoice(invoice_id))
    if item is None:
        raise not_found(invoice_id)
    return invoice_of(item)


def _unchanged(stored: Stored) -> dict[str, Any]:
    """The condition (a ``transactions`` action's keyword arguments) that the invoice is as read."""
    return {"condition": "version = :version AND #status = :status", "names": {"#status": "status"},
            "values": {":version": stored.version, ":status": stored.invoice.status}}


def replace(before: Stored, after: Invoice, *, product_ids: Iterable[str] | None = None,
            also: Sequence[dict[str, Any]] = ()) -> None:
    """Overwrite an invoice, if nobody changed it since ``before`` was read (else 409)."""
    item = item_of(after, version=before.version + 1,
                   product_ids=before.product_ids if product_ids is None else product_ids,
                   number_seq=before.number_seq)
    put = transactions.put(item, **_unchanged(before))
    try:
        if also:
            transactions.transact([put, *also])
        else:
            client().put_item(**put["Put"])
    except (transactions.Cancelled, client().exceptions.ConditionalCheckFailedException):
        raise LostRace(f"Invoice {after.id} was changed by another request; read it again and retry") from None


def delete(before: Stored, *, also: Sequence[dict[str, Any]] = ()) -> None:
    action = transactions.delete(keys.business(before.invoice.business_id), keys.invoice(before.invoice.id),
                                 **_unchanged(before))
    try:
        transactions.transact([action, *also])
    except transactions.Cancelled:
        raise LostRace(f"Invoice {before.invoice.id} was changed by another request; read it again and retry"
                       ) from None


def finalize(business_id: str, invoice_id: str, now: str, *, also: Sequence[dict[str, Any]] = ()) -> Invoice:
    """draft -> open with the business's next number: read the counter and the invoice (one
    BatchGetItem), then one transaction moves both (with ``also``, e.g. a batch's progress).
    ``LostRace`` when another finalize took the number or the invoice changed meanwhile. Numbers
    are unique and gapless: a number is only ever taken together with the invoice that carries
    it. If an ``also`` action's own condition fails, that is a Cancelled the caller sees."""
    counter_sk, invoice_sk = keys.INVOICE_COUNTER_SK, keys.invoice(invoice_id)
    found = lookup.fetch(business_id, also=[invoice_sk, counter_sk], business=False)
    item = found.raw(invoice_sk)
    if item is None:
        raise not_found(invoice_id)
    stored = stored_of(item)
    transition("finalize", stored.invoice.status)
    current = last_number(found)
    sequence = current + 1
    invoice, entry = with_receivable(stored.invoice.model_copy(update={
        "status": "open", "number": invoice_number(sequence), "updated_at": now}), now)
    counter = take_numbers_action(business_id, current, 1)
    updated = item_of(invoice, version=stored.version + 1, product_ids=stored.product_ids, number_seq=sequence)
    put = transactions.put(updated, **_unchanged(stored))
    try:
        transactions.transact([counter, put, journal.put_action(entry), *also])
    except transactions.Cancelled as cancelled:
        if any(cancelled.failed(3 + i) for i in range(len(also))):
            raise
        raise LostRace(f"Invoice {invoice_id} lost its number to another finalize") from None
    return invoice


def with_receivable(invoice: Invoice, now: str) -> tuple[Invoice, JournalEntry]:
    """A just-numbered invoice with its AR entry (Dr AR / Cr Revenue), and the entry: whoever
    finalizes writes both in the transaction that takes the number."""
    entry = ledger.finalized(invoice, entry_id=uuid7(), now=now)
    return invoice.model_copy(update={"journal_entries": [*invoice.journal_entries, entry]}), entry


def deliver(before: Stored, after: Invoice, moves: dict[tuple[str, str], int], now: str) -> None:
    """Write the first delivery and its stock deductions, exactly once.

    Up to 99 (variant, location) pairs go in one transaction with the invoice, conditional on the
    invoice being unchanged: of two racing deliveries one commits, the other gets a 409 and reads
    the invoice again (now delivered). Beyond that, the deductions go in chunks, each with a marker
    item that only one writer can create, then the invoice: a retry after a crash skips the chunks
    already written."""
    business_id = before.invoice.business_id
    actions = [stock.deduct_action(business_id, v, loc, qty, now) for (v, loc), qty in sorted(moves.items())]
    if len(actions) < transactions.MAX_ACTIONS:
        replace(before, after, also=actions)
        return
    size = transactions.MAX_ACTIONS - 1
    for chunk, start in enumerate(range(0, len(actions), size)):
        marker = transactions.put({keys.PK: keys.business(business_id),
                                   keys.SK: keys.delivery_chunk(before.invoice.id, chunk), "created_at": now})
        try:
            transactions.transact([marker, *actions[start:start + size]])
        except transactions.Cancelled as cancelled:
            if not cancelled.failed(0):
                raise LostRace("Stock is being changed by other requests; retry") from None
            # this chunk was written by an earlier attempt
    replace(before, after)


def list_page(business_id: str, request: PageRequest, *, sort_by: str, invoice_id: str | None = None,
              customer_id: str | None = None, statuses: Sequence[str] = (), variant_id: str | None = None,
              product_id: str | None = None, search: str | None = None) -> tuple[QueryPage, list[Invoice]]:
    """In creation order: the table, or the customer's or the status's own index (one Query a
    page); sorted by due date, total or number: GSI1/2/3. Other filters are applied while reading."""
    index = keys.invoices_index(business_id)
    by_customer = sort_by == "created_at" and not invoice_id and bool(customer_id)
    by_status = sort_by == "created_at" and not invoice_id and not customer_id and len(statuses) == 1
    if by_customer:
        where = Partition.on_index(business_id, keys.BY_CUSTOMER,
                                   keys.invoices_of_customer(business_id, str(customer_id)), keys.INVOICE)
    elif by_status:
        where = Partition.on_index(business_id, keys.BY_STATUS, keys.invoices_with_status(business_id, statuses[0]),
                                   keys.INVOICE)
    elif sort_by == "created_at":
        where = Partition.of(business_id, keys.invoice(invoice_id) if invoice_id else keys.INVOICE)
    else:
        gsi = {"due_date": keys.GSI1, "total": keys.GSI2, "number": keys.GSI3}[sort_by]
        where = Partition.on_index(business_id, gsi, index)
    filter_ = Filter.all_of(
        condition("id", "=", invoice_id) if invoice_id and sort_by != "created_at" else None,
        condition("customer_id", "=", customer_id) if customer_id and not by_customer else None,
        condition("status", "in", *statuses) if statuses and not by_status else None,
        condition("variant_ids", "contains", variant_id) if variant_id else None,
        condition("product_ids", "contains", product_id) if product_id else None,
        condition("search_text", "contains", search.lower()) if search else None,
    )
    page = query_page(where, request, filter_)
    return page, [invoice_of(item) for item in page.items]


UNPAID_ATTRIBUTES = ("id", "number", "customer_id", "customer_name", "status", "currency", "total", "total_paid",
                     "balance_due", "due_date")
"""What GSI6 projects (template.yaml): all aging and metrics read of an unpaid invoice."""


def unpaid(business_id: str) -> list[dict[str, Any]]:
    """The open and partially paid invoices' ``UNPAID_ATTRIBUTES``, from GSI6 (in due-date order)."""
    return query_every(Partition.on_index(business_id, keys.UNPAID, keys.unpaid_invoices(business_id)))
