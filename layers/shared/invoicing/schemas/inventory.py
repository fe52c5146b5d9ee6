"""Request bodies (and the product detail answer) of the inventory endpoints: catalog, locations,
stock adjustments."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from invoicing.domain.models import Product, Variant
from invoicing.schemas.types import Cents, Integer, RequestBody, Uuid

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sku = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^\S+$"),
    Field(description="Stock keeping unit, unique per business (case-insensitive), no spaces",
          examples=["TSHIRT-RED-M"]),
]
LocationCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    Field(description="Short code of the location", examples=["WH1"]),
]


def _not_zero(change: int) -> int:
    if change == 0:
        raise ValueError("quantity_change must not be 0: send a positive number to add stock, negative to remove")
    return change


QuantityChange = Annotated[
    Integer,
    Field(ge=-(10**12), le=10**12, description="Units to add (> 0) or remove (< 0); never 0"),
    AfterValidator(_not_zero),
]


class ProductCreate(RequestBody):
    name: Annotated[Label, Field(examples=["T-shirt"])]
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None


class VariantCreate(RequestBody):
    product_id: Annotated[Uuid, Field(description="The product this variant belongs to")]
    name: Annotated[Label, Field(examples=["Red, M"])]
    sku: Sku
    unit_price: Annotated[Cents, Field(description="Catalog price in cents, in the business's default currency")]


class LocationCreate(RequestBody):
    name: Annotated[Label, Field(examples=["Main warehouse"])]
    code: LocationCode
    is_default: Annotated[bool, Field(description="Make this the business's default location (the business's "
                                                  "first location always becomes the default)")] = False


class AdjustmentCreate(RequestBody):
    variant_id: Uuid
    location_id: Annotated[Uuid | None, Field(description="Default: the business's default location")] = None
    quantity_change: QuantityChange
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
                      Field(examples=["Received shipment"])]



class ProductDetail(Product):
    """A product with its variants' count, and the variants when ``include_variants`` asks."""

    variant_count: int
    variants: list[Variant] | None = Field(default=None, description="The variants (include_variants=true)")
