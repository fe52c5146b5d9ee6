"""Lambda's SQS event source mapping, locally: poll each queue a function of template.yaml has an
``SQS`` event on, invoke the function with up to ``BatchSize`` records, and delete what succeeded.

As Lambda does, with ``FunctionResponseTypes: [ReportBatchItemFailures]`` the records named in the
answer's ``batchItemFailures`` stay in the queue (they come back after the visibility timeout,
and the queue's RedrivePolicy moves them to the dead-letter queue after ``maxReceiveCount``
receives: moto applies it); a function error, or an answer naming an unknown record, leaves the
whole batch. moto's own SQS-to-Lambda path ignores ``batchItemFailures``, hence this.

``serve`` runs it in threads (one per mapping, long polling); tests call ``drain()``, which
delivers until every queue is empty and can expire the visibility timeout of failed records at
once, so redeliveries happen within the call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from devstack import runtime, template

log = logging.getLogger("devstack.sqs")


@dataclass
class Delivered:
    """What the poller delivered: invocations, records, and the records left for redelivery."""

    invocations: int = 0
    records: int = 0
    failed: int = 0
    by_function: dict[str, int] = field(default_factory=dict)

    def add(self, other: Delivered) -> None:
        self.invocations += other.invocations
        self.records += other.records
        self.failed += other.failed
        for name, count in other.by_function.items():
            self.by_function[name] = self.by_function.get(name, 0) + count


def _record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS message as a Lambda event record (``sam local generate-event sqs receive-message``)."""
    attributes = {
        name: {"stringValue" if a["DataType"].startswith(("String", "Number")) else "binaryValue":
               a.get("StringValue", a.get("BinaryValue")), "stringListValues": [], "binaryListValues": [],
               "dataType": a["DataType"]}
        for name, a in (message.get("MessageAttributes") or {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_ids(result: Any, message_ids: Sequence[str], report_item_failures: bool) -> set[str]:
    """The records Lambda would leave in the queue after the function answered ``result``."""
    if not report_item_failures:
        return set()
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return set()  # null, {}, or an empty list: every record succeeded
    named = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
    if not named <= set(message_ids):
        log.warning("batchItemFailures names unknown or empty ids %s: the whole batch fails", named - set(message_ids))
        return set(message_ids)
    return {str(n) for n in named}


class SqsPoller:
    """Polls the template's SQS event sources, with queue URLs from the local environment
    (``runtime.physical_id``) unless given."""

    def __init__(self, queue_urls: dict[str, str] | None = None, *, sources: Sequence[template.SqsSource] | None = None,
                 sqs: Any = None) -> None:
        import boto3

        self.sources = list(template.sqs_sources() if sources is None else sources)
        self.urls = {s.queue: (queue_urls or {}).get(s.queue) or runtime.physical_id(s.queue) for s in self.sources}
        self.sqs: Any = sqs or boto3.client("sqs")
        self.region = self.sqs.meta.region_name
        self._arns: dict[str, str] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _arn(self, queue: str) -> str:
        if queue not in self._arns:
            got = self.sqs.get_queue_attributes(QueueUrl=self.urls[queue], AttributeNames=["QueueArn"])
            self._arns[queue] = got["Attributes"]["QueueArn"]
        return self._arns[queue]

    def poll(self, source: template.SqsSource, *, wait_seconds: int = 0, expire_failed: bool = False) -> Delivered:
        """One receive (up to the source's BatchSize) and, if anything came, one invocation."""
        url = self.urls[source.queue]
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=source.batch_size,
                                       WaitTimeSeconds=wait_seconds, MessageSystemAttributeNames=["All"],
                                       MessageAttributeNames=["All"])
        messages = got.get("Messages") or []
        if not messages:
            return Delivered()
        ids = [m["MessageId"] for m in messages]
        event = {"Records": [_record(m, self._arn(source.queue), self.region) for m in messages]}
        try:
            result = runtime.invoke(source.function, event)
            failed = failed_ids(result, ids, source.report_item_failures)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # the invocation failed or its runtime died: as Lambda, keep every record
            log.exception("%s failed on %d SQS records: all stay in the queue", source.function, len(ids))
            failed = set(ids)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])])
        if failed:
            log.warning("%s: %d of %d records failed; they come back after the visibility timeout",
                        source.function, len(failed), len(ids))
            if expire_failed:  # as if the visibility timeout had passed
                self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(messages) if m["MessageId"] in failed])
        else:
            log.debug("%s handled %d SQS records", source.function, len(ids))
        return Delivered(1, len(ids), len(failed), {source.function: 1})

    def drain(self, *, expire_failed: bool = True, max_invocations: int = 100_000) -> Delivered:
        """Deliver until a full pass over every source receives nothing. With ``expire_failed``,
        failed records are visible again at once (so they are redelivered, and dead-lettered after
        maxReceiveCount, within this call); otherwise they wait out their visibility timeout."""
        total = Delivered()
        while True:
            before = total.invocations
            for source in self.sources:
                while (step := self.poll(source, expire_failed=expire_failed)).invocations:
                    total.add(step)
                    if total.invocations >= max_invocations:
                        raise RuntimeError(f"drain: still delivering after {max_invocations} invocations")
            if total.invocations == before:
                return total

    # ------------------------------------------------------------------ background (serve)
    def start(self, *, wait_seconds: int = 1) -> None:
        """Poll every source in its own daemon thread until ``stop()``."""
        self._stop.clear()
        for source in self.sources:
            thread = threading.Thread(target=self._run, args=(source, wait_seconds), daemon=True,
                                      name=f"sqs-poller-{source.function}")
            thread.start()
            self._threads.append(thread)
        log.info("SQS poller started: %s", ", ".join(f"{s.queue} -> {s.function}" for s in self.sources))

    def _run(self, source: template.SqsSource, wait_seconds: int) -> None:
        while not self._stop.is_set():
            try:
                self.poll(source, wait_seconds=wait_seconds)
            except Exception:
                log.exception("polling %s for %s failed; retrying", source.queue, source.function)
                self._stop.wait(1.0)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
