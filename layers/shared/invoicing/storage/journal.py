"""Journal entry items (``BIZ#<b> / JOURNAL#<id>``): written once, in the transaction of the
change they record, and never overwritten (``put_action`` only creates)."""

from __future__ import annotations

from typing import Any

from invoicing.domain.models import JournalEntry
from invoicing.errors import Conflict, NotFound
from invoicing.storage import keys, transactions
from invoicing.storage.paging import Filter, PageRequest, Partition, QueryPage, condition, query_page
from invoicing.storage.table import get_item


def not_found(entry_id: str) -> NotFound:
    return NotFound(f"Journal entry {entry_id} not found", code="journal_entry_not_found")


def _invoice_keys(business_id: str, invoice_id: str | None, entry_id: str) -> dict[str, Any]:
    if not invoice_id:
        return {}
    return {keys.GSI4PK: keys.journal_of_invoice(business_id, invoice_id), keys.GSI4SK: keys.journal_entry(entry_id)}


def put_action(entry: JournalEntry) -> dict[str, Any]:
    """The action creating ``entry`` (never over an existing one)."""
    return transactions.put({
        keys.PK: keys.business(entry.business_id), keys.SK: keys.journal_entry(entry.id),
        keys.GSI1PK: keys.journal_index(entry.business_id),
        keys.GSI1SK: keys.journal_by_date(entry.entry_date, entry.id),
        **_invoice_keys(entry.business_id, entry.invoice_id, entry.id),
        **entry.model_dump(),
    })


def get(business_id: str, entry_id: str) -> JournalEntry:
    item = get_item(keys.business(business_id), keys.journal_entry(entry_id))
    if item is None:
        raise not_found(entry_id)
    return JournalEntry.model_validate(item)


def link_action(entry: JournalEntry, invoice_id: str, customer_id: str) -> dict[str, Any]:
    """The action attaching an unattached entry to an invoice (its lines stay as written)."""
    return transactions.update(
        keys.business(entry.business_id), keys.journal_entry(entry.id),
        f"SET invoice_id = :invoice, customer_id = :customer, {keys.GSI4PK} = :pk, {keys.GSI4SK} = :sk",
        condition="attribute_exists(PK) AND (attribute_not_exists(invoice_id) OR invoice_id = :null)",
        values={":invoice": invoice_id, ":customer": customer_id, ":null": None,
                ":pk": keys.journal_of_invoice(entry.business_id, invoice_id), ":sk": keys.journal_entry(entry.id)},
    )


def already_linked(entry_id: str, invoice_id: str) -> Conflict:
    return Conflict(f"Journal entry {entry_id} is already attached to invoice {invoice_id}",
                    code="journal_entry_linked")


def list_page(business_id: str, request: PageRequest, *, invoice_id: str | None = None,
              start_date: str | None = None, end_date: str | None = None) -> tuple[QueryPage, list[JournalEntry]]:
    """In date order (the business's journal, GSI1), or an invoice's entries in creation order (GSI4)."""
    if invoice_id:
        where = Partition.on_index(business_id, keys.BY_CUSTOMER, keys.journal_of_invoice(business_id, invoice_id),
                                   keys.JOURNAL)
    else:
        where = Partition.on_gsi1(business_id, keys.journal_index(business_id), "")
    filter_ = Filter.all_of(condition("entry_date", ">=", start_date) if start_date else None,
                            condition("entry_date", "<=", end_date) if end_date else None)
    page = query_page(where, request, filter_)
    return page, [JournalEntry.model_validate(item) for item in page.items]

