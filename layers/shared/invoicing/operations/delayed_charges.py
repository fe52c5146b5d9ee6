"""Delayed charges: record, change and delete pending ones, list them, sum a customer's pending ones.

Sweeping them into invoices (and releasing them) is the invoices' part: it uses
``storage.delayed_charges.pending_for_customer``, ``invoice_action`` and ``release_action``.
"""

from __future__ import annotations

from invoicing.domain.clock import now_iso
from invoicing.domain.delayed_charges import PendingCharges, pending_summary
from invoicing.domain.ids import uuid7
from invoicing.domain.models import Currency, DelayedCharge, DelayedChargeStatus, DelayedChargeType
from invoicing.errors import Conflict
from invoicing.schemas.delayed_charges import DelayedChargeCreate, DelayedChargeUpdate
from invoicing.storage import delayed_charges as store
from invoicing.storage import lookup, retry
from invoicing.storage.paging import PageRequest, QueryPage


def create_delayed_charge(business_id: str, body: DelayedChargeCreate) -> DelayedCharge:
    """A pending charge for a live customer of the business (else 404), in ``body.currency`` or
    the business's default."""
    found = lookup.fetch(business_id, customers=[body.customer_id])
    found.require_customer(body.customer_id)
    now = now_iso()
    charge = DelayedCharge(id=uuid7(), business_id=business_id, customer_id=body.customer_id, type=body.type,
                           status="pending", currency=body.currency or found.business.currency, amount=body.amount,
                           description=body.description, service_date=body.service_date,
                           internal_notes=body.internal_notes, created_at=now, updated_at=now)
    store.put_new(charge)
    return charge


def update_delayed_charge(business_id: str, charge_id: str, body: DelayedChargeUpdate) -> DelayedCharge:
    """Only the fields the client sent change; ``None`` clears service_date or internal_notes.
    A new customer must be a live customer of the business (404)."""
    allowed = body.model_dump(exclude_unset=True)
    if "customer_id" in allowed:
        lookup.fetch(business_id, customers=[allowed["customer_id"]]).require_customer(allowed["customer_id"])
    return retry.optimistic(lambda: store.update(business_id, charge_id, allowed, now_iso()),
                            exhausted=_contended(charge_id))


def delete_delayed_charge(business_id: str, charge_id: str) -> None:
    retry.optimistic(lambda: store.delete(business_id, charge_id), exhausted=_contended(charge_id))


def _contended(charge_id: str) -> Conflict:
    return Conflict(f"Delayed charge {charge_id} is being changed by another request; retry", code="concurrent_update")


def list_delayed_charges(business_id: str, request: PageRequest, *, customer_id: str | None = None,
                         status: DelayedChargeStatus | None = None, type: DelayedChargeType | None = None,
                         search: str | None = None) -> tuple[QueryPage, list[DelayedCharge]]:
    return store.list_page(business_id, request, customer_id=customer_id, status=status, type=type,
                           search=search.strip() or None if search else None)


def pending_charges(business_id: str, customer_id: str, currency: Currency | None = None) -> PendingCharges:
    """A live customer's pending charges (404 otherwise), oldest first, with their totals."""
    found = lookup.fetch(business_id, customers=[customer_id])
    found.require_customer(customer_id)
    charges = store.pending_for_customer(business_id, customer_id, currency)
    return pending_summary(customer_id, charges, currency_when_none=currency or found.business.currency)
