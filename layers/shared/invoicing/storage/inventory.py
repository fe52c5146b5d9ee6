"""Catalog and location records with caller-chosen ids, for seed data and admin tools (the API
assigns ids itself). Same rules as the API: a variant needs its product and a free SKU; a
location asked to be the default (or the first one) becomes the business's default."""

from __future__ import annotations

from invoicing.domain.clock import now_iso
from invoicing.domain.models import Location, Product, Variant
from invoicing.storage import catalog, locations


def put_product(business_id: str, product_id: str, *, name: str, description: str | None = None) -> Product:
    now = now_iso()
    product = Product(id=product_id, business_id=business_id, name=name, description=description, created_at=now,
                      updated_at=now)
    catalog.put_product(product)
    return product


def put_variant(business_id: str, variant_id: str, *, product_id: str, name: str, sku: str,
                unit_price: int) -> Variant:
    now = now_iso()
    variant = Variant(id=variant_id, business_id=business_id, product_id=product_id, name=name, sku=sku,
                      unit_price=unit_price, created_at=now, updated_at=now)
    catalog.put_variant(variant)
    return variant


def put_location(business_id: str, location_id: str, *, name: str, code: str, is_default: bool = False) -> Location:
    return locations.create(Location(id=location_id, business_id=business_id, name=name, code=code,
                                     is_default=is_default, created_at=now_iso()))
