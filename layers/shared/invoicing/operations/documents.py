"""Fresh links to an invoice's PDF and a payment's receipt (rendered by the documents function)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from invoicing.errors import Conflict
from invoicing.schemas.documents import GetInvoicePdfUrlResponse, ReceiptUrl
from invoicing.storage import documents
from invoicing.storage import invoices as store

RENDERING = "is still being rendered; try again in a few seconds"


def _expiry() -> dict[str, object]:
    ends = datetime.now(UTC) + timedelta(seconds=documents.URL_SECONDS)
    return {"expires_in": documents.URL_SECONDS,
            "expires_at": ends.isoformat(timespec="seconds").replace("+00:00", "Z")}


def invoice_pdf(business_id: str, invoice_id: str) -> GetInvoicePdfUrlResponse:
    """A draft has no PDF (409): it has no number yet and its lines may still change."""
    invoice = store.read(business_id, invoice_id)
    if invoice.status == "draft":
        raise Conflict("A draft invoice has no PDF: finalize it first", code="invoice_is_draft")
    if invoice.pdf_url is None:
        raise Conflict(f"The PDF of invoice {invoice.number} {RENDERING}", code="document_rendering")
    return GetInvoicePdfUrlResponse(invoice_id=invoice.id, invoice_number=invoice.number, pdf_url=invoice.pdf_url,
                                    **_expiry())  # type: ignore[arg-type]


def receipt(business_id: str, invoice_id: str, payment_id: str) -> ReceiptUrl:
    store.get(business_id, invoice_id)  # a missing invoice answers as such, before its payment
    item = documents.payment_item(business_id, invoice_id, payment_id)
    if not item.get("receipt_key") or not documents.bucket():
        raise Conflict(f"The receipt of payment {payment_id} {RENDERING}", code="document_rendering")
    url = documents.presigned(str(item["receipt_key"]), f"receipt-{payment_id}.pdf")
    return ReceiptUrl(invoice_id=invoice_id, payment_id=payment_id, receipt_url=url, **_expiry())  # type: ignore[arg-type]
