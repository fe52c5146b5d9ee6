"""EventBridge Scheduler: one one-time schedule per active recurring template.

The schedule ``recurring-<template id>`` in the project's group fires ``at(<next occurrence>
00:05)`` in the business's time zone, invoking the recurring run function with
``{"business_id", "template_id"}`` (retry policy and dead-letter queue on the target). Each run
puts it again for the following occurrence; pause, cancel and completion delete it. A one-time
schedule is kept after it fired (``ActionAfterCompletion: NONE``): deleting it then could race
the run that has just put the next one under the same name.

When the group is not configured (``RECURRING_SCHEDULE_GROUP`` empty), nothing is scheduled:
the daily catch-up schedule still runs every due template.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from invoicing.observability import logger
from invoicing.settings import settings

if TYPE_CHECKING:
    from invoicing.domain.models import RecurringTemplate

FIRE_AT = time(0, 5)  # just after midnight in the business's own time zone
RETRY_ATTEMPTS = 20
MAX_EVENT_AGE_SECONDS = 24 * 3600  # beyond that the daily catch-up takes over


@cache
def client() -> Any:
    import boto3

    return boto3.client("scheduler")


def schedule_name(template_id: str) -> str:
    return f"recurring-{template_id}"


def configured() -> bool:
    return bool(settings().recurring_schedule_group)


def fire_time(next_occurrence: str, timezone: str, now: datetime | None = None) -> datetime:
    """When to fire for ``next_occurrence``, as a naive local time in ``timezone``: the day at
    00:05, or a minute from now when that has passed (a late or catching-up template)."""
    zone = ZoneInfo(timezone)
    local_now = (now or datetime.now(zone)).astimezone(zone).replace(tzinfo=None, microsecond=0)
    wanted = datetime.combine(datetime.fromisoformat(next_occurrence).date(), FIRE_AT)
    return max(wanted, local_now + timedelta(minutes=1))


def sync(template: RecurringTemplate, timezone: str) -> None:
    """Make the template's schedule true to it. A failure is logged, not raised: the template is
    already stored, and the daily catch-up runs any template whose occurrence is due."""
    try:
        if template.status == "active" and template.next_occurrence:
            put_schedule(template.business_id, template.id, template.next_occurrence, timezone)
        else:
            delete_schedule(template.id)
    except Exception:  # noqa: BLE001 - logged; the daily catch-up runs the template regardless
        logger.exception("could not update the schedule of recurring template %s", template.id)


def put_schedule(business_id: str, template_id: str, next_occurrence: str, timezone: str) -> None:
    """Create or move the template's schedule to fire for ``next_occurrence``."""
    if not configured():
        return
    config = settings()
    at = fire_time(next_occurrence, timezone)
    target: dict[str, Any] = {
        "Arn": config.recurring_run_function_arn,
        "RoleArn": config.recurring_scheduler_role_arn,
        "Input": json.dumps({"business_id": business_id, "template_id": template_id}),
        "RetryPolicy": {"MaximumRetryAttempts": RETRY_ATTEMPTS, "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS},
    }
    if config.recurring_dead_letter_arn:
        target["DeadLetterConfig"] = {"Arn": config.recurring_dead_letter_arn}
    args = {
        "Name": schedule_name(template_id),
        "GroupName": config.recurring_schedule_group,
        "ScheduleExpression": f"at({at.isoformat()})",
        "ScheduleExpressionTimezone": timezone,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": target,
        "State": "ENABLED",
        "ActionAfterCompletion": "NONE",
        "Description": f"Recurring template {template_id} of business {business_id}: occurrence {next_occurrence}",
    }
    scheduler = client()
    try:
        scheduler.update_schedule(**args)
    except scheduler.exceptions.ResourceNotFoundException:
        try:
            scheduler.create_schedule(**args)
        except scheduler.exceptions.ConflictException:  # created meanwhile by a concurrent run
            scheduler.update_schedule(**args)


def delete_schedule(template_id: str) -> None:
    if not configured():
        return
    scheduler = client()
    try:
        scheduler.delete_schedule(Name=schedule_name(template_id), GroupName=settings().recurring_schedule_group)
    except scheduler.exceptions.ResourceNotFoundException:
        pass


def get_schedule(template_id: str) -> dict[str, Any] | None:
    """The template's schedule as the Scheduler API describes it (None without one)."""
    if not configured():
        return None
    scheduler = client()
    try:
        got: dict[str, Any] = scheduler.get_schedule(Name=schedule_name(template_id),
                                                     GroupName=settings().recurring_schedule_group)
    except scheduler.exceptions.ResourceNotFoundException:
        return None
    return got
