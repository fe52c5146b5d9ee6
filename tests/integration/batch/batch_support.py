"""What the batch tests share: a shop (customers, a variant, a location), request bodies, and
readers of what the table holds. (Fixtures are defined in each module: imported ones trip F811.)"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from helpers import Api, Tenant

BATCH = "/api/v1/invoices/batch"
BATCHES = "/api/v1/invoices/batches"
INVOICES = "/api/v1/invoices"
CHARGES = "/api/v1/delayed-charges"
MISSING = "0195f1a0-0000-7000-8000-00000000dead"
DUE = (date.today() + timedelta(days=30)).isoformat()


def data(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.body
    return reply.json()["data"]


def make_customers(api: Api, count: int, as_tenant: Tenant | None = None) -> list[str]:
    return [data(api.post("/api/v1/customers", {"name": f"Customer {i}", "email": f"c{i}@example.com"},
                          as_tenant=as_tenant), 201)["id"] for i in range(count)]


def new_shop(api: Api) -> dict[str, Any]:
    """Given a business with five customers, a variant at 1250 cents and a location."""
    product = data(api.post("/api/v1/inventory/products", {"name": "Widget"}), 201)
    variant = data(api.post("/api/v1/inventory/products/variants",
                            {"product_id": product["id"], "name": "Blue widget", "sku": "W-BLUE", "unit_price": 1250}),
                   201)
    location = data(api.post("/api/v1/inventory/locations", {"name": "Main", "code": "MAIN"}), 201)
    return {"customers": make_customers(api, 5), "variant": variant["id"], "product": product["id"],
            "location": location["id"]}


def item(customer_id: str, *lines: dict[str, Any], due_date: str = DUE, **extra: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "line_items": list(lines) or [{"description": "Work", "unit_price": 1000}],
            "due_date": due_date, **extra}


def batch_body(customers: list[str], **flags: Any) -> dict[str, Any]:
    return {"items": [item(c, description=f"Item {i}") for i, c in enumerate(customers)], **flags}


def charge(api: Api, customer_id: str, amount: int, type: str = "charge", **extra: Any) -> dict[str, Any]:
    return data(api.post(CHARGES, {"customer_id": customer_id, "amount": amount, "type": type,
                                   "description": f"{type} of {amount}", **extra}), 201)


def charge_of(api: Api, charge_id: str) -> dict[str, Any]:
    charges = data(api.get(CHARGES, query="limit=1000"))["items"]
    return next(c for c in charges if c["id"] == charge_id)


def invoices(api: Api, query: str = "") -> list[dict[str, Any]]:
    return data(api.get(INVOICES, query=f"limit=1000&{query}"))["items"]  # type: ignore[no-any-return]


def batch(api: Api, batch_id: str) -> dict[str, Any]:
    return data(api.get(f"{BATCHES}/{batch_id}"))  # type: ignore[no-any-return]


def assert_consistent(api: Api, result: dict[str, Any]) -> None:
    """The batch's counts agree with its items, and each item that is not failed has exactly its
    invoice (a failed one has none, unless created before failing to finalize)."""
    statuses = [i["status"] for i in result["items"]]
    assert result["total"] == len(result["items"])
    assert result["failed"] == statuses.count("failed")
    assert result["finalized"] == statuses.count("finalized")
    assert result["created"] >= statuses.count("created") + statuses.count("finalized")
    ids = {i["id"]: i for i in invoices(api)}
    for entry in result["items"]:
        if entry["status"] in ("created", "finalized"):
            invoice = ids[entry["invoice_id"]]
            assert invoice["customer_id"] == entry["customer_id"]
            assert invoice["status"] == ("open" if entry["status"] == "finalized" else "draft")
        if entry["status"] == "failed":
            assert entry["error"]
        else:
            assert entry["error"] is None


def assert_charges_on_one_invoice_each(api: Api, charge_ids: list[str]) -> dict[str, str]:
    """Every swept charge is a line of exactly one invoice, the one it names; a pending charge is on
    none. Returns charge id -> invoice id for the invoiced ones."""
    lines: dict[str, list[str]] = {}
    for invoice in invoices(api):
        for line in invoice["line_items"]:
            if line["delayed_charge_id"]:
                lines.setdefault(line["delayed_charge_id"], []).append(invoice["id"])
    on: dict[str, str] = {}
    for charge_id in charge_ids:
        now = charge_of(api, charge_id)
        if now["status"] == "invoiced":
            assert lines.get(charge_id) == [now["invoiced_invoice_id"]], (charge_id, lines.get(charge_id))
            on[charge_id] = now["invoiced_invoice_id"]
        else:
            assert charge_id not in lines, (charge_id, lines[charge_id])
    return on
