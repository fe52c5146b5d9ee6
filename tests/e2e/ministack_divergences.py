"""Where MiniStack, the emulator ``make deploy-check`` deploys template.yaml to, is not AWS: the
one list. Each entry says how it differs, what the deploy check does about it, and has a probe
that shows it still differs; ``test_ministack_divergences.py`` fails on an entry whose probe
finds MiniStack now behaves like AWS, so the list stays true (drop the entry, and its
workaround, then). A test that cannot run on MiniStack because of an entry is marked
``ministack_diverges(name)`` and skipped there with the entry's reason. (The other tests skipped
against a deployed stack need the local stack itself: marked ``local_stack``, each saying why.)

Probes that need the stack as deployed, before any workaround, run first, once for the run
(``tests/e2e/conftest.py``), and their outcome is kept for the test.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import requests
from stack_support import DeployedStack

from devstack import template

# The override `make deploy-check` deploys with, only so that parameter_overrides can be probed.
PROBED_TOKEN_CACHE_SECONDS = 30
_observed: dict[str, Any] = {}  # what two probes share is observed once (the schedules, a probe function)


@dataclass
class MiniStack:
    """The deployed stack on MiniStack, and MiniStack's own endpoint."""

    endpoint: str
    stack: DeployedStack
    recorded: dict[str, Probed] = field(default_factory=dict)

    @cached_property
    def resources(self) -> dict[str, str]:
        return self.stack.resources()

    def client(self, service: str, **kwargs: Any) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, **kwargs)

    def role_arn(self, logical_id: str) -> str:
        return str(self.client("iam").get_role(RoleName=self.resources[logical_id])["Role"]["Arn"])


@dataclass(frozen=True)
class Probed:
    diverges: bool
    evidence: str


@dataclass(frozen=True)
class Divergence:
    name: str
    differs: str  # what AWS does, and what MiniStack does instead
    instead: str  # what the deploy check does about it
    probe: Callable[[MiniStack], Probed]
    workaround: Callable[[MiniStack], None] | None = None  # applied once probed, before the tests


# ------------------------------------------------------------------------ gateway responses
def _declared_gateway_responses() -> dict[str, Any]:
    return dict(template.resources("AWS::Serverless::Api")["Api"]["Properties"]["GatewayResponses"])


def probe_gateway_responses(ms: MiniStack) -> Probed:
    reply = requests.get(ms.stack.url("/api/v1/customers"), headers={"x-business-id": ms.stack.business_id},
                         timeout=30)
    wanted = template.gateway_response("UNAUTHORIZED")
    got = (reply.status_code, reply.text)
    return Probed(got[0] != wanted[0] or json.loads(got[1]) != json.loads(wanted[1]),
                  f"no token: {got[0]} {got[1]} (the template declares {wanted[0]} {wanted[1]})")


def apply_gateway_responses(ms: MiniStack) -> None:
    """The template's GatewayResponses, put one by one, then a deployment of the stage."""
    apigateway, api = ms.client("apigateway"), ms.resources["Api"]
    for kind, declared in _declared_gateway_responses().items():
        extra = {"statusCode": declared["StatusCode"]} if "StatusCode" in declared else {}
        apigateway.put_gateway_response(restApiId=api, responseType=kind,
                                        responseTemplates=declared.get("ResponseTemplates", {}), **extra)
    apigateway.create_deployment(restApiId=api, stageName=ms.resources["ApiStage"],
                                 description="make deploy-check: the template's gateway responses")


# ------------------------------------------------------------------------ parameter overrides
def probe_parameter_overrides(ms: MiniStack) -> Probed:
    """TokenCacheSeconds reaches the functions' environment through CloudFormation, and the
    authorizer's TTL through the SAM transform: deployed with an override, they disagree."""
    authorizers = ms.client("apigateway").get_authorizers(restApiId=ms.resources["Api"])["items"]
    ttl = authorizers[0].get("authorizerResultTtlInSeconds")
    environment = ms.client("lambda").get_function_configuration(
        FunctionName=ms.resources["AuthorizerFunction"])["Environment"]["Variables"]
    seen = int(environment["TOKEN_CACHE_SECONDS"])
    assert seen == PROBED_TOKEN_CACHE_SECONDS, (
        f"the deploy did not override TokenCacheSeconds={PROBED_TOKEN_CACHE_SECONDS} (the functions see {seen})")
    return Probed(ttl != seen, f"deployed with TokenCacheSeconds={seen}: the functions' TOKEN_CACHE_SECONDS is "
                               f"{seen}, the authorizer's TTL (resolved by the SAM transform) {ttl}")


