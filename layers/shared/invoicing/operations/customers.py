"""Customers: create, read, change, soft-delete, list."""

from __future__ import annotations

from invoicing.domain.clock import now_iso
from invoicing.domain.ids import uuid7
from invoicing.domain.models import Customer
from invoicing.errors import Conflict
from invoicing.schemas.customers import CustomerCreate, CustomerUpdate
from invoicing.storage import customers as store
from invoicing.storage import retry
from invoicing.storage.paging import PageRequest, QueryPage


def create_customer(business_id: str, body: CustomerCreate) -> Customer:
    now = now_iso()
    customer = Customer(id=uuid7(), business_id=business_id, **body.model_dump(), created_at=now, updated_at=now)
    store.put_new(customer)
    return customer


def get_customer(business_id: str, customer_id: str) -> Customer:
    return store.get(business_id, customer_id)


def update_customer(business_id: str, customer_id: str, body: CustomerUpdate) -> Customer:
    """Only the fields the client sent change; ``None`` clears phone or address."""
    allowed = body.model_dump(exclude_unset=True)
    return retry.optimistic(
        lambda: store.update(business_id, customer_id, allowed, now_iso()),
        exhausted=Conflict(f"Customer {customer_id} is being changed by another request; retry",
                           code="concurrent_update"))


def delete_customer(business_id: str, customer_id: str) -> None:
    store.soft_delete(business_id, customer_id, now_iso())


def list_customers(business_id: str, request: PageRequest, *, search: str | None = None
                   ) -> tuple[QueryPage, list[Customer]]:
    return store.list_page(business_id, request, search=search.strip() or None if search else None)
