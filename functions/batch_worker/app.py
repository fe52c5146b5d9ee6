"""Batch worker: processes batch items from SQS, one invoice (or one failed entry) per item.

Each message carries up to ten items of one batch. The event's items are first processed
together, a read per ~30 items and a transaction per ~40; then Powertools' BatchProcessor goes
over the records, processing alone any item the group left, and reports each record with an
item that raised in ``batchItemFailures`` (ReportBatchItemFailures), so one bad item never fails
its neighbours: they are done, and only its message comes back (its done items then change
nothing), and after the queue's maxReceiveCount it moves to the dead-letter queue.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.domain.batches import BatchMessage, ItemStatus, QueuedItem
from invoicing.observability import logger, metrics, tracer
from invoicing.operations import batches

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class ItemsFailed(RuntimeError):
    """Some items of a message raised (each is logged): the message is to come back."""


@tracer.capture_method
def record_handler(record: SQSRecord, done: dict[QueuedItem, ItemStatus | None]) -> None:
    """One record's items: what the group pass did with each, or the item processed alone. Every
    item is tried; if any raised, the record then raises, so it is reported in
    ``batchItemFailures``."""
    message = BatchMessage.model_validate_json(record.body)
    logger.append_keys(batch_id=message.batch_id)
    failed = []
    for item in message.queued():
        try:
            status = done[item] if item in done else batches.process_item(item.business_id, item.batch_id, item.index,
                                                                          customer_id=item.customer_id)
        except Exception:  # noqa: BLE001 - the item's message comes back (raised below), its neighbours go on
            logger.exception("Batch item could not be processed", extra={"index": item.index})
            failed.append(item.index)
            continue
        if status is not None:
            metrics.add_metric(name=f"BatchItem{status.capitalize()}", unit=MetricUnit.Count, value=1)
    if failed:
        raise ItemsFailed(f"Batch {message.batch_id} items {failed} could not be processed")


def _items(event: dict[str, Any]) -> list[QueuedItem]:
    """The items of the event's well-formed messages (the others fail in ``record_handler``)."""
    items = []
    for record in event.get("Records", []):
        try:
            items += BatchMessage.model_validate_json(record.get("body", "")).queued()
        except ValueError:
            continue
    return items


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    done = batches.process_many(_items(event))  # an event's items of one batch together
    return process_partial_response(event=event, record_handler=partial(record_handler, done=done),
                                    processor=processor, context=context)