# ------------------------------------------------------------------------ one-time schedules
SCHEDULER_TICK_SECONDS = 10  # MiniStack looks for due schedules this often
_QUIET_SECONDS = 2 * SCHEDULER_TICK_SECONDS + 5  # what "it did not fire" waits


@dataclass(frozen=True)
class ScheduleFires:
    in_kiritimati: list[str]  # fires of at(a moment 2 s away, written in Pacific/Kiritimati, UTC+14)
    once_then_moved: list[str]  # fires of a schedule that fired, then was moved to fire 2 s later again


def _observe_schedules(ms: MiniStack) -> ScheduleFires:
    """Two one-time schedules sending to a probe queue, watched together (about 40 s)."""
    if "schedules" in _observed:
        return _observed["schedules"]  # type: ignore[no-any-return]
    sqs, scheduler = ms.client("sqs"), ms.client("scheduler")
    queue_url = sqs.create_queue(QueueName="deploy-check-schedule-probe")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    role = ms.role_arn("RecurringSchedulerRole")

    def put(name: str, moment: datetime, zone: str, body: str, *, update: bool = False) -> None:
        call = scheduler.update_schedule if update else scheduler.create_schedule
        call(Name=name, ScheduleExpression=f"at({moment.replace(microsecond=0, tzinfo=None).isoformat()})",
             ScheduleExpressionTimezone=zone, FlexibleTimeWindow={"Mode": "OFF"}, ActionAfterCompletion="NONE",
             Target={"Arn": queue_arn, "RoleArn": role, "Input": body})

    def received(seconds: float) -> list[str]:
        deadline, bodies = time.monotonic() + seconds, []
        while time.monotonic() < deadline:
            got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in got.get("Messages", []):
                bodies.append(message["Body"])
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return bodies

    soon = timedelta(seconds=2)
    put("deploy-check-zone", datetime.now(ZoneInfo("Pacific/Kiritimati")) + soon, "Pacific/Kiritimati", "zone")
    put("deploy-check-once", datetime.now(UTC) + soon, "UTC", "first")
    bodies = received(SCHEDULER_TICK_SECONDS + 7)
    if "first" in bodies:
        put("deploy-check-once", datetime.now(UTC) + soon, "UTC", "moved", update=True)
    bodies += received(_QUIET_SECONDS)
    for name in ("deploy-check-zone", "deploy-check-once"):
        scheduler.delete_schedule(Name=name)
    sqs.delete_queue(QueueUrl=queue_url)
    fires = ScheduleFires([b for b in bodies if b == "zone"], [b for b in bodies if b in ("first", "moved")])
    _observed["schedules"] = fires
    return fires


def probe_schedule_time_zone(ms: MiniStack) -> Probed:
    fires = _observe_schedules(ms)
    waited = SCHEDULER_TICK_SECONDS + 7 + _QUIET_SECONDS
    return Probed(not fires.in_kiritimati, f"at() 2 s ahead, written in Pacific/Kiritimati: fired "
                                           f"{len(fires.in_kiritimati)} times in {waited} s (AWS: once)")


def probe_schedule_fires_once_per_name(ms: MiniStack) -> Probed:
    fires = _observe_schedules(ms)
    assert fires.once_then_moved[:1] == ["first"], f"the one-time schedule did not fire at all: {fires}"
    return Probed(fires.once_then_moved == ["first"], f"fired, then moved 2 s ahead by UpdateSchedule: fires "
                                                      f"{fires.once_then_moved} (AWS: first, then moved)")


