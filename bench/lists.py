"""Query calls and items read per list page, for each filter, in a business whose lists span
several 1 MB Query pages: the filters clients use most are one Query on their own index (target
1); any other combination reads until its page is full, within the read budget (target: at most
``paging.READ_BUDGET`` Queries).

Items are counted from DynamoDB's own answers (``ScannedCount``: what a Query read, matching or
not), through botocore's event hooks on the service's client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from devstack import gateway
from devstack.emulated import create_tenant, emulated_aws

LIMIT = 20
BULK = 150  # invoices of 30 long lines (~15 KB each): the business's invoices are over 2 MB
LONG = "x" * 480


@dataclass
class Reads:
    queries: int = 0
    read: int = 0


@contextmanager
def reads(client: Any) -> Iterator[Reads]:
    seen = Reads()

    def count(parsed: dict[str, Any], **_: Any) -> None:
        seen.queries += 1
        seen.read += int(parsed.get("ScannedCount", 0))

    client.meta.events.register("after-call.dynamodb.Query", count)
    try:
        yield seen
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", count)


def _call(tenant: Any, method: str, path: str, body: Any = None, query: str = "") -> Any:
    headers = {"Authorization": f"Bearer {tenant.token}", "x-business-id": tenant.business_id,
               "Content-Type": "application/json"}
    reply = gateway.request(method, path, headers=headers, body=json.dumps(body) if body else None, query=query)
    assert reply.status < 300, (path, reply.status, reply.body)
    return reply.json()["data"]


def _business(tenant: Any) -> dict[str, str]:
    """A few invoices and charges of "few", older than a bulk of "bulk"'s large ones."""
    ids = {name: _call(tenant, "POST", "/api/v1/customers",
                       {"name": name.title(), "email": f"{name}@example.com"})["id"] for name in ("few", "bulk")}
    for n in range(7 + BULK):
        who = "few" if n < 7 else "bulk"
        lines = [{"description": f"{LONG} {i}", "unit_price": 100 + i} for i in range(30 if who == "bulk" else 1)]
        made = _call(tenant, "POST", "/api/v1/invoices", {
            "customer_id": ids[who], "line_items": lines, "due_date": "2030-01-31",
            **({"description": "Bench quartz"} if n % 10 == 0 else {})})
        if n % 3 == 0:
            _call(tenant, "POST", f"/api/v1/invoices/{made['id']}/finalize")
    for n in range(4 + 450):
        who = "few" if n < 4 else "bulk"
        _call(tenant, "POST", "/api/v1/delayed-charges", {"customer_id": ids[who], "amount": 100 + n,
                                                          "description": f"{LONG} {n}", "internal_notes": LONG * 4})
    return ids


def measure() -> list[tuple[str, str, str, str]]:
    from invoicing.storage.paging import READ_BUDGET
    from invoicing.storage.table import client

    rows = []
    with emulated_aws("bench-lists"):
        tenant = create_tenant()
        ids = _business(tenant)
        few = ids["few"]
        cases = [  # (list, query, served by an index)
            ("invoices", "", True),
            ("invoices", f"customer_id={few}", True),
            ("invoices", "status=open", True),
            ("invoices", f"customer_id={few}&status=open", False),
            ("invoices", f"customer_id={few}&sort_by=total", False),
            ("invoices", "status=open&status=draft", False),
            ("invoices", "search=quartz", False),
            ("delayed-charges", f"customer_id={few}", True),
            ("delayed-charges", "status=pending", True),
            ("delayed-charges", f"customer_id={few}&status=pending", True),
            ("delayed-charges", "type=credit", False),
            ("customers", "", False),
        ]
        for path, query, indexed in cases:
            with reads(client()) as seen:
                page = _call(tenant, "GET", f"/api/v1/{path}", query=f"{query}&limit={LIMIT}".lstrip("&"))
            target = 1 if indexed else READ_BUDGET
            label = query.replace(few, "<few>") or "no filter"
            rows.append((f"list page of {LIMIT}: {path}, {label}",
                         f"{seen.queries} Query, {seen.read} items read, {len(page['items'])} returned"
                         f"{', has_next' if page['has_next'] else ''}",
                         f"<= {target} Query", "ok" if seen.queries <= target else "MISS"))
    return rows
