"""Inventory API: the catalog (products, variants), stock locations, stock levels and adjustments."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from invoicing.domain.models import Adjustment, Location, Product, StockLevel, Variant
from invoicing.http.api import InvoicingApi, entry_point
from invoicing.http.envelope import Envelope, Page, counted, documented, ok
from invoicing.http.paging import Cursor, Descending, Direction, IncludeTotal, Limit, SortByCreated, page_request
from invoicing.operations import inventory
from invoicing.schemas.inventory import AdjustmentCreate, LocationCreate, ProductCreate, ProductDetail, VariantCreate
from invoicing.schemas.types import Uuid

app = InvoicingApi()



@app.post("/api/v1/inventory/products", status_code=201, responses=documented(201), summary="Create product",
          tags=["inventory"])
def create_product(body: Annotated[ProductCreate, Body()]) -> Envelope[Product]:
    product = inventory.create_product(app.caller.business_id, body)
    return counted(product, metric="ProductCreated", code="product.created", message="Product created")


@app.get("/api/v1/inventory/products", responses=documented(200), summary="List products", tags=["inventory"])
def list_products(limit: Limit = 50, cursor: Cursor = None, direction: Direction = None, descending: Descending = True,
                  include_total_count: IncludeTotal = False, sort_by: SortByCreated = "created_at",
                  ) -> Envelope[Page[Product]]:
    request = page_request(limit, cursor, direction, descending, include_total_count)
    page, items = inventory.list_products(app.caller.business_id, request)
    return ok(page.as_dict(items), code="product.list", message="Products retrieved")


ProductId = Annotated[Uuid, Path(description="The product's UUID")]
VariantId = Annotated[Uuid, Path(description="The variant's UUID")]


@app.get("/api/v1/inventory/products/<product_id>", responses=documented(200, 404), summary="Get product",
         tags=["inventory"], operation_id="get_product_api_v1_inventory_products__id__get")
def get_product(product_id: ProductId, include_variants: Annotated[bool, Query(
        description="Also list the product's variants")] = False) -> Envelope[ProductDetail]:
    product = inventory.get_product(app.caller.business_id, product_id, include_variants=include_variants)
    return ok(product, code="product.retrieved", message="Product retrieved")


@app.get("/api/v1/inventory/products/variants/<variant_id>", responses=documented(200, 404), summary="Get variant",
         tags=["inventory"], operation_id="get_variant_api_v1_inventory_products_variants__id__get")
def get_variant(variant_id: VariantId) -> Envelope[Variant]:
    return ok(inventory.get_variant(app.caller.business_id, variant_id), code="variant.retrieved",
              message="Variant retrieved")


@app.post("/api/v1/inventory/products/variants", status_code=201, responses=documented(201, 404, 409),
          summary="Create variant", tags=["inventory"],
          description="A sellable variant of a product. 404 if the product is unknown; 409 if the SKU is already "
                      "used in this business.")
def create_variant(body: Annotated[VariantCreate, Body()]) -> Envelope[Variant]:
    variant = inventory.create_variant(app.caller.business_id, body)
    return counted(variant, metric="VariantCreated", code="variant.created", message="Variant created")


@app.get("/api/v1/inventory/products/variants", responses=documented(200, 404), summary="List variants",
         tags=["inventory"])
def list_variants(
    product_id: Annotated[Uuid | None, Query(description="Only this product's variants")] = None,
    limit: Limit = 50, cursor: Cursor = None, direction: Direction = None, descending: Descending = True,
    include_total_count: IncludeTotal = False, sort_by: SortByCreated = "created_at",
) -> Envelope[Page[Variant]]:
    request = page_request(limit, cursor, direction, descending, include_total_count)
    page, items = inventory.list_variants(app.caller.business_id, request, product_id=product_id)
    return ok(page.as_dict(items), code="variant.list", message="Variants retrieved")


@app.post("/api/v1/inventory/locations", status_code=201, responses=documented(201, 409), summary="Create location",
          tags=["inventory"])
def create_location(body: Annotated[LocationCreate, Body()]) -> Envelope[Location]:
    location = inventory.create_location(app.caller.business_id, body)
    return counted(location, metric="LocationCreated", code="location.created", message="Location created")


@app.get("/api/v1/inventory/locations", responses=documented(200), summary="List locations", tags=["inventory"])
def list_locations(limit: Limit = 50, cursor: Cursor = None, direction: Direction = None,
                   descending: Descending = True, include_total_count: IncludeTotal = False,
                   sort_by: SortByCreated = "created_at") -> Envelope[Page[Location]]:
    request = page_request(limit, cursor, direction, descending, include_total_count)
    page, items = inventory.list_locations(app.caller.business_id, request)
    return ok(page.as_dict(items), code="location.list", message="Locations retrieved")


@app.get("/api/v1/inventory/levels", responses=documented(200, 404), summary="List stock levels",
         tags=["inventory"],
         description="On-hand quantities per variant and location. Filter by variant, by location, or both; a "
                     "variant never stocked at a location has no level.")
def list_levels(
    variant_id: Annotated[Uuid | None, Query(description="Only this variant's levels")] = None,
    location_id: Annotated[Uuid | None, Query(description="Only the levels at this location")] = None,
    limit: Limit = 50, cursor: Cursor = None, direction: Direction = None, descending: Descending = True,
    include_total_count: IncludeTotal = False,
) -> Envelope[Page[StockLevel]]:
    request = page_request(limit, cursor, direction, descending, include_total_count)
    page, items = inventory.list_levels(app.caller.business_id, request, variant_id=variant_id,
                                        location_id=location_id)
    return ok(page.as_dict(items), code="stock_level.list", message="Stock levels retrieved")


@app.post("/api/v1/inventory/adjustments", status_code=201, responses=documented(201, 400, 404, 409),
          summary="Adjust stock", tags=["inventory"],
          description="Add or remove stock of a variant at a location (default: the business's default location). "
                      "409 if it would take on-hand stock below zero.")
def create_adjustment(body: Annotated[AdjustmentCreate, Body()]) -> Envelope[Adjustment]:
    adjustment = inventory.adjust_stock(app.caller.business_id, body)
    return counted(adjustment, metric="StockAdjusted", code="stock.adjusted", message="Stock adjusted")


lambda_handler = entry_point(app, __name__)