# ------------------------------------------------------------------------ request size
def probe_request_size(ms: MiniStack) -> Probed:
    reply = requests.post(ms.stack.url("/api/v1/customers"), data=b"x" * (10 * 1024 * 1024 + 1), timeout=120,
                          headers=ms.stack.demo_headers(**{"Content-Type": "application/json"}))
    return Probed(reply.status_code != 413, f"a 10 MB + 1 byte body: {reply.status_code} {reply.text[:120]}")


# ------------------------------------------------------------------------ IAM
def probe_iam(ms: MiniStack) -> Probed:
    """The authorizer's role may only GetItem on the table: with its credentials, write one."""
    credentials = ms.client("sts").assume_role(RoleArn=ms.role_arn("AuthorizerFunctionRole"),
                                               RoleSessionName="deploy-check-probe")["Credentials"]
    dynamodb = ms.client("dynamodb", aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"])
    key = {"PK": {"S": "DEPLOY-CHECK#PROBE"}, "SK": {"S": "IAM"}}
    table = ms.resources["Table"]
    try:
        dynamodb.put_item(TableName=table, Item=key)
        dynamodb.delete_item(TableName=table, Key=key)
    except dynamodb.exceptions.ClientError as error:
        return Probed(False, f"PutItem as the authorizer's role: {error}")
    return Probed(True, "PutItem and DeleteItem as the authorizer's role (allowed: GetItem only) succeeded")


# ------------------------------------------------------------------------ imports, environment
_PROBE_HANDLER = """
import importlib.util, os

def handler(event, context):
    return {"modules": {name: getattr(importlib.util.find_spec(name), "origin", None) for name in event["modules"]},
            "environment": sorted(os.environ)}
"""
MINISTACK_SETTINGS = ("BIND_HOST", "GATEWAY_PORT")  # MiniStack's own environment, as deploy-check.sh starts it


def _probe_function(ms: MiniStack) -> dict[str, Any]:
    """What a function of nothing but a handler, without layers, traced (Tracing: Active), can
    import and sees in its environment."""
    if "function" not in _observed:
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("probe.py", _PROBE_HANDLER)
        functions, name = ms.client("lambda"), "deploy-check-probe"
        functions.create_function(FunctionName=name, Runtime="python3.12", Handler="probe.handler",
                                  Role=ms.role_arn("AuthorizerFunctionRole"), Code={"ZipFile": code.getvalue()},
                                  TracingConfig={"Mode": "Active"})
        try:
            answer = functions.invoke(FunctionName=name, Payload=json.dumps({"modules": ["ministack", "pydantic"]}))
            _observed["function"] = json.loads(answer["Payload"].read())
        finally:
            functions.delete_function(FunctionName=name)
    return _observed["function"]  # type: ignore[no-any-return]


def probe_imports(ms: MiniStack) -> Probed:
    found = _probe_function(ms)["modules"]
    return Probed(any(found.values()), f"a function without layers imports {found}")


def probe_environment(ms: MiniStack) -> Probed:
    leaked = sorted(set(MINISTACK_SETTINGS) & set(_probe_function(ms)["environment"]))
    return Probed(bool(leaked), f"a function's environment has MiniStack's own {leaked or 'nothing'}")


def probe_xray(ms: MiniStack) -> Probed:
    environment = _probe_function(ms)["environment"]
    return Probed("AWS_XRAY_DAEMON_ADDRESS" not in environment,
                  f"a traced function's environment names {'an' if 'AWS_XRAY_DAEMON_ADDRESS' in environment else 'no'} "
                  "X-Ray daemon (AWS_XRAY_DAEMON_ADDRESS)")


DIVERGENCES: list[Divergence] = [
    Divergence(
        "gateway_responses",
        "AWS answers with the GatewayResponses template.yaml declares (they are in the API body the SAM "
        "transform writes); MiniStack applies only those put with PutGatewayResponse, once the stage is "
        "deployed again, and otherwise answers its own defaults ({\"message\": \"Unauthorized\"}).",
        "Before any test, each of the template's gateway responses is put with PutGatewayResponse and the "
        "stage deployed (CreateDeployment), so the contract's 401/404 bodies are still tested.",
        probe_gateway_responses, apply_gateway_responses),
    Divergence(
        "parameter_overrides",
        "AWS passes a deploy's parameter overrides to the SAM transform too; MiniStack transforms with the "
        "parameters' defaults, so only properties CloudFormation resolves see an override (here the "
        "authorizer's TTL, ReauthorizeEvery: !Ref TokenCacheSeconds, stays 60).",
        f"Every parameter the transform resolves (StageName, the authorizer's TTL) is left at its default; "
        f"the one override, TokenCacheSeconds={PROBED_TOKEN_CACHE_SECONDS}, is there for this probe.",
        probe_parameter_overrides),
    Divergence(
        "schedule_time_zone",
        "AWS reads a one-time at() schedule in its ScheduleExpressionTimezone; MiniStack reads it as UTC.",
        "The business the check uses keeps time in UTC, so its recurring schedule fires when AWS would fire it.",
        probe_schedule_time_zone),
    Divergence(
        "schedule_fires_once_per_name",
        "AWS fires a one-time schedule again when UpdateSchedule moves it; MiniStack fires a name once.",
        "The recurring test checks a template's first fire only; its next occurrence is a month away anyway "
        "(later ones are the integration suite's, on the local stack's scheduler clock).",
        probe_schedule_fires_once_per_name),
    Divergence(
        "request_size",
        "API Gateway refuses a body over 10 MB itself (REQUEST_TOO_LARGE: the template's 413); MiniStack "
        "passes it to the function.",
        "The template's 413 is tested on the local stack (test_a_body_over_10_mb_is_the_template_s_413), "
        "which is skipped here.",
        probe_request_size),
    Divergence(
        "iam",
        "AWS enforces every role's policies; MiniStack (without AUTH=true) enforces none.",
        "Nothing here proves the policies: cfn-lint and sam validate --lint check their shape, the README "
        "says the deploy check cannot.",
        probe_iam),
    Divergence(
        "imports",
        "A Lambda function imports only its code, its layers and the runtime's boto3; MiniStack runs it on "
        "its own interpreter, where MiniStack's packages (and its pydantic, boto3, ...) import too.",
        "scripts/check-build.sh imports every handler from the sam build output in a bare python3.12 -S with "
        "only Lambda's paths (tests/deploy/import_handlers.py), so a missing layer dependency fails there.",
        probe_imports),
    Divergence(
        "environment",
        "A Lambda function's environment is its own variables and the runtime's; MiniStack's function "
        "workers inherit MiniStack's whole environment as well.",
        "scripts/deploy-check.sh starts MiniStack with an empty environment but for PATH, HOME, its own "
        "settings and POWERTOOLS_TRACE_DISABLED (see xray), so nothing of the caller's shell (PYTHONPATH, "
        "AWS_*, ...) reaches the functions.",
        probe_environment),
    Divergence(
        "xray",
        "AWS runs an X-Ray daemon beside a function with Tracing: Active (AWS_XRAY_DAEMON_ADDRESS); MiniStack "
        "runs none, so the X-Ray SDK would send its segments to 127.0.0.1:2000, to no one, from a UDP socket "
        "the kernel binds to the wildcard address: one per function, beyond loopback.",
        "MiniStack's function workers get POWERTOOLS_TRACE_DISABLED=true (through its environment, see "
        "environment), as the local stack's functions do: the tracer records nothing, no such socket opens, "
        "and the check asserts nothing listens beyond loopback. Tracing itself is not checked here.",
        probe_xray),
]
BY_NAME = {divergence.name: divergence for divergence in DIVERGENCES}


def prepare(ms: MiniStack) -> None:
    """Probe what needs the stack as deployed, then apply the workarounds."""
    for divergence in DIVERGENCES:
        if divergence.workaround is not None:
            ms.recorded[divergence.name] = divergence.probe(ms)
            divergence.workaround(ms)


def probed(ms: MiniStack, divergence: Divergence) -> Probed:
    return ms.recorded.get(divergence.name) or divergence.probe(ms)
