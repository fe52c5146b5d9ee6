"""Batch worker: processes batch items from SQS, one invoice (or one failed entry) per item.

The event's items are first processed together, a transaction per ~10 items of a batch; then
Powertools' BatchProcessor goes over the records, processing alone any item the group left, and
reports each record that raised in ``batchItemFailures``
(ReportBatchItemFailures), so one bad item never fails its neighbours: only it comes back, and
after the queue's maxReceiveCount it moves to the dead-letter queue.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.domain.batches import ItemMessage, ItemStatus
from invoicing.observability import logger, metrics, tracer
from invoicing.operations import batches

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord, done: dict[ItemMessage, ItemStatus | None]) -> None:
    """One record's outcome: what the group pass did with it, or the item processed alone. A
    raise reports the record in ``batchItemFailures``."""
    message = ItemMessage.model_validate_json(record.body)
    logger.append_keys(batch_id=message.batch_id, index=message.index)
    status = done[message] if message in done else batches.process_item(
        message.business_id, message.batch_id, message.index)
    if status is not None:
        metrics.add_metric(name=f"BatchItem{status.capitalize()}", unit=MetricUnit.Count, value=1)


def _messages(event: dict[str, Any]) -> list[ItemMessage]:
    """The event's well-formed item messages (the others fail in ``record_handler``)."""
    messages = []
    for record in event.get("Records", []):
        try:
            messages.append(ItemMessage.model_validate_json(record.get("body", "")))
        except ValueError:
            continue
    return messages


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    done = batches.process_many(_messages(event))  # an event's items of one batch: one transaction per ~10
    return process_partial_response(event=event, record_handler=partial(record_handler, done=done),
                                    processor=processor, context=context)
