"""Delayed charges: ``BIZ#<b> / DCHARGE#<id>``, also on GSI1 under their customer by status
(``BIZ#<b>#CUSTOMER#<c>#DCHARGES`` / ``<status>#<id>``), so a customer's pending charges, oldest
first, are one Query.

``pending`` -> ``invoiced`` happens inside an invoice's transaction (``invoice_action``) and back
(``release_action``) when that draft is deleted. Every write is conditional: updates on the
status being pending and on the version that was read, deletes on the status, invoicing on both,
releasing on the charge being on that very invoice. So a concurrent sweep and an update never both
win, and a charge lands on at most one invoice.
"""

from __future__ import annotations

from typing import Any

from invoicing.domain.delayed_charges import require_pending
from invoicing.domain.models import DelayedCharge
from invoicing.errors import NotFound
from invoicing.storage import keys, transactions
from invoicing.storage.paging import Filter, PageRequest, Partition, QueryPage, condition, query_all, query_page
from invoicing.storage.retry import LostRace
from invoicing.storage.table import client, get_item, key, put_item, serialize, table_name, value

_DERIVED = {"can_be_updated", "can_be_deleted", "can_be_invoiced"}  # computed from status, never stored
_STATUS = {"#status": "status"}  # a DynamoDB reserved word, as is "type"


def not_found(charge_id: str) -> NotFound:
    return NotFound(f"Delayed charge {charge_id} not found", code="delayed_charge_not_found")


def item_of(charge: DelayedCharge) -> dict[str, Any]:
    return {
        keys.PK: keys.business(charge.business_id),
        keys.SK: keys.delayed_charge(charge.id),
        keys.GSI1PK: keys.delayed_charges_of_customer(charge.business_id, charge.customer_id),
        keys.GSI1SK: keys.delayed_charge_by_status(charge.status, charge.id),
        keys.GSI4PK: keys.delayed_charges_of_customer(charge.business_id, charge.customer_id),
        keys.GSI4SK: keys.delayed_charge(charge.id),
        keys.GSI5PK: keys.delayed_charges_with_status(charge.business_id, charge.status),
        keys.GSI5SK: keys.delayed_charge(charge.id),
        **charge.model_dump(exclude=_DERIVED),
        "version": charge.version,
        "search_text": charge.description.lower(),  # what ``search`` matches; contains() is case-sensitive
    }


def put_new(charge: DelayedCharge) -> None:
    put_item(item_of(charge))


def get(business_id: str, charge_id: str) -> DelayedCharge:
    item = get_item(keys.business(business_id), keys.delayed_charge(charge_id))
    if item is None:
        raise not_found(charge_id)
    return DelayedCharge.model_validate(item)


def update(business_id: str, charge_id: str, changes: dict[str, Any], now: str) -> DelayedCharge:
    """Apply ``changes`` (field -> value; ``None`` clears an optional field) to a pending charge.
    404 if it does not exist, 409 unless it is pending, ``LostRace`` if it changed since the read."""
    current = get(business_id, charge_id)
    require_pending(current, "changed")
    updated = DelayedCharge.model_validate(
        {**current.model_dump(exclude=_DERIVED), **changes, "updated_at": now, "version": current.version + 1})
    try:
        client().put_item(
            TableName=table_name(), Item=serialize(item_of(updated)),
            ConditionExpression="#status = :pending AND version = :version",
            ExpressionAttributeNames=_STATUS,
            ExpressionAttributeValues={":pending": value("pending"), ":version": value(current.version)},
        )
    except client().exceptions.ConditionalCheckFailedException:
        raise LostRace(f"Delayed charge {charge_id} was changed by another request") from None
    return updated


def delete(business_id: str, charge_id: str) -> None:
    """Delete a pending charge; 404 if it does not exist, 409 unless it is pending, ``LostRace``
    if it was released back to pending while the delete was refused."""
    try:
        client().delete_item(
            TableName=table_name(), Key=key(keys.business(business_id), keys.delayed_charge(charge_id)),
            ConditionExpression="#status = :pending",  # false for a missing item too
            ExpressionAttributeNames=_STATUS, ExpressionAttributeValues={":pending": value("pending")},
        )
    except client().exceptions.ConditionalCheckFailedException:
        require_pending(get(business_id, charge_id), "deleted")  # 404 or 409 ...
        raise LostRace(f"Delayed charge {charge_id} was changed by another request") from None  # ... or pending again


