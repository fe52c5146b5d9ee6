"""The local stack's moto fixes (devstack/moto_patches.py) answer as moto does, only faster.

Point 4 hands a Query only its candidates; a Query must still see every matching item, in key
order, paged the same way. Checked against a Scan of the same table (which the fix leaves alone),
filtered and sorted here. Point 5 (SQS receive and delete) is checked against what SQS does."""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest

from invoicing.storage.paging import query_all
from invoicing.storage.table import client, deserialize, serialize, table_name

pytestmark = pytest.mark.usefixtures("aws")

PARTITIONS = ("BIZ#a", "BIZ#b", "BIZ#c")


def _items() -> list[dict[str, Any]]:
    """Items in three partitions, some on GSI1 under two index partitions, in random order."""
    rng = random.Random(7)
    items = []
    for n in range(90):
        item: dict[str, Any] = {"PK": PARTITIONS[n % 3], "SK": f"{rng.choice('XYZ')}#{n:03d}", "n": n}
        if n % 4:
            item |= {"GSI1PK": f"IDX#{n % 2}", "GSI1SK": f"{rng.randint(0, 9)}#{n:03d}"}
        items.append(item)
    rng.shuffle(items)
    return items


def _query_all(**args: Any) -> list[dict[str, Any]]:
    """Every page of a Query, with a small Limit so paging is exercised."""
    return query_all({"TableName": table_name(), "Limit": 7, **args})


def _scanned() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    args: dict[str, Any] = {"TableName": table_name()}
    while True:
        out = client().scan(**args)
        found += [deserialize(item) for item in out["Items"]]
        if "LastEvaluatedKey" not in out:
            return found
        args["ExclusiveStartKey"] = out["LastEvaluatedKey"]


@pytest.mark.parametrize("forward", [True, False])
def test_a_query_finds_what_a_scan_finds_in_the_same_order(forward: bool) -> None:
    for item in _items():
        client().put_item(TableName=table_name(), Item=serialize(item))
    everything = _scanned()

    for pk in PARTITIONS:
        expected = sorted((i for i in everything if i["PK"] == pk and i["SK"].startswith("Y")),
                          key=lambda i: i["SK"], reverse=not forward)
        got = _query_all(KeyConditionExpression="PK = :pk AND begins_with(SK, :y)", ScanIndexForward=forward,
                         ExpressionAttributeValues=serialize({":pk": pk, ":y": "Y"}), ConsistentRead=True)
        assert [i["n"] for i in got] == [i["n"] for i in expected]
        assert expected

    for index_pk in ("IDX#0", "IDX#1", "IDX#none"):
        expected = sorted((i for i in everything if i.get("GSI1PK") == index_pk and i["GSI1SK"] >= "5"),
                          key=lambda i: (i["GSI1SK"], i["PK"], i["SK"]), reverse=not forward)
        got = _query_all(IndexName="GSI1", KeyConditionExpression="GSI1PK = :pk AND GSI1SK >= :five",
                         ScanIndexForward=forward, ExpressionAttributeValues=serialize({":pk": index_pk, ":five": "5"}))
        assert [i["n"] for i in got] == [i["n"] for i in expected]
        assert expected or index_pk == "IDX#none"


