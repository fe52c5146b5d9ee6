"""The local SQS event source mapping behaves as Lambda's: mappings from template.yaml, batches of
up to BatchSize records in Lambda's event shape, batchItemFailures honoured, a function error
or a bad answer leaving the whole batch, and the RedrivePolicy moving what keeps failing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devstack import runtime, template
from devstack.sqs_poller import SqsPoller, failed_ids

WORKER = template.SqsSource("BatchWorkerFunction", "BatchQueue", 10, True)


def test_the_mappings_come_from_the_template() -> None:
    sources = {(s.function, s.queue): s for s in template.sqs_sources()}
    assert sources[("BatchWorkerFunction", "BatchQueue")] == WORKER
    assert ("BatchDeadLetterFunction", "BatchDeadLetterQueue") in sources


@pytest.mark.parametrize(("result", "failed"), [
    (None, set()),
    ({}, set()),
    ({"batchItemFailures": []}, set()),
    ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
    ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b", "c"}),  # unknown id: the whole batch
    ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b", "c"}),
    ({"batchItemFailures": [{}]}, {"a", "b", "c"}),
])
def test_batch_item_failures_are_read_as_lambda_reads_them(result: Any, failed: set[str]) -> None:
    assert failed_ids(result, ["a", "b", "c"], True) == failed
    assert failed_ids(result, ["a", "b", "c"], False) == set()


class Recorder:
    def __init__(self, fail: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail = fail

    def __call__(self, logical_id: str, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.fail(event) if self.fail else {"batchItemFailures": []}


def send(count: int) -> None:
    from invoicing.storage import queue

    queue.send_items([{"n": i} for i in range(count)])


def depth(poller: SqsPoller, logical_id: str) -> tuple[int, int]:
    got = poller.sqs.get_queue_attributes(QueueUrl=runtime.physical_id(logical_id), AttributeNames=["All"])
    return (int(got["Attributes"]["ApproximateNumberOfMessages"]),
            int(got["Attributes"]["ApproximateNumberOfMessagesNotVisible"]))


def test_records_go_in_tens_in_lambda_s_shape_and_are_deleted(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(runtime, "invoke", recorder)
    send(23)
    poller = SqsPoller(sources=[WORKER])
    delivered = poller.drain()
    assert (delivered.invocations, delivered.records, delivered.failed) == (3, 23, 0)
    assert sorted(len(e["Records"]) for e in recorder.events) == [3, 10, 10]
    record = recorder.events[0]["Records"][0]
    assert set(record) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                           "eventSource", "eventSourceARN", "awsRegion"}
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith("-BatchQueue")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert sorted(json.loads(r["body"])["n"] for e in recorder.events for r in e["Records"]) == list(range(23))
    assert depth(poller, "BatchQueue") == (0, 0)


def test_failed_records_come_back_and_are_dead_lettered_after_max_receives(aws: None,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def fail_odd(event: dict[str, Any]) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if json.loads(r["body"])["n"] % 2]}

    recorder = Recorder(fail_odd)
    monkeypatch.setattr(runtime, "invoke", recorder)
    send(6)
    poller = SqsPoller(sources=[WORKER])
    delivered = poller.drain()
    assert delivered.records == 6 + 3 + 3  # the three odd ones, delivered three times in all
    receives = [r["attributes"]["ApproximateReceiveCount"] for e in recorder.events for r in e["Records"]
                if json.loads(r["body"])["n"] == 1]
    assert receives == ["1", "2", "3"]
    assert depth(poller, "BatchQueue") == (0, 0)
    assert depth(poller, "BatchDeadLetterQueue") == (3, 0)


def test_a_function_error_leaves_the_whole_batch(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(event: dict[str, Any]) -> Any:
        raise RuntimeError("the function crashed")

    monkeypatch.setattr(runtime, "invoke", Recorder(boom))
    send(4)
    poller = SqsPoller(sources=[WORKER])
    delivered = poller.poll(WORKER)
    assert (delivered.records, delivered.failed) == (4, 4)
    assert depth(poller, "BatchQueue") == (0, 4)  # in flight until the visibility timeout


def test_serve_mode_polls_in_the_background(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(runtime, "invoke", recorder)
    poller = SqsPoller(sources=[WORKER])
    poller.start(wait_seconds=0)
    try:
        send(12)
        import time

        deadline = time.monotonic() + 10
        while sum(len(e["Records"]) for e in recorder.events) < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        poller.stop()
    assert sum(len(e["Records"]) for e in recorder.events) == 12
