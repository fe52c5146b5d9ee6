"""Render an invoice's PDF (and a payment's receipt) from the table's current state.

Events say only which invoice (and payment) changed: they may come late, twice or out of order,
so the state rendered is always the one read now. The steps are idempotent:

1. read the invoice item; a draft or a deleted invoice has no document;
2. its version already has its PDF recorded: nothing to do;
3. the object for this version (its key names the version) is missing: render and put it; a
   redelivery after a crash between put and record finds it and skips the render;
4. record it on the invoice on condition that the invoice is still that version (else a newer
   change's event renders the newer state).

A receipt follows the same steps on the payment item, whose state never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from invoicing.documents import render
from invoicing.domain.models import Business, Invoice, Payment
from invoicing.errors import NotFound
from invoicing.storage import auth, documents, keys
from invoicing.storage import invoices as store

Outcome = Literal["rendered", "recorded", "current", "superseded", "no_document"]


@dataclass(frozen=True)
class Published:
    invoice: Outcome
    receipt: Outcome | None = None


def _business(business_id: str) -> Business:
    return auth.get_business(business_id)


def publish_invoice(business_id: str, invoice_id: str) -> tuple[Outcome, Invoice | None]:
    try:
        stored = store.get(business_id, invoice_id)
    except NotFound:
        return "no_document", None  # a draft deleted since the event: nothing to show
    invoice = stored.invoice
    if invoice.status == "draft":
        return "no_document", invoice
    if stored.pdf_key is not None:
        return "current", invoice
    object_key = keys.invoice_pdf(business_id, invoice_id, stored.version)
    rendered = not documents.exists(object_key)
    if rendered:
        documents.put_pdf(object_key, render.invoice_pdf(invoice, _business(business_id)))
    if not documents.record_invoice_pdf(business_id, invoice_id, stored.version, object_key):
        return "superseded", invoice
    return ("rendered" if rendered else "recorded"), invoice


def publish_receipt(business_id: str, invoice: Invoice, payment_id: str) -> Outcome:
    try:
        item = documents.payment_item(business_id, invoice.id, payment_id)
    except NotFound:
        return "no_document"  # deleted since: a removed payment has no receipt
    if item.get("receipt_key"):
        return "current"
    payment = Payment.model_validate(item)
    object_key = keys.payment_receipt(business_id, invoice.id, payment_id)
    rendered = not documents.exists(object_key)
    if rendered:
        documents.put_pdf(object_key, render.receipt_pdf(_with_payment(invoice, payment), payment,
                                                          _business(business_id)))
    if not documents.record_receipt(business_id, invoice.id, payment_id, object_key):
        return "no_document"
    return "rendered" if rendered else "recorded"


def _with_payment(invoice: Invoice, payment: Payment) -> Invoice:
    """The invoice as the receipt reads it: with this payment among its payments even when it has
    been voided or the payment list changed since (the receipt is about this payment)."""
    if any(p.id == payment.id for p in invoice.payments):
        return invoice
    return invoice.model_copy(update={"payments": sorted([*invoice.payments, payment], key=lambda p: p.created_at)})


def publish(business_id: str, invoice_id: str, payment_id: str | None = None) -> Published:
    """Bring the invoice's PDF (and the payment's receipt) up to the current state."""
    outcome, invoice = publish_invoice(business_id, invoice_id)
    if payment_id is None or invoice is None:
        return Published(outcome, "no_document" if payment_id else None)
    return Published(outcome, publish_receipt(business_id, invoice, payment_id))
