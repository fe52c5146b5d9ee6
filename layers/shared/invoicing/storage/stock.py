"""Stock levels (``STOCK#<variant>#<location>``, also on GSI1 under their location) and adjustments.

An adjustment and the level it changes are written in one transaction, conditional on the
quantity that was read: the stored level is always the sum of its adjustments, never negative,
and each adjustment records the exact ``quantity_after`` even under concurrent changes (a
writer that lost the race reads again).
"""

from __future__ import annotations

from typing import Any

from invoicing.domain.models import Adjustment, StockLevel
from invoicing.errors import Conflict
from invoicing.storage import keys, transactions
from invoicing.storage.paging import PageRequest, Partition, QueryPage, query_page
from invoicing.storage.retry import LostRace
from invoicing.storage.table import get_item


def get_quantity(business_id: str, variant_id: str, location_id: str) -> int | None:
    """The on-hand quantity, or None if this variant never had stock at this location."""
    item = get_item(keys.business(business_id), keys.stock(variant_id, location_id), attributes="quantity")
    return int(item["quantity"]) if item else None


def level_action(business_id: str, variant_id: str, location_id: str, *, current: int | None, after: int,
                 now: str) -> dict[str, Any]:
    """The TransactWriteItems action that moves a level from ``current`` (None: no level item yet)
    to ``after``; it fails if somebody changed the level in between. For any transaction that
    moves stock (adjustments, and invoice delivery)."""
    business_pk, sk = keys.business(business_id), keys.stock(variant_id, location_id)
    if current is None:
        level = StockLevel(variant_id=variant_id, location_id=location_id, quantity=after, updated_at=now)
        return transactions.put({
            keys.PK: business_pk, keys.SK: sk,
            keys.GSI1PK: keys.stock_at_location(business_id, location_id),
            keys.GSI1SK: keys.stock_at_location_sk(variant_id),
            "business_id": business_id, **level.model_dump(),
        })
    return transactions.update(business_pk, sk, "SET quantity = :after, updated_at = :now",
                               condition="quantity = :current",
                               values={":after": after, ":now": now, ":current": current})


def adjust(business_id: str, adjustment_id: str, variant_id: str, location_id: str, quantity_change: int,
           reason: str, now: str) -> Adjustment:
    """Change on-hand stock by ``quantity_change``; 409 if it would go below zero, ``LostRace``
    if the level changed since it was read."""
    current = get_quantity(business_id, variant_id, location_id)
    on_hand = current or 0
    after = on_hand + quantity_change
    if after < 0:
        raise Conflict(
            f"Not enough stock: {on_hand} on hand at location {location_id}, "
            f"so {-quantity_change} cannot be removed",
            code="insufficient_stock",
        )
    adjustment = Adjustment(id=adjustment_id, variant_id=variant_id, location_id=location_id,
                            quantity_change=quantity_change, reason=reason, quantity_after=after, created_at=now)
    try:
        transactions.transact([
            level_action(business_id, variant_id, location_id, current=current, after=after, now=now),
            transactions.put({keys.PK: keys.business(business_id), keys.SK: keys.adjustment(adjustment_id),
                              "business_id": business_id, **adjustment.model_dump()}),
        ])
    except transactions.Cancelled as cancelled:
        if cancelled.failed(1):
            raise Conflict(f"Adjustment {adjustment_id} already exists", code="adjustment_exists") from None
        raise LostRace(f"Stock of variant {variant_id} changed since it was read") from None
    return adjustment


def list_levels(business_id: str, request: PageRequest, *, variant_id: str | None = None,
                location_id: str | None = None) -> tuple[QueryPage, list[StockLevel]]:
    """Levels of one variant (everywhere), of one location (every variant), of one pair, or all."""
    if location_id and not variant_id:
        where = Partition.on_gsi1(business_id, keys.stock_at_location(business_id, location_id), keys.STOCK)
    elif variant_id and location_id:
        # IDs are fixed-length UUIDs, so this prefix is exactly the one level's key
        where = Partition.of(business_id, keys.stock(variant_id, location_id))
    elif variant_id:
        where = Partition.of(business_id, keys.stock_of_variant(variant_id))
    else:
        where = Partition.of(business_id, keys.STOCK)
    page = query_page(where, request)
    return page, [StockLevel.model_validate(item) for item in page.items]


def deduct_action(business_id: str, variant_id: str, location_id: str, quantity: int, now: str) -> dict[str, Any]:
    """A delivery's TransactWriteItems action: take ``quantity`` out, creating the level if it
    never existed. Unconditional (ADD): goods that left are recorded even when the books said
    they were not there, so a level may go below zero until someone counts and adjusts."""
    return transactions.update(
        keys.business(business_id), keys.stock(variant_id, location_id),
        "SET GSI1PK = :gpk, GSI1SK = :gsk, business_id = :b, variant_id = :v, location_id = :l, updated_at = :now "
        "ADD quantity :change",
        values={":gpk": keys.stock_at_location(business_id, location_id), ":gsk": keys.stock_at_location_sk(variant_id),
                ":b": business_id, ":v": variant_id, ":l": location_id, ":now": now, ":change": -quantity},
    )
