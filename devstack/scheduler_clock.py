"""EventBridge Scheduler, locally: fire the schedules stored in moto into their target functions.

moto's Scheduler API stores schedules but never fires them. The clock reads every schedule of
the stack's groups through that same API, and when one is due invokes the template function its
target ARN names (``runtime.invoke``) with the target's ``Input``, as the scheduler's Lambda
target does. A failed invocation goes to the target's dead-letter queue (locally: no retries).

Expressions: ``at(yyyy-mm-ddThh:mm:ss)`` fires once per expression (a schedule moved to a new
``at`` fires again); ``rate(n minute|minutes|hour|hours|day|days)`` every interval since the
schedule was created (or last fired); ``cron(M H * * ? *)`` daily at H:M. All in the schedule's
``ScheduleExpressionTimezone`` (default UTC).

``serve`` runs it in a thread against real time; tests call ``fire_due(now)`` with the time
they want, or ``fire(name)`` to fire one schedule regardless of its time (a duplicate fire).
``provision()`` creates the template's schedule groups and schedules in moto.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from devstack import runtime, template

log = logging.getLogger("devstack.scheduler")

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON_DAILY = re.compile(r"^cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)$")


# ------------------------------------------------------------------------- provisioning
def local_attributes(physical: dict[str, str], prefix: str) -> dict[str, str]:
    """``<LogicalId>.<Attribute>`` values a local stack's functions and schedules refer to
    (``!GetAtt``): function, role and queue ARNs. ``physical`` holds the queues' URLs."""
    region, account = runtime.PSEUDO_PARAMETERS["AWS::Region"], runtime.PSEUDO_PARAMETERS["AWS::AccountId"]
    scope = {"AWS::StackName": prefix, **physical}
    attributes: dict[str, str] = {}
    for logical_id in template.functions():
        name = function_name(logical_id, scope)
        attributes[f"{logical_id}.Arn"] = f"arn:aws:lambda:{region}:{account}:function:{name}"
        alias = template.function_alias(logical_id)
        if alias:  # ``!Ref <LogicalId>.Alias``: the alias ARN, as SAM resolves it
            attributes[f"{logical_id}.Alias"] = f"{attributes[f'{logical_id}.Arn']}:{alias}"
    for logical_id in template.resources("AWS::IAM::Role"):
        attributes[f"{logical_id}.Arn"] = f"arn:aws:iam::{account}:role/{prefix}-{logical_id}"
    for logical_id in template.resources("AWS::SQS::Queue"):
        if logical_id in physical:
            queue_name = physical[logical_id].rstrip("/").rsplit("/", 1)[-1]
            attributes[f"{logical_id}.Arn"] = f"arn:aws:sqs:{region}:{account}:{queue_name}"
            attributes[f"{logical_id}.QueueName"] = queue_name
    return attributes


def function_name(logical_id: str, physical: dict[str, str]) -> str:
    """The function's name: its ``FunctionName`` resolved, else its logical id."""
    props = template.resources("AWS::Serverless::Function")[logical_id]["Properties"]
    declared = props.get("FunctionName")
    return (runtime.resolve_value(declared, physical) if declared else None) or logical_id


def provision(scheduler: Any, physical: dict[str, str], prefix: str) -> dict[str, str]:
    """Create the template's schedule groups and schedules (unless they exist). Returns what to
    add to ``physical``: ``AWS::StackName``, the ``!GetAtt`` attributes and the group names."""
    added: dict[str, str] = {"AWS::StackName": prefix, **local_attributes(physical, prefix)}
    scope = {**physical, **added}
    for logical_id, resource in template.resources("AWS::Scheduler::ScheduleGroup").items():
        declared = resource.get("Properties", {}).get("Name")
        name = (runtime.resolve_value(declared, scope) if declared else None) or f"{prefix}-{logical_id}"
        try:
            scheduler.create_schedule_group(Name=name)
        except scheduler.exceptions.ConflictException:
            pass
        added[logical_id] = scope[logical_id] = name
    for logical_id, resource in template.resources("AWS::Scheduler::Schedule").items():
        props = resource["Properties"]
        target = props["Target"]
        resolved_target: dict[str, Any] = {"Arn": runtime.resolve_value(target["Arn"], scope),
                                           "RoleArn": runtime.resolve_value(target["RoleArn"], scope)}
        if "Input" in target:
            resolved_target["Input"] = runtime.resolve_value(target["Input"], scope)
        if "RetryPolicy" in target:
            resolved_target["RetryPolicy"] = {k: int(v) for k, v in target["RetryPolicy"].items()}
        if "DeadLetterConfig" in target:
            resolved_target["DeadLetterConfig"] = {"Arn": runtime.resolve_value(target["DeadLetterConfig"]["Arn"],
                                                                                scope)}
        args = {"Name": logical_id, "ScheduleExpression": props["ScheduleExpression"],
                "ScheduleExpressionTimezone": props.get("ScheduleExpressionTimezone", "UTC"),
                "FlexibleTimeWindow": {"Mode": "OFF"}, "Target": resolved_target,
                "State": props.get("State", "ENABLED")}
        if "GroupName" in props:
            args["GroupName"] = runtime.resolve_value(props["GroupName"], scope)
        try:
            scheduler.create_schedule(**args)
        except scheduler.exceptions.ConflictException:
            scheduler.update_schedule(**args)
    return added


