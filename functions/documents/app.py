"""Documents: renders invoice PDFs and payment receipts from DocumentsQueue's events.

Each SQS record is one EventBridge event (invoice finalized, paid, voided, updated, a payment
created or deleted, a credit memo applied). The document is rendered from the invoice's current
state, so late, repeated and out-of-order events are harmless (``publish``'s steps). A record
that raises is reported in ``batchItemFailures`` (ReportBatchItemFailures): only it comes back,
and after the queue's maxReceiveCount it moves to DocumentsDeadLetterQueue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.documents import publish
from invoicing.documents.messages import DETAIL_TYPES, DocumentEvent
from invoicing.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    event = DocumentEvent.model_validate_json(record.body)  # a malformed body fails: DLQ after retries
    if event.detail_type not in DETAIL_TYPES:
        logger.info("Ignoring event %s of type %s", event.id, event.detail_type)
        return
    detail = event.detail
    logger.append_keys(event_id=event.id, business_id=detail.business_id, invoice_id=detail.invoice_id)
    done = publish.publish(detail.business_id, detail.invoice_id, event.receipt_payment_id)
    for outcome in (done.invoice, done.receipt):
        if outcome == "rendered":
            metrics.add_metric(name="DocumentRendered", unit=MetricUnit.Count, value=1)
    logger.info("Documents of invoice %s: invoice %s, receipt %s", detail.invoice_id, done.invoice, done.receipt)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
