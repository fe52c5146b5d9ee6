"""List pages read by DynamoDB Query, with opaque cursors in both directions.

A cursor carries the key of the page's edge item. It is checked against the partition and sort
key prefix of the list being read, so a forged cursor or one from another business or another
list is a 400, never somebody else's data.

The filters clients use most have an index of their own (storage/keys.py), so that such a page
is one Query. Any other ``Filter`` (a DynamoDB FilterExpression: a search, several filters, a
filter under another sort) is applied while reading: a page reads on until it holds ``limit``
matches, the list ends, or ``READ_BUDGET`` Queries were made (at most 4 MB read); a page the budget
cut short carries a ``next_cursor`` that resumes where DynamoDB stopped.

Reads that need every match (not a page) follow ``LastEvaluatedKey`` through ``query_all``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from invoicing.errors import BadRequest
from invoicing.storage import keys
from invoicing.storage.table import client, deserialize, table_name, value

Direction = Literal["next", "prev"]
_MAX_KEY_BYTES = 1024
READ_BUDGET = 4
"""Query calls one list page may make (each reads at most 1 MB): a page whose filter matches
rarely stops there, short but with a ``next_cursor`` to read on from."""


@dataclass(frozen=True)
class PageRequest:
    limit: int = 50
    cursor: str | None = None
    direction: Direction | None = None  # None: the way the cursor was issued
    descending: bool = True
    include_total: bool = False


@dataclass(frozen=True)
class Partition:
    """Where a list lives: a partition value and a sort key prefix, on the table or GSI1."""

    business_pk: str
    pk: str
    sk_prefix: str
    index: str | None = None

    @classmethod
    def of(cls, business_id: str, sk_prefix: str) -> Partition:
        return cls(keys.business(business_id), keys.business(business_id), sk_prefix)

    @classmethod
    def on_gsi1(cls, business_id: str, pk: str, sk_prefix: str) -> Partition:
        return cls(keys.business(business_id), pk, sk_prefix, keys.GSI1)

    @classmethod
    def on_index(cls, business_id: str, index: str, pk: str, sk_prefix: str = "") -> Partition:
        return cls(keys.business(business_id), pk, sk_prefix, index)

    @property
    def pk_name(self) -> str:
        return keys.INDEX_KEYS[self.index][0] if self.index else keys.PK

    @property
    def sk_name(self) -> str:
        return keys.INDEX_KEYS[self.index][1] if self.index else keys.SK

    def key_names(self) -> tuple[str, ...]:
        return (keys.PK, keys.SK, self.pk_name, self.sk_name) if self.index else (keys.PK, keys.SK)


@dataclass(frozen=True)
class Filter:
    """A FilterExpression over a list's items; ``values`` are typed AttributeValues ({"S": ...})."""

    expression: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def all_of(cls, *conditions: Condition | None) -> Filter | None:
        """The conditions given (None: that filter was not asked for) joined by AND; None if none.
        Each gets its own placeholders, so one attribute may appear twice (a date range)."""
        parts, names, values = [], {}, {}
        for i, condition in enumerate(c for c in conditions if c is not None):
            name, operands = f"#f{i}", [f":f{i}_{j}" for j in range(len(condition.operands))]
            names[name] = condition.attribute
            values.update({placeholder: value(v) for placeholder, v in zip(operands, condition.operands, strict=True)})
            if condition.op == "contains":
                parts.append(f"contains({name}, {operands[0]})")
            elif condition.op == "in":
                parts.append(f"{name} IN ({', '.join(operands)})")
            else:
                parts.append(f"{name} {condition.op} {operands[0]}")
        return cls(" AND ".join(parts), names, values) if parts else None


@dataclass(frozen=True)
class Condition:
    attribute: str
    op: Literal["=", ">=", "<=", "contains", "in"]
    operands: tuple[Any, ...]


def condition(attribute: str, op: Literal["=", ">=", "<=", "contains", "in"], *operands: Any) -> Condition:
    """One condition of a ``Filter.all_of``: ``condition("status", "in", "open", "draft")``."""
    return Condition(attribute, op, operands)


@dataclass(frozen=True)
class QueryPage:
    """One DynamoDB Query's page of a list: the raw items and where the next and previous pages start."""

    items: list[dict[str, Any]]
    total: int | None
    limit: int
    next_cursor: str | None
    prev_cursor: str | None
    has_next: bool
    has_prev: bool

    def as_dict(self, items: list[Any]) -> dict[str, Any]:
        return {
            "items": items,
            "total": self.total,
            "limit": self.limit,
            "next_cursor": self.next_cursor,
            "prev_cursor": self.prev_cursor,
            "has_next": self.has_next,
            "has_prev": self.has_prev,
        }


