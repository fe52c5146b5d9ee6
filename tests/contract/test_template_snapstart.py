"""What SnapStart needs from template.yaml, proven on SAM's own transform of it: every invoker
runs the published alias (so the snapshot is what answers), a change to the shared layer alone
publishes new function versions, and the snapshot is taken where a caller waits."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from devstack import template

# Nobody waits on these (queues and schedules invoke them): no snapshot to pay for.
ASYNCHRONOUS = {"BatchWorkerFunction", "BatchDeadLetterFunction", "RecurringRunFunction", "DocumentsFunction"}


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


@cache
def transformed(layer_uri: str = "s3://bucket/layer-a.zip") -> dict[str, Any]:
    """The CloudFormation SAM makes of template.yaml, with code at fixed S3 locations (as
    `sam package` leaves it) and the layer's code at ``layer_uri``."""
    doc = copy.deepcopy(template.load())
    doc["Resources"]["SharedLayer"]["Properties"]["ContentUri"] = layer_uri
    for resource in doc["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://bucket/{resource['Properties']['CodeUri'].strip('/')}.zip"
    return transform(doc, {"AWS::Region": "us-east-1", "AWS::Partition": "aws"}, _NoManagedPolicies())


def of_type(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in doc["Resources"].items() if res["Type"] == kind}


def alias_of(function: str) -> str:
    aliases = [name for name, res in of_type(transformed(), "AWS::Lambda::Alias").items()
               if res["Properties"]["FunctionName"] == {"Ref": function}]
    assert len(aliases) == 1, f"{function} has no published alias"
    return aliases[0]


def test_a_new_layer_version_alone_publishes_new_function_versions() -> None:
    before = set(of_type(transformed("s3://bucket/layer-a.zip"), "AWS::Lambda::Version"))
    after = set(of_type(transformed("s3://bucket/layer-b.zip"), "AWS::Lambda::Version"))
    assert len(before) == len(template.functions())
    # A Version's logical id hashes what it publishes: a new id is a new version on deploy.
    assert not before & after, f"unchanged versions after a layer-only change: {sorted(before & after)}"


@pytest.mark.parametrize("function", sorted(template.functions()))
def test_every_function_has_an_alias_on_a_published_version(function: str) -> None:
    alias = of_type(transformed(), "AWS::Lambda::Alias")[alias_of(function)]["Properties"]
    assert alias["FunctionVersion"]["Fn::GetAtt"][1] == "Version"


def test_the_authorizer_runs_its_alias() -> None:
    body = transformed()["Resources"]["Api"]["Properties"]["Body"]
    uri = str(body["securityDefinitions"]["TokenAuthorizer"]["x-amazon-apigateway-authorizer"]["authorizerUri"])
    assert alias_of("AuthorizerFunction") in uri


def test_every_api_integration_runs_an_alias() -> None:
    body = transformed()["Resources"]["Api"]["Properties"]["Body"]
    uris = [str(op["x-amazon-apigateway-integration"]["uri"])
            for path in body["paths"].values() for op in path.values() if "x-amazon-apigateway-integration" in op]
    assert uris
    aliases = set(of_type(transformed(), "AWS::Lambda::Alias"))
    for uri in uris:
        assert any(alias in uri for alias in aliases), f"an integration invokes $LATEST: {uri}"


def test_every_queue_consumer_runs_an_alias() -> None:
    mappings = of_type(transformed(), "AWS::Lambda::EventSourceMapping").values()
    assert mappings
    for mapping in mappings:
        target = mapping["Properties"]["FunctionName"]
        assert "Ref" in target and target["Ref"] in of_type(transformed(), "AWS::Lambda::Alias"), target


def test_the_schedules_invoke_the_recurring_runs_alias() -> None:
    schedule = transformed()["Resources"]["RecurringCatchUpSchedule"]["Properties"]["Target"]
    assert schedule["Arn"] == {"Ref": alias_of("RecurringRunFunction")}
    # The templates' own schedules take their target from the functions' environment.
    for function in ("InvoicesFunction", "RecurringFunction", "RecurringRunFunction"):
        target = template.functions()[function].environment["RECURRING_RUN_FUNCTION_ARN"]["Fn::Sub"]
        assert target.endswith("-recurring-run:live"), (function, target)
    assert template.function_alias("RecurringRunFunction") == "live"


@pytest.mark.parametrize("function", sorted(template.functions()))
def test_snapshots_are_taken_where_a_caller_waits(function: str) -> None:
    snap = transformed()["Resources"][function]["Properties"].get("SnapStart", {}).get("ApplyOn")
    assert snap == ("None" if function in ASYNCHRONOUS else "PublishedVersions")
