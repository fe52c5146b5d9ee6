"""Delayed charges: what each status allows, and a customer's pending totals.

A charge is ``pending`` until an invoice takes it (``invoiced``); deleting that invoice while it
is a draft makes it ``pending`` again. Only a pending charge may be changed, deleted or invoiced.
Amounts are always positive; a credit counts negatively.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from invoicing.domain.models import Currency, DelayedCharge
from invoicing.errors import Conflict

Change = Literal["changed", "deleted"]


def require_pending(charge: DelayedCharge, change: Change) -> None:
    """409 naming the charge's status unless it is pending."""
    if charge.status != "pending":
        on = f" on invoice {charge.invoiced_invoice_id}" if charge.invoiced_invoice_id else ""
        raise Conflict(f"Delayed charge {charge.id} is {charge.status}{on}: only pending charges can be {change}",
                       code="delayed_charge_not_pending")


class CurrencyTotals(BaseModel):
    currency: Currency
    total_charges: int = Field(description="Sum of the pending charges, cents")
    total_credits: int = Field(description="Sum of the pending credits, cents (positive)")
    net_amount: int = Field(description="total_charges - total_credits, cents; negative when credits exceed charges")
    count: int


class PendingCharges(BaseModel):
    """A customer's pending delayed charges, oldest first, and what they add up to.

    Totals never mix currencies. ``currency`` and the top-level totals are those of the one
    currency the pending charges are in (the ``currency`` asked for, or the business's default,
    when there are none). When they are in several currencies, ``currency`` and the top-level
    totals are null and ``by_currency`` has one entry per currency."""

    customer_id: str
    currency: Currency | None = Field(description="Currency of the top-level totals; null when the pending charges "
                                                  "are in several currencies (see by_currency)")
    total_charges: int | None
    total_credits: int | None
    net_amount: int | None
    count: int = Field(description="Number of pending charges and credits in items, all currencies")
    by_currency: list[CurrencyTotals] = Field(description="Totals per currency, sorted by currency code; one entry "
                                                          "per currency that has pending charges")
    items: list[DelayedCharge]


def totals_by_currency(charges: Iterable[DelayedCharge]) -> list[CurrencyTotals]:
    sums: dict[Currency, list[int]] = {}  # currency -> [charges, credits, count]
    for charge in charges:
        entry = sums.setdefault(charge.currency, [0, 0, 0])
        entry[0 if charge.type == "charge" else 1] += charge.amount
        entry[2] += 1
    return [CurrencyTotals(currency=currency, total_charges=debits, total_credits=credits,
                           net_amount=debits - credits, count=count)
            for currency, (debits, credits, count) in sorted(sums.items())]


def pending_summary(customer_id: str, charges: list[DelayedCharge], *, currency_when_none: Currency
                    ) -> PendingCharges:
    """The summary of ``charges`` (a customer's pending ones); ``currency_when_none`` names the
    currency of the zero totals when there are no charges."""
    per_currency = totals_by_currency(charges)
    if len(per_currency) > 1:
        single: CurrencyTotals | None = None
    elif per_currency:
        single = per_currency[0]
    else:
        single = CurrencyTotals(currency=currency_when_none, total_charges=0, total_credits=0, net_amount=0, count=0)
    return PendingCharges(
        customer_id=customer_id,
        currency=single.currency if single else None,
        total_charges=single.total_charges if single else None,
        total_credits=single.total_credits if single else None,
        net_amount=single.net_amount if single else None,
        count=len(charges),
        by_currency=per_currency,
        items=charges,
    )