def test_sqs_receive_and_delete_keep_moto_semantics() -> None:
    """Point 5: visible messages only; a delete by any receipt handle the message had, once or
    twice; an unknown handle is refused."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="patch-check")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
    assert sorted(m["Body"] for m in first) == ["m0", "m1", "m2"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)  # all in flight
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
    assert [m["Body"] for m in again] == [first[0]["Body"]] and again[0]["ReceiptHandle"] != first[0]["ReceiptHandle"]
    for message in first:  # the first message by its old handle
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again[0]["ReceiptHandle"])  # deleted already: accepted
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (left["ApproximateNumberOfMessages"], left["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def test_items_come_back_as_they_were_written_by_every_read() -> None:
    """Point 6: an item of every attribute type, nested ones and binary too, reads back unchanged
    through GetItem, BatchGetItem and Query; and the fast path writes the same answer as moto's
    own serializer."""
    item = {"PK": {"S": "BIZ#t"}, "SK": {"S": "ALL#1"}, "n": {"N": "-12.5"}, "yes": {"BOOL": True},
            "no": {"BOOL": False}, "nothing": {"NULL": True}, "names": {"SS": ["a", "b"]},
            "numbers": {"NS": ["1", "2"]},
            "blob": {"B": b"\x00\xffraw"}, "blobs": {"BS": [b"\x01", b"\x02"]}, "empty_map": {"M": {}},
            "lines": {"L": [{"M": {"q": {"N": "2"}, "tag": {"S": "x"}, "bin": {"B": b"\x07"}}}, {"L": []}, {"S": ""}]}}
    client().put_item(TableName=table_name(), Item=item)
    key = {"PK": item["PK"], "SK": item["SK"]}
    by_get = client().get_item(TableName=table_name(), Key=key, ConsistentRead=True)["Item"]
    by_batch = client().batch_get_item(RequestItems={table_name(): {"Keys": [key]}})["Responses"][table_name()]
    by_query = client().query(TableName=table_name(), KeyConditionExpression="PK = :pk",
                              ExpressionAttributeValues={":pk": item["PK"]})["Items"]
    assert by_get == by_batch[0] == by_query[0] == item


@pytest.mark.parametrize("value", [
    {"S": "x"}, {"N": "1"}, {"BOOL": False}, {"NULL": True}, {"SS": ["a"]}, {"NS": ["1"]},
    {"L": [{"S": "a"}, {"N": "2"}]},
    {"M": {"a": {"M": {"b": {"L": [{"BOOL": True}]}}}}}, {"B": "AAE="}, {"M": {"a": {"BS": ["AAE="]}}},
])
def test_the_fast_path_writes_what_motos_serializer_writes(value: dict[str, Any]) -> None:
    from moto.core.responses import get_service_model
    from moto.core.serialize import BaseJSONSerializer, JSONSerializer

    model = get_service_model("dynamodb")
    shape = model.shape_for("AttributeValue")
    serializer = JSONSerializer(operation_model=model.operation_model("GetItem"))
    fast: dict[str, Any] = {}
    serializer._serialize_type_structure(fast, value, shape, "v")
    own: dict[str, Any] = {}
    BaseJSONSerializer._serialize_type_structure.__wrapped__(serializer, own, value, shape, "v")  # type: ignore[attr-defined]
    assert fast == own


def test_an_index_query_sees_every_write_since_the_last_one() -> None:
    """Point 7: between writes, index Queries share one map of the table; a put, an update, a
    delete, a transaction, a batch write and a cancelled transaction each show in the next Query."""
    def index_query(pk: str) -> list[str]:
        return [i["SK"] for i in _query_all(IndexName="GSI1", KeyConditionExpression="GSI1PK = :pk",
                                             ExpressionAttributeValues=serialize({":pk": pk}))]

    def put(sk: str, index_pk: str) -> None:
        client().put_item(TableName=table_name(), Item=serialize({"PK": "BIZ#w", "SK": sk, "GSI1PK": index_pk,
                                                                  "GSI1SK": sk}))

    put("A", "IDX#w")
    assert index_query("IDX#w") == ["A"]
    put("B", "IDX#w")
    assert index_query("IDX#w") == ["A", "B"]
    client().update_item(TableName=table_name(), Key=serialize({"PK": "BIZ#w", "SK": "A"}),
                         UpdateExpression="SET GSI1PK = :other",
                         ExpressionAttributeValues=serialize({":other": "IDX#v"}))
    assert (index_query("IDX#w"), index_query("IDX#v")) == (["B"], ["A"])
    client().delete_item(TableName=table_name(), Key=serialize({"PK": "BIZ#w", "SK": "B"}))
    assert index_query("IDX#w") == []
    client().transact_write_items(TransactItems=[{"Put": {"TableName": table_name(), "Item": serialize(
        {"PK": "BIZ#w", "SK": "C", "GSI1PK": "IDX#w", "GSI1SK": "C"})}}])
    client().batch_write_item(RequestItems={table_name(): [{"PutRequest": {"Item": serialize(
        {"PK": "BIZ#w", "SK": "D", "GSI1PK": "IDX#w", "GSI1SK": "D"})}}]})
    assert index_query("IDX#w") == ["C", "D"]
    with pytest.raises(client().exceptions.TransactionCanceledException):
        client().transact_write_items(TransactItems=[
            {"Update": {"TableName": table_name(), "Key": serialize({"PK": "BIZ#w", "SK": "C"}),
                        "UpdateExpression": "SET GSI1PK = :other", "ExpressionAttributeValues": serialize(
                            {":other": "IDX#v"})}},
            {"ConditionCheck": {"TableName": table_name(), "Key": serialize({"PK": "BIZ#w", "SK": "missing"}),
                                "ConditionExpression": "attribute_exists(PK)"}}])
    assert (index_query("IDX#w"), index_query("IDX#v")) == (["C", "D"], ["A"])
