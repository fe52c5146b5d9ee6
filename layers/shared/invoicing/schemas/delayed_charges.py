"""Request bodies of the delayed charges endpoints."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from invoicing.domain.models import DelayedChargeType
from invoicing.schemas.types import Currency, DateString, PositiveCents, RequestBody, Uuid

ChargeType = Annotated[DelayedChargeType, Field(description="charge: added to the invoice; credit: subtracted")]
Amount = Annotated[PositiveCents, Field(description="Cents, above zero (a credit is a positive amount too)",
                                        examples=[2500])]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
                        Field(description="Becomes the invoice line's description", examples=["Extra delivery"])]
ServiceDate = Annotated[DateString, Field(description="When the service was given, YYYY-MM-DD")]
InternalNotes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000),
                          Field(description="For the business only; never shown on an invoice")]
ChargeCurrency = Annotated[Currency, Field(description="Default: the business's default currency")]
CustomerIdField = Annotated[Uuid, Field(description="A customer of this business")]


class DelayedChargeCreate(RequestBody):
    type: ChargeType = "charge"
    customer_id: CustomerIdField
    amount: Amount
    description: Description
    service_date: ServiceDate | None = None
    internal_notes: InternalNotes | None = None
    currency: ChargeCurrency | None = None


class DelayedChargeUpdate(RequestBody):
    """Only the fields sent change. ``service_date``/``internal_notes`` may be null to clear them;
    the others may be left out but not cleared."""

    # Typed without None on purpose: an explicit null is a 422, leaving the field out keeps it.
    type: ChargeType = None  # type: ignore[assignment]
    customer_id: CustomerIdField = None  # type: ignore[assignment]
    amount: Amount = None  # type: ignore[assignment]
    description: Description = None  # type: ignore[assignment]
    service_date: ServiceDate | None = None
    internal_notes: InternalNotes | None = None
    currency: ChargeCurrency = None  # type: ignore[assignment]

