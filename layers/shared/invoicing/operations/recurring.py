"""Recurring templates: create (standalone or from an invoice), read, list, change, pause,
resume, cancel, skip, clone, history, and the run that generates their invoices.

Exactly one invoice per occurrence: ``run_due`` writes each generated invoice, the occurrence's
marker (created only if absent) and the template's advance (conditional on its version) in one
transaction. A second or late fire, or the daily catch-up racing a schedule, finds the marker
or a newer version, reads the template again and generates only what is still missing.

An ``auto_finalize`` template's invoice is finalized after that transaction, which also wrote a
pending finalize naming it; the finalize deletes it in its own transaction. Should a run die in
between, any later run of the template (the fire redelivered, the next fire, the catch-up) reads
the pending finalize with the template and finishes it first, exactly once: unless the user has
since deleted the draft or made it something else than a draft (left as it is), or turned
``auto_finalize`` off (left a draft). The marker stays, so a deleted draft is never recreated.

Dates are the business's calendar dates (``today_in(business.timezone)``). Occurrences before
a template existed are not generated (scheduling is not backdating), nor are those that fell
while it was paused: resume records them in ``skipped_dates``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from invoicing.domain import recurrence
from invoicing.domain.clock import now_iso, today_in
from invoicing.domain.ids import uuid7
from invoicing.domain.models import Invoice, LineItem, RecurringTemplate, RecurringTemplateData
from invoicing.errors import Conflict, NotFound, Unprocessable
from invoicing.http.invoices import InvoiceRecurringConfig
from invoicing.http.recurring import RecurringCreate, RecurringUpdate
from invoicing.observability import logger
from invoicing.operations import invoices as invoice_operations
from invoicing.operations import pricing
from invoicing.storage import invoices as invoice_store
from invoicing.storage import keys, lookup, retry, scheduler, transactions
from invoicing.storage import recurring as store
from invoicing.storage.paging import Page, PageRequest

MAX_PER_RUN = 50  # occurrences one run generates; a longer backlog continues a minute later
_SKIPPED_KEPT = 100
_SCHEDULE_FIELDS = ("frequency", "start_date", "day_of_month", "day_of_week", "end_date", "max_occurrences")


def rule_of(template: RecurringTemplate) -> recurrence.Rule:
    return recurrence.Rule(
        frequency=template.frequency, start_date=date.fromisoformat(template.start_date),
        day_of_month=template.day_of_month, day_of_week=template.day_of_week,
        end_date=date.fromisoformat(template.end_date) if template.end_date else None,
        max_occurrences=template.max_occurrences,
    )


def _check_rule(rule: recurrence.Rule, loc: Sequence[str]) -> None:
    for name, message in recurrence.check(rule):
        raise Unprocessable(message, loc=(*loc, name), type="value_error")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _next_from(template: RecurringTemplate, today: date) -> str | None:
    """The first occurrence on or after ``today`` and after the last generated one."""
    after = today - timedelta(days=1)
    if template.last_generated_on:
        after = max(after, date.fromisoformat(template.last_generated_on))
    return _iso(recurrence.next_occurrence(rule_of(template), after, template.occurrences_generated))


def _with_next(template: RecurringTemplate, next_occurrence: str | None, **update: Any) -> RecurringTemplate:
    """``template`` with its next occurrence; an active one without any is completed."""
    status = update.pop("status", template.status)
    if status == "active" and next_occurrence is None:
        status = "completed"
    if status != "active":
        next_occurrence = None
    return template.model_copy(update={"next_occurrence": next_occurrence, "status": status, **update})


def _sync_schedule(template: RecurringTemplate, timezone: str) -> None:
    """Make the template's schedule true to it. A failure is logged, not raised: the template is
    already stored, and the daily catch-up runs any template whose occurrence is due."""
    try:
        if template.status == "active" and template.next_occurrence:
            scheduler.put_schedule(template.business_id, template.id, template.next_occurrence, timezone)
        else:
            scheduler.delete_schedule(template.id)
    except Exception:  # noqa: BLE001 - logged; the daily catch-up runs the template regardless
        logger.exception("could not update the schedule of recurring template %s", template.id)


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
def create_template(business_id: str, request: RecurringCreate) -> RecurringTemplate:
    if request.recurrence_type != "invoice":
        raise Unprocessable("recurrence_type 'bill' is not supported: only 'invoice' templates can be created",
                            loc=("body", "recurrence_type"), type="not_supported", input=request.recurrence_type)
    data = request.template_data
    lines = [line.model_dump(exclude_none=True) for line in data.line_items]
    business = _validate_lines(business_id, lines, data.fulfillment_location_id, request.currency,
                               customer_id=request.customer_id).business
    currency = request.currency or business.currency
    today = today_in(business.timezone)
    now = now_iso()
    template = RecurringTemplate(
        id=uuid7(), business_id=business_id, name=request.name, customer_id=request.customer_id, currency=currency,
        frequency=request.frequency, start_date=request.start_date or today.isoformat(),
        day_of_month=request.day_of_month, day_of_week=request.day_of_week, end_date=request.end_date,
        max_occurrences=request.max_occurrences, days_until_due=request.days_until_due,
        auto_finalize=request.auto_finalize, status="active",
        template_data=RecurringTemplateData(line_items=lines, description=data.description,
                                            fulfillment_location_id=data.fulfillment_location_id),
        created_at=now, updated_at=now, version=1,
    )
    _check_rule(rule_of(template), ("body",))
    template = _with_next(template, _next_from(template, today))
    store.put_new(template)
    _sync_schedule(template, business.timezone)
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
    _check_rule(rule_of(template), ("body", "recurring"))
    today = today_in(timezone)
    template = _with_next(template, _next_from(template, today))  # after the issue date, from today on
    actions = [store.put_action(template),
               store.marker_action(invoice.business_id, template.id, invoice.issue_date, invoice.id, now)]
    return FromInvoice(template, actions, timezone)


def schedule_new(made: FromInvoice) -> None:
    """After the invoice's transaction committed: the template's schedule."""
    _sync_schedule(made.template, made.timezone)


# --------------------------------------------------------------------------- read
def get_template(business_id: str, template_id: str) -> RecurringTemplate:
    return store.get(business_id, template_id)


def list_templates(business_id: str, request: PageRequest, *, statuses: Sequence[str] = (),
                   customer_id: str | None = None) -> tuple[Page, list[RecurringTemplate]]:
    return store.list_page(business_id, request, statuses=statuses, customer_id=customer_id)


def history(business_id: str, template_id: str, request: PageRequest) -> tuple[Page, list[Invoice]]:
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
        found = lookup.fetch(business_id, also=[keys.recurring(template_id)])
        item = found.raw(keys.recurring(template_id))
        if item is None:
            raise store.not_found(template_id)
        before = store.of_item(item)
        timezone = found.business.timezone
        after = change(before, today_in(timezone))
        after = after.model_copy(update={"version": before.version + 1, "updated_at": now_iso()})
        store.replace(before, after)
        _sync_schedule(after, timezone)
        return after

    return retry.optimistic(attempt, exhausted=Conflict(
        f"Recurring template {template_id} is being changed by other requests; retry", code="concurrent_update"))


def _require(template: RecurringTemplate, action: str, *statuses: str) -> None:
    if template.status not in statuses:
        raise Conflict(f"Recurring template {template.id} is {template.status}: it cannot be {action}",
                       code="invalid_template_status")


def update_template(business_id: str, template_id: str, request: RecurringUpdate) -> RecurringTemplate:
    changes = request.model_dump(exclude_unset=True)
    if "customer_id" in changes:
        lookup.fetch(business_id, customers=[changes["customer_id"]]).require_customer(changes["customer_id"])
    if "template_data" in changes:
        data = request.template_data
        changes["template_data"] = RecurringTemplateData(
            line_items=[line.model_dump(exclude_none=True) for line in data.line_items],
            description=data.description, fulfillment_location_id=data.fulfillment_location_id)

    def apply(before: RecurringTemplate, today: date) -> RecurringTemplate:
        _require(before, "changed", "active", "paused", "completed")
        after = before.model_copy(update=changes)
        _check_rule(rule_of(after), ("body",))
        if "template_data" in changes or "currency" in changes:
            _validate_lines(business_id, after.template_data.line_items, after.template_data.fulfillment_location_id,
                            after.currency)
        if before.status == "paused":
            return after
        status = "active" if before.status == "completed" else before.status  # a longer series goes on
        if status == "active" and not any(f in changes for f in _SCHEDULE_FIELDS) and before.status == "active":
            return after
        return _with_next(after, _next_from(after, today), status=status)

    return _change(business_id, template_id, apply)


def pause(business_id: str, template_id: str) -> RecurringTemplate:
    def apply(before: RecurringTemplate, today: date) -> RecurringTemplate:
        _require(before, "paused", "active")
        return _with_next(before, None, status="paused")

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
        return _with_next(resumed, _next_from(resumed, today), status="active")

    return _change(business_id, template_id, apply)


def cancel(business_id: str, template_id: str) -> RecurringTemplate:
    def apply(before: RecurringTemplate, today: date) -> RecurringTemplate:
        _require(before, "canceled", "active", "paused")
        return _with_next(before, None, status="canceled")

    return _change(business_id, template_id, apply)


@dataclass(frozen=True)
class Skipped:
    skipped_date: str
    next_occurrence: str | None
    template: RecurringTemplate


def skip(business_id: str, template_id: str) -> Skipped:
    """Skip the next occurrence (it generates nothing); answers it and the one after."""
    skipped: list[str] = []

    def apply(before: RecurringTemplate, today: date) -> RecurringTemplate:
        _require(before, "skipped", "active")
        assert before.next_occurrence, "an active template has a next occurrence"
        skipped[:] = [before.next_occurrence]
        following = recurrence.next_occurrence(rule_of(before), date.fromisoformat(before.next_occurrence),
                                               before.occurrences_generated)
        dates = [*before.skipped_dates, before.next_occurrence][-_SKIPPED_KEPT:]
        return _with_next(before, _iso(following), skipped_dates=dates)

    after = _change(business_id, template_id, apply)
    return Skipped(skipped_date=skipped[0], next_occurrence=after.next_occurrence, template=after)


def clone(business_id: str, template_id: str) -> RecurringTemplate:
    """A new active template with the same customer, lines and schedule; its series starts now."""
    found = lookup.fetch(business_id, also=[keys.recurring(template_id)])
    item = found.raw(keys.recurring(template_id))
    if item is None:
        raise store.not_found(template_id)
    source = store.of_item(item)
    timezone = found.business.timezone
    now = now_iso()
    copy = source.model_copy(update={
        "id": uuid7(), "name": f"{source.name} (copy)"[:200], "status": "active", "occurrences_generated": 0,
        "last_generated_on": None, "skipped_dates": [], "source_invoice_id": None, "created_at": now,
        "updated_at": now, "version": 1,
    })
    copy = _with_next(copy, _next_from(copy, today_in(timezone)))
    store.put_new(copy)
    _sync_schedule(copy, timezone)
    return copy


# --------------------------------------------------------------------------- run
@dataclass
class RunResult:
    template_id: str
    generated: list[Invoice]
    status: str | None = None
    next_occurrence: str | None = None
    # invoices of earlier runs that died before finalizing them, finalized by this one
    finalized: list[Invoice] = field(default_factory=list)


_LEFT_ALONE = ("invalid_status", "invoice_deleted")  # Conflict codes of finalize: not a draft (any more)


def _finalize(template: RecurringTemplate, pending: store.Pending) -> Invoice | None:
    """Finalize the generated invoice ``pending`` names, and delete ``pending`` in the same
    transaction: exactly once, whichever runs race. None when it is not to be (or was already)
    finalized: the user deleted the draft, made it something else than a draft, or turned
    ``auto_finalize`` off; or another run finished it first."""
    business_id, template_id, invoice_id = template.business_id, template.id, pending.invoice_id
    if not template.auto_finalize:
        if store.clear_pending(business_id, template_id, invoice_id):
            logger.info("recurring template %s: auto_finalize is off now, invoice %s of %s stays a draft",
                        template_id, invoice_id, pending.occurrence)
        return None
    try:
        return invoice_operations.finalize(business_id, invoice_id, now_iso(),
                                      also=[store.clear_pending_action(business_id, template_id, invoice_id)])
    except transactions.Cancelled:
        return None  # the pending finalize is gone: another run finished it
    except (NotFound, Conflict) as error:
        if isinstance(error, Conflict) and error.code not in _LEFT_ALONE:
            raise  # e.g. too many finalizes at once: the pending finalize stays for a retry
        if store.clear_pending(business_id, template_id, invoice_id):
            logger.warning("recurring template %s: invoice %s of %s was not finalized (%s); left as it is",
                           template_id, invoice_id, pending.occurrence, error)
        return None


def _generate(template: RecurringTemplate, occurrence: date, after: RecurringTemplate) -> Invoice:
    """Price the template's lines as of today's catalog and write the invoice, its marker, the
    template's advance and (``auto_finalize``) its pending finalize in one transaction
    (``transactions.Cancelled`` when any of them fails)."""
    data = template.template_data
    requested = pricing.requested(data.line_items, data.fulfillment_location_id)
    found = pricing.fetch(template.business_id, requested, customers=[template.customer_id])
    now = now_iso()
    invoice, products = pricing.draft(
        found, requested, customer_id=template.customer_id, currency=template.currency, issue=occurrence,
        due_date=(occurrence + timedelta(days=template.days_until_due)).isoformat(), description=data.description,
        now=now, recurring_template_id=template.id)
    also = [store.marker_action(template.business_id, template.id, occurrence.isoformat(), invoice.id, now),
            store.replace_action(template, after)]
    if template.auto_finalize:
        also.append(store.pending_action(template.business_id, template.id, occurrence.isoformat(), invoice.id, now))
    invoice_store.put_new(invoice, product_ids=products, also=also)
    return invoice


def _load_for_run(business_id: str, template_id: str, result: RunResult) -> tuple[RecurringTemplate, str] | None:
    """The template and its business's time zone, with its pending finalize (usually absent) in
    the same BatchGetItem; a finalize an earlier run left undone is finished first (into
    ``result``). None when the template does not exist (its schedule is deleted)."""
    found = lookup.fetch(business_id, also=[keys.recurring(template_id), keys.recurring_finalize(template_id)])
    item = found.raw(keys.recurring(template_id))
    if item is None:
        logger.warning("recurring template %s of business %s does not exist: nothing to run", template_id,
                       business_id)
        scheduler.delete_schedule(template_id)
        return None
    template = store.of_item(item)
    unfinished = store.pending_of(found.raw(keys.recurring_finalize(template_id)))
    if unfinished is not None:  # an earlier run died before finalizing this occurrence's invoice
        logger.warning("recurring template %s: finishing the finalize of invoice %s (%s)", template_id,
                       unfinished.invoice_id, unfinished.occurrence)
        if (finished := _finalize(template, unfinished)) is not None:
            result.finalized.append(finished)
    return template, found.business.timezone


def run_due(business_id: str, template_id: str, today: date | None = None) -> RunResult:
    """Finish a finalize an earlier run left undone, then generate every occurrence of the
    template due by ``today`` (default: today in the business's time zone) that has no invoice
    yet, one transaction each, then move its schedule."""
    result = RunResult(template_id, [])
    # After a generation the template is what it wrote: it is read again only after a lost race.
    loaded = _load_for_run(business_id, template_id, result)

    def generate_next() -> str:
        """Generate the next due occurrence: "generated", "done" (nothing is due, or the template
        is gone) or "canceled"; ``LostRace`` when another run generated it or the template changed."""
        nonlocal loaded
        if loaded is None:
            return "done"
        template, timezone = loaded
        day = today or today_in(timezone)
        if template.status != "active" or not template.next_occurrence:
            return "done"
        pending = recurrence.due(rule_of(template), date.fromisoformat(template.next_occurrence), day,
                                 template.occurrences_generated)
        if not pending:
            return "done"
        occurrence = pending[0]
        generated = template.occurrences_generated + 1
        following = recurrence.next_occurrence(rule_of(template), occurrence, generated)
        after = _with_next(template, _iso(following), occurrences_generated=generated,
                           last_generated_on=occurrence.isoformat(), version=template.version + 1,
                           updated_at=now_iso())
        try:
            invoice = _generate(template, occurrence, after)
        except transactions.Cancelled:
            loaded = _load_for_run(business_id, template_id, result)
            raise retry.LostRace(f"recurring template {template_id}: {occurrence} was generated meanwhile") from None
        except NotFound as missing:
            if missing.code != "customer_not_found":
                raise  # a deleted variant or location: the run fails (retried, then dead-lettered)
            # The customer was deleted: nobody is left to bill, so the template ends here rather
            # than failing every occurrence into the dead-letter queue.
            logger.warning("recurring template %s: customer %s was deleted; the template is canceled", template_id,
                           template.customer_id)
            canceled = cancel(business_id, template_id)  # its schedule goes with it
            result.status, result.next_occurrence = canceled.status, canceled.next_occurrence
            return "canceled"
        if template.auto_finalize:
            invoice = _finalize(template, store.Pending(occurrence.isoformat(), invoice.id)) or invoice
        result.generated.append(invoice)
        loaded = after, timezone
        return "generated"

    outcome = "generated"
    while outcome == "generated" and len(result.generated) < MAX_PER_RUN:
        outcome = retry.optimistic(generate_next, exhausted=lambda: "contended")
    if outcome == "canceled":
        return result
    if loaded is None:
        return result  # the template does not exist (any more)
    template, timezone = loaded
    result.status, result.next_occurrence = template.status, template.next_occurrence
    _sync_schedule(template, timezone)
    return result


def run_catch_up(today: date | None = None) -> list[RunResult]:
    """Run every active template whose next occurrence is due, and every template with a
    pending finalize (the daily catch-up schedule).
    The index is read up to tomorrow in UTC, so every time zone's today is covered; each run
    then uses its own business's today."""
    until = (today or today_in("UTC")) + timedelta(days=1)
    results = []
    for due_template in store.due_through(until.isoformat()):
        try:
            results.append(run_due(due_template.business_id, due_template.template_id, today))
        except Exception:  # noqa: BLE001 - logged; one failing template must not stop the others
            logger.exception("catch-up of recurring template %s failed", due_template.template_id)
    return results
