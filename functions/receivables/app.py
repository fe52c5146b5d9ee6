"""Receivables API: bank transactions, payments, the journal, write-offs, aging and metrics."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from invoicing.domain.models import BankTransaction, Invoice, JournalEntry, Payment
from invoicing.http.api import InvoicingApi, entry_point
from invoicing.http.envelope import Envelope, Page, counted, documented, ok
from invoicing.http.paging import Cursor, Descending, Direction, IncludeTotal, Limit, SortByCreated, page_request
from invoicing.operations import documents, journal, payments, reports
from invoicing.schemas.documents import ReceiptUrl
from invoicing.schemas.receivables import (
    Aging,
    Deleted,
    JournalEntryCreate,
    JournalLink,
    Metrics,
    PaymentCreate,
    TransactionCreate,
)
from invoicing.schemas.types import DateString, Uuid

app = InvoicingApi()

InvoiceId = Annotated[Uuid, Path(description="The invoice's UUID")]
TransactionId = Annotated[Uuid, Path(description="The bank transaction's UUID")]
PaymentId = Annotated[Uuid, Path(description="The payment's UUID")]


# ---------------------------------------------------------------- bank transactions

@app.post("/api/v1/transactions", status_code=201, responses=documented(201), summary="Create bank transaction",
          description="Money the bank shows received (amount > 0) or paid out (amount < 0), entered by hand. "
          "Payments on invoices draw on what it has unallocated.", tags=["transactions"])
def create_transaction(body: Annotated[TransactionCreate, Body()]) -> Envelope[BankTransaction]:
    txn = payments.create_transaction(app.caller.business_id, body, idempotency_key=app.idempotency_key)
    return ok(txn, code="transaction.created", message="Transaction created")


@app.get("/api/v1/transactions", responses=documented(200), summary="List bank transactions", tags=["transactions"])
def list_transactions(
    limit: Limit = 50, cursor: Cursor = None, direction: Direction = None, descending: Descending = True,
    include_total_count: IncludeTotal = False, sort_by: SortByCreated = "created_at",
    reconciled: Annotated[bool | None, Query(description="Only reconciled (true) or unreconciled (false) ones")] = None,
) -> Envelope[Page[BankTransaction]]:
    request = page_request(limit, cursor, direction, descending, include_total_count)
    page, items = payments.list_transactions(app.caller.business_id, request, reconciled=reconciled)
    return ok(page.as_dict(items), code="transactions.listed", message="Transactions retrieved")


@app.get("/api/v1/transactions/<transaction_id>", responses=documented(200, 404), summary="Get bank transaction",
         tags=["transactions"])
def get_transaction(transaction_id: TransactionId) -> Envelope[BankTransaction]:
    return ok(payments.get_transaction(app.caller.business_id, transaction_id), code="transaction.retrieved",
              message="Transaction retrieved")


# ---------------------------------------------------------------- payments

@app.post("/api/v1/invoices/<invoice_id>/payments", status_code=201, responses=documented(201, 404, 409),
          summary="Add payment to invoice",
          description="Allocate part or all of a bank transaction to an open or partially paid invoice: split "
          "payments (one transaction, many invoices) and partial payments (many transactions, one invoice). "
          "The amount is at most what the transaction has unallocated; more than the balance due is an "
          "overpayment (balance_due goes negative: a credit). The status follows the money.",
          tags=["invoices"], operation_id="create_invoice_payment_api_v1_invoices__invoice_id__payments_post")
def create_payment(invoice_id: InvoiceId, body: Annotated[PaymentCreate, Body()]) -> Envelope[Payment]:
    payment = payments.add_payment(app.caller.business_id, invoice_id, body,
                                   idempotency_key=app.idempotency_key)
    return counted(payment, metric="PaymentRecorded", code="payment.created", message="Payment recorded")


@app.get("/api/v1/invoices/<invoice_id>/payments", responses=documented(200, 404), summary="List invoice payments",
         description="The invoice's payments, oldest first by default, each with its bank transaction's summary.",
         tags=["invoices"])
def list_payments(
    invoice_id: InvoiceId, limit: Limit = 50, cursor: Cursor = None, direction: Direction = None,
    descending: Descending = True, include_total_count: IncludeTotal = False, sort_by: SortByCreated = "created_at",
) -> Envelope[Page[Payment]]:
    request = page_request(limit, cursor, direction, descending, include_total_count)
    page, items = payments.list_payments(app.caller.business_id, invoice_id, request)
    return ok(page.as_dict(items), code="payments.listed", message="Payments retrieved")


@app.delete("/api/v1/invoices/<invoice_id>/payments/<payment_id>", responses=documented(200, 404, 409),
            summary="Remove payment from invoice",
            description="Un-link a payment: its amount goes back to the bank transaction, a reversing journal "
            "entry is posted, and the status follows the money (a paid invoice can go back to partially paid or "
            "open). Payments of void or uncollectible invoices stay: 409.", tags=["invoices"],
            operation_id="delete_invoice_payment_api_v1_invoices__invoice_id__payments__payment_id__delete")
def delete_payment(invoice_id: InvoiceId, payment_id: PaymentId) -> Envelope[Deleted]:
    payments.remove_payment(app.caller.business_id, invoice_id, payment_id)
    return ok(Deleted(id=payment_id), code="payment.deleted", message="Payment removed")


@app.get("/api/v1/invoices/<invoice_id>/payments/<payment_id>/receipt", responses=documented(200, 404, 409),
         summary="Get fresh payment receipt URL",
         description="A new presigned URL of the payment's receipt PDF, valid 15 minutes. The receipt is rendered "
         "a few seconds after the payment is recorded; until then, 409.", tags=["invoices"])
def get_receipt(invoice_id: InvoiceId, payment_id: PaymentId) -> Envelope[ReceiptUrl]:
    return ok(documents.receipt(app.caller.business_id, invoice_id, payment_id), code="payment.receipt_url",
              message="Receipt URL generated")


# ---------------------------------------------------------------- write-off, aging, metrics

@app.post("/api/v1/invoices/<invoice_id>/uncollectible", responses=documented(200, 404, 409),
          summary="Write off invoice", description="open or partially_paid -> uncollectible; the balance due is "
          "posted to Bad Debt (Dr Bad Debt / Cr Accounts Receivable).", tags=["invoices"])
def write_off(invoice_id: InvoiceId) -> Envelope[Invoice]:
    invoice = payments.write_off(app.caller.business_id, invoice_id)
    return counted(invoice, metric="InvoiceWrittenOff", code="invoice.uncollectible",
                   message="Invoice written off as uncollectible")


@app.get("/api/v1/invoices/aging", responses=documented(200), summary="AR aging summary",
         description="Balance due of open and partially paid invoices by days past due (current, 1-30, 31-60, "
         "61-90, 91+), per customer and currency, with the invoices behind each row. Balances are today's; "
         "as_of_date (default today in the business's time zone) sets the day the days are counted to. Reads "
         "the sparse index of unpaid invoices only.", tags=["invoices"],
         operation_id="get_invoice_aging_api_v1_invoices_aging_get")
def get_aging(as_of_date: Annotated[DateString | None, Query()] = None) -> Envelope[Aging]:
    return ok(reports.aging(app.caller.business_id, as_of_date), code="invoices.aging", message="Aging report")


@app.get("/api/v1/invoices/metrics", responses=documented(200), summary="Get invoice metrics",
         description="total_outstanding (balance due of open and partially paid invoices) and total_overdue (the "
         "part past its due date), in the business's currency and per currency.", tags=["invoices"],
         operation_id="get_invoice_metrics_api_v1_invoices_metrics_get")
def get_metrics() -> Envelope[Metrics]:
    return ok(reports.metrics(app.caller.business_id), code="invoices.metrics", message="Invoice metrics")


# ---------------------------------------------------------------- journal

@app.get("/api/v1/journal-entries", responses=documented(200), summary="List journal entries",
         description="In entry-date order; with invoice_id, that invoice's entries in the order they were created.",
         tags=["journal"])
def list_entries(
    limit: Limit = 50, cursor: Cursor = None, direction: Direction = None, descending: Descending = True,
    include_total_count: IncludeTotal = False,
    invoice_id: Annotated[Uuid | None, Query()] = None,
    start_date: Annotated[DateString | None, Query()] = None,
    end_date: Annotated[DateString | None, Query()] = None,
) -> Envelope[Page[JournalEntry]]:
    request = page_request(limit, cursor, direction, descending, include_total_count)
    page, items = journal.list_entries(app.caller.business_id, request, invoice_id=invoice_id,
                                       start_date=start_date, end_date=end_date)
    return ok(page.as_dict(items), code="journal_entries.listed", message="Journal entries retrieved")


@app.post("/api/v1/journal-entries", status_code=201, responses=documented(201), summary="Create journal entry",
          description="A manual, balanced entry (debits = credits). Accounts Receivable moves only with invoices, "
          "so a manual entry cannot post to account 1200.", tags=["journal"])
def create_entry(body: Annotated[JournalEntryCreate, Body()]) -> Envelope[JournalEntry]:
    entry = journal.create_entry(app.caller.business_id, body, idempotency_key=app.idempotency_key)
    return ok(entry, code="journal_entry.created", message="Journal entry created")


@app.post("/api/v1/invoices/<invoice_id>/journal-entry/link", status_code=201, responses=documented(201, 404, 409),
          summary="Attach journal entry to invoice",
          description="Link an existing entry that no invoice has yet to a finalized invoice (a draft: 409); "
          "linking it again to the same invoice answers the invoice as it is.", tags=["invoices"],
          operation_id="attach_journal_entry_to_invoice_api_v1_invoices__invoice_id__journal_entry_link_post")
def link_entry(invoice_id: InvoiceId, body: Annotated[JournalLink, Body()]) -> Envelope[Invoice]:
    invoice = journal.link_entry(app.caller.business_id, invoice_id, body)
    return ok(invoice, code="invoice.journal_entry_linked", message="Journal entry attached")


lambda_handler = entry_point(app, __name__)
