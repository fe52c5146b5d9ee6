"""The DynamoDB client (one per container, created on first use) and item (de)serialisation.

Endpoints, retries and region come from boto3's own configuration (``AWS_ENDPOINT_URL``,
``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_RETRY_MODE``, ``AWS_MAX_ATTEMPTS``, ``AWS_REGION``).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from invoicing.settings import settings
from invoicing.storage import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class Throttled(RuntimeError):
    """DynamoDB kept keys or items unprocessed after every retry (sustained throttling)."""


@cache
def client() -> DynamoDBClient:
    return boto3.client("dynamodb")


def prime() -> None:
    """One read of a key nobody writes: the first call's costs (the endpoint rules, the
    operation's model, a connection) paid during a snapshot's init instead of a request's."""
    key = {keys.PK: {"S": keys.PRIME}, keys.SK: {"S": keys.PRIME}}
    client().get_item(TableName=table_name(), Key=key, ProjectionExpression=keys.PK)


def table_name() -> str:
    return settings().table_name


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        raise TypeError("floats are never stored: money is integer cents")
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    """A plain dict to DynamoDB's typed form; ``None`` attributes are left out."""
    return {k: _serializer.serialize(v) for k, v in _to_dynamo(item).items()}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def get_item(pk: str, sk: str, *, consistent: bool = True, attributes: str | None = None) -> dict[str, Any] | None:
    """One item, deserialized, or None when there is none (``attributes``: a ProjectionExpression)."""
    args: dict[str, Any] = {"TableName": table_name(), "Key": key(pk, sk), "ConsistentRead": consistent}
    if attributes:
        args["ProjectionExpression"] = attributes
    got = client().get_item(**args)
    return deserialize(got["Item"]) if "Item" in got else None


NEW = "attribute_not_exists(PK)"  # the condition of a write that must never replace an item


def put_item(item: dict[str, Any], *, new: bool = True) -> None:
    """One PutItem; with ``new`` (the default) only where no item is yet (else DynamoDB raises
    ConditionalCheckFailedException)."""
    args: dict[str, Any] = {"TableName": table_name(), "Item": serialize(item)}
    if new:
        args["ConditionExpression"] = NEW
    client().put_item(**args)


def value(v: Any) -> dict[str, Any]:
    return dict(_serializer.serialize(_to_dynamo(v)))
