"""The batch queue's messages: up to ten items of one batch each."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from invoicing.batches.rules import messages_of
from invoicing.batches.schemas import BatchMessage, QueuedItem


def queued(batch_id: str, *indexes: int) -> list[QueuedItem]:
    return [QueuedItem(business_id="b", batch_id=batch_id, index=i, customer_id=f"c{i}") for i in indexes]


def test_items_go_ten_to_a_message_each_message_of_one_batch_in_order() -> None:
    items = queued("x", *range(23)) + queued("y", 0, 1)
    messages = messages_of(items)
    assert [(m.batch_id, [e.index for e in m.items]) for m in messages] == [
        ("x", list(range(10))), ("x", list(range(10, 20))), ("x", [20, 21, 22]), ("y", [0, 1])]
    assert [item for m in messages for item in m.queued()] == items


def test_a_message_is_read_back_as_written() -> None:
    message = messages_of(queued("x", 4, 5))[0]
    assert BatchMessage.model_validate_json(message.model_dump_json(exclude_none=True)) == message


@pytest.mark.parametrize("body", [
    '{"business_id":"b","batch_id":"x","items":[]}',
    '{"business_id":"b","batch_id":"x","items":[' + ",".join(['{"index":1}'] * 11) + "]}",
    '{"business_id":"b","batch_id":"x","items":[{"index":-1}]}',
    '{"business_id":"b","batch_id":"x","items":[{"index":1}],"extra":1}',
    '{"business_id":"b","batch_id":"x","index":1,"items":[{"index":1}]}',
    '{"business_id":"b","index":1}',
    '{"n": 1}',
    "not json",
])
def test_anything_else_is_not_a_batch_message(body: str) -> None:
    with pytest.raises(ValidationError):
        BatchMessage.model_validate_json(body)
