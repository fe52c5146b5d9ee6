"""Fixes to moto that the local stack and the tests need (local tooling only).

1. Speed: moto backs a ``TransactWriteItems`` up by deep-copying the whole table once per action,
   so a transaction costs time and memory in proportion to the table (a 1000-invoice batch took
   minutes and gigabytes). Here only the items the transaction touches are backed up and
   restored when it is cancelled, which is all a rollback needs.
2. Isolation: moto serves requests on several threads (the HTTP front, the SQS poller) with no
   lock, so a transaction could interleave with another write or be seen half done. Every item
   write, transaction and read here holds one lock, which makes each call atomic, as DynamoDB's
   are.
3. SQS speed: moto computes every queue attribute (counting every message in the queue, three
   times) for each message sent, to read one flag: sending 1000 messages took 20 s. Queue
   attributes are computed when read instead.
4. Query speed: moto answers every Query by sorting the whole table (every item, compared through
   ``DynamoType``), then keeps the matches and sorts them again. Here a Query starts from its
   candidates only, unsorted: the partition for a table Query, the items holding the index's
   partition key value for an index Query. moto still checks, sorts and pages them itself, so the
   answer is the same; the keys it sorts by are unique, so no order of ties changes. A 1000-item
   batch's sweep (200 index Queries on a table of about 5000 items) took 28 s of its 45.

5. SQS receive and delete: moto reads the clock twice per message in the queue on every receive
   (to list the visible ones), and finds a receipt handle by scanning every message twice,
   building a list per message. Here the clock is read once per receive and a delete makes one
   pass. Receiving and deleting 1000 messages, ten at a time, took 2.5 s.
6. DynamoDB answers: moto writes every item it returns through its generic response serializer,
   which tries each of the ten members of every attribute value (S, N, M, L, ...) by several
   spellings (a one-off profile: three quarters of a 10-item BatchGetItem, 13 ms). An attribute
   value is already in DynamoDB's JSON form, which that serializer writes unchanged, unless it
   holds binary (B, BS: base64-encoded there); values without binary are written as they are.
7. Index Query candidates (point 4) without a scan each: the items by their value of an index's
   string partition key are found once and kept until the next write (any put, update, delete,
   transaction or rollback), so a run of Queries between writes (a worker's sweeps) costs one
   pass over the table instead of one each.

``apply()`` is idempotent; ``devstack.emulated`` and ``devstack.local`` call it before starting moto.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from types import SimpleNamespace
from typing import Any

_lock = threading.RLock()
_state = threading.local()
_applied = False


def _deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    from moto.dynamodb.models.table import Table

    if isinstance(value, Table) and getattr(_state, "in_transaction", False):
        return value  # the touched items are backed up instead (see _transact_write_items)
    return copy.deepcopy(value, memo)


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash value, range value, deep copy of the item or None) for every action's item."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    found = []
    for action in transact_items:
        for op_type, op in action.items():
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue
            attrs = op.get("Item") if op_type == "Put" else op.get("Key")
            try:
                hash_value = DynamoType(attrs[table.hash_key_attr])
                range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
                item = table.get_item(hash_value, range_value)
            except Exception:  # noqa: BLE001, S112 - a malformed action writes nothing: moto rejects it
                continue
            found.append((table, hash_value, range_value, copy.deepcopy(item)))
    return found


def _restore(touched: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_value, range_value, backup in reversed(touched):
        if range_value is None:
            if backup is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = backup
        elif backup is None:
            table.items.get(hash_value, {}).pop(range_value, None)
        else:
            table.items[hash_value][range_value] = backup


def _candidates(table: Any, hash_key: Any, index_name: str | None,
                conditions: list[tuple[str, Any]] | None) -> list[Any] | None:
    """The items a Query can match, unsorted, or None when that is not known here."""
    if not index_name:
        if hash_key is None or not table.range_key_attr:
            return None
        return list(table.items.get(hash_key, {}).values())
    if not conditions:
        return None
    if len(conditions) == 1 and conditions[0][1].type == "S":
        name, expected = conditions[0]
        return list(_by_value(table, name).get(expected.value, ()))
    found = []
    for partition in table.items.values():
        for item in partition.values() if table.range_key_attr else (partition,):
            for name, expected in conditions:
                actual = item.attrs.get(name)
                if actual is None or actual.type != expected.type or (
                        actual.value != expected.value and actual != expected):
                    break
            else:
                found.append(item)
    return found


_index_maps: dict[tuple[int, str], tuple[Any, dict[str, list[Any]]]] = {}  # emptied by every write (point 7)


def _written() -> None:
    _index_maps.clear()


def _by_value(table: Any, name: str) -> dict[str, list[Any]]:
    """The table's items holding string attribute ``name``, by its value, as of the last write."""
    cached = _index_maps.get((id(table), name))
    if cached is None or cached[0] is not table:
        by_value: dict[str, list[Any]] = {}
        for partition in table.items.values():
            for item in partition.values() if table.range_key_attr else (partition,):
                actual = item.attrs.get(name)
                if actual is not None and actual.type == "S":
                    by_value.setdefault(actual.value, []).append(item)
        cached = (table, by_value)
        _index_maps[(id(table), name)] = cached
    return cached[1]


