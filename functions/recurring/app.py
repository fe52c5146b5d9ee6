"""Recurring templates API: each active template generates one invoice per occurrence, fired by
its EventBridge Scheduler schedule (the run itself is RecurringRunFunction)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from invoicing.domain.models import Invoice, RecurringStatus, RecurringTemplate
from invoicing.http.api import InvoicingApi
from invoicing.http.envelope import Envelope, Page, documented, ok
from invoicing.http.paging import Cursor, Descending, Direction, IncludeTotal, Limit, SortByCreated, page_request
from invoicing.http.recurring import RecurringCreate, RecurringUpdate
from invoicing.http.types import Uuid
from invoicing.observability import logger, metrics, tracer
from invoicing.operations import recurring

app = InvoicingApi()

TemplateId = Annotated[Uuid, Path(description="The recurring template's UUID")]
BASE = "/api/v1/recurring"
TAGS = ["recurring"]


class SkipResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    skipped_date: str = Field(description="The occurrence that will generate no invoice")
    next_occurrence: str | None = Field(description="The occurrence after it (null: the series is over)")
    template: RecurringTemplate


@app.post(BASE, status_code=201, responses=documented(201, 404), summary="Create recurring template", tags=TAGS,
          description="A standalone template (recurrence_type 'invoice'; 'bill' is a 422). Occurrences are anchored "
                      "on start_date (default today); those before today are not generated.")
def create_template(body: Annotated[RecurringCreate, Body()]) -> Envelope[RecurringTemplate]:
    template = recurring.create_template(app.caller.business_id, body)
    metrics.add_metric(name="RecurringTemplateCreated", unit=MetricUnit.Count, value=1)
    return ok(template, code="recurring.created", message="Recurring template created")


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
    page, items = recurring.list_templates(app.caller.business_id,
                                           page_request(limit, cursor, direction, descending, include_total_count),
                                           statuses=status or [], customer_id=customer_id)
    return ok(page.as_dict(items), code="recurring.list", message=f"{len(items)} recurring templates")


@app.get(f"{BASE}/<template_id>", responses=documented(200, 404), summary="Get recurring template", tags=TAGS,
         description="With next_occurrence (null unless active).")
def get_template(template_id: TemplateId) -> Envelope[RecurringTemplate]:
    return ok(recurring.get_template(app.caller.business_id, template_id), code="recurring.retrieved",
              message="Recurring template retrieved")


@app.put(f"{BASE}/<template_id>", responses=documented(200, 404, 409), summary="Update recurring template",
         tags=TAGS, description="Fields left out keep their value. A schedule change moves the next occurrence "
                                "(from today on). 409 once canceled.")
def update_template(template_id: TemplateId, body: Annotated[RecurringUpdate, Body()]
                    ) -> Envelope[RecurringTemplate]:
    template = recurring.update_template(app.caller.business_id, template_id, body)
    return ok(template, code="recurring.updated", message="Recurring template updated")


@app.post(f"{BASE}/<template_id>/pause", responses=documented(200, 404, 409), summary="Pause recurring template",
          tags=TAGS, description="active -> paused: occurrences while paused generate nothing.")
def pause_template(template_id: TemplateId) -> Envelope[RecurringTemplate]:
    return ok(recurring.pause(app.caller.business_id, template_id), code="recurring.paused",
              message="Recurring template paused")


@app.post(f"{BASE}/<template_id>/resume", responses=documented(200, 404, 409), summary="Resume recurring template",
          tags=TAGS, description="paused -> active; the occurrences missed while paused are recorded as skipped.")
def resume_template(template_id: TemplateId) -> Envelope[RecurringTemplate]:
    return ok(recurring.resume(app.caller.business_id, template_id), code="recurring.resumed",
              message="Recurring template resumed")


@app.post(f"{BASE}/<template_id>/cancel", responses=documented(200, 404, 409), summary="Cancel recurring template",
          tags=TAGS, description="active or paused -> canceled, for good.")
def cancel_template(template_id: TemplateId) -> Envelope[RecurringTemplate]:
    return ok(recurring.cancel(app.caller.business_id, template_id), code="recurring.canceled",
              message="Recurring template canceled")


@app.post(f"{BASE}/<template_id>/skip", responses=documented(200, 404, 409), summary="Skip the next occurrence",
          tags=TAGS, description="The next occurrence generates no invoice; answers it and the one after.")
def skip_occurrence(template_id: TemplateId) -> Envelope[SkipResult]:
    skipped = recurring.skip(app.caller.business_id, template_id)
    result = SkipResult(skipped_date=skipped.skipped_date, next_occurrence=skipped.next_occurrence,
                        template=skipped.template)
    return ok(result, code="recurring.skipped", message=f"Occurrence {skipped.skipped_date} skipped")


@app.post(f"{BASE}/<template_id>/clone", status_code=201, responses=documented(201, 404),
          summary="Clone recurring template", tags=TAGS,
          description="A new active template with the same customer, lines and schedule.")
def clone_template(template_id: TemplateId) -> Envelope[RecurringTemplate]:
    return ok(recurring.clone(app.caller.business_id, template_id), code="recurring.cloned",
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
    page, invoices = recurring.history(app.caller.business_id, template_id,
                                       page_request(limit, cursor, direction, descending, include_total_count))
    return ok(page.as_dict(invoices), code="recurring.history", message=f"{len(invoices)} invoices")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