# ------------------------------------------------------------------------- the clock
@dataclass
class Fired:
    schedule: str
    function: str
    event: dict[str, Any]
    result: Any = None
    error: str | None = None


@dataclass
class _Seen:
    expression: str
    last: datetime  # when it last fired, or when the clock first saw it


@dataclass
class SchedulerClock:
    """Fires due schedules of ``groups`` (default: every group of the template, as provisioned)."""

    groups: list[str] | None = None
    scheduler: Any = None
    _seen: dict[tuple[str, str], _Seen] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.scheduler is None:
            import boto3

            self.scheduler = boto3.client("scheduler")
        if self.groups is None:
            self.groups = [runtime.physical_id(g) for g in template.resources("AWS::Scheduler::ScheduleGroup")]

    def schedules(self) -> list[dict[str, Any]]:
        """Every schedule of the groups, as GetSchedule describes it."""
        found = []
        for group in self.groups or []:
            for page in self.scheduler.get_paginator("list_schedules").paginate(GroupName=group):
                for summary in page["Schedules"]:
                    found.append(self.scheduler.get_schedule(Name=summary["Name"], GroupName=group))
        return found

    @staticmethod
    def _zone(schedule: dict[str, Any]) -> ZoneInfo:
        return ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")

    def _is_due(self, schedule: dict[str, Any], now: datetime) -> bool:
        expression = schedule["ScheduleExpression"]
        key = (schedule["GroupName"], schedule["Name"])
        seen = self._seen.get(key)
        zone = self._zone(schedule)
        if at := _AT.match(expression):
            when = datetime.fromisoformat(at.group(1)).replace(tzinfo=zone)
            return when <= now and (seen is None or seen.expression != expression)
        created = schedule.get("CreationDate") or now
        last = seen.last if seen is not None and seen.expression == expression else created
        if rate := _RATE.match(expression):
            unit = rate.group(2).rstrip("s") + "s"
            return now >= last + timedelta(**{unit: int(rate.group(1))})
        if cron := _CRON_DAILY.match(expression):
            local = now.astimezone(zone)
            today_at = local.replace(hour=int(cron.group(2)), minute=int(cron.group(1)), second=0, microsecond=0)
            latest = today_at if today_at <= local else today_at - timedelta(days=1)
            return latest > last
        log.warning("schedule %s: expression %s is not supported locally", schedule["Name"], expression)
        return False

    def fire_due(self, now: datetime | None = None) -> list[Fired]:
        """Fire every enabled schedule due at ``now`` (aware; default: the real time)."""
        moment = now or datetime.now(UTC)
        fired = []
        with self._lock:
            for schedule in self.schedules():
                if schedule.get("State", "ENABLED") != "ENABLED" or not self._is_due(schedule, moment):
                    continue
                fired.append(self._fire(schedule))
                self._seen[(schedule["GroupName"], schedule["Name"])] = _Seen(schedule["ScheduleExpression"], moment)
        return fired

    def fire(self, name: str, group: str | None = None) -> Fired:
        """Fire one schedule now, whatever its time (as a duplicate delivery would)."""
        schedule = self.scheduler.get_schedule(Name=name, GroupName=group or (self.groups or ["default"])[0])
        with self._lock:
            return self._fire(schedule)

    def _function_of(self, arn: str) -> str:
        # arn:aws:lambda:<region>:<account>:function:<name>[:<alias or version>]
        name = arn.split(":")[6]
        physical = runtime.physical_ids()
        for logical_id in template.functions():
            if function_name(logical_id, physical) == name or logical_id == name:
                return logical_id
        raise KeyError(f"no function of template.yaml is named {name}")

    def _fire(self, schedule: dict[str, Any]) -> Fired:
        target = schedule["Target"]
        event = json.loads(target.get("Input") or "{}")
        function = self._function_of(target["Arn"])
        fired = Fired(schedule["Name"], function, event)
        try:
            fired.result = runtime.invoke(function, event)
            log.info("schedule %s fired %s", schedule["Name"], function)
        except Exception as error:  # the scheduler would retry, then dead-letter
            log.exception("schedule %s: %s failed", schedule["Name"], function)
            fired.error = repr(error)
            self._dead_letter(schedule, event, fired.error)
        return fired

    @staticmethod
    def _dead_letter(schedule: dict[str, Any], event: dict[str, Any], error: str) -> None:
        arn = (schedule["Target"].get("DeadLetterConfig") or {}).get("Arn")
        if not arn:
            return
        import boto3

        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event), MessageAttributes={
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": error[:1000]},
            "SCHEDULE_ARN": {"DataType": "String", "StringValue": schedule.get("Arn", schedule["Name"])}})

    # --------------------------------------------------------------------- background (serve)
    def start(self, interval_seconds: float = 5.0) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval_seconds,), daemon=True,
                                        name="scheduler-clock")
        self._thread.start()
        log.info("scheduler clock started: groups %s", ", ".join(self.groups or []))

    def _run(self, interval_seconds: float) -> None:
        while not self._stop.wait(interval_seconds):
            try:
                self.fire_due()
            except Exception:
                log.exception("scheduler clock tick failed; retrying")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
