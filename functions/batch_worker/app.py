"""Batch worker: advances batch items from SQS, one invoice (or one failed entry) per item.

Each message carries up to ten items of one batch. ``advance`` decides over the whole event
(each batch's items together: a read per ~30 items, a transaction per ~40); then Powertools'
BatchProcessor reports each record as advance left it: one whose item could not advance is in
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

# What advance decided for each record body: its message's items and where each ended, or why
# the body is no batch message.
Decided = tuple[BatchMessage, list[tuple[QueuedItem, advance.Outcome]]] | ValidationError


class ItemsFailed(RuntimeError):
    """Some items of a message could not advance (each is logged): the message is to come back."""


@tracer.capture_method
def report(record: SQSRecord, outcome: dict[str, Decided]) -> None:
    """What ``advance`` did with the record's items; raises (the record is reported in
    ``batchItemFailures``) if the message is not a batch message or any of its items raised."""
    decided = outcome[record.body]
    if isinstance(decided, ValidationError):
        raise decided
    message, statuses = decided
    logger.append_keys(batch_id=message.batch_id)
    failed = []
    for item, status in statuses:
        if isinstance(status, Exception):
            failed.append(item.index)
        elif status is not None:
            metrics.add_metric(name=f"BatchItem{status.capitalize()}", unit=MetricUnit.Count, value=1)
    if failed:
        raise ItemsFailed(f"Batch {message.batch_id} items {failed} could not be processed")


def decide(event: dict[str, Any]) -> dict[str, Decided]:
    """Each record's body parsed once, and ``advance`` over all their items at once."""
    messages: dict[str, BatchMessage | ValidationError] = {}
    for record in event.get("Records", []):
        body = record.get("body", "")
        try:
            messages[body] = BatchMessage.model_validate_json(body)
        except ValidationError as error:
            messages[body] = error
    ended = advance.advance([item for message in messages.values() if isinstance(message, BatchMessage)
                             for item in message.queued()])
    return {body: message if isinstance(message, ValidationError)
            else (message, [(item, ended[item]) for item in message.queued()])
            for body, message in messages.items()}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=partial(report, outcome=decide(event)),
                                    processor=processor, context=context)
