"""Answers of the document routes: fresh presigned URLs of an invoice's PDF and a payment's receipt."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DocumentUrl(BaseModel):
    model_config = ConfigDict(defer_build=True)

    expires_in: int = Field(description="Seconds the URL works for from now (900: 15 minutes)")
    expires_at: str = Field(description="When the URL stops working, ISO 8601 UTC")


class GetInvoicePdfUrlResponse(DocumentUrl):
    """DayZero's answer of GET /invoices/{id}/pdf."""

    invoice_id: str
    invoice_number: str | None = None
    pdf_url: str = Field(description="Presigned GET URL of the PDF of the invoice's current state")


class ReceiptUrl(DocumentUrl):
    invoice_id: str
    payment_id: str
    receipt_url: str = Field(description="Presigned GET URL of the payment's receipt PDF")
