"""Recurring templates (``BIZ#<b> / RECURRING#<id>``), their occurrence markers
(``BIZ#<b> / RECURRING#<id>#RUN#<date>``) and their pending finalize
(``BIZ#<b> / RECURRING#<id>#FINALIZE``).

Every template write is conditional on the ``version`` that was read, so a run and a pause (or
two runs) never both win. A marker is created only if absent, in the same transaction as the
invoice it records: whatever fires twice, an occurrence has at most one invoice. Active
templates with a next occurrence sit on GSI2 under ``RECURRING#DUE#<n>`` (sparse, 16 shards by
template id), where the daily catch-up finds them without a Scan.

An ``auto_finalize`` template's generated invoice is finalized in a second step (it takes the
business's next number). So the generating transaction also creates the template's pending
finalize, naming the invoice, and the finalize transaction deletes it: a run that dies in between
leaves it behind, and the next run of the template (which reads it in the same BatchGetItem as
the template) finishes the job. It sits on GSI2 under its template's shard at its occurrence date
too, so the daily catch-up also runs a template that is no longer due (or active) for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from invoicing.domain.models import RecurringTemplate
from invoicing.errors import NotFound
from invoicing.storage import keys, lookup, transactions
from invoicing.storage.paging import Filter, PageRequest, Partition, QueryPage, condition, query_all, query_page
from invoicing.storage.retry import LostRace
from invoicing.storage.table import client, get_item, put_item, table_name, value


def not_found(template_id: str) -> NotFound:
    return NotFound(f"Recurring template {template_id} not found", code="recurring_template_not_found")


def item_of(template: RecurringTemplate) -> dict[str, Any]:
    item: dict[str, Any] = {
        keys.PK: keys.business(template.business_id),
        keys.SK: keys.recurring(template.id),
        keys.GSI1PK: keys.recurring_templates(template.business_id),
        keys.GSI1SK: keys.recurring(template.id),
        **template.model_dump(),
        "version": template.version,
    }
    if template.status == "active" and template.next_occurrence:
        item[keys.GSI2PK] = keys.recurring_due_shard(template.id)
        item[keys.GSI2SK] = keys.recurring_due(template.next_occurrence, template.business_id, template.id)
    return item


def of_item(item: dict[str, Any]) -> RecurringTemplate:
    return RecurringTemplate.model_validate({**item, "version": int(item.get("version", 0))})


def put_action(template: RecurringTemplate) -> dict[str, Any]:
    """The transaction action that writes a new template (never over an existing id)."""
    return transactions.put(item_of(template))


def replace_action(before: RecurringTemplate, after: RecurringTemplate) -> dict[str, Any]:
    """The transaction action that overwrites ``before`` with ``after`` (whose version must be
    ``before.version + 1``), only if nobody changed it in between."""
    return transactions.put(item_of(after), "version = :version", values={":version": before.version})


def marker_action(business_id: str, template_id: str, occurrence: str, invoice_id: str, now: str) -> dict[str, Any]:
    """The occurrence marker: created once, or the whole transaction is cancelled."""
    return transactions.put({keys.PK: keys.business(business_id), keys.SK: keys.recurring_run(template_id, occurrence),
                             "template_id": template_id, "occurrence": occurrence, "invoice_id": invoice_id,
                             "created_at": now})


@dataclass(frozen=True)
class Pending:
    """A generated invoice still to be finalized (its template is ``auto_finalize``)."""

    occurrence: str
    invoice_id: str


def pending_action(business_id: str, template_id: str, occurrence: str, invoice_id: str,
                   now: str) -> dict[str, Any]:
    """The pending finalize of the invoice the same transaction generates: created only if absent
    (a template has at most one; a run finishes it before it generates the next occurrence)."""
    return transactions.put({
        keys.PK: keys.business(business_id), keys.SK: keys.recurring_finalize(template_id),
        keys.GSI2PK: keys.recurring_due_shard(template_id),
        keys.GSI2SK: keys.recurring_due(occurrence, business_id, template_id),
        "business_id": business_id, "template_id": template_id, "occurrence": occurrence,
        "invoice_id": invoice_id, "created_at": now,
    })


def pending_of(item: dict[str, Any] | None) -> Pending | None:
    """The pending finalize from its item (read with the template), if there is one."""
    return None if item is None else Pending(item["occurrence"], item["invoice_id"])


def clear_pending_action(business_id: str, template_id: str, invoice_id: str) -> dict[str, Any]:
    """The transaction action (with the invoice's finalize) deleting its pending finalize; it
    fails, cancelling that finalize, when another run has already finished it."""
    return transactions.delete(keys.business(business_id), keys.recurring_finalize(template_id),
                               "invoice_id = :invoice", values={":invoice": invoice_id})


def clear_pending(business_id: str, template_id: str, invoice_id: str) -> bool:
    """Drop the pending finalize of ``invoice_id`` without finalizing it; False if it was gone."""
    try:
        client().delete_item(**clear_pending_action(business_id, template_id, invoice_id)["Delete"])
    except client().exceptions.ConditionalCheckFailedException:
        return False
    return True


def get(business_id: str, template_id: str) -> RecurringTemplate:
    item = get_item(keys.business(business_id), keys.recurring(template_id))
    if item is None:
        raise not_found(template_id)
    return of_item(item)


def get_in_zone(business_id: str, template_id: str) -> tuple[RecurringTemplate, str]:
    """The template and its business's time zone, in one BatchGetItem."""
    found = lookup.fetch(business_id, also=[keys.recurring(template_id)])
    item = found.raw(keys.recurring(template_id))
    if item is None:
        raise not_found(template_id)
    return of_item(item), found.business.timezone


def put_new(template: RecurringTemplate) -> None:
    put_item(item_of(template))


def replace(before: RecurringTemplate, after: RecurringTemplate) -> None:
    """Overwrite, if unchanged since ``before`` was read (else ``LostRace``)."""
    try:
        client().put_item(**replace_action(before, after)["Put"])
    except client().exceptions.ConditionalCheckFailedException:
        raise LostRace(f"Recurring template {after.id} was changed by another request; read it again and retry"
                       ) from None


def list_page(business_id: str, request: PageRequest, *, statuses: Sequence[str] = (),
              customer_id: str | None = None) -> tuple[QueryPage, list[RecurringTemplate]]:
    """GSI1 (the business's templates, creation order); the filters are applied while reading."""
    where = Partition.on_gsi1(business_id, keys.recurring_templates(business_id), keys.RECURRING)
    filter_ = Filter.all_of(condition("status", "in", *statuses) if statuses else None,
                            condition("customer_id", "=", customer_id) if customer_id else None)
    page = query_page(where, request, filter_)
    return page, [of_item(item) for item in page.items]


@dataclass(frozen=True)
class Run:
    occurrence: str
    invoice_id: str


def runs_page(business_id: str, template_id: str, request: PageRequest) -> tuple[QueryPage, list[Run]]:
    """One Query: a page of the template's occurrence markers, by occurrence date."""
    page = query_page(Partition.of(business_id, keys.recurring_runs(template_id)), request)
    return page, [Run(item["occurrence"], item["invoice_id"]) for item in page.items]


@dataclass(frozen=True)
class Due:
    business_id: str
    template_id: str
    next_occurrence: str


def due_through(day: str) -> list[Due]:
    """Every active template whose next occurrence is on or before ``day``, and every template
    with a pending finalize of an occurrence on or before it (GSI2, sparse; one Query per shard):
    each template once, by its earliest date, earliest first."""
    found: dict[tuple[str, str], Due] = {}
    for partition in keys.recurring_due_partitions():
        for item in query_all({
            "TableName": table_name(), "IndexName": keys.GSI2,
            "KeyConditionExpression": "GSI2PK = :pk AND GSI2SK < :bound",
            "ExpressionAttributeValues": {":pk": value(partition), ":bound": value(keys.recurring_due_through(day))},
            "ProjectionExpression": "business_id, id, next_occurrence, template_id, occurrence",
        }):
            if "template_id" in item:  # a pending finalize
                due = Due(item["business_id"], item["template_id"], item["occurrence"])
            else:
                due = Due(item["business_id"], item["id"], item["next_occurrence"])
            known = found.get((due.business_id, due.template_id))
            if known is None or due.next_occurrence < known.next_occurrence:
                found[(due.business_id, due.template_id)] = due
    return sorted(found.values(), key=lambda due: (due.next_occurrence, due.business_id, due.template_id))
