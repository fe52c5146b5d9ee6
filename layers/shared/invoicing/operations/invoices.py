"""The invoice use cases: create, read, list, update, delete, and the lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from invoicing.domain import delivery
from invoicing.domain.clock import day_of, now_iso
from invoicing.domain.ids import uuid7
from invoicing.domain.invoices import check_dates, total_of
from invoicing.domain.lifecycle import transition
from invoicing.domain.models import Invoice
from invoicing.errors import Conflict, NotFound, Unprocessable
from invoicing.operations import pricing
from invoicing.schemas.invoices import InvoiceCreate, InvoiceUpdate, LineItemRequest
from invoicing.storage import delayed_charges, keys, lookup, retry
from invoicing.storage import invoices as store
from invoicing.storage.paging import PageRequest, QueryPage

_FINALIZE_ATTEMPTS = 200  # a contended finalize has one winner a round: 50 racing ones need 50 rounds


def _recurring_lines(lines: Sequence[LineItemRequest]) -> list[dict[str, object]]:
    """The request's lines, as a recurring template keeps them (priced again each occurrence)."""
    return [line.model_dump(exclude_none=True) for line in lines]


def create_invoice(business_id: str, body: InvoiceCreate) -> Invoice:
    """One BatchGetItem for the business and everything referenced, one PutItem (a transaction
    with the template and its first occurrence marker when ``recurring`` is given)."""
    lines = pricing.requested(body.line_items, body.fulfillment_location_id)
    found = pricing.fetch(business_id, lines, customers=[body.customer_id])
    invoice, products = pricing.draft(
        found, lines, customer_id=body.customer_id, currency=body.currency,
        issue=date.fromisoformat(body.issue_date) if body.issue_date else None, due_date=body.due_date,
        description=body.description, now=now_iso(), recurring_template_id=uuid7() if body.recurring else None)
    if body.recurring is None:
        store.put_new(invoice, product_ids=products)
        return invoice
    from invoicing.recurring import templates as recurring  # only here: the invoice functions' cold start skips it

    made = recurring.from_invoice(invoice, body.recurring, found.business.timezone,
                                  _recurring_lines(body.line_items))
    store.put_new(invoice, product_ids=products, also=made.actions)
    recurring.schedule_new(made)
    return invoice


def get_invoice(business_id: str, invoice_id: str) -> Invoice:
    return store.read(business_id, invoice_id)


def list_invoices(business_id: str, request: PageRequest, *, sort_by: str, statuses: Sequence[str],
                  invoice_id: str | None, customer_id: str | None, product_id: str | None, variant_id: str | None,
                  search: str | None) -> tuple[QueryPage, list[Invoice]]:
    return store.list_page(business_id, request, sort_by=sort_by, invoice_id=invoice_id, customer_id=customer_id,
                           statuses=statuses, variant_id=variant_id, product_id=product_id, search=search)


def update_invoice(business_id: str, invoice_id: str, body: InvoiceUpdate) -> Invoice:
    """One BatchGetItem (the invoice and everything the request names), one conditional PutItem."""
    if body.id != invoice_id:
        raise Unprocessable(f"The body's id {body.id} is not the id in the path ({invoice_id})",
                            loc=("body", "id"), type="value_error", input=body.id)
    lines = pricing.requested(body.line_items or [], body.fulfillment_location_id)
    found = pricing.fetch(business_id, lines, customers=[body.customer_id] if body.customer_id else [],
                          also=[keys.invoice(invoice_id)])
    item = found.raw(keys.invoice(invoice_id))
    if item is None:
        raise store.not_found(invoice_id)
    before = store.stored_of(item)
    current = before.invoice
    transition("edit_terms", current.status)
    if body.line_items is not None or body.customer_id not in (None, current.customer_id):
        transition("edit_lines", current.status)

    update: dict[str, object] = {"updated_at": now_iso()}
    products = None
    if body.customer_id is not None:
        customer = found.require_customer(body.customer_id)
        update.update(customer_id=customer.id, customer_name=customer.name, customer_email=customer.email)
    if body.line_items is not None:
        priced, products = pricing.price(found, lines, current.currency)
        swept = [line for line in current.line_items if line.delayed_charge_id]  # they stay on the invoice
        all_lines = [*priced, *swept]
        total = total_of(all_lines)
        update.update(line_items=all_lines, total=total, balance_due=total - current.total_paid)
    else:
        pricing.require_locations(found, lines)  # pricing new lines checks them too
    if body.fulfillment_location_id is not None and not current.delivered:
        update["fulfillment_location_id"] = body.fulfillment_location_id
    if body.description is not None:
        update["description"] = body.description
    if body.due_date is not None:
        check_dates(date.fromisoformat(current.issue_date), date.fromisoformat(body.due_date))
        update["due_date"] = body.due_date
    made = None
    if body.recurring is not None:
        if current.recurring_template_id:
            raise Conflict(f"Invoice {invoice_id} already has recurring template {current.recurring_template_id}",
                           code="already_recurring")
        update["recurring_template_id"] = uuid7()
    after = current.model_copy(update=update)
    if body.recurring is not None:
        from invoicing.recurring import templates as recurring  # only here: the invoice functions' cold start skips it

        made = recurring.from_invoice(after, body.recurring, found.business.timezone,
                                      _recurring_lines(body.line_items) if body.line_items is not None else None)
    store.replace(before, after, product_ids=products, also=made.actions if made else ())
    if made:
        recurring.schedule_new(made)
    return after


