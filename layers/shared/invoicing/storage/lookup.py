"""Read a business and everything a request references in one BatchGetItem.

``fetch(b, customers=[...], variants=[...], locations=[...])`` reads the business item plus each
referenced customer, product, variant and location of that business (consistent reads, keys
de-duplicated, 100 keys per call, unprocessed keys retried with backoff). Keys are built in the
business's partition, so an ID of another business is simply not found: it answers like a
missing one. A soft-deleted customer is not found either.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from invoicing.domain.models import Business, Customer, Location, Product, Variant
from invoicing.errors import NotFound
from invoicing.storage import keys
from invoicing.storage.table import Throttled, client, deserialize, table_name

BATCH_GET_LIMIT = 100
_RETRIES = 8
_R = TypeVar("_R")


@dataclass(frozen=True)
class Lookup:
    business_id: str
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # SK -> item

    @property
    def business(self) -> Business:
        item = self.items.get(keys.BUSINESS_SK)
        if item is None:
            raise NotFound("Business not found", code="business_not_found")
        return Business.model_validate(item)

    def customer(self, customer_id: str) -> Customer | None:
        item = self.items.get(keys.customer(customer_id.lower()))
        return None if item is None or item.get("deleted") else Customer.model_validate(item)

    def product(self, product_id: str) -> Product | None:
        item = self.items.get(keys.product(product_id.lower()))
        return None if item is None else Product.model_validate(item)

    def variant(self, variant_id: str) -> Variant | None:
        item = self.items.get(keys.variant(variant_id.lower()))
        return None if item is None else Variant.model_validate(item)

    def location(self, location_id: str) -> Location | None:
        item = self.items.get(keys.location(location_id.lower()))
        return None if item is None else Location.model_validate(item)

    def raw(self, sort_key: str) -> dict[str, Any] | None:
        return self.items.get(sort_key)

    def require_customer(self, customer_id: str) -> Customer:
        return _required(self.customer(customer_id), "Customer", customer_id)

    def require_variant(self, variant_id: str) -> Variant:
        return _required(self.variant(variant_id), "Variant", variant_id)

    def require_location(self, location_id: str) -> Location:
        return _required(self.location(location_id), "Location", location_id)


def _required(found: _R | None, kind: str, record_id: str) -> _R:
    """``found``, or the 404 a request naming an unknown ``kind`` gets."""
    if found is None:
        raise NotFound(f"{kind} {record_id} not found", code=f"{kind.lower()}_not_found")
    return found


def fetch(business_id: str, *, customers: Iterable[str] = (), variants: Iterable[str] = (),
          locations: Iterable[str] = (), products: Iterable[str] = (), also: Iterable[str] = (),
          business: bool = True) -> Lookup:
    """The business item (unless ``business`` is false: a caller that never reads it) and every
    listed item of that business that exists; ``also`` takes further sort keys of the business's
    partition (an invoice, a counter), read by ``raw()``."""
    sort_keys = [keys.BUSINESS_SK] if business else []
    sort_keys += also
    sort_keys += [keys.customer(i.lower()) for i in customers]
    sort_keys += [keys.product(i.lower()) for i in products]
    sort_keys += [keys.variant(i.lower()) for i in variants]
    sort_keys += [keys.location(i.lower()) for i in locations]
    unique = list(dict.fromkeys(sort_keys))  # BatchGetItem rejects duplicate keys
    pk = keys.business(business_id)
    items: dict[str, dict[str, Any]] = {}
    for start in range(0, len(unique), BATCH_GET_LIMIT):
        chunk = [{"PK": {"S": pk}, "SK": {"S": sk}} for sk in unique[start:start + BATCH_GET_LIMIT]]
        for item in _batch_get(chunk):
            items[item[keys.SK]] = item
    return Lookup(business_id=business_id, items=items)


def _batch_get(request_keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    pending: dict[str, Any] = {table_name(): {"Keys": request_keys, "ConsistentRead": True}}
    for attempt in range(_RETRIES):
        out = client().batch_get_item(RequestItems=pending)
        found.extend(deserialize(item) for item in out.get("Responses", {}).get(table_name(), []))
        pending = out.get("UnprocessedKeys") or {}
        if not pending:
            return found
        time.sleep(min(0.025 * 2**attempt, 1.0))  # DynamoDB asks callers to back off before retrying
    raise Throttled(f"BatchGetItem left keys unprocessed after {_RETRIES} attempts")
