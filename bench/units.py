"""DynamoDB's capacity rules for the bench: an item's size, and the write units a call consumes.

Write units are computed from the items, not asked for: DynamoDB Local reports only a
transaction's first action (measured: a TransactWriteItems of two 5 KB items answers 10 units,
not 20) and moto a flat unit a call. The rules (DynamoDB developer guide, "DynamoDB item sizes
and formats", "Capacity unit consumption", "Managing capacity with transactions"):

- a write costs one unit per 1 KB, rounded up, of the larger of the item's images before and
  after it; a delete, of the item deleted;
- each global secondary index the item is in costs a write of its index entry (the keys and the
  projected attributes), two (a delete and a put) when the write moves the entry's key, none when
  the entry does not change;
- inside TransactWriteItems, every action costs twice that; a condition check is priced as a
  transactional write of the item it checks, without index writes;
- a write its condition refuses is priced too (its images are equal: no index write).

Read units are what the backend reports (``ReturnConsumedCapacity``): DynamoDB Local sizes reads
by DynamoDB's rules.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from devstack import template

WRITE_UNIT_BYTES = 1024
_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


def _number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits  # leading and trailing zeroes trimmed
    significant = len(digits) if any(digits) else 1
    return math.ceil(significant / 2) + 1


def _value_size(value: dict[str, Any]) -> int:
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return _number_size(v)
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(_number_size(n) for n in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    if kind == "L":  # 3 bytes, and 1 byte an element
        return 3 + sum(_value_size(e) + 1 for e in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(e) + 1 for k, e in v.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    """Bytes of a typed (wire-format) item: attribute names plus values."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _write_units(size: int) -> int:
    return math.ceil(size / WRITE_UNIT_BYTES) if size else 0


class Indexes:
    """The table's key and its global secondary indexes' keys and projections, from template.yaml."""

    def __init__(self) -> None:
        definition = template.table_definition()
        self.table_key = [k["AttributeName"] for k in definition["KeySchema"]]
        self.indexes = []
        for gsi in definition.get("GlobalSecondaryIndexes", []):
            keys = [k["AttributeName"] for k in gsi["KeySchema"]]
            projection = gsi["Projection"]
            included = None if projection["ProjectionType"] == "ALL" else set(projection.get("NonKeyAttributes", []))
            self.indexes.append((keys, included))

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.table_key}

    def entries(self, item: dict[str, Any] | None) -> list[dict[str, Any] | None]:
        """The item's entry in each index (None where it is not in it)."""
        found: list[dict[str, Any] | None] = []
        for keys, included in self.indexes:
            if item is None or any(name not in item for name in keys):
                found.append(None)
                continue
            names = set(self.table_key) | set(keys) | (set(item) if included is None else included)
            found.append({name: value for name, value in item.items() if name in names})
        return found

    def write_units(self, before: dict[str, Any] | None, after: dict[str, Any] | None) -> int:
        """Units of one plain write that turns ``before`` into ``after`` (either may be absent)."""
        units = _write_units(max(item_size(before or {}), item_size(after or {})))
        for (keys, _), old, new in zip(self.indexes, self.entries(before), self.entries(after), strict=True):
            if old == new:
                continue
            if old is not None and new is not None and any(old[k] != new[k] for k in keys):
                units += _write_units(item_size(old)) + _write_units(item_size(new))
            else:
                units += _write_units(max(item_size(old or {}), item_size(new or {})))
        return units


def _touched(operation: str, params: dict[str, Any], indexes: Indexes) -> list[tuple[str, dict[str, Any], str]]:
    """(table, key, action) of every item a write call touches."""
    if operation == "PutItem":
        return [(params["TableName"], indexes.key_of(params["Item"]), "write")]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(params["TableName"], params["Key"], "write")]
    if operation == "BatchWriteItem":
        return [(table, indexes.key_of(r["PutRequest"]["Item"]) if "PutRequest" in r else r["DeleteRequest"]["Key"],
                 "write") for table, requests in params["RequestItems"].items() for r in requests]
    if operation == "TransactWriteItems":
        found = []
        for action in params["TransactItems"]:
            (kind, body), = action.items()
            key = indexes.key_of(body["Item"]) if kind == "Put" else body["Key"]
            found.append((body["TableName"], key, "check" if kind == "ConditionCheck" else "transact"))
        return found
    return []


def _kind(key: dict[str, Any]) -> str:
    """What an item is, from its sort key's first part (``INVOICE#...`` -> ``INVOICE``)."""
    (value,) = key.get("SK", {"S": "?"}).values()
    return str(value).split("#", 1)[0]


@contextmanager
def writes(client: Any) -> Iterator[Counter[str]]:
    """Write units of every write ``client`` makes in the block, computed from each touched
    item's images read before and after the call (with a client of the bench's own, so those
    reads are not counted as the service's), in all and by kind of item (``write INVOICE``). Also
    the read units the backend reports."""
    import boto3

    indexes = Indexes()
    images = boto3.client("dynamodb")
    units: Counter[str] = Counter()

    def image(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return images.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")  # type: ignore[no-any-return]

    def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        touched = _touched(model.name, params, indexes)
        context["bench_images"] = [(table, key, action, image(table, key)) for table, key, action in touched]
        if model.name in _READS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def after(parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name in _READS:
            consumed = parsed.get("ConsumedCapacity") or []
            units["read"] += sum(float(c.get("CapacityUnits", 0))
                                 for c in (consumed if isinstance(consumed, list) else [consumed]))
        for table, key, action, old in context.pop("bench_images", []):
            if action == "check":
                spent = 2 * _write_units(item_size(old or {}))
            else:
                spent = indexes.write_units(old, image(table, key)) * (2 if action == "transact" else 1)
            units["write"] += spent
            units[f"write {_kind(key)}"] += spent

    client.meta.events.register("provide-client-params.dynamodb.*", before)
    client.meta.events.register("after-call.dynamodb.*", after)
    try:
        yield units
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.*", before)
        client.meta.events.unregister("after-call.dynamodb.*", after)


