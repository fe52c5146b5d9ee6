"""Batch worker: processes batch items from SQS, one invoice (or one failed entry) per item.

Powertools' BatchProcessor reports each record that raised in ``batchItemFailures``
(ReportBatchItemFailures), so one bad item never fails its neighbours: only it comes back, and
after the queue's maxReceiveCount it moves to the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.domain.batches import ItemMessage
from invoicing.observability import logger, metrics, tracer
from invoicing.operations import batches

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    message = ItemMessage.model_validate_json(record.body)
    logger.append_keys(batch_id=message.batch_id, index=message.index)
    status = batches.process_item(message.business_id, message.batch_id, message.index)
    if status is not None:
        metrics.add_metric(name=f"BatchItem{status.capitalize()}", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
