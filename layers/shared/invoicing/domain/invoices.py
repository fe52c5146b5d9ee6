"""Invoice rules: line pricing, totals, dates. Pure functions over plain values."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from invoicing.domain.models import LineItem
from invoicing.errors import BadRequest, NotFound, Unprocessable

MAX_TOTAL_CENTS = 10**15
MAX_LINES = 250  # lines of one invoice, requested or swept in


@dataclass(frozen=True)
class LineInput:
    """One requested line, as validated by the API (every field optional, as the contract has it)."""

    variant_id: str | None = None
    quantity: int | None = None
    description: str | None = None
    unit_price: int | None = None
    amount: int | None = None
    location_id: str | None = None

    @property
    def is_custom(self) -> bool:
        return self.variant_id in (None, "custom")

    @property
    def price_given(self) -> int | None:
        """``unit_price``, or the deprecated ``amount`` when ``unit_price`` is absent."""
        return self.unit_price if self.unit_price is not None else self.amount


@dataclass(frozen=True)
class CatalogPrice:
    name: str
    unit_price: int


def price_lines(
    lines: Sequence[LineInput],
    *,
    catalog: Mapping[str, CatalogPrice],
    invoice_currency: str,
    catalog_currency: str,
    new_id: Callable[[], str],
) -> list[LineItem]:
    """Turn requested lines into invoice lines with their price copied on.

    A custom line needs a description and a price; a variant line takes the catalog's name and
    price unless given, and a catalog price only exists in the business's default currency.
    """
    priced = []
    for index, line in enumerate(lines):
        at = ("body", "line_items", index)
        quantity = 1 if line.quantity is None else line.quantity
        if line.is_custom:
            if line.description is None:
                raise Unprocessable("A custom line item needs a description", loc=(*at, "description"),
                                    type="missing")
            if line.price_given is None:
                raise Unprocessable("A custom line item needs a unit_price in cents", loc=(*at, "unit_price"),
                                    type="missing")
            description, unit_price, variant_id, location_id = line.description, line.price_given, None, None
        else:
            assert line.variant_id is not None
            variant = catalog.get(line.variant_id)
            if variant is None:
                raise NotFound(f"Variant {line.variant_id} not found (line_items[{index}])", code="variant_not_found")
            if line.price_given is None and invoice_currency != catalog_currency:
                raise BadRequest(
                    f"line_items[{index}]: the catalog price of variant {line.variant_id} is in {catalog_currency}, "
                    f"not {invoice_currency}; give a unit_price for this line",
                    code="currency_mismatch",
                )
            description = line.description or variant.name
            unit_price = variant.unit_price if line.price_given is None else line.price_given
            variant_id, location_id = line.variant_id, line.location_id
        priced.append(
            LineItem(id=new_id(), variant_id=variant_id, description=description, quantity=quantity,
                     unit_price=unit_price, amount=quantity * unit_price, location_id=location_id)
        )
    return priced


def total_of(lines: Sequence[LineItem]) -> int:
    """Exact integer sum, within the service's limit of 10^15 cents."""
    total = sum(line.amount for line in lines)
    if abs(total) > MAX_TOTAL_CENTS:
        raise Unprocessable(
            f"The invoice total of {total} cents exceeds the limit of {MAX_TOTAL_CENTS} cents",
            loc=("body", "line_items"), type="less_than_equal", input=total, ctx={"le": MAX_TOTAL_CENTS},
        )
    return total


def check_dates(issue: date, due: date) -> None:
    if due < issue:
        raise Unprocessable(
            f"due_date {due.isoformat()} is before issue_date {issue.isoformat()}",
            loc=("body", "due_date"), type="greater_than_equal", input=due.isoformat(),
            ctx={"ge": issue.isoformat()},
        )
