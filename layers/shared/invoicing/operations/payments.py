"""Money in: bank transactions, payments on invoices, paying in full, writing off, voiding.

Each change to an invoice's money is one read (a BatchGetItem of the invoice and what it needs)
and one TransactWriteItems: the invoice (conditional on its version), the transaction's
allocation (conditional on what it has left), the payment item and the journal entry. Any
cancelled condition means someone else wrote first: read again and decide again, so a race ends
in a serial order or a clean 4xx, never a half-written payment.
"""

from __future__ import annotations

from invoicing.domain import ledger
from invoicing.domain.clock import now_iso, today_in
from invoicing.domain.ids import keyed_id, uuid7
from invoicing.domain.lifecycle import transition
from invoicing.domain.models import BankTransaction, Invoice, Payment
from invoicing.errors import BadRequest, Conflict
from invoicing.schemas.receivables import PaymentCreate, TransactionCreate
from invoicing.storage import bank, journal, keys, lookup, retry
from invoicing.storage import invoices as store
from invoicing.storage.paging import PageRequest, QueryPage


def create_transaction(business_id: str, body: TransactionCreate, *, idempotency_key: str = "") -> BankTransaction:
    """A new bank transaction; the retry of a keyed request answers the one its first attempt wrote."""
    txn_id = keyed_id("transaction", business_id, idempotency_key)
    found = lookup.fetch(business_id, also=[keys.bank_transaction(txn_id)])
    if (written := found.raw(keys.bank_transaction(txn_id))) is not None:
        return bank.of_item(written)
    business, now = found.business, now_iso()
    txn = BankTransaction(id=txn_id, business_id=business_id, amount=body.amount,
                          currency=body.currency or business.currency,
                          datetime=body.datetime or today_in(business.timezone).isoformat(),
                          description=body.description, reconciled=body.reconciled, created_at=now, updated_at=now)
    if not bank.put_new(txn):  # a concurrent duplicate of this keyed request wrote it first
        return bank.get(business_id, txn_id)
    return txn


def get_transaction(business_id: str, transaction_id: str) -> BankTransaction:
    return bank.get(business_id, transaction_id)


def list_transactions(business_id: str, request: PageRequest, *, reconciled: bool | None = None
                      ) -> tuple[QueryPage, list[BankTransaction]]:
    return bank.list_page(business_id, request, reconciled=reconciled)


def _invoice(found: lookup.Lookup, invoice_id: str) -> store.Stored:
    item = found.raw(keys.invoice(invoice_id))
    if item is None:
        raise store.not_found(invoice_id)
    return store.stored_of(item)


def _contended(invoice_id: str) -> Conflict:
    return Conflict(f"Invoice {invoice_id} is being changed by other requests; retry", code="concurrent_update")


def _room_for_entries(invoice: Invoice, more: int) -> None:
    if len(invoice.journal_entries) + more > ledger.MAX_ENTRIES:
        raise Conflict(f"Invoice {invoice.id} has {len(invoice.journal_entries)} journal entries, the most one "
                       "invoice keeps; record further money against a new invoice", code="invoice_entries_full")


def add_payment(business_id: str, invoice_id: str, body: PaymentCreate, *, idempotency_key: str = "") -> Payment:
    """Allocate ``body.amount`` of a bank transaction to an open or partially paid invoice. A
    keyed request's payment id derives from its key: its retry finds the payment on the invoice
    (written with it) and answers it, instead of paying twice."""
    txn_sk = keys.bank_transaction(body.transaction_id)
    payment_id = keyed_id("payment", business_id, idempotency_key)

    def attempt() -> Payment:
        found = lookup.fetch(business_id, also=[keys.invoice(invoice_id), txn_sk], business=False)
        stored = _invoice(found, invoice_id)
        invoice = stored.invoice
        if (done := _payment_of(invoice, payment_id)) is not None:
            return done
        txn_item = found.raw(txn_sk)
        if txn_item is None:
            raise bank.not_found(body.transaction_id)
        txn = bank.of_item(txn_item)
        transition("pay", invoice.status)
        if txn.amount < 0:
            raise BadRequest(f"Transaction {txn.id} is money paid out; only money received can pay an invoice",
                             code="transaction_outgoing")
        if txn.currency != invoice.currency:
            raise BadRequest(f"Transaction {txn.id} is in {txn.currency} and invoice {invoice.number} in "
                             f"{invoice.currency}; a payment must be in the invoice's currency",
                             code="currency_mismatch")
        if body.amount > txn.unallocated:
            raise BadRequest(f"Transaction {txn.id} has {txn.unallocated} cents unallocated; the payment asks for "
                             f"{body.amount}", code="transaction_exhausted")
        if len(invoice.payments) >= ledger.MAX_PAYMENTS:
            raise Conflict(f"Invoice {invoice.number} has {ledger.MAX_PAYMENTS} payments, the most one invoice "
                           "takes", code="invoice_payments_full")
        _room_for_entries(invoice, 1)
        now = now_iso()
        payment = Payment(id=payment_id, business_id=business_id, invoice_id=invoice.id, transaction_id=txn.id,
                          amount=body.amount, currency=invoice.currency, paid_on=body.paid_on or txn.datetime,
                          created_at=now, updated_at=now)
        entry = ledger.paid(invoice, payment, entry_id=uuid7(), now=now)
        after = ledger.with_money(invoice, payments=[*invoice.payments, payment], entry=entry, now=now)
        store.replace(stored, after, also=[bank.allocate_action(txn, body.amount, now),
                                           bank.put_payment_action(payment), journal.put_action(entry)])
        return payment

    return retry.optimistic(attempt, exhausted=_contended(invoice_id))


