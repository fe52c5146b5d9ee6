"""Recurring templates: create (standalone or from an invoice), read, list, change, pause,
resume, cancel, skip, clone and history. Generating their invoices is ``runs``.

Every change reads the template, decides, and writes it conditionally on the version it read
(``records.replace``), retried with ``retry.optimistic`` when a run or another change got there
first; then its schedule follows (``schedule.sync``).

Dates are the business's calendar dates (``today_in(business.timezone)``). Occurrences before
a template existed are not generated (scheduling is not backdating), nor are those that fell
while it was paused: resume records them in ``skipped_dates``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from invoicing.domain.clock import now_iso, today_in
from invoicing.domain.ids import uuid7
from invoicing.domain.models import Invoice, LineItem, RecurringTemplate, RecurringTemplateData
from invoicing.errors import Conflict, Unprocessable
from invoicing.operations import pricing
from invoicing.recurring import records as store
from invoicing.recurring import recurrence, schedule
from invoicing.recurring.recurrence import check_rule, iso, next_from, rule_of, with_next
from invoicing.recurring.schemas import RecurringCreate, RecurringUpdate, SkipResult
from invoicing.schemas.invoices import InvoiceRecurringConfig
from invoicing.storage import keys, lookup, retry
from invoicing.storage.paging import PageRequest, QueryPage

_SKIPPED_KEPT = 100
_SCHEDULE_FIELDS = ("frequency", "start_date", "day_of_month", "day_of_week", "end_date", "max_occurrences")


def _validate_lines(business_id: str, lines: list[dict[str, Any]], fulfillment_location_id: str | None,
                    currency: str | None, *, customer_id: str | None = None) -> lookup.Lookup:
    """Price the lines once now (in the business's currency unless ``currency``), so an unknown
    customer (when given), variant or location is a 404 at creation: one BatchGetItem."""
    requested = pricing.requested(lines, fulfillment_location_id)
    found = pricing.fetch(business_id, requested, customers=[customer_id] if customer_id else [])
    if customer_id:
        found.require_customer(customer_id)
    pricing.price(found, requested, currency or found.business.currency)
    return found


# --------------------------------------------------------------------------- create
def create_template(business_id: str, body: RecurringCreate) -> RecurringTemplate:
    if body.recurrence_type != "invoice":
        raise Unprocessable("recurrence_type 'bill' is not supported: only 'invoice' templates can be created",
                            loc=("body", "recurrence_type"), type="not_supported", input=body.recurrence_type)
    data = body.template_data
    lines = [line.model_dump(exclude_none=True) for line in data.line_items]
    business = _validate_lines(business_id, lines, data.fulfillment_location_id, body.currency,
                               customer_id=body.customer_id).business
    currency = body.currency or business.currency
    today = today_in(business.timezone)
    now = now_iso()
    template = RecurringTemplate(
        id=uuid7(), business_id=business_id, name=body.name, customer_id=body.customer_id, currency=currency,
        frequency=body.frequency, start_date=body.start_date or today.isoformat(),
        day_of_month=body.day_of_month, day_of_week=body.day_of_week, end_date=body.end_date,
        max_occurrences=body.max_occurrences, days_until_due=body.days_until_due,
        auto_finalize=body.auto_finalize, status="active",
        template_data=RecurringTemplateData(line_items=lines, description=data.description,
                                            fulfillment_location_id=data.fulfillment_location_id),
        created_at=now, updated_at=now, version=1,
    )
    check_rule(rule_of(template), ("body",))
    template = with_next(template, next_from(template, today))
    store.put_new(template)
    schedule.sync(template, business.timezone)
    return template


def _lines_of_invoice(lines: Sequence[LineItem]) -> list[dict[str, Any]]:
    """An invoice's lines as request lines: variant lines without their price (each occurrence
    takes the day's catalog price), custom lines as they are; swept delayed charges are left out."""
    out: list[dict[str, Any]] = []
    for line in lines:
        if line.delayed_charge_id:
            continue
        if line.variant_id:
            out.append({k: v for k, v in {"variant_id": line.variant_id, "quantity": line.quantity,
                                          "location_id": line.location_id}.items() if v is not None})
        else:
            out.append({"description": line.description, "quantity": line.quantity, "unit_price": line.unit_price})
    return out


@dataclass(frozen=True)
class FromInvoice:
    """A template made from an invoice, and what to write with that invoice in its transaction."""

    template: RecurringTemplate
    actions: list[dict[str, Any]]
    timezone: str


def from_invoice(invoice: Invoice, config: InvoiceRecurringConfig, timezone: str,
                 request_lines: list[dict[str, Any]] | None = None) -> FromInvoice:
    """The template ``recurring`` asks for: the invoice is its first occurrence (covering its own
    issue date); ``invoice.recurring_template_id`` must already be the returned template's id."""
    issue = date.fromisoformat(invoice.issue_date)
    days_until_due = config.days_until_due
    if days_until_due is None:
        days_until_due = max(0, (date.fromisoformat(invoice.due_date) - issue).days)
    now = now_iso()
    template = RecurringTemplate(
        id=invoice.recurring_template_id or uuid7(), business_id=invoice.business_id,
        name=config.name or invoice.description or f"Recurring invoice for {invoice.customer_name}",
        customer_id=invoice.customer_id, currency=invoice.currency, frequency=config.frequency,
        start_date=config.start_date or invoice.issue_date, day_of_month=config.day_of_month,
        day_of_week=config.day_of_week, end_date=config.end_date, max_occurrences=config.max_occurrences,
        days_until_due=days_until_due, auto_finalize=config.auto_finalize, status="active",
        template_data=RecurringTemplateData(
            line_items=request_lines if request_lines is not None else _lines_of_invoice(invoice.line_items),
            description=invoice.description, fulfillment_location_id=invoice.fulfillment_location_id),
        occurrences_generated=1, last_generated_on=invoice.issue_date, source_invoice_id=invoice.id,
        created_at=now, updated_at=now, version=1,
    )
    check_rule(rule_of(template), ("body", "recurring"))
    today = today_in(timezone)
    template = with_next(template, next_from(template, today))  # after the issue date, from today on
    actions = [store.put_action(template),
               store.marker_action(invoice.business_id, template.id, invoice.issue_date, invoice.id, now)]
    return FromInvoice(template, actions, timezone)


def schedule_new(made: FromInvoice) -> None:
    """After the invoice's transaction committed: the template's schedule."""
    schedule.sync(made.template, made.timezone)


# --------------------------------------------------------------------------- read
def get_template(business_id: str, template_id: str) -> RecurringTemplate:
    return store.get(business_id, template_id)


def list_templates(business_id: str, request: PageRequest, *, statuses: Sequence[str] = (),
                   customer_id: str | None = None) -> tuple[QueryPage, list[RecurringTemplate]]:
    return store.list_page(business_id, request, statuses=statuses, customer_id=customer_id)


def history(business_id: str, template_id: str, request: PageRequest) -> tuple[QueryPage, list[Invoice]]:
    """The invoices the template generated (its creating invoice too), by occurrence: one Query
    for a page of occurrence markers, one BatchGetItem for their invoices (a deleted draft is
    left out)."""
    store.get(business_id, template_id)  # 404 for an unknown (or another business's) template
    page, runs = store.runs_page(business_id, template_id, request)
    found = lookup.fetch(business_id, also=[keys.invoice(run.invoice_id) for run in runs], business=False)
    invoices = [Invoice.model_validate(item) for run in runs if (item := found.raw(keys.invoice(run.invoice_id)))]
    return page, invoices


# --------------------------------------------------------------------------- change
def _change(business_id: str, template_id: str, change: Any) -> RecurringTemplate:
    """Read, apply ``change(template, today) -> template``, write conditionally; retry lost races
    (a run, or another change, got there first)."""
    def attempt() -> RecurringTemplate:
        before, timezone = store.get_in_zone(business_id, template_id)
        after = change(before, today_in(timezone))
        after = after.model_copy(update={"version": before.version + 1, "updated_at": now_iso()})
        store.replace(before, after)
        schedule.sync(after, timezone)
        return after

    return retry.optimistic(attempt, exhausted=Conflict(
        f"Recurring template {template_id} is being changed by other requests; retry", code="concurrent_update"))


def _require(template: RecurringTemplate, action: str, *statuses: str) -> None:
    if template.status not in statuses:
        raise Conflict(f"Recurring template {template.id} is {template.status}: it cannot be {action}",
                       code="invalid_template_status")


def update_template(business_id: str, template_id: str, body: RecurringUpdate) -> RecurringTemplate:
    changes = body.model_dump(exclude_unset=True)
    if "customer_id" in changes:
        lookup.fetch(business_id, customers=[changes["customer_id"]]).require_customer(changes["customer_id"])
    if "template_data" in changes:
        data = body.template_data
        changes["template_data"] = RecurringTemplateData(
            line_items=[line.model_dump(exclude_none=True) for line in data.line_items],
            description=data.description, fulfillment_location_id=data.fulfillment_location_id)

    def apply(before: RecurringTemplate, today: date) -> RecurringTemplate:
        _require(before, "changed", "active", "paused", "completed")
        after = before.model_copy(update=changes)
        check_rule(rule_of(after), ("body",))
        if "template_data" in changes or "currency" in changes:
            _validate_lines(business_id, after.template_data.line_items, after.template_data.fulfillment_location_id,
                            after.currency)
        if before.status == "paused":
            return after
        status = "active" if before.status == "completed" else before.status  # a longer series goes on
        if status == "active" and not any(f in changes for f in _SCHEDULE_FIELDS) and before.status == "active":
            return after
        return with_next(after, next_from(after, today), status=status)

    return _change(business_id, template_id, apply)


def pause(business_id: str, template_id: str) -> RecurringTemplate:
    def apply(before: RecurringTemplate, today: date) -> RecurringTemplate:
        _require(before, "paused", "active")
        return with_next(before, None, status="paused")

    return _change(business_id, template_id, apply)


def resume(business_id: str, template_id: str) -> RecurringTemplate:
    """Occurrences that fell while it was paused are skipped (recorded), not generated."""
    def apply(before: RecurringTemplate, today: date) -> RecurringTemplate:
        _require(before, "resumed", "paused")
        rule = rule_of(before)
        after_day = date.fromisoformat(before.last_generated_on) if before.last_generated_on else None
        missed = []
        for day in recurrence.occurrences(rule, after=after_day):
            if day >= today:
                break
            missed.append(day.isoformat())
        skipped = list(dict.fromkeys([*before.skipped_dates, *missed]))[-_SKIPPED_KEPT:]
        resumed = before.model_copy(update={"skipped_dates": skipped})
        return with_next(resumed, next_from(resumed, today), status="active")

    return _change(business_id, template_id, apply)


def cancel(business_id: str, template_id: str) -> RecurringTemplate:
    def apply(before: RecurringTemplate, today: date) -> RecurringTemplate:
        _require(before, "canceled", "active", "paused")
        return with_next(before, None, status="canceled")

    return _change(business_id, template_id, apply)


def skip(business_id: str, template_id: str) -> SkipResult:
    """Skip the next occurrence (it generates nothing); answers it and the one after."""
    skipped: list[str] = []

    def apply(before: RecurringTemplate, today: date) -> RecurringTemplate:
        _require(before, "skipped", "active")
        assert before.next_occurrence, "an active template has a next occurrence"
        skipped[:] = [before.next_occurrence]
        following = recurrence.next_occurrence(rule_of(before), date.fromisoformat(before.next_occurrence),
                                               before.occurrences_generated)
        dates = [*before.skipped_dates, before.next_occurrence][-_SKIPPED_KEPT:]
        return with_next(before, iso(following), skipped_dates=dates)

    after = _change(business_id, template_id, apply)
    return SkipResult(skipped_date=skipped[0], next_occurrence=after.next_occurrence, template=after)


def clone(business_id: str, template_id: str) -> RecurringTemplate:
    """A new active template with the same customer, lines and schedule; its series starts now."""
    source, timezone = store.get_in_zone(business_id, template_id)
    now = now_iso()
    copy = source.model_copy(update={
        "id": uuid7(), "name": f"{source.name} (copy)"[:200], "status": "active", "occurrences_generated": 0,
        "last_generated_on": None, "skipped_dates": [], "source_invoice_id": None, "created_at": now,
        "updated_at": now, "version": 1,
    })
    copy = with_next(copy, next_from(copy, today_in(timezone)))
    store.put_new(copy)
    schedule.sync(copy, timezone)
    return copy
