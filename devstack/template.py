"""template.yaml read as data: the one source of the table, the functions and the API routes.

The local stack, the tests and the contract checks all build from here, never from a copy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt, !Sub, ...) as {"Fn": value} dicts."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@dataclass(frozen=True)
class Route:
    method: str  # upper case
    path: str  # /api/v1/customers/{customer_id}
    function: str  # logical id
    authorized: bool

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{([^}/]+)\}", r"(?P<\1>[^/]+)", self.path) + "$")


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    module: str
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)


def parse(text: str) -> dict[str, Any]:
    """A CloudFormation template's YAML, short-form tags included (also a ``sam build`` output's)."""
    return yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@cache
def load() -> dict[str, Any]:
    return parse(TEMPLATE.read_text())


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in load()["Resources"].items() if res["Type"] == kind}


def functions() -> dict[str, Function]:
    globals_ = load().get("Globals", {}).get("Function", {})
    found = {}
    for name, res in resources("AWS::Serverless::Function").items():
        props = res["Properties"]
        module, handler = props.get("Handler", globals_.get("Handler")).rsplit(".", 1)
        env = {**globals_.get("Environment", {}).get("Variables", {}),
               **props.get("Environment", {}).get("Variables", {})}
        found[name] = Function(name, ROOT / props["CodeUri"], module, handler, env, props.get("Events", {}))
    return found


def api_routes() -> list[Route]:
    default_auth = bool(resources("AWS::Serverless::Api")["Api"]["Properties"].get("Auth", {}).get("DefaultAuthorizer"))
    routes = []
    for fn in functions().values():
        for event in fn.events.values():
            if event["Type"] != "Api":
                continue
            props = event["Properties"]
            authorizer = props.get("Auth", {}).get("Authorizer")
            routes.append(Route(props["Method"].upper(), props["Path"], fn.logical_id,
                                default_auth and authorizer != "NONE"))
    return routes


def authorizer() -> tuple[str, list[str]]:
    """(the authorizer function's logical id, its identity headers)."""
    auth = resources("AWS::Serverless::Api")["Api"]["Properties"]["Auth"]
    config = auth["Authorizers"][auth["DefaultAuthorizer"]]
    arn = config["FunctionArn"]  # !Ref <LogicalId>.Alias (what SnapStart needs) or !GetAtt <LogicalId>.Arn
    logical_id = arn["Ref"].split(".")[0] if "Ref" in arn else arn["Fn::GetAtt"][0]
    return logical_id, list(config["Identity"]["Headers"])


def function_alias(logical_id: str) -> str | None:
    """The alias SAM publishes for the function (its own AutoPublishAlias or the Globals one)."""
    props = resources("AWS::Serverless::Function")[logical_id]["Properties"]
    return props.get("AutoPublishAlias") or load().get("Globals", {}).get("Function", {}).get("AutoPublishAlias")


# API Gateway's own status and body for the gateway response types the local front answers,
# used when template.yaml does not declare one (then DEFAULT_4XX / DEFAULT_5XX apply first).
_GATEWAY_DEFAULTS: dict[str, tuple[int, str]] = {
    "UNAUTHORIZED": (401, '{"message":"Unauthorized"}'),
    "ACCESS_DENIED": (403, '{"message":"User is not authorized to access this resource"}'),
    "MISSING_AUTHENTICATION_TOKEN": (403, '{"message":"Missing Authentication Token"}'),
    "REQUEST_TOO_LARGE": (413, '{"message":"Request Too Long"}'),
    "AUTHORIZER_FAILURE": (500, '{"message":null}'),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, '{"message":null}'),
    "BAD_GATEWAY": (502, '{"message": "Internal server error"}'),
}


def gateway_response(kind: str) -> tuple[int, str]:
    """(status, body) API Gateway answers itself for a gateway response type: as template.yaml
    declares it, else its DEFAULT_4XX/DEFAULT_5XX, else API Gateway's built-in answer."""
    declared_all = resources("AWS::Serverless::Api")["Api"]["Properties"].get("GatewayResponses", {})
    status, body = _GATEWAY_DEFAULTS.get(kind, (500, '{"message":null}'))
    declared = declared_all.get(kind) or declared_all.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX") or {}
    status = int(declared.get("StatusCode", status))
    return status, declared.get("ResponseTemplates", {}).get("application/json", body)