def _payment_of(invoice: Invoice, payment_id: str) -> Payment | None:
    return next((p for p in invoice.payments if p.id == payment_id), None)


def list_payments(business_id: str, invoice_id: str, request: PageRequest) -> tuple[QueryPage, list[Payment]]:
    store.get(business_id, invoice_id)  # another tenant's or a missing invoice: 404
    return bank.list_payments(business_id, invoice_id, request)


def remove_payment(business_id: str, invoice_id: str, payment_id: str) -> Payment:
    """Un-link a payment: its amount goes back to the transaction, the status follows the money."""

    def attempt() -> Payment:
        found = lookup.fetch(business_id, also=[keys.invoice(invoice_id)])
        stored = _invoice(found, invoice_id)
        invoice = stored.invoice
        payment = _payment_of(invoice, payment_id)
        if payment is None:
            raise bank.payment_not_found(payment_id)
        transition("remove_payment", invoice.status)
        _room_for_entries(invoice, 1)
        original = ledger.entry_of(invoice, "payment", payment.id)
        assert original is not None, "every payment is written with its entry"
        now = now_iso()
        entry = ledger.reversal(invoice, original, entry_id=uuid7(), on=today_in(found.business.timezone),
                                source="payment_removed", now=now,
                                description=f"Payment removed from invoice {invoice.number}")
        after = ledger.with_money(invoice, payments=[p for p in invoice.payments if p.id != payment_id],
                                  entry=entry, now=now)
        release = bank.release_action(business_id, payment.transaction_id, payment.amount, now)
        store.replace(stored, after, also=[release, bank.delete_payment_action(payment), journal.put_action(entry)])
        return payment

    return retry.optimistic(attempt, exhausted=_contended(invoice_id))


def pay_in_full(business_id: str, invoice_id: str, *, idempotency_key: str = "") -> Invoice:
    """PUT /paid: a payment of the whole balance due, from a bank transaction recorded for it
    today (in the business's time zone); a keyed retry answers the invoice its first attempt paid."""
    payment_id = keyed_id("payment", business_id, idempotency_key)

    def attempt() -> Invoice:
        found = lookup.fetch(business_id, also=[keys.invoice(invoice_id)])
        stored = _invoice(found, invoice_id)
        invoice = stored.invoice
        if _payment_of(invoice, payment_id) is not None:
            return invoice
        transition("paid", invoice.status)
        now, today = now_iso(), today_in(found.business.timezone).isoformat()
        balance = invoice.balance_due
        if balance <= 0:  # nothing left to pay: only the status moves
            store.replace(stored, after := invoice.model_copy(
                update={"status": "manual_paid", "paid_on": today, "updated_at": now}))
            return after
        _room_for_entries(invoice, 1)
        txn = BankTransaction(id=uuid7(), business_id=business_id, amount=balance, currency=invoice.currency,
                              datetime=today, description=f"Recorded by marking invoice {invoice.number} paid",
                              allocated=balance, created_at=now, updated_at=now)
        payment = Payment(id=payment_id, business_id=business_id, invoice_id=invoice.id, transaction_id=txn.id,
                          amount=balance, currency=invoice.currency, paid_on=today, created_at=now, updated_at=now)
        entry = ledger.paid(invoice, payment, entry_id=uuid7(), now=now)
        after = ledger.with_money(invoice, payments=[*invoice.payments, payment], entry=entry, now=now)
        store.replace(stored, after, also=[bank.put_new_action(txn), bank.put_payment_action(payment),
                                           journal.put_action(entry)])
        return after

    return retry.optimistic(attempt, exhausted=_contended(invoice_id))


def write_off(business_id: str, invoice_id: str) -> Invoice:
    """open or partially paid -> uncollectible: the balance due moves from AR to Bad Debt."""

    def attempt() -> Invoice:
        found = lookup.fetch(business_id, also=[keys.invoice(invoice_id)])
        stored = _invoice(found, invoice_id)
        invoice = stored.invoice
        transition("write_off", invoice.status)
        _room_for_entries(invoice, 1)
        now = now_iso()
        entry = ledger.written_off(invoice, entry_id=uuid7(), on=today_in(found.business.timezone), now=now)
        after = ledger.with_money(invoice, payments=invoice.payments, entry=entry, now=now, status="uncollectible")
        store.replace(stored, after, also=[journal.put_action(entry)])
        return after

    return retry.optimistic(attempt, exhausted=_contended(invoice_id))


def void(business_id: str, invoice_id: str) -> Invoice:
    """open -> void, with the entry reversing the invoice's AR entry. An invoice with payments
    cannot be voided until they are removed: the money would otherwise vanish from AR."""

    def attempt() -> Invoice:
        found = lookup.fetch(business_id, also=[keys.invoice(invoice_id)])
        stored = _invoice(found, invoice_id)
        invoice = stored.invoice
        if invoice.payments:
            raise Conflict(f"A {invoice.status} invoice cannot be voided while it has {len(invoice.payments)} "
                           f"payment(s): remove them first (DELETE /api/v1/invoices/{invoice.id}/payments/"
                           "<payment_id>)", code="invoice_has_payments")
        transition("void", invoice.status)
        _room_for_entries(invoice, 1)
        now = now_iso()
        original = ledger.entry_of(invoice, "invoice_finalized")
        entry = None if original is None else ledger.reversal(
            invoice, original, entry_id=uuid7(), on=today_in(found.business.timezone), source="invoice_voided",
            now=now, description=f"Invoice {invoice.number} voided")
        after = ledger.with_money(invoice, payments=[], entry=entry, now=now, status="void")
        store.replace(stored, after, also=[journal.put_action(entry)] if entry else ())
        return after

    return retry.optimistic(attempt, exhausted=_contended(invoice_id))