def _encode(item: dict[str, Any] | None, where: Partition, direction: Direction) -> str:
    """A cursor reading ``direction`` from ``item`` (exclusive), or, for None, from the list's far
    boundary in that direction's opposite (the start for "next", the end for "prev"), bound to the list."""
    edge: Any = {name: item[name] for name in where.key_names()} if item else [where.business_pk, where.pk,
                                                                               where.sk_prefix]
    raw = json.dumps({"k": edge, "d": direction}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _is_key_value(value: Any) -> bool:
    """What DynamoDB takes as a string key in ExclusiveStartKey: non-empty, valid UTF-8, at most
    1024 bytes (a sort key's limit). Anything else would be its ValidationException, a 500."""
    if not isinstance(value, str):
        return False
    try:
        size = len(value.encode())
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape
        return False
    return 0 < size <= _MAX_KEY_BYTES


def _decode(cursor: str, where: Partition) -> tuple[dict[str, Any] | None, Direction]:
    invalid = BadRequest("Invalid cursor: pass back a next_cursor or prev_cursor from this list", code="invalid_cursor")
    # A cursor is the client's text: 1,536 bytes of "[" nest deeper than json reads (a RecursionError).
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise invalid from None
    if not isinstance(decoded, dict) or decoded.get("d") not in ("next", "prev"):
        raise invalid
    edge = decoded.get("k")
    if edge == [where.business_pk, where.pk, where.sk_prefix]:
        return None, decoded["d"]  # from the list's boundary
    names = where.key_names()
    if not isinstance(edge, dict) or set(edge) != set(names) or not all(_is_key_value(edge[n]) for n in names):
        raise invalid
    if edge[where.pk_name] != where.pk or not edge[where.sk_name].startswith(where.sk_prefix):
        raise invalid
    if edge[keys.PK] != where.business_pk:
        raise invalid
    return {n: {"S": edge[n]} for n in names}, decoded["d"]


def _responses(args: dict[str, Any], limit: int | None = None) -> Iterator[Mapping[str, Any]]:
    """Each response of one Query, following ``LastEvaluatedKey`` to the end, or (``limit``)
    until ``limit`` items came back: then each call's ``Limit`` is what is still missing, so
    no item is read beyond ``limit``."""
    args, returned = dict(args), 0
    while limit is None or returned < limit:
        if limit is not None:
            args["Limit"] = limit - returned
        out = client().query(**args)
        returned += len(out.get("Items", []))
        yield out
        if "LastEvaluatedKey" not in out:
            return
        args["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def query_all(args: dict[str, Any], *, limit: int | None = None) -> list[dict[str, Any]]:
    """Every item (deserialized) a Query's ``args`` match, in order, at most ``limit``: as many
    Query calls as DynamoDB's 1 MB pages (and, with a FilterExpression, ``Limit``) need."""
    return [deserialize(item) for out in _responses(args, limit) for item in out.get("Items", [])]


def query_every(where: Partition) -> list[dict[str, Any]]:
    """Every item (deserialized) of a list, in order: ``query_all`` of its Partition."""
    return query_all(_query_args(where))


def _count(where: Partition, filter_: Filter | None = None) -> int:
    return sum(out["Count"] for out in _responses({**_query_args(where, filter_), "Select": "COUNT"}))


def _query_args(where: Partition, filter_: Filter | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": where.pk_name},
        "ExpressionAttributeValues": {":pk": {"S": where.pk}},
    }
    if where.sk_prefix:  # DynamoDB rejects an empty begins_with operand
        args["KeyConditionExpression"] += " AND begins_with(#sk, :prefix)"
        args["ExpressionAttributeNames"]["#sk"] = where.sk_name
        args["ExpressionAttributeValues"][":prefix"] = {"S": where.sk_prefix}
    if where.index:
        args["IndexName"] = where.index
    if filter_ is not None:
        args["FilterExpression"] = filter_.expression
        args["ExpressionAttributeNames"].update(filter_.names)
        args["ExpressionAttributeValues"].update(filter_.values)
    return args


def _read(args: dict[str, Any], want: int) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to ``want`` items in order, in at most ``READ_BUDGET`` Query calls, and the key DynamoDB
    stopped at (None: the list ended there). Without a filter each call asks for what is still
    missing; with one, DynamoDB applies ``Limit`` before the filter, so each call reads its 1 MB."""
    args = dict(args)
    rows: list[dict[str, Any]] = []
    stopped_at = None
    for _ in range(READ_BUDGET):
        if "FilterExpression" not in args:
            args["Limit"] = want - len(rows)
        out = client().query(**args)
        rows.extend(out.get("Items", []))
        stopped_at = out.get("LastEvaluatedKey")
        if stopped_at is None or len(rows) >= want:
            break
        args["ExclusiveStartKey"] = stopped_at
    return rows, stopped_at


def query_page(where: Partition, request: PageRequest, filter_: Filter | None = None) -> QueryPage:
    """A page of ``request.limit`` matches, unless the list ends first or the read budget is spent.

    A page is a run of the list's key order, and its two cursors are the run's edges: reading on
    from the far edge (the last match kept, or where DynamoDB stopped) gives the next run, reading
    back from the near edge the one before, so walking either way visits every match once, in
    order. An empty page has no match to stand on: both its cursors stand on where DynamoDB
    stopped (reading back from there re-reads the empty run), or, where it reached the list's
    end, on that end. Nothing lies on the near side of a page read from a boundary."""
    start, issued = (None, "next") if not request.cursor else _decode(request.cursor, where)
    direction = (request.direction or issued) if request.cursor else "next"
    forward = not request.descending
    args = _query_args(where, filter_)
    args["ScanIndexForward"] = forward if direction == "next" else not forward
    if start:
        args["ExclusiveStartKey"] = start
    read, stopped_at = _read(args, request.limit + 1)  # one extra match tells whether more exist
    rows = [deserialize(i) for i in read[: request.limit]]
    back: Direction = "prev" if direction == "next" else "next"
    if len(read) > request.limit:
        far: str | None = _encode(rows[-1], where, direction)
    else:
        far = _encode(deserialize(stopped_at), where, direction) if stopped_at else None
    if start is None:
        near = None
    elif rows:
        near = _encode(rows[0], where, back)
    else:
        near = _encode(deserialize(stopped_at) if stopped_at else None, where, back)
    if direction == "prev":
        rows.reverse()
    next_cursor, prev_cursor = (far, near) if direction == "next" else (near, far)
    return QueryPage(
        items=rows,
        total=_count(where, filter_) if request.include_total else None,
        limit=request.limit,
        next_cursor=next_cursor,
        prev_cursor=prev_cursor,
        has_next=next_cursor is not None,
        has_prev=prev_cursor is not None,
    )

