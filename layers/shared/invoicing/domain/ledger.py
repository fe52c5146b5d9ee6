"""Receivables rules, pure: the chart of accounts, the entry each money event posts, and the
status an invoice's money gives it.

Why the ledger agrees with the invoices: every entry below touches Accounts Receivable by
exactly the amount the same write adds to or takes from an invoice's ``balance_due`` (finalize
+total, void -total, payment -amount, payment removed +amount, write-off -balance), and the
entry and the invoice change in one DynamoDB transaction. So for every customer, AR equals the
sum of ``balance_due`` over the invoices that are open, partially paid or paid; an uncollectible
invoice's balance sits in Bad Debt instead. Manual entries may not touch AR (``check_manual``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from invoicing.domain.models import AccountCode, EntrySource, Invoice, JournalEntry, JournalLine, Payment
from invoicing.errors import Unprocessable

BANK: AccountCode = "1000"
RECEIVABLE: AccountCode = "1200"
CUSTOMER_CREDITS: AccountCode = "2300"
REVENUE: AccountCode = "4000"
SALES_RETURNS: AccountCode = "4100"
BAD_DEBT: AccountCode = "6100"
ACCOUNTS: dict[str, str] = {
    BANK: "Bank",
    RECEIVABLE: "Accounts Receivable",
    CUSTOMER_CREDITS: "Customer Credits",
    REVENUE: "Revenue",
    SALES_RETURNS: "Sales Returns",
    BAD_DEBT: "Bad Debt",
}
UNPAID = frozenset({"open", "partially_paid"})  # the statuses aging and metrics read
MAX_PAYMENTS = 100  # per invoice: its payments and entries are embedded in the invoice's item
MAX_ENTRIES = 250
MAX_MANUAL_LINES = 50


def line(account: AccountCode, *, debit: int = 0, credit: int = 0, customer_id: str | None = None) -> JournalLine:
    return JournalLine(account_code=account, account_name=ACCOUNTS[account], debit=debit, credit=credit,
                       customer_id=customer_id if account == RECEIVABLE else None)


def _pair(debit: AccountCode, credit: AccountCode, amount: int, customer_id: str) -> list[JournalLine]:
    """Dr ``debit`` / Cr ``credit`` for ``amount`` (a negative amount swaps the sides)."""
    if amount < 0:
        debit, credit, amount = credit, debit, -amount
    return [line(debit, debit=amount, customer_id=customer_id), line(credit, credit=amount, customer_id=customer_id)]


def _entry(invoice: Invoice, *, entry_id: str, on: str, source: EntrySource, description: str,
           lines: list[JournalLine], now: str, payment_id: str | None = None,
           reverses: str | None = None) -> JournalEntry:
    return JournalEntry(id=entry_id, business_id=invoice.business_id, entry_date=on, description=description,
                        source=source, currency=invoice.currency, lines=lines, invoice_id=invoice.id,
                        customer_id=invoice.customer_id, payment_id=payment_id, reverses=reverses, created_at=now)


def finalized(invoice: Invoice, *, entry_id: str, now: str) -> JournalEntry:
    """Dr AR / Cr Revenue for the total, dated the invoice's issue date (a backdated one too)."""
    return _entry(invoice, entry_id=entry_id, on=invoice.issue_date, source="invoice_finalized",
                  description=f"Invoice {invoice.number} finalized",
                  lines=_pair(RECEIVABLE, REVENUE, invoice.total, invoice.customer_id), now=now)


def paid(invoice: Invoice, payment: Payment, *, entry_id: str, now: str) -> JournalEntry:
    """Dr Bank / Cr AR for the payment, dated the day it was paid."""
    return _entry(invoice, entry_id=entry_id, on=payment.paid_on, source="payment", payment_id=payment.id,
                  description=f"Payment on invoice {invoice.number}",
                  lines=_pair(BANK, RECEIVABLE, payment.amount, invoice.customer_id), now=now)


def written_off(invoice: Invoice, *, entry_id: str, on: date, now: str) -> JournalEntry:
    """Dr Bad Debt / Cr AR for what is left to pay."""
    return _entry(invoice, entry_id=entry_id, on=on.isoformat(), source="write_off",
                  description=f"Invoice {invoice.number} written off as uncollectible",
                  lines=_pair(BAD_DEBT, RECEIVABLE, invoice.balance_due, invoice.customer_id), now=now)


def reversal(invoice: Invoice, original: JournalEntry, *, entry_id: str, on: date, source: EntrySource,
             description: str, now: str) -> JournalEntry:
    """The entry undoing ``original``: the same lines, debits and credits swapped."""
    lines = [line.model_copy(update={"debit": line.credit, "credit": line.debit}) for line in original.lines]
    return _entry(invoice, entry_id=entry_id, on=on.isoformat(), source=source, description=description,
                  lines=lines, now=now, payment_id=original.payment_id, reverses=original.id)


def status_for(total: int, total_paid: int) -> str:
    """What the money says a finalized invoice's status is."""
    if total_paid <= 0:
        return "open"
    return "manual_paid" if total_paid >= total else "partially_paid"


def with_money(invoice: Invoice, *, payments: Sequence[Payment], entry: JournalEntry | None, now: str,
               status: str | None = None) -> Invoice:
    """``invoice`` with these payments, the entry appended, its totals, status and ``paid_on``
    derived from them (``status``: a status the money does not decide, e.g. uncollectible)."""
    total_paid = sum(p.amount for p in payments)
    to = status or status_for(invoice.total, total_paid)
    paid_on = max((p.paid_on for p in payments), default=None) if to == "manual_paid" else None
    return invoice.model_copy(update={
        "payments": list(payments), "total_paid": total_paid, "balance_due": invoice.total - total_paid,
        "status": to, "paid_on": paid_on,
        "journal_entries": [*invoice.journal_entries, *([entry] if entry else [])], "updated_at": now,
    })


def entry_of(invoice: Invoice, source: EntrySource, payment_id: str | None = None) -> JournalEntry | None:
    """The invoice's latest entry of ``source`` (for ``payment_id``) that no later entry reverses."""
    reversed_ids = {e.reverses for e in invoice.journal_entries if e.reverses}
    for entry in reversed(invoice.journal_entries):
        if entry.source == source and entry.payment_id == payment_id and entry.id not in reversed_ids:
            return entry
    return None


def check_manual(lines: Sequence[JournalLine]) -> None:
    """A manual entry: balanced, above zero, one side per line, and away from AR (only invoices
    move receivables, so the ledger keeps agreeing with them)."""
    for i, ln in enumerate(lines):
        if (ln.debit > 0) == (ln.credit > 0):
            raise Unprocessable("Each line takes either a debit or a credit above zero, not both",
                                loc=("body", "lines", i), input=ln.model_dump())
        if ln.account_code == RECEIVABLE:
            raise Unprocessable("Accounts Receivable moves only with invoices (finalize, payments, write-offs); "
                                "a manual entry cannot post to it", loc=("body", "lines", i, "account_code"),
                                input=ln.account_code)
    debits, credits = sum(ln.debit for ln in lines), sum(ln.credit for ln in lines)
    if debits != credits:
        raise Unprocessable(f"The entry does not balance: debits {debits} != credits {credits}",
                            loc=("body", "lines"), input=None, ctx={"debits": debits, "credits": credits})


BUCKETS = ("current", "1_30", "31_60", "61_90", "91_plus")


def bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1_30"
    if days_past_due <= 60:
        return "31_60"
    return "61_90" if days_past_due <= 90 else "91_plus"
