"""Invoices API."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from invoicing.domain.invoice_queries import parse_statuses
from invoicing.domain.models import Invoice
from invoicing.http.api import InvoicingApi, entry_point
from invoicing.http.envelope import Envelope, Page, counted, documented, ok
from invoicing.http.paging import Cursor, Descending, Direction, IncludeTotal, Limit, page_request
from invoicing.observability import metrics
from invoicing.operations import documents, invoices, payments
from invoicing.schemas.documents import GetInvoicePdfUrlResponse
from invoicing.schemas.invoices import InvoiceCreate, InvoiceUpdate
from invoicing.schemas.types import Uuid

app = InvoicingApi()


InvoiceId = Annotated[Uuid, Path(description="The invoice's UUID")]


@app.post(
    "/api/v1/invoices",
    status_code=201,
    responses=documented(201, 404),
    summary="Create invoice",
    description="Create a new invoice for a customer, status draft. Optionally include 'recurring' config to also "
    "create a recurring template.",
    tags=["invoices"],
    operation_id="create_invoice_api_v1_invoices_post",
)
def create_invoice(body: Annotated[InvoiceCreate, Body()]) -> Envelope[Invoice]:
    invoice = invoices.create_invoice(app.caller.business_id, body)
    return counted(invoice, metric="InvoiceCreated", code="invoice.created", message="Invoice created")


@app.get(
    "/api/v1/invoices",
    responses=documented(200),
    summary="List invoices",
    description="Filters combine with AND. `status` repeats (`status=open&status=partially_paid`, also `status[]=`; "
    "`partially-paid` is accepted). A page is one DynamoDB Query: with filters a page may hold fewer than `limit` "
    "items while `has_next` is true.",
    tags=["invoices"],
)
def list_invoices(
    limit: Limit = 50,
    cursor: Cursor = None,
    direction: Direction = None,
    descending: Descending = True,
    include_total_count: IncludeTotal = False,
    sort_by: Annotated[Literal["created_at", "due_date", "total", "number"], Query()] = "created_at",
    id: Annotated[Uuid | None, Query(description="Only this invoice")] = None,
    customer_id: Annotated[Uuid | None, Query()] = None,
    product_id: Annotated[Uuid | None, Query(description="Invoices with a line of this product")] = None,
    variant_id: Annotated[Uuid | None, Query(description="Invoices with a line of this variant")] = None,
    status: Annotated[list[str] | None, Query(description="Repeatable; hyphens or underscores")] = None,
    status_brackets: Annotated[list[str] | None, Query(alias="status[]", description="Same as status")] = None,
    search: Annotated[str | None, Query(min_length=1, max_length=200,
                                        description="Case-insensitive part of number, description or customer name")]
    = None,
) -> Envelope[Page[Invoice]]:
    page, items = invoices.list_invoices(
        app.caller.business_id, page_request(limit, cursor, direction, descending, include_total_count),
        sort_by=sort_by, statuses=parse_statuses([*(status or []), *(status_brackets or [])]), invoice_id=id,
        customer_id=customer_id, product_id=product_id, variant_id=variant_id, search=search,
    )
    return ok(page.as_dict(items), code="invoice.list", message=f"{len(items)} invoices")


@app.get("/api/v1/invoices/<invoice_id>", responses=documented(200), summary="Get invoice", tags=["invoices"])
def get_invoice(invoice_id: InvoiceId) -> Envelope[Invoice]:
    return ok(invoices.get_invoice(app.caller.business_id, invoice_id), code="invoice.retrieved",
              message="Invoice retrieved")


@app.put(
    "/api/v1/invoices/<invoice_id>",
    responses=documented(200, 409),
    summary="Update invoice",
    description="`customer_id` and `line_items` change drafts only; void and paid invoices cannot change (409). "
    "`fulfillment_location_id` is ignored once the invoice is delivered.",
    tags=["invoices"],
)
def update_invoice(invoice_id: InvoiceId, body: Annotated[InvoiceUpdate, Body()]) -> Envelope[Invoice]:
    invoice = invoices.update_invoice(app.caller.business_id, invoice_id, body)
    return ok(invoice, code="invoice.updated", message="Invoice updated")


@app.delete(
    "/api/v1/invoices/<invoice_id>",
    status_code=204,
    responses=documented(204, 409, description="Deleted"),
    summary="Delete draft invoice",
    description="Drafts only. Delayed charges swept into it return to pending.",
    tags=["invoices"],
)
def delete_invoice(invoice_id: InvoiceId) -> Response[None]:
    invoices.delete_invoice(app.caller.business_id, invoice_id)
    metrics.add_metric(name="InvoiceDeleted", unit=MetricUnit.Count, value=1)
    return Response(status_code=204)


@app.post(
    "/api/v1/invoices/<invoice_id>/finalize",
    responses=documented(200, 409),
    summary="Finalize invoice",
    description="draft -> open, with the business's next number (INV-001, INV-002, ...): unique and without gaps.",
    tags=["invoices"],
)
def finalize_invoice(invoice_id: InvoiceId) -> Envelope[Invoice]:
    invoice = invoices.finalize_invoice(app.caller.business_id, invoice_id)
    return counted(invoice, metric="InvoiceFinalized", code="invoice.finalized",
                   message=f"Invoice {invoice.number} finalized")


def _void(invoice_id: str) -> Envelope[Invoice]:
    invoice = payments.void(app.caller.business_id, invoice_id)
    return counted(invoice, metric="InvoiceVoided", code="invoice.voided", message="Invoice voided")


@app.put("/api/v1/invoices/<invoice_id>/void", responses=documented(200, 409), summary="Void invoice",
         description="open -> void, posting the entry that reverses its AR entry. An invoice with payments: 409 "
         "until they are removed.", tags=["invoices"])
def void_invoice(invoice_id: InvoiceId) -> Envelope[Invoice]:
    return _void(invoice_id)


@app.post("/api/v1/invoices/<invoice_id>/void", responses=documented(200, 409), summary="Void invoice (POST)",
          description="open -> void, posting the entry that reverses its AR entry. An invoice with payments: 409 "
          "until they are removed.", tags=["invoices"], operation_id="void_invoice_post")
def void_invoice_post(invoice_id: InvoiceId) -> Envelope[Invoice]:
    return _void(invoice_id)


@app.put("/api/v1/invoices/<invoice_id>/paid", responses=documented(200, 409), summary="Mark invoice paid",
         description="open or partially_paid -> manual_paid: records a payment of the whole balance due, from a "
         "bank transaction recorded for it, paid_on today in the business's time zone.",
         tags=["invoices"])
def mark_paid(invoice_id: InvoiceId) -> Envelope[Invoice]:
    invoice = payments.pay_in_full(app.caller.business_id, invoice_id, idempotency_key=app.idempotency_key)
    return ok(invoice, code="invoice.paid", message="Invoice marked paid")


@app.put(
    "/api/v1/invoices/<invoice_id>/delivered",
    responses=documented(200, 409),
    summary="Mark invoice delivered",
    description="The first delivery deducts stock for every variant line, once, at the line's location, else the "
    "invoice's fulfillment_location_id, else the business's default location. Repeating it changes only the date. "
    "Drafts and void invoices: 409.",
    tags=["invoices"],
)
def mark_delivered(
    invoice_id: InvoiceId,
    delivered_on: Annotated[str, Query(min_length=10, max_length=40,
                                       description="YYYY-MM-DD or an ISO 8601 datetime")],
) -> Envelope[Invoice]:
    invoice = invoices.mark_delivered(app.caller.business_id, invoice_id, delivered_on)
    return ok(invoice, code="invoice.delivered", message="Invoice marked delivered")


@app.get("/api/v1/invoices/<invoice_id>/pdf", responses=documented(200, 409), summary="Get fresh invoice PDF URL",
         description="A new presigned URL of the PDF of the invoice's current state, valid 15 minutes: call this "
         "when you need to download it. The PDF is rendered a few seconds after each change (finalize, payment, "
         "void, ...); until then, and for drafts (which have no PDF), 409.", tags=["invoices"],
         operation_id="get_invoice_pdf_url_api_v1_invoices__invoice_id__pdf_get")
def get_invoice_pdf(invoice_id: InvoiceId) -> Envelope[GetInvoicePdfUrlResponse]:
    return ok(documents.invoice_pdf(app.caller.business_id, invoice_id), code="invoice.pdf_url",
              message="Invoice PDF URL generated")


lambda_handler = entry_point(app, __name__)
