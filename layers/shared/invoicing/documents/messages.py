"""What DocumentsQueue carries: EventBridge events of the stack's bus, whole, as the SQS body.

Only which invoice (and payment) changed is read: the document is rendered from the table's
current state, so the rest of the event (its time, the state it describes) cannot mislead a late
or repeated delivery.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# The detail types the events feature routes to the queue (its rule); others are ignored.
DETAIL_TYPES = ("invoice.finalized", "invoice.paid", "invoice.voided", "invoice.updated",
                "payment.created", "payment.deleted", "credit_memo.applied")


class Detail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    business_id: str = Field(min_length=1)
    invoice_id: str = Field(min_length=1)
    payment_id: str | None = None


class DocumentEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    source: str
    detail_type: str = Field(alias="detail-type")
    detail: Detail

    @property
    def receipt_payment_id(self) -> str | None:
        """The payment whose receipt to render: only a new payment gets one."""
        return self.detail.payment_id if self.detail_type == "payment.created" else None
