"""Recurring run: the EventBridge Scheduler target. ``{"business_id", "template_id"}`` (a
template's schedule) generates that template's due occurrences; ``{"catch_up": true}`` (the
daily schedule) runs every active template with an occurrence due. Either way each occurrence
gets exactly one invoice, however often or late the schedules fire.

An exception fails the invocation, so the scheduler retries it (RetryPolicy) and finally sends
the event to the schedule's dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from invoicing.observability import logger, metrics, tracer
from invoicing.recurring import runs


class ScheduledRun(BaseModel):
    model_config = ConfigDict(extra="ignore")

    business_id: str | None = None
    template_id: str | None = None
    catch_up: bool = False


def _summary(result: runs.RunResult) -> dict[str, Any]:
    return {"template_id": result.template_id, "generated": [i.id for i in result.generated],
            "finalized": [i.id for i in result.finalized], "status": result.status,
            "next_occurrence": result.next_occurrence}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = ScheduledRun.model_validate(event)
    if run.catch_up:
        results = runs.run_catch_up()
    elif run.business_id and run.template_id:
        logger.append_keys(business_id=run.business_id, template_id=run.template_id)
        results = [runs.run_due(run.business_id, run.template_id)]
    else:
        raise ValueError("expected {'business_id', 'template_id'} or {'catch_up': true}")
    generated = sum(len(r.generated) for r in results)
    metrics.add_metric(name="RecurringInvoicesGenerated", unit=MetricUnit.Count, value=generated)
    logger.info("recurring run done", extra={"templates": len(results), "generated": generated})
    return {"runs": [_summary(r) for r in results]}