def delete_invoice(business_id: str, invoice_id: str) -> None:
    """Drafts only; delayed charges swept into it go back to pending, in the same transaction."""
    before = store.get(business_id, invoice_id)
    transition("delete", before.invoice.status)
    now = now_iso()
    releases = [delayed_charges.release_action(business_id, line.delayed_charge_id, invoice_id, now)
                for line in before.invoice.line_items if line.delayed_charge_id]
    store.delete(before, also=releases)


def finalize_invoice(business_id: str, invoice_id: str) -> Invoice:
    return finalize(business_id, invoice_id, now_iso())


def finalize(business_id: str, invoice_id: str, now: str, *, also: Sequence[dict[str, object]] = ()) -> Invoice:
    """``storage.invoices.finalize`` until it wins the business's next number (with ``also`` in
    its transaction: a batch's progress, a template's pending finalize). An invoice that vanishes
    between attempts was deleted while being finalized (409), not never there (404)."""
    tried = [False]

    def attempt() -> Invoice:
        try:
            return store.finalize(business_id, invoice_id, now, also=also)
        except NotFound:
            if tried[0]:
                raise Conflict(f"Invoice {invoice_id} was deleted by another request while being finalized",
                               code="invoice_deleted") from None
            raise
        finally:
            tried[0] = True

    return retry.optimistic(attempt, attempts=_FINALIZE_ATTEMPTS, exhausted=Conflict(
        "Too many invoices are being finalized at once; retry", code="finalize_contended"))


def parse_delivered_on(raw: str) -> str:
    """``YYYY-MM-DD`` or an ISO datetime (its date is taken as given)."""
    day = day_of(raw)
    if day is None:
        raise Unprocessable("delivered_on must be YYYY-MM-DD or an ISO 8601 datetime",
                            loc=("query", "delivered_on"), type="date_from_datetime_parsing", input=raw)
    return day


def mark_delivered(business_id: str, invoice_id: str, delivered_on: str) -> Invoice:
    """Record the delivery. The first one also deducts stock for every variant line, exactly once,
    even when deliveries race; a repeat only changes the date."""
    day = parse_delivered_on(delivered_on)
    invoice_sk = keys.invoice(invoice_id)

    def attempt() -> Invoice:
        found = lookup.fetch(business_id, also=[invoice_sk])
        item = found.raw(invoice_sk)
        if item is None:
            raise store.not_found(invoice_id)
        before = store.stored_of(item)
        transition("deliver", before.invoice.status)
        now = now_iso()
        after = before.invoice.model_copy(update={"delivered": True, "delivered_on": day, "updated_at": now})
        if before.invoice.delivered:
            store.replace(before, after)
        else:
            moves = delivery.deductions(before.invoice.line_items,
                                        fulfillment_location_id=before.invoice.fulfillment_location_id,
                                        default_location_id=found.business.default_location_id)
            store.deliver(before, after, moves, now)  # a racing delivery makes it lose: read again
        return after

    return retry.optimistic(attempt, exhausted=Conflict(
        f"Invoice {invoice_id} is being changed by other requests; retry", code="concurrent_update"))