def table_definition(logical_id: str = "Table") -> dict[str, Any]:
    """CreateTable arguments from the template's AWS::DynamoDB::Table (name left to the caller)."""
    props = resources("AWS::DynamoDB::Table")[logical_id]["Properties"]
    wanted = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
    return {k: props[k] for k in wanted if k in props}


def create_table(dynamodb: Any, table_name: str) -> None:
    dynamodb.create_table(TableName=table_name, **table_definition())
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)
    ttl = resources("AWS::DynamoDB::Table")["Table"]["Properties"].get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)


def _resource_of(path: str) -> str | None:
    """The API resource a concrete path selects. As API Gateway does, a literal segment wins over a
    ``{parameter}`` one (``/invoices/batch`` over ``/invoices/{invoice_id}``), whatever the method:
    a method the chosen resource lacks is answered by the gateway, not sent to another resource."""
    matching = {route.path for route in api_routes() if route.pattern.match(path)}
    return min(matching, key=lambda p: [part.startswith("{") for part in p.split("/")]) if matching else None


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    resource = _resource_of(path)
    for route in api_routes():
        found = route.pattern.match(path)
        if found and route.path == resource and route.method == method.upper():
            return route, found.groupdict()
    return None


def methods_at(path: str) -> list[str]:
    """The methods the API declares for a concrete path (empty when no resource matches)."""
    resource = _resource_of(path)
    return sorted({route.method for route in api_routes() if route.path == resource})


# ---------------------------------------------------------------------------------------- queues
@dataclass(frozen=True)
class SqsSource:
    """A function's SQS event source (Lambda's event source mapping)."""

    function: str  # logical id
    queue: str  # logical id of the AWS::SQS::Queue
    batch_size: int
    report_item_failures: bool


def _logical_id_of_arn(value: Any) -> str:
    """``!GetAtt Queue.Arn`` -> ``Queue``."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise ValueError(f"expected !GetAtt <queue>.Arn, got {value!r}")


def sqs_sources() -> list[SqsSource]:
    found = []
    for fn in functions().values():
        for event in fn.events.values():
            if event["Type"] == "SQS":
                props = event["Properties"]
                found.append(SqsSource(fn.logical_id, _logical_id_of_arn(props["Queue"]),
                                       int(props.get("BatchSize", 10)),
                                       "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])))
    return found


_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
                     "ReceiveMessageWaitTimeSeconds")


def create_queues(sqs: Any, prefix: str) -> dict[str, str]:
    """Create the template's AWS::SQS::Queue resources (``<prefix>-<LogicalId>``; dead-letter
    queues first, so a RedrivePolicy can name its target's ARN). Returns logical id -> queue URL,
    which is what ``!Ref`` gives. Creating an existing queue with the same attributes is a no-op."""
    declared = resources("AWS::SQS::Queue")
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}

    def create(logical_id: str) -> None:
        if logical_id in urls:
            return
        props = declared[logical_id].get("Properties", {})
        attributes = {name: str(props[name]) for name in _QUEUE_ATTRIBUTES if name in props}
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = _logical_id_of_arn(redrive["deadLetterTargetArn"])
            create(target)
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arns[target],
                                                      "maxReceiveCount": int(redrive["maxReceiveCount"])})
        url = sqs.create_queue(QueueName=f"{prefix}-{logical_id}", Attributes=attributes)["QueueUrl"]
        urls[logical_id] = url
        arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    for logical_id in declared:
        create(logical_id)
    return urls


# ---------------------------------------------------------------------------------------- buckets

def create_buckets(s3: Any, prefix: str) -> dict[str, str]:
    """Create the template's AWS::S3::Bucket resources (``<prefix>-<logicalid>``, lower case, as
    bucket names must be), versioned like the template's. Returns logical id -> bucket name (what
    ``!Ref`` gives) and ``<LogicalId>.Arn``. An existing bucket is kept."""
    made: dict[str, str] = {}
    for logical_id, declared in resources("AWS::S3::Bucket").items():
        name = f"{prefix}-{logical_id}".lower()[:63]
        try:
            s3.create_bucket(Bucket=name)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        props = declared.get("Properties", {})
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        made[logical_id] = name
        made[f"{logical_id}.Arn"] = f"arn:aws:s3:::{name}"
    return made
