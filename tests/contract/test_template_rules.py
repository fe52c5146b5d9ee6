"""template.yaml keeps the design's rules: observability on every function, a durable and
encrypted table, no Scan (nor a wildcard that allows it), the REQUEST authorizer with both
identity headers and a cache, and the contract's bodies for the answers API Gateway gives itself."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from typing import Any

import pytest

from devstack import template

FUNCTIONS = sorted(template.functions())
GLOBALS = template.load().get("Globals", {}).get("Function", {})
# SAM policy templates and AWS managed policies that grant dynamodb:Scan.
SCANNING_POLICY_TEMPLATES = {"DynamoDBCrudPolicy", "DynamoDBReadPolicy", "DynamoDBReconfigurePolicy"}


def properties(logical_id: str) -> dict[str, Any]:
    return template.load()["Resources"][logical_id]["Properties"]  # type: ignore[no-any-return]


def parameter_value(value: Any) -> Any:
    """A literal, or a !Ref to a template parameter resolved to its default."""
    if isinstance(value, dict) and "Ref" in value:
        return template.load()["Parameters"][value["Ref"]]["Default"]
    return value


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_function_has_powertools_settings(logical_id: str) -> None:
    env = template.functions()[logical_id].environment
    for name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"):
        assert env.get(name), f"{logical_id} has no {name}"


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_function_is_traced(logical_id: str) -> None:
    assert properties(logical_id).get("Tracing", GLOBALS.get("Tracing")) == "Active", f"{logical_id}: Tracing: Active"


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_function_has_the_shared_layer(logical_id: str) -> None:
    # SAM appends a function's Layers to the global ones.
    layers = [*GLOBALS.get("Layers", []), *properties(logical_id).get("Layers", [])]
    assert {"Ref": "SharedLayer"} in layers, f"{logical_id} lacks the SharedLayer (the invoicing package)"


def test_the_api_is_traced() -> None:
    assert properties("Api").get("TracingEnabled") is True


def test_the_table_is_on_demand_recoverable_and_encrypted() -> None:
    for logical_id in template.resources("AWS::DynamoDB::Table"):
        props = properties(logical_id)
        assert props.get("BillingMode") == "PAY_PER_REQUEST", logical_id
        assert props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True, logical_id
        assert props.get("SSESpecification", {}).get("SSEEnabled") is True, logical_id


def iam_statements() -> Iterator[tuple[str, Any]]:
    """(resource, statement or policy reference) for every function policy and IAM resource."""
    for name, resource in template.load()["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            policies = props.get("Policies", [])
            for policy in policies if isinstance(policies, list) else [policies]:
                if isinstance(policy, dict) and "Statement" in policy:
                    yield from ((name, s) for s in policy["Statement"])
                else:
                    yield name, policy  # a managed policy name/ARN or a SAM policy template
        elif resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [p.get("PolicyDocument", {}) for p in props.get("Policies", [])]
            documents.append(props.get("PolicyDocument", {}))
            for document in documents:
                yield from ((name, s) for s in document.get("Statement", []))


def test_no_policy_allows_scan_or_every_dynamodb_action() -> None:
    for name, statement in iam_statements():
        if isinstance(statement, str):
            assert "dynamodb" not in statement.lower(), f"{name}: managed policy {statement} (grants Scan)"
            continue
        if "Effect" not in statement:  # a SAM policy template: {"DynamoDBCrudPolicy": {...}}
            assert not SCANNING_POLICY_TEMPLATES & set(statement), f"{name}: {sorted(statement)} grants Scan"
            continue
        if statement["Effect"] != "Allow":
            continue
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            assert action.lower() != "dynamodb:*", f"{name}: dynamodb:* (list the actions it needs)"
            assert not fnmatch.fnmatchcase("dynamodb:scan", action.lower()), f"{name}: {action} allows Scan"


def test_the_authorizer_is_request_with_both_identity_headers_and_a_cache() -> None:
    auth = properties("Api")["Auth"]
    config = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert config["FunctionPayloadType"] == "REQUEST"
    identity = config["Identity"]
    assert {h.lower() for h in identity["Headers"]} == {"authorization", "x-business-id"}
    ttl = int(parameter_value(identity.get("ReauthorizeEvery", 300)))
    assert 0 < ttl <= 300, "cache the answer, but briefly: the TTL is how long a revoked token keeps working"
    function, headers = template.authorizer()
    assert function in template.functions()
    assert headers == identity["Headers"]


@pytest.mark.parametrize(("kind", "status", "detail"), [
    ("UNAUTHORIZED", 401, "Not authenticated"),
    ("ACCESS_DENIED", 404, "Business not found"),
    ("MISSING_AUTHENTICATION_TOKEN", 404, None),
])
def test_gateway_responses_follow_the_contract(kind: str, status: int, detail: str | None) -> None:
    declared = properties("Api").get("GatewayResponses", {})
    assert kind in declared, f"declare GatewayResponses.{kind} so API Gateway's own answer has the contract's body"
    got_status, body = template.gateway_response(kind)
    assert got_status == status
    parsed = json.loads(body)
    assert isinstance(parsed.get("detail"), str) and parsed["detail"], f"{kind}: the body needs a detail"
    if detail is not None:
        assert parsed["detail"] == detail
