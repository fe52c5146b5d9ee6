"""Aging and metrics, from the sparse index of unpaid invoices (never the whole business)."""

from __future__ import annotations

from datetime import date
from typing import Any

from invoicing.domain import aging as rules
from invoicing.domain.clock import today_in
from invoicing.storage import invoices as store
from invoicing.storage import lookup


def aging(business_id: str, as_of: str | None = None) -> dict[str, Any]:
    business = lookup.fetch(business_id).business
    day = date.fromisoformat(as_of) if as_of else today_in(business.timezone)
    return rules.aging(store.unpaid(business_id), day, business.currency)


def metrics(business_id: str) -> dict[str, Any]:
    business = lookup.fetch(business_id).business
    return rules.metrics(store.unpaid(business_id), today_in(business.timezone), business.currency)
