"""The catalog: products (``PRODUCT#<id>``) and their variants (``VARIANT#<id>``).

A SKU is unique per business, case-insensitively: a variant is written in one transaction with a
claim item ``SKU#<lower-case sku>`` that only succeeds if nobody holds it, and with a check that
its product exists. Variants are also on GSI1 under their product, for listing one product's.
"""

from __future__ import annotations

from typing import Any

from invoicing.domain.models import Product, Variant
from invoicing.errors import Conflict, NotFound
from invoicing.storage import keys, transactions
from invoicing.storage.paging import PageRequest, Partition, QueryPage, query_every, query_page
from invoicing.storage.table import get_item, put_item


def product_not_found(product_id: str) -> NotFound:
    return NotFound(f"Product {product_id} not found", code="product_not_found")


def put_product(product: Product) -> None:
    item = {keys.PK: keys.business(product.business_id), keys.SK: keys.product(product.id), **product.model_dump()}
    put_item(item)


def product_exists(business_id: str, product_id: str) -> bool:
    return get_item(keys.business(business_id), keys.product(product_id), consistent=False, attributes="PK") is not None


def get_product(business_id: str, product_id: str) -> Product:
    item = get_item(keys.business(business_id), keys.product(product_id))
    if item is None:
        raise product_not_found(product_id)
    return Product.model_validate(item)


def variants_of(business_id: str, product_id: str) -> list[Variant]:
    """Every variant of one product (GSI1), oldest first."""
    where = Partition.on_gsi1(business_id, keys.variants_of_product(business_id, product_id), keys.VARIANT)
    return [Variant.model_validate(item) for item in query_every(where)]


def list_products(business_id: str, request: PageRequest) -> tuple[QueryPage, list[Product]]:
    page = query_page(Partition.of(business_id, keys.PRODUCT), request)
    return page, [Product.model_validate(item) for item in page.items]


def variant_item(variant: Variant) -> dict[str, Any]:
    return {
        keys.PK: keys.business(variant.business_id),
        keys.SK: keys.variant(variant.id),
        keys.GSI1PK: keys.variants_of_product(variant.business_id, variant.product_id),
        keys.GSI1SK: keys.variant(variant.id),
        **variant.model_dump(),
    }


def put_variant(variant: Variant) -> None:
    """Write a new variant with its SKU claim; 404 if its product is missing, 409 if the SKU is taken."""
    business_pk = keys.business(variant.business_id)
    claim = {keys.PK: business_pk, keys.SK: keys.sku(variant.sku), "variant_id": variant.id, "sku": variant.sku,
             "created_at": variant.created_at}
    try:
        transactions.transact([
            transactions.check(business_pk, keys.product(variant.product_id)),
            transactions.put(variant_item(variant)),
            transactions.put(claim),
        ])
    except transactions.Cancelled as cancelled:
        if cancelled.failed(0):
            raise product_not_found(variant.product_id) from None
        if cancelled.failed(2):
            raise Conflict(f"SKU '{variant.sku}' is already used by another variant of this business",
                           code="sku_taken") from None
        raise Conflict("The catalog is being changed by another request; retry", code="concurrent_update") from None


def list_variants(business_id: str, request: PageRequest, *,
                  product_id: str | None = None) -> tuple[QueryPage, list[Variant]]:
    where = (Partition.on_gsi1(business_id, keys.variants_of_product(business_id, product_id), keys.VARIANT)
             if product_id else Partition.of(business_id, keys.VARIANT))
    page = query_page(where, request)
    return page, [Variant.model_validate(item) for item in page.items]
