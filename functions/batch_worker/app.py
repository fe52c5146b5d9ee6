"""Batch worker: advances batch items from SQS, one invoice (or one failed entry) per item.

Each message carries up to ten items of one batch. ``advance`` takes the whole event's items
(each batch's together: a read per ~30 items, a transaction per ~40); then Powertools'
BatchProcessor reports each record: one whose item could not advance is in
``batchItemFailures`` (ReportBatchItemFailures), so one bad item never fails its neighbours:
they are done, only its message comes back (its done items then change nothing), and after the
queue's maxReceiveCount it moves to the dead-letter queue.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from invoicing.batches import advance
from invoicing.batches.schemas import BatchMessage, QueuedItem
from invoicing.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class ItemsFailed(RuntimeError):
    """Some items of a message could not advance (each is logged): the message is to come back."""


@tracer.capture_method
def report(record: SQSRecord, messages: dict[str, BatchMessage | ValidationError],
           outcome: dict[QueuedItem, advance.Outcome]) -> None:
    """What ``advance`` did with the record's items; raises (the record is reported in
    ``batchItemFailures``) if the message is not a batch message or any of its items raised."""
    message = messages[record.body]
    if isinstance(message, ValidationError):
        raise message
    logger.append_keys(batch_id=message.batch_id)
    failed = []
    for item in message.queued():
        status = outcome[item]
        if isinstance(status, Exception):
            failed.append(item.index)
        elif status is not None:
            metrics.add_metric(name=f"BatchItem{status.capitalize()}", unit=MetricUnit.Count, value=1)
    if failed:
        raise ItemsFailed(f"Batch {message.batch_id} items {failed} could not be processed")


def _messages(event: dict[str, Any]) -> dict[str, BatchMessage | ValidationError]:
    """Each record's body, parsed once: its message, or why it is none."""
    messages: dict[str, BatchMessage | ValidationError] = {}
    for record in event.get("Records", []):
        body = record.get("body", "")
        try:
            messages[body] = BatchMessage.model_validate_json(body)
        except ValidationError as error:
            messages[body] = error
    return messages


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    messages = _messages(event)
    outcome = advance.advance([item for message in messages.values() if isinstance(message, BatchMessage)
                               for item in message.queued()])
    return process_partial_response(event=event, record_handler=partial(report, messages=messages, outcome=outcome),
                                    processor=processor, context=context)
