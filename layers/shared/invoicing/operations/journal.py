"""The journal: listing entries, manual entries, attaching an entry to an invoice."""

from __future__ import annotations

from invoicing.domain import ledger
from invoicing.domain.clock import now_iso, today_in
from invoicing.domain.ids import keyed_id
from invoicing.domain.lifecycle import transition
from invoicing.domain.models import Invoice, JournalEntry
from invoicing.errors import Conflict
from invoicing.schemas.receivables import JournalEntryCreate, JournalLink
from invoicing.storage import invoices as store
from invoicing.storage import journal, keys, lookup, retry, transactions
from invoicing.storage.paging import PageRequest, QueryPage


def list_entries(business_id: str, request: PageRequest, *, invoice_id: str | None = None,
                 start_date: str | None = None, end_date: str | None = None) -> tuple[QueryPage, list[JournalEntry]]:
    return journal.list_page(business_id, request, invoice_id=invoice_id, start_date=start_date, end_date=end_date)


def create_entry(business_id: str, body: JournalEntryCreate, *, idempotency_key: str = "") -> JournalEntry:
    """A manual entry: balanced, and away from AR (``ledger.check_manual``); the retry of a keyed
    request answers the entry its first attempt wrote."""
    lines = [ledger.line(ln.account_code, debit=ln.debit, credit=ln.credit) for ln in body.lines]
    ledger.check_manual(lines)
    entry_id = keyed_id("journal_entry", business_id, idempotency_key)
    found = lookup.fetch(business_id, also=[keys.journal_entry(entry_id)])
    if (written := found.raw(keys.journal_entry(entry_id))) is not None:
        return JournalEntry.model_validate(written)
    business = found.business
    entry = JournalEntry(id=entry_id, business_id=business_id, description=body.description, source="manual",
                         entry_date=body.entry_date or today_in(business.timezone).isoformat(),
                         currency=body.currency or business.currency, lines=lines, created_at=now_iso())
    try:
        transactions.transact([journal.put_action(entry)])
    except transactions.Cancelled:  # a concurrent duplicate of this keyed request wrote it first
        return journal.get(business_id, entry_id)
    return entry


def link_entry(business_id: str, invoice_id: str, body: JournalLink) -> Invoice:
    """Attach an existing, unattached entry to an invoice (again: the invoice as it is)."""
    entry_sk = keys.journal_entry(body.journal_entry_id)

    def attempt() -> Invoice:
        found = lookup.fetch(business_id, also=[keys.invoice(invoice_id), entry_sk], business=False)
        item = found.raw(keys.invoice(invoice_id))
        if item is None:
            raise store.not_found(invoice_id)
        stored = store.stored_of(item)
        raw = found.raw(entry_sk)
        if raw is None:
            raise journal.not_found(body.journal_entry_id)
        entry = JournalEntry.model_validate(raw)
        transition("link_entry", stored.invoice.status)
        if entry.invoice_id == invoice_id:
            return stored.invoice
        if entry.invoice_id:
            raise journal.already_linked(entry.id, entry.invoice_id)
        if len(stored.invoice.journal_entries) >= ledger.MAX_ENTRIES:
            raise Conflict(f"Invoice {invoice_id} has {ledger.MAX_ENTRIES} journal entries, the most one invoice "
                           "keeps", code="invoice_entries_full")
        now = now_iso()
        linked = entry.model_copy(update={"invoice_id": invoice_id, "customer_id": stored.invoice.customer_id})
        after = stored.invoice.model_copy(update={"journal_entries": [*stored.invoice.journal_entries, linked],
                                                  "updated_at": now})
        store.replace(stored, after, also=[journal.link_action(entry, invoice_id, stored.invoice.customer_id)])
        return after

    return retry.optimistic(attempt, exhausted=Conflict(
        f"Invoice {invoice_id} is being changed by other requests; retry", code="concurrent_update"))
