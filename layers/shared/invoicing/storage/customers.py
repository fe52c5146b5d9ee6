"""Customer items: ``BIZ#<b> / CUSTOMER#<id>``.

A deleted customer stays in the table (``deleted = true``): invoices already written keep their
copy of its name and email, while reads, updates, lists and new invoices treat it as missing.
Every change is conditional on the item's ``version``, so two concurrent updates never lose one.
"""

from __future__ import annotations

from typing import Any

from invoicing.domain.clock import now_iso
from invoicing.domain.models import Customer
from invoicing.errors import NotFound
from invoicing.storage import keys
from invoicing.storage.paging import Filter, PageRequest, Partition, QueryPage, query_page
from invoicing.storage.retry import LostRace
from invoicing.storage.table import client, get_item, key, put_item, serialize, table_name, value

_VISIBLE = "(attribute_not_exists(deleted) OR deleted = :false)"


def not_found(customer_id: str) -> NotFound:
    return NotFound(f"Customer {customer_id} not found", code="customer_not_found")


def search_text(customer: Customer) -> str:
    """What ``search`` matches: name and email, lower-cased (DynamoDB's contains() is case-sensitive)."""
    return f"{customer.name}\n{customer.email}".lower()


def item_of(customer: Customer, *, version: int = 1) -> dict[str, Any]:
    return {
        keys.PK: keys.business(customer.business_id),
        keys.SK: keys.customer(customer.id),
        **customer.model_dump(),
        "search_text": search_text(customer),
        "version": version,
    }


def put_new(customer: Customer) -> None:
    put_item(item_of(customer))


def _read(business_id: str, customer_id: str) -> dict[str, Any] | None:
    item = get_item(keys.business(business_id), keys.customer(customer_id))
    return None if item is None or item.get("deleted") else item


def get(business_id: str, customer_id: str) -> Customer:
    item = _read(business_id, customer_id)
    if item is None:
        raise not_found(customer_id)
    return Customer.model_validate(item)


def _version_condition(item: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if "version" in item:
        return "version = :version", {":version": value(item["version"])}
    return "attribute_not_exists(version)", {}  # written before versions existed (e.g. a seed)


def update(business_id: str, customer_id: str, changes: dict[str, Any], now: str) -> Customer:
    """Apply ``changes`` (field -> value; ``None`` clears an optional field) and return the result;
    ``LostRace`` if the customer changed (or was deleted) between the read and the write."""
    item = _read(business_id, customer_id)
    if item is None:
        raise not_found(customer_id)
    updated = Customer.model_validate({**item, **changes, "updated_at": now})
    condition, values = _version_condition(item)
    args: dict[str, Any] = {
        "TableName": table_name(),
        "Item": serialize(item_of(updated, version=int(item.get("version", 0)) + 1)),
        "ConditionExpression": f"attribute_exists(PK) AND {condition}",
    }
    if values:
        args["ExpressionAttributeValues"] = values
    try:
        client().put_item(**args)
    except client().exceptions.ConditionalCheckFailedException:
        raise LostRace(f"Customer {customer_id} was changed by another request") from None
    return updated


def soft_delete(business_id: str, customer_id: str, now: str) -> None:
    try:
        client().update_item(
            TableName=table_name(),
            Key=key(keys.business(business_id), keys.customer(customer_id)),
            UpdateExpression="SET deleted = :true, deleted_at = :now, updated_at = :now, "
                             "version = if_not_exists(version, :zero) + :one",
            ConditionExpression=f"attribute_exists(PK) AND {_VISIBLE}",
            ExpressionAttributeValues={":true": value(True), ":false": value(False), ":now": value(now),
                                       ":zero": value(0), ":one": value(1)},
        )
    except client().exceptions.ConditionalCheckFailedException:
        raise not_found(customer_id) from None


def list_page(business_id: str, request: PageRequest, *, search: str | None = None) -> tuple[QueryPage, list[Customer]]:
    """A page of the business's customers that are not deleted, optionally only those whose name or
    email contains ``search`` (case-insensitive)."""
    expression, values = _VISIBLE, {":false": value(False)}
    if search:
        expression += " AND contains(search_text, :search)"
        values[":search"] = value(search.lower())
    page = query_page(Partition.of(business_id, keys.CUSTOMER), request, Filter(expression, values=values))
    return page, [Customer.model_validate(item) for item in page.items]


def put_customer(business_id: str, customer_id: str, *, name: str, email: str, phone: str | None = None,
                 address: str | None = None, now: str | None = None) -> Customer:
    """Write a new customer with a caller-chosen id (seed data, admin tools); the API assigns its own."""
    at = now or now_iso()
    customer = Customer(id=customer_id, business_id=business_id, name=name, email=email, phone=phone, address=address,
                        created_at=at, updated_at=at)
    put_new(customer)
    return customer
