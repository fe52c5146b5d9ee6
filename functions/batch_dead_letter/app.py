"""Batch dead letters: the items of a message that failed every delivery are marked failed
("processing failed repeatedly") unless they are done (the item that failed usually shares its
message with items that were done), so their batch completes (with errors) instead of staying in
processing.

The BatchDeadLetterItems metric it emits has an alarm (template.yaml), as has the dead-letter
queue's depth (messages this function itself could not handle).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from invoicing.batches import advance
from invoicing.batches.schemas import BatchMessage
from invoicing.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    metrics.add_metric(name="BatchDeadLetterItems", unit=MetricUnit.Count, value=1)  # per message
    try:
        message = BatchMessage.model_validate_json(record.body)
    except ValidationError:
        # Names no batch item, so there is nothing to mark: keep it in the log, not in the queue.
        logger.error("Dead letter is not a batch item message; dropped", extra={
            "message_id": record.message_id, "body": record.body[:2000]})
        return
    logger.append_keys(batch_id=message.batch_id)
    statuses = advance.give_up(message.business_id, message.batch_id, [item.index for item in message.queued()])
    for item in message.queued():
        logger.warning("Batch item dead-lettered", extra={"index": item.index, "status": statuses.get(item.index)})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
