"""The run: the only place an occurrence's invoice is generated (``run_due``; ``run_catch_up``
runs every due template through it).

Why an occurrence gets exactly one invoice, however often, late or concurrently it is run:

- Generating is one transaction: the invoice, the occurrence's marker (created only if absent,
  ``records.marker_action``), the template's advance (conditional on the version read,
  ``records.replace_action``) and, for ``auto_finalize``, the pending finalize. A crash leaves
  all of it or none; a second run of the same occurrence (a redelivered or late fire, the daily
  catch-up racing a schedule) is cancelled, reads the template again (``retry.optimistic``) and
  generates only what is still missing. So an occurrence is generated at most once.
- Nothing due is lost: the template's ``next_occurrence`` moves only with its invoice, and it
  sits on the due index, so the next fire or the daily catch-up generates whatever a failed or
  missing fire left.
- The finalize of an ``auto_finalize`` invoice deletes the pending finalize in its own
  transaction. Should a run die in between, any later run of the template reads the pending
  finalize with the template and finishes it first, exactly once: unless the user has since
  deleted the draft or made it something else than a draft (left as it is), or turned
  ``auto_finalize`` off (left a draft). The marker stays, so a deleted draft is never recreated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from invoicing.domain.clock import now_iso, today_in
from invoicing.domain.models import Invoice, RecurringTemplate
from invoicing.errors import Conflict, NotFound
from invoicing.observability import logger
from invoicing.operations import invoices as invoice_operations
from invoicing.operations import pricing
from invoicing.recurring import records as store
from invoicing.recurring import recurrence, schedule, templates
from invoicing.recurring.recurrence import iso, rule_of, with_next
from invoicing.storage import invoices as invoice_store
from invoicing.storage import keys, lookup, retry, transactions

MAX_PER_RUN = 50  # occurrences one run generates; a longer backlog continues a minute later


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
        schedule.delete_schedule(template_id)
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
        after = with_next(template, iso(following), occurrences_generated=generated,
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
            canceled = templates.cancel(business_id, template_id)  # its schedule goes with it
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
    schedule.sync(template, timezone)
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