def _writing(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            try:
                return method(*args, **kwargs)
            finally:
                _written()

    return call


_INDEX_NAME_AT = 6  # the position of index_name in moto's Table.query(hash_key, *args)


def _query(original: Callable[..., Any],
           all_items: Callable[..., Any]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``Table.query`` and ``Table.all_items`` that hand a Query its candidates (see point 4)."""

    @functools.wraps(original)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[_INDEX_NAME_AT] if len(args) > _INDEX_NAME_AT else None)
        _state.candidates = (self, _candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions")))
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            _state.candidates = None

    @functools.wraps(all_items)
    def candidates_or_all(self: Any) -> Any:
        table, candidates = getattr(_state, "candidates", None) or (None, None)
        return candidates if table is self and candidates is not None else all_items(self)

    return query, candidates_or_all


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    return call


class _QueueAttributes(Mapping[str, Any]):
    """moto's ``Queue.attributes`` (same names, same values), each computed when read."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += queue.KMS_ATTRIBUTES
        self._names = list(dict.fromkeys(names))

    def __getitem__(self, name: str) -> Any:
        from moto.core.utils import camelcase_to_underscores

        if name not in self._names:
            raise KeyError(name)
        if name == "RedrivePolicy":
            policy = self._queue.redrive_policy
            return json.dumps(policy) if policy else policy
        value = getattr(self._queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _visible(queue: Any) -> list[Any]:
    """moto's ``Queue.messages``: those visible and not delayed, the clock read once."""
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    return [message for message in queue._messages if now > message.visible_at and now >= message.delayed_until]


def _delete_message(queue: Any, receipt_handle: str) -> None:
    """moto's ``Queue.delete_message`` in one pass (the list is replaced, not changed in place,
    as moto does, for a receive iterating it on another thread)."""
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    if receipt_handle in queue.deleted_messages:
        return  # already deleted: SQS accepts deleting again
    for position, message in enumerate(queue._messages):
        if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles:
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(message.all_receipt_handles)
            queue._messages = queue._messages[:position] + queue._messages[position + 1:]
            return
    raise ReceiptHandleIsInvalid()


_SCALARS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}


def _plain(value: Any) -> bool:
    """True for an attribute value in DynamoDB's JSON form with no binary anywhere in it."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((kind, inner),) = value.items()
    if kind in _SCALARS:
        return isinstance(inner, _SCALARS[kind])
    if kind in ("SS", "NS"):
        return isinstance(inner, list) and all(isinstance(v, str) for v in inner)
    if kind == "L":
        return isinstance(inner, list) and all(_plain(v) for v in inner)
    if kind == "M":
        return isinstance(inner, dict) and all(_plain(v) for v in inner.values())
    return False


def _serialize_structure(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def serialize(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and _plain(value):
            self._default_serialize(serialized, value, shape, key)
        else:
            original(self, serialized, value, shape, key)

    return serialize


def apply() -> None:
    global _applied
    with _lock:
        if _applied:
            return
        from moto.dynamodb import models

        backend = models.DynamoDBBackend
        models.copy = SimpleNamespace(copy=copy.copy, deepcopy=_deepcopy)  # type: ignore[assignment]
        original = backend.transact_write_items

        def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            with _lock:
                touched = _touched(self, transact_items)
                _state.in_transaction = True
                try:
                    original(self, transact_items)
                except BaseException:
                    _restore(touched)
                    _written()
                    raise
                finally:
                    _state.in_transaction = False

        backend.transact_write_items = functools.wraps(original)(_transact_write_items)  # type: ignore[method-assign]
        for name in ("put_item", "update_item", "delete_item"):
            setattr(backend, name, _writing(getattr(backend, name)))
        for name in ("get_item", "query"):
            setattr(backend, name, _locked(getattr(backend, name)))

        from moto.dynamodb.models.table import Table

        Table.query, Table.all_items = _query(Table.query, Table.all_items)  # type: ignore[method-assign]
        Table.put_item = _writing(Table.put_item)  # type: ignore[method-assign]
        Table.delete_item = _writing(Table.delete_item)  # type: ignore[method-assign]

        from moto.sqs.models import Queue

        Queue.attributes = property(_QueueAttributes)  # type: ignore[assignment,method-assign]
        Queue.messages = property(_visible)  # type: ignore[assignment,method-assign]
        Queue.delete_message = _delete_message  # type: ignore[assignment,method-assign]

        from moto.core.serialize import BaseJSONSerializer

        BaseJSONSerializer._serialize_type_structure = _serialize_structure(  # type: ignore[method-assign]
            BaseJSONSerializer._serialize_type_structure)
        _applied = True