def list_page(business_id: str, request: PageRequest, *, customer_id: str | None = None, status: str | None = None,
              type: str | None = None, search: str | None = None) -> tuple[QueryPage, list[DelayedCharge]]:
    """A page of the business's delayed charges in creation order, optionally filtered.

    A customer, a status, or both are served by an index (GSI4, GSI5, GSI1: the customer's
    charges by status, then id); the other filters are applied while reading."""
    if customer_id and status:
        where = Partition.on_gsi1(business_id, keys.delayed_charges_of_customer(business_id, customer_id),
                                  keys.delayed_charge_by_status(status))
    elif customer_id:
        where = Partition.on_index(business_id, keys.BY_CUSTOMER,
                                   keys.delayed_charges_of_customer(business_id, customer_id), keys.DELAYED_CHARGE)
    elif status:
        where = Partition.on_index(business_id, keys.BY_STATUS, keys.delayed_charges_with_status(business_id, status),
                                   keys.DELAYED_CHARGE)
    else:
        where = Partition.of(business_id, keys.DELAYED_CHARGE)
    filter_ = Filter.all_of(condition("type", "=", type) if type else None,
                            condition("search_text", "contains", search.lower()) if search else None)
    page = query_page(where, request, filter_)
    return page, [DelayedCharge.model_validate(item) for item in page.items]


def pending_for_customer(business_id: str, customer_id: str, currency: str | None = None,
                         limit: int | None = None) -> list[DelayedCharge]:
    """A customer's pending charges (of ``currency`` if given), oldest first, at most ``limit``.

    One Query on GSI1 unless pending charges of other currencies are interleaved (the currency is
    a filter, applied after DynamoDB's Limit) or there are more than 1 MB of them. GSI reads are
    eventually consistent: a charge made a moment ago may be missing, and one just invoiced may
    still show; ``invoice_action``'s condition is what makes the sweep exact."""
    args: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": keys.GSI1,
        "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :pending)",
        "ExpressionAttributeValues": {":pk": value(keys.delayed_charges_of_customer(business_id, customer_id)),
                                      ":pending": value(keys.delayed_charge_by_status("pending"))},
        "ScanIndexForward": True,  # ids are UUIDv7: oldest first
    }
    if currency:
        args["FilterExpression"] = "currency = :currency"
        args["ExpressionAttributeValues"][":currency"] = value(currency)
    return [DelayedCharge.model_validate(item) for item in query_all(args, limit=limit)]


def invoice_action(charge: DelayedCharge, invoice_id: str, now: str) -> dict[str, Any]:
    """The TransactWriteItems action that puts ``charge`` on invoice ``invoice_id``: the charge
    as read, invoiced, written whole (as ``update`` writes an edit).

    It fails (the transaction is cancelled) unless the charge is still pending and unchanged
    since it was read (same version): a charge already swept by a concurrent invoice, or edited
    after the sweep read it, is never invoiced twice or at a stale amount."""
    invoiced = charge.model_copy(update={"status": "invoiced", "invoiced_invoice_id": invoice_id, "invoiced_at": now,
                                         "updated_at": now, "version": charge.version + 1})
    return transactions.put(item_of(invoiced), "#status = :pending AND version = :version", names=_STATUS,
                            values={":pending": "pending", ":version": charge.version})


def release_action(business_id: str, charge_id: str, invoice_id: str, now: str) -> dict[str, Any]:
    """The TransactWriteItems action that returns a charge from invoice ``invoice_id`` to pending
    (its draft is being deleted). It fails unless the charge is invoiced on exactly that invoice."""
    return transactions.update(
        keys.business(business_id), keys.delayed_charge(charge_id),
        "SET #status = :pending, updated_at = :now, GSI1SK = :gsi1sk, GSI5PK = :gsi5pk, version = version + :one "
        "REMOVE invoiced_invoice_id, invoiced_at",
        condition="#status = :invoiced AND invoiced_invoice_id = :invoice",
        names=_STATUS,
        values={":pending": "pending", ":invoiced": "invoiced", ":invoice": invoice_id, ":now": now, ":one": 1,
                ":gsi1sk": keys.delayed_charge_by_status("pending", charge_id),
                ":gsi5pk": keys.delayed_charges_with_status(business_id, "pending")},
    )
