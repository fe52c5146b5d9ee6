"""The demo data: one business with an owner and token, customers, a catalog, two locations and
stock. ``serve`` loads it; ``invoke`` loads it into its throw-away stack so every sample event in
events/ works as it stands.

Identity records go through ``invoicing.storage.auth`` (they are made by the admin CLI, not the
API). Everything else goes through the API itself, with the owner's token, so seeding exercises
the real handlers; only the few records whose fixed ids the sample events name are written with
the storage layer, because the API assigns ids itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from devstack import gateway
from invoicing.domain.clock import today_in
from invoicing.errors import NotFound
from invoicing.storage import auth

BUSINESS_ID = "0195f1a0-0000-7000-8000-000000000001"
BUSINESS_NAME = "DayZero Demo Co"
CURRENCY = "USD"
TIMEZONE = "America/New_York"
OWNER_USER_ID = "0195f1a0-0000-7000-8000-0000000000a1"
OWNER_EMAIL = "owner@dayzero-demo.example.com"
# Published in the README and events/: it exists only in local stacks (seed refuses real AWS).
TOKEN = "dz_demo_owner_token_local_only"  # noqa: S105
CUSTOMER_ID = "0195f1a0-0000-7000-8000-0000000000c1"
PRODUCT_ID = "0195f1a0-0000-7000-8000-0000000000d1"
VARIANT_ID = "0195f1a0-0000-7000-8000-0000000000e1"
LOCATION_ID = "0195f1a0-0000-7000-8000-0000000000f1"

CUSTOMER: dict[str, Any] = {"name": "Northwind Traders", "email": "billing@northwind.example.com"}
MORE_CUSTOMERS: list[dict[str, Any]] = [
    {"name": "Contoso Ltd", "email": "accounts@contoso.example.com"},
    {"name": "Fabrikam Inc", "email": "ap@fabrikam.example.com"},
]
PRODUCT: dict[str, Any] = {"name": "Organic Coffee Beans"}
VARIANT: dict[str, Any] = {"name": "Whole Bean 1 kg", "sku": "COF-WB-1KG", "unit_price": 2400}
SECOND_VARIANT: dict[str, Any] = {"name": "Ground 1 kg", "sku": "COF-GR-1KG", "unit_price": 2200}
LOCATION: dict[str, Any] = {"name": "Main Warehouse", "code": "MAIN", "is_default": True}
SECOND_LOCATION: dict[str, Any] = {"name": "Downtown Store", "code": "STORE", "is_default": False}
# (variant, location) -> units on hand
STOCK = {("main", "main"): 120, ("main", "store"): 24, ("second", "main"): 60, ("second", "store"): 12}
# Pending for the demo customer, so events/delayed_charges-pending.json has something to sum.
DELAYED_CHARGES: list[dict[str, Any]] = [
    {"customer_id": CUSTOMER_ID, "amount": 4500, "description": "Espresso machine servicing",
     "service_date": "2026-01-15"},
    {"customer_id": CUSTOMER_ID, "type": "credit", "amount": 1200, "description": "Refund for a damaged bag"},
]


class SeedError(RuntimeError):
    pass


@dataclass(frozen=True)
class Demo:
    business_id: str
    token: str
    customer_id: str
    variant_id: str
    location_id: str
    created: bool

    def as_dict(self) -> dict[str, str]:
        """The ids and token a script needs (``seed``'s output, the state file's ``demo``)."""
        return {"business_id": self.business_id, "token": self.token, "customer_id": self.customer_id,
                "variant_id": self.variant_id, "location_id": self.location_id}

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "x-business-id": self.business_id}

    def sample_invoice(self) -> dict[str, Any]:
        """A create-invoice body that works on the demo data: a variant line and a custom line."""
        due = today_in(TIMEZONE) + timedelta(days=30)
        return {
            "customer_id": self.customer_id,
            "due_date": due.isoformat(),
            "description": "Coffee for the office",
            "line_items": [
                {"variant_id": self.variant_id, "quantity": 2},
                {"description": "Delivery", "quantity": 1, "unit_price": 1500},
            ],
        }


DEMO = Demo(BUSINESS_ID, TOKEN, CUSTOMER_ID, VARIANT_ID, LOCATION_ID, created=False)


def _api(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST through the emulated gateway as the demo owner; the ``data`` of the envelope."""
    reply = gateway.request(method, path, headers={**DEMO.headers(), "Content-Type": "application/json"},
                            body=json.dumps(body))
    if reply.status >= 300:
        raise SeedError(f"{method} {path} answered {reply.status}: {reply.body[:500]}")
    data = (reply.json() or {}).get("data")
    if not isinstance(data, dict) or "id" not in data:
        raise SeedError(f"{method} {path} answered {reply.status} without a record: {reply.body[:500]}")
    return data


def _fixed_records() -> None:
    """The records whose ids events/ names, written with the storage layer (see module doc)."""
    from invoicing.storage import customers, inventory

    customers.put_customer(BUSINESS_ID, CUSTOMER_ID, **CUSTOMER)
    inventory.put_product(BUSINESS_ID, PRODUCT_ID, **PRODUCT)
    inventory.put_variant(BUSINESS_ID, VARIANT_ID, product_id=PRODUCT_ID, **VARIANT)
    inventory.put_location(BUSINESS_ID, LOCATION_ID, **LOCATION)


def seed() -> Demo:
    """Load the demo data unless the demo business exists already (then change nothing)."""
    try:
        auth.get_business(BUSINESS_ID)
        return DEMO
    except NotFound:
        pass
    auth.create_business(BUSINESS_NAME, CURRENCY, TIMEZONE, business_id=BUSINESS_ID)
    auth.create_user(OWNER_EMAIL, user_id=OWNER_USER_ID)
    auth.add_member(BUSINESS_ID, OWNER_USER_ID, "owner")
    auth.create_token(OWNER_USER_ID, secret=TOKEN)

    _fixed_records()
    for customer in MORE_CUSTOMERS:
        _api("POST", "/api/v1/customers", customer)
    for charge in DELAYED_CHARGES:
        _api("POST", "/api/v1/delayed-charges", charge)
    second_variant = _api("POST", "/api/v1/inventory/products/variants", {"product_id": PRODUCT_ID, **SECOND_VARIANT})
    second_location = _api("POST", "/api/v1/inventory/locations", SECOND_LOCATION)
    variants = {"main": VARIANT_ID, "second": second_variant["id"]}
    locations = {"main": LOCATION_ID, "store": second_location["id"]}
    for (variant, location), quantity in STOCK.items():
        _api("POST", "/api/v1/inventory/adjustments", {
            "variant_id": variants[variant], "location_id": locations[location],
            "quantity_change": quantity, "reason": "Opening stock (demo data)",
        })
    return Demo(BUSINESS_ID, TOKEN, CUSTOMER_ID, VARIANT_ID, LOCATION_ID, created=True)
