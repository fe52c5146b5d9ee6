"""TransactWriteItems with the cancellation reasons made usable.

When a transaction is cancelled DynamoDB says, per action and in order, why: ``ConditionalCheckFailed``
for a failed condition, ``None`` for an action that was fine. Callers map the failed action to
the answer (the product of a new variant is missing: 404; its SKU is taken: 409).

The action builders take expression ``values`` as plain Python values (serialised here). A Put or
Delete action's inner dict is also the arguments of a single conditional PutItem or DeleteItem.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from invoicing.storage.table import NEW, client, key, serialize, table_name, value

CONDITION_FAILED = "ConditionalCheckFailed"
MAX_ACTIONS = 100  # DynamoDB's TransactWriteItems limit


class Cancelled(Exception):
    """The transaction was cancelled; ``reasons[i]`` is the code for action ``i`` (or ``"None"``)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == CONDITION_FAILED


def transact(actions: Sequence[dict[str, Any]]) -> None:
    """Write all ``actions`` or none; raise ``Cancelled`` with the per-action reasons."""
    try:
        client().transact_write_items(TransactItems=list(actions))  # type: ignore[arg-type]
    except client().exceptions.TransactionCanceledException as error:
        reasons = [str(r.get("Code", "None")) for r in error.response.get("CancellationReasons", [])]
        raise Cancelled(reasons) from None


def _conditional(action: dict[str, Any], condition: str | None, names: dict[str, str] | None,
                 values: dict[str, Any] | None) -> dict[str, Any]:
    """``action`` with its condition and expression attributes (those given)."""
    if condition:
        action["ConditionExpression"] = condition
    if names:
        action["ExpressionAttributeNames"] = names
    if values:
        action["ExpressionAttributeValues"] = {k: value(v) for k, v in values.items()}
    return action


def put(item: dict[str, Any], condition: str | None = NEW, *, names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Put action: by default of a new item only; else only if ``condition`` holds (None: always)."""
    return {"Put": _conditional({"TableName": table_name(), "Item": serialize(item)}, condition, names, values)}


def delete(pk: str, sk: str, condition: str, *, names: dict[str, str] | None = None,
           values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Delete action, only if ``condition`` holds for the item."""
    return {"Delete": _conditional({"TableName": table_name(), "Key": key(pk, sk)}, condition, names, values)}


def check(pk: str, sk: str, condition: str = "attribute_exists(PK)", *,
          values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ConditionCheck action (the default: the item exists)."""
    return {"ConditionCheck": _conditional({"TableName": table_name(), "Key": key(pk, sk)}, condition, None, values)}


def update(pk: str, sk: str, expression: str, *, condition: str | None = None,
           names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """An Update action."""
    action: dict[str, Any] = {"TableName": table_name(), "Key": key(pk, sk), "UpdateExpression": expression}
    return {"Update": _conditional(action, condition, names, values)}
