"""Invoices API."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.domain.models import Invoice
from invoicing.http.api import InvoicingApi
from invoicing.http.envelope import Envelope, documented, ok
from invoicing.http.invoices import InvoiceCreate
from invoicing.operations import invoices

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = InvoicingApi()


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
    metrics.add_metric(name="InvoiceCreated", unit=MetricUnit.Count, value=1)
    return ok(invoice, code="invoice.created", message="Invoice created")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
