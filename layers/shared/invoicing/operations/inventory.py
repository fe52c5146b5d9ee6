"""The catalog (products, variants), stock locations, stock levels and adjustments."""

from __future__ import annotations

from invoicing.domain.clock import now_iso
from invoicing.domain.ids import uuid7
from invoicing.domain.models import Adjustment, Location, Product, StockLevel, Variant
from invoicing.errors import BadRequest, Conflict
from invoicing.schemas.inventory import AdjustmentCreate, LocationCreate, ProductCreate, ProductDetail, VariantCreate
from invoicing.storage import catalog, locations, lookup, retry, stock
from invoicing.storage.paging import PageRequest, QueryPage


def create_product(business_id: str, body: ProductCreate) -> Product:
    now = now_iso()
    product = Product(id=uuid7(), business_id=business_id, name=body.name, description=body.description,
                      created_at=now, updated_at=now)
    catalog.put_product(product)
    return product


def list_products(business_id: str, request: PageRequest) -> tuple[QueryPage, list[Product]]:
    return catalog.list_products(business_id, request)


def get_product(business_id: str, product_id: str, *, include_variants: bool = False) -> ProductDetail:
    """The product, how many variants it has, and (asked for) the variants: a GetItem and a Query."""
    product = catalog.get_product(business_id, product_id)
    variants = catalog.variants_of(business_id, product_id)
    return ProductDetail(**product.model_dump(), variant_count=len(variants),
                         variants=variants if include_variants else None)


def get_variant(business_id: str, variant_id: str) -> Variant:
    return lookup.fetch(business_id, variants=[variant_id], business=False).require_variant(variant_id)


def create_variant(business_id: str, body: VariantCreate) -> Variant:
    """404 if the product is not this business's, 409 if the SKU is taken (case-insensitively)."""
    now = now_iso()
    variant = Variant(id=uuid7(), business_id=business_id, product_id=body.product_id, name=body.name, sku=body.sku,
                      unit_price=body.unit_price, created_at=now, updated_at=now)
    catalog.put_variant(variant)
    return variant


def list_variants(business_id: str, request: PageRequest, *, product_id: str | None = None
                  ) -> tuple[QueryPage, list[Variant]]:
    if product_id and not catalog.product_exists(business_id, product_id):
        raise catalog.product_not_found(product_id)
    return catalog.list_variants(business_id, request, product_id=product_id)


def create_location(business_id: str, body: LocationCreate) -> Location:
    location = Location(id=uuid7(), business_id=business_id, name=body.name, code=body.code,
                        is_default=body.is_default, created_at=now_iso())
    unmark_previous = [True]

    def attempt() -> Location:
        try:
            return locations.create(location, unmark_previous=unmark_previous[0])
        except locations.PreviousDefaultGone:
            unmark_previous[0] = False
            raise

    return retry.optimistic(attempt, exhausted=Conflict("Locations are being changed by another request; retry",
                                                        code="concurrent_update"))


def list_locations(business_id: str, request: PageRequest) -> tuple[QueryPage, list[Location]]:
    return locations.list_page(business_id, request)


def list_levels(business_id: str, request: PageRequest, *, variant_id: str | None = None,
                location_id: str | None = None) -> tuple[QueryPage, list[StockLevel]]:
    """404 for a variant or location filter that is not this business's."""
    if variant_id or location_id:
        found = lookup.fetch(business_id, variants=[variant_id] if variant_id else [],
                             locations=[location_id] if location_id else [])
        if variant_id:
            found.require_variant(variant_id)
        if location_id:
            found.require_location(location_id)
    return stock.list_levels(business_id, request, variant_id=variant_id, location_id=location_id)


def adjust_stock(business_id: str, body: AdjustmentCreate) -> Adjustment:
    """Add (> 0) or remove (< 0) stock at a location, the business's default when none is given."""
    variant_id, location_id, quantity_change, reason = (body.variant_id, body.location_id, body.quantity_change,
                                                       body.reason)
    found = lookup.fetch(business_id, variants=[variant_id], locations=[location_id] if location_id else [])
    found.require_variant(variant_id)
    if location_id is None:
        location_id = found.business.default_location_id
        if location_id is None:
            raise BadRequest("No location_id given and the business has no default location: create a location "
                             "first or pass location_id", code="no_default_location")
    else:
        found.require_location(location_id)
    adjustment_id, at = uuid7(), location_id
    return retry.optimistic(
        lambda: stock.adjust(business_id, adjustment_id, variant_id, at, quantity_change, reason, now_iso()),
        exhausted=Conflict("Stock of this variant is being changed by other requests; retry", code="concurrent_update"))
