"""Recurring templates API: each active template generates one invoice per occurrence, fired by
its EventBridge Scheduler schedule (the run itself is RecurringRunFunction)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from invoicing.domain.models import Invoice, RecurringStatus, RecurringTemplate
from invoicing.http.api import InvoicingApi, entry_point
from invoicing.http.envelope import Envelope, Page, counted, documented, ok
from invoicing.http.paging import Cursor, Descending, Direction, IncludeTotal, Limit, SortByCreated, page_request
from invoicing.recurring import templates
from invoicing.recurring.schemas import RecurringCreate, RecurringUpdate, SkipResult
from invoicing.schemas.types import Uuid

app = InvoicingApi()

TemplateId = Annotated[Uuid, Path(description="The recurring template's UUID")]
BASE = "/api/v1/recurring"
TAGS = ["recurring"]


@app.post(BASE, status_code=201, responses=documented(201, 404), summary="Create recurring template", tags=TAGS,
          description="A standalone template (recurrence_type 'invoice'; 'bill' is a 422). Occurrences are anchored "
                      "on start_date (default today); those before today are not generated.")
def create_template(body: Annotated[RecurringCreate, Body()]) -> Envelope[RecurringTemplate]:
    template = templates.create_template(app.caller.business_id, body)
    return counted(template, metric="RecurringTemplateCreated", code="recurring.created",
                   message="Recurring template created")


@app.get(f"{BASE}/invoices", responses=documented(200), summary="List recurring invoice templates", tags=TAGS,
         description="DayZero's shortcut for the invoice templates: every template of this service is one "
                     "(recurrence_type 'invoice'), so this is the list below.",
         operation_id="list_recurring_invoice_templates")
@app.get(BASE, responses=documented(200), summary="List recurring templates", tags=TAGS,
         description="Newest first by default; filters combine with AND.")
def list_templates(
    status: Annotated[list[RecurringStatus] | None, Query(description="Repeatable")] = None,
    customer_id: Annotated[Uuid | None, Query(description="Only this customer's")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    direction: Direction = None,
    descending: Descending = True,
    include_total_count: IncludeTotal = False,
    sort_by: SortByCreated = "created_at",
) -> Envelope[Page[RecurringTemplate]]:
    page, items = templates.list_templates(app.caller.business_id,
                                           page_request(limit, cursor, direction, descending, include_total_count),
                                           statuses=status or [], customer_id=customer_id)
    return ok(page.as_dict(items), code="recurring.list", message=f"{len(items)} recurring templates")


@app.get(f"{BASE}/<template_id>", responses=documented(200, 404), summary="Get recurring template", tags=TAGS,
         description="With next_occurrence (null unless active).")
def get_template(template_id: TemplateId) -> Envelope[RecurringTemplate]:
    return ok(templates.get_template(app.caller.business_id, template_id), code="recurring.retrieved",
              message="Recurring template retrieved")


@app.put(f"{BASE}/<template_id>", responses=documented(200, 404, 409), summary="Update recurring template",
         tags=TAGS, description="Fields left out keep their value. A schedule change moves the next occurrence "
                                "(from today on). 409 once canceled.")
def update_template(template_id: TemplateId, body: Annotated[RecurringUpdate, Body()]
                    ) -> Envelope[RecurringTemplate]:
    template = templates.update_template(app.caller.business_id, template_id, body)
    return ok(template, code="recurring.updated", message="Recurring template updated")


def _status_route(action: str, done: str, move: Callable[[str, str], RecurringTemplate], description: str) -> None:
    """``POST /recurring/{id}/<action>``, answering the template as the move left it."""
    def handler(template_id: TemplateId) -> Envelope[RecurringTemplate]:
        return ok(move(app.caller.business_id, template_id), code=f"recurring.{done}",
                  message=f"Recurring template {done}")

    handler.__name__ = handler.__qualname__ = f"{action}_template"
    app.post(f"{BASE}/<template_id>/{action}", responses=documented(200, 404, 409),
             summary=f"{action.capitalize()} recurring template", tags=TAGS, description=description)(handler)


_status_route("pause", "paused", templates.pause, "active -> paused: occurrences while paused generate nothing.")
_status_route("resume", "resumed", templates.resume,
              "paused -> active; the occurrences missed while paused are recorded as skipped.")
_status_route("cancel", "canceled", templates.cancel, "active or paused -> canceled, for good.")


@app.post(f"{BASE}/<template_id>/skip", responses=documented(200, 404, 409), summary="Skip the next occurrence",
          tags=TAGS, description="The next occurrence generates no invoice; answers it and the one after.")
def skip_occurrence(template_id: TemplateId) -> Envelope[SkipResult]:
    skipped = templates.skip(app.caller.business_id, template_id)
    return ok(skipped, code="recurring.skipped", message=f"Occurrence {skipped.skipped_date} skipped")


@app.post(f"{BASE}/<template_id>/clone", status_code=201, responses=documented(201, 404),
          summary="Clone recurring template", tags=TAGS,
          description="A new active template with the same customer, lines and schedule.")
def clone_template(template_id: TemplateId) -> Envelope[RecurringTemplate]:
    return ok(templates.clone(app.caller.business_id, template_id), code="recurring.cloned",
              message="Recurring template cloned")


@app.get(f"{BASE}/<template_id>/history", responses=documented(200, 404), summary="Recurring template history",
         tags=TAGS, description="The invoices the template generated (its creating invoice too), by occurrence "
                                "date, newest first by default.")
def template_history(
    template_id: TemplateId,
    limit: Limit = 50,
    cursor: Cursor = None,
    direction: Direction = None,
    descending: Descending = True,
    include_total_count: IncludeTotal = False,
) -> Envelope[Page[Invoice]]:
    page, invoices = templates.history(app.caller.business_id, template_id,
                                       page_request(limit, cursor, direction, descending, include_total_count))
    return ok(page.as_dict(invoices), code="recurring.history", message=f"{len(invoices)} invoices")


lambda_handler = entry_point(app, __name__)
