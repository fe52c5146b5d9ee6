"""What a delivery takes out of stock: each variant line's quantity, at the line's location,
else the invoice's fulfillment location, else the business's default location."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from invoicing.domain.models import LineItem
from invoicing.errors import BadRequest


def deductions(lines: Sequence[LineItem], *, fulfillment_location_id: str | None,
               default_location_id: str | None) -> dict[tuple[str, str], int]:
    """(variant, location) -> quantity to remove. Custom lines move no stock."""
    taken: Counter[tuple[str, str]] = Counter()
    for index, line in enumerate(lines):
        if line.variant_id is None:
            continue
        location = line.location_id or fulfillment_location_id or default_location_id
        if location is None:
            raise BadRequest(
                f"line_items[{index}] has no location to deduct stock from: set the line's location_id, the "
                "invoice's fulfillment_location_id, or a default location for the business",
                code="no_location",
            )
        taken[(line.variant_id, location)] += line.quantity
    return dict(taken)
