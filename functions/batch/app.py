"""Batch invoice creation API: accept many invoices at once, follow the batch's progress."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.metrics import MetricUnit

from invoicing.batches import accept
from invoicing.batches.rules import INLINE_LIMIT, MAX_SWEPT_CHARGES
from invoicing.batches.schemas import Batch, BatchInvoiceRequest
from invoicing.domain.invoices import MAX_LINES
from invoicing.http.api import InvoicingApi, entry_point
from invoicing.http.envelope import Envelope, documented, ok
from invoicing.observability import metrics
from invoicing.schemas.types import Uuid

app = InvoicingApi()

BatchId = Annotated[Uuid, Path(description="The batch's UUID (batch_id of the creation's answer)")]


@app.post(
    "/api/v1/invoices/batch", status_code=201, responses=documented(201, 404), summary="Batch create invoices",
    tags=["invoices"], operation_id="create_batch_invoices_api_v1_invoices_batch_post",
    description="Create invoices for multiple customers in one action, optionally sweeping delayed charges.\n\n"
    "The whole request is validated before anything is written: an invalid item is a 422 whose `loc` names its "
    "index (`[\"body\", \"items\", 7, \"due_date\"]`), an unknown customer, variant or location a 404 whose detail "
    "starts with `items[7]: `. Invoices are in the business's default currency, issued today in its time zone. "
    "Invoice ids are assigned at once and answered with the batch; batches of up to "
    f"{INLINE_LIMIT} items are done before the answer, larger ones asynchronously (follow them with "
    "`GET /api/v1/invoices/batches/{batch_id}`).\n\n"
    "`include_delayed_charges`: the customer's pending delayed charges in that currency become lines (credits "
    "negative) of the invoice of its lowest-index item, in the same transaction that marks them invoiced; charges "
    f"beyond what one invoice can take ({MAX_LINES} lines, {MAX_SWEPT_CHARGES} charges) stay pending. "
    "A sweep that would make a total negative "
    "fails that item only. `finalize`: each invoice is then finalized (numbered) as by POST "
    "/api/v1/invoices/{invoice_id}/finalize. Every item ends as exactly one invoice or one failed entry with its "
    "reason.\n\n"
    "With an `Idempotency-Key`, a retry of a request whose answer was lost (a timeout, a dropped connection) "
    "resumes the batch the first attempt accepted, whenever it comes: the same `batch_id`, never a second batch.",
)
def create_batch(body: Annotated[BatchInvoiceRequest, Body()]) -> Envelope[Batch]:
    batch = accept.create_batch(app.caller.business_id, body,
                                 idempotency_key=app.idempotency_key)
    metrics.add_metric(name="BatchAccepted", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="BatchItemsAccepted", unit=MetricUnit.Count, value=batch.total)
    return ok(batch, code="invoice_batch.created",
              message=f"Batch of {batch.total} invoices accepted" if batch.status == "processing"
              else f"Batch of {batch.total} invoices {batch.status.replace('_', ' ')}")


@app.get(
    "/api/v1/invoices/batches/<batch_id>",
    responses=documented(200),
    summary="Get invoice batch",
    description="The batch's progress and result: counts, status (`processing` until every item is done, then "
    "`completed` or `completed_with_errors`) and every item with its invoice id, status and error.",
    tags=["invoices"],
)
def get_batch(batch_id: BatchId) -> Envelope[Batch]:
    batch = accept.get_batch(app.caller.business_id, batch_id)
    return ok(batch, code="invoice_batch.retrieved", message=f"Batch {batch.status.replace('_', ' ')}")


lambda_handler = entry_point(app, __name__)
