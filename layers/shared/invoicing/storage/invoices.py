"""Invoice items: one item per invoice, its lines embedded."""

from __future__ import annotations

from typing import Any

from invoicing.domain.models import Invoice
from invoicing.storage import keys
from invoicing.storage.table import client, serialize, table_name


def item_of(invoice: Invoice, *, version: int = 1) -> dict[str, Any]:
    return {
        keys.PK: keys.business(invoice.business_id),
        keys.SK: keys.invoice(invoice.id),
        **invoice.model_dump(),
        "version": version,  # every change bumps it; state changes are conditional on it
    }


def put_new(invoice: Invoice) -> None:
    """Write a new invoice; an existing id is never overwritten."""
    client().put_item(
        TableName=table_name(),
        Item=serialize(item_of(invoice)),
        ConditionExpression="attribute_not_exists(PK)",
    )
