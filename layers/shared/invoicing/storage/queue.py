"""The SQS adapter: one client per container, created on first use, and batched sends.

Endpoints, retries and region come from boto3's own configuration (``AWS_ENDPOINT_URL``,
``AWS_ENDPOINT_URL_SQS``, ...), as for DynamoDB.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3

from invoicing.settings import settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SEND_BATCH_LIMIT = 10  # SendMessageBatch takes at most 10 entries
_RETRIES = 8


class SendFailed(RuntimeError):
    """Some messages were not sent (SQS refused them, kept failing them, or could not be reached):
    ``unsent`` are their positions in the list given, in order; every other one was sent."""

    def __init__(self, message: str, unsent: Sequence[int]) -> None:
        super().__init__(message)
        self.unsent = list(unsent)


@cache
def client() -> SQSClient:
    return boto3.client("sqs")


def send_items(messages: Sequence[dict[str, Any]]) -> int:
    """Send each message (as JSON) to the batch queue in SendMessageBatch calls of 10; entries SQS
    failed on its side are sent again with backoff. Returns the number of SendMessageBatch calls;
    raises ``SendFailed`` naming the messages that were not sent (all others were)."""
    url = settings().batch_queue_url
    if not url:
        raise SendFailed("BATCH_QUEUE_URL is not set: the batch queue is unknown", range(len(messages)))
    calls = 0
    sent: set[int] = set()
    try:
        for start in range(0, len(messages), SEND_BATCH_LIMIT):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(start + i), "MessageBody": json.dumps(message, separators=(",", ":"))}
                for i, message in enumerate(messages[start:start + SEND_BATCH_LIMIT])
            ]
            for attempt in range(_RETRIES):
                calls += 1
                out = client().send_message_batch(QueueUrl=url, Entries=entries)
                sent.update(int(ok["Id"]) for ok in out.get("Successful") or [])
                failed = out.get("Failed") or []
                if not failed:
                    break
                refused = [f for f in failed if f.get("SenderFault")]
                if refused:
                    raise RuntimeError(f"SQS refused {len(refused)} messages: {refused[0].get('Message')}")
                again = {f["Id"] for f in failed}
                entries = [e for e in entries if e["Id"] in again]
                time.sleep(min(0.05 * 2**attempt, 2.0))
            else:
                raise RuntimeError(f"SQS kept failing {len(entries)} messages after {_RETRIES} attempts")
    except Exception as error:
        raise SendFailed(str(error), [i for i in range(len(messages)) if i not in sent]) from error
    return calls
