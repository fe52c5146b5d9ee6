"""Helpers of the recurring tests: a steppable calendar, a shop, templates, the scheduler clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from helpers import Api, Tenant, race

from invoicing.storage import keys
from invoicing.storage.table import client, key, table_name, value

T = TypeVar("T")

RECURRING = "/api/v1/recurring"
INVOICES = "/api/v1/invoices"
START = date(2031, 1, 31)  # a month end in the future: the schedules' at() times are never in the past


@dataclass
class Calendar:
    """The business's today, as the recurring operations see it (the tests move it)."""

    today: date
    timezone: str

    def at(self, day: date, hour: int = 12) -> datetime:
        """An aware moment on ``day`` in the business's time zone, for the scheduler clock."""
        return datetime.combine(day, time(hour)).replace(tzinfo=ZoneInfo(self.timezone))


def make_calendar(monkeypatch: pytest.MonkeyPatch, tenant: Tenant) -> Calendar:
    """The recurring operations' today, steppable: starts at ``START``."""
    from invoicing.recurring import runs, templates

    cal = Calendar(START, tenant.timezone)
    for module in (templates, runs):
        monkeypatch.setattr(module, "today_in", lambda timezone, now=None: cal.today)
    return cal


def make_shop(api: Api) -> dict[str, str]:
    """A customer and a variant priced 12.50, in the tenant's business."""
    customer = api.post("/api/v1/customers", {"name": "Ada Lovelace", "email": "ada@example.com"}).json()["data"]
    product = api.post("/api/v1/inventory/products", {"name": "Widget"}).json()["data"]
    variant = api.post("/api/v1/inventory/products/variants",
                       {"product_id": product["id"], "name": "Blue widget", "sku": "W-BLUE", "unit_price": 1250}
                       ).json()["data"]
    business_id = api.tenant.business_id if api.tenant else ""
    return {"customer": customer["id"], "variant": variant["id"], "business": business_id}


def template_body(shop: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Monthly retainer",
        "customer_id": shop["customer"],
        "frequency": "monthly",
        "start_date": START.isoformat(),
        "day_of_month": 31,
        "days_until_due": 14,
        "template_data": {"line_items": [{"variant_id": shop["variant"], "quantity": 2},
                                         {"description": "Retainer", "unit_price": 10000}],
                          "description": "Retainer and widgets"},
        **overrides,
    }


def create(api: Api, shop: dict[str, str], as_tenant: Tenant | None = None, **overrides: Any) -> dict[str, Any]:
    reply = api.post(RECURRING, template_body(shop, **overrides), as_tenant=as_tenant)
    assert reply.status == 201, reply.body
    return reply.json()["data"]  # type: ignore[no-any-return]


def get(api: Api, template_id: str) -> dict[str, Any]:
    reply = api.get(f"{RECURRING}/{template_id}")
    assert reply.status == 200, reply.body
    return reply.json()["data"]  # type: ignore[no-any-return]


def history(api: Api, template_id: str, query: str = "descending=false&limit=100") -> list[dict[str, Any]]:
    reply = api.get(f"{RECURRING}/{template_id}/history", query=query)
    assert reply.status == 200, reply.body
    return reply.json()["data"]["items"]  # type: ignore[no-any-return]


def generated_invoices(api: Api, template_id: str) -> list[dict[str, Any]]:
    """Every invoice of the business that names the template, from the invoices list itself."""
    reply = api.get(INVOICES, query="limit=1000")
    assert reply.status == 200, reply.body
    found = [i for i in reply.json()["data"]["items"] if i["recurring_template_id"] == template_id]
    return sorted(found, key=lambda i: i["issue_date"])


def set_catalog_price(business_id: str, variant_id: str, unit_price: int) -> None:
    client().update_item(TableName=table_name(), Key=key(keys.business(business_id), keys.variant(variant_id)),
                         UpdateExpression="SET unit_price = :price",
                         ExpressionAttributeValues={":price": value(unit_price)})


class Crash(RuntimeError):
    """The run's process dying: raised where a test injects it."""


def crash_before_finalize(monkeypatch: pytest.MonkeyPatch, *calls: int) -> list[int]:
    """Make the ``calls``-th (1-based; default the first) ``storage.invoices.finalize`` raise
    ``Crash`` before it does anything: a run dies after its invoice's transaction committed and
    before that invoice is finalized. Returns the running count of finalize calls."""
    from invoicing.storage import invoices

    real = invoices.finalize
    count = [0]
    crash_on = set(calls or (1,))

    def finalize(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        if count[0] in crash_on:
            raise Crash(f"the run died before finalize call {count[0]}")
        return real(*args, **kwargs)

    monkeypatch.setattr(invoices, "finalize", finalize)
    return count


def pending_finalize(business_id: str, template_id: str) -> dict[str, Any] | None:
    """The template's pending finalize item, if there is one."""
    got = client().get_item(TableName=table_name(), ConsistentRead=True,
                            Key=key(keys.business(business_id), keys.recurring_finalize(template_id)))
    return got.get("Item")


def last_invoice_number(business_id: str) -> int:
    """The business's invoice counter: the numbers taken so far."""
    got = client().get_item(TableName=table_name(), ConsistentRead=True,
                            Key=key(keys.business(business_id), keys.INVOICE_COUNTER_SK))
    return int(got["Item"]["n"]["N"]) if "Item" in got else 0


def at_once(call: Callable[[], T], times: int = 4) -> list[T]:
    """``call`` in ``times`` threads released together (``helpers.race``); none may raise."""
    results = race([call] * times)
    assert not [r for r in results if isinstance(r, Exception)], results
    return results
