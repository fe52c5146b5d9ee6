"""The emulated API Gateway answers what API Gateway answers itself, as template.yaml declares it:
identity headers missing, the authorizer's Unauthorized / Deny / failure, unknown routes, and a
function that fails."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from devstack import gateway, runtime, template
from devstack.emulated import create_tenant

CUSTOMERS = "/api/v1/customers"
OTHER_BUSINESS = "0195f1a0-0000-7000-8000-00000000beef"


def declared(kind: str) -> tuple[int, Any]:
    """The status and JSON body template.yaml declares for a gateway response type."""
    status, body = template.gateway_response(kind)
    return status, json.loads(body)


@pytest.mark.parametrize("missing", ["Authorization", "x-business-id"])
def test_a_missing_identity_header_is_the_template_s_401_without_calling_the_authorizer(api, monkeypatch, missing):
    called = []
    monkeypatch.setattr(runtime, "invoke", lambda *a: called.append(a))
    headers = {k: v for k, v in api.headers().items() if k != missing}

    reply = api.get(CUSTOMERS, headers=headers)

    assert (reply.status, reply.json()) == declared("UNAUTHORIZED")
    assert reply.status == 401 and reply.json()["detail"] == "Not authenticated"
    assert called == []


def test_an_empty_identity_header_counts_as_missing(api):
    reply = api.get(CUSTOMERS, headers=api.headers(**{"x-business-id": "  "}))
    assert (reply.status, reply.json()) == declared("UNAUTHORIZED")


@pytest.mark.parametrize("authorization", ["Bearer dz_not_a_real_token", "Basic Zm9vOmJhcg==", "Bearer", "dz_x"])
def test_a_token_the_authorizer_rejects_is_the_template_s_401(api, tenant, authorization):
    reply = api.get(CUSTOMERS, headers={"Authorization": authorization, "x-business-id": tenant.business_id})
    assert (reply.status, reply.json()) == declared("UNAUTHORIZED")


def test_a_revoked_token_is_401_at_once_locally(api, tenant):
    from invoicing.storage import auth

    assert api.get(CUSTOMERS).status == 200
    auth.revoke_token(secret=tenant.token)
    assert api.get(CUSTOMERS).status == 401


@pytest.mark.parametrize("business_id", [OTHER_BUSINESS, "not-a-uuid"])
def test_a_deny_is_the_template_s_404_business_not_found(api, business_id):
    reply = api.get(CUSTOMERS, headers=api.headers(**{"x-business-id": business_id}))

    assert (reply.status, reply.json()) == declared("ACCESS_DENIED")
    assert reply.status == 404 and reply.json()["detail"] == "Business not found"


def test_another_tenant_s_existing_business_is_denied_like_a_missing_one(api, aws):
    other = create_tenant(name="Someone Else")
    reply = api.get(CUSTOMERS, headers=api.headers(**{"x-business-id": other.business_id}))
    assert (reply.status, reply.json()) == declared("ACCESS_DENIED")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/nope"),
    ("GET", "/"),
    ("PATCH", CUSTOMERS),  # a path the API has, with a method it does not
    ("GET", "/api/v1/customers/a/b"),
    ("GET", "/prod/api/v1/customers"),
])
def test_an_unknown_route_is_the_template_s_missing_authentication_token_answer(api, method, path):
    reply = api.request(method, path)

    assert (reply.status, reply.json()) == declared("MISSING_AUTHENTICATION_TOKEN")
    assert reply.status == 404


def test_an_unknown_route_answers_the_same_without_any_credentials(aws):
    reply = gateway.request("GET", "/api/v1/nope")
    assert (reply.status, reply.json()) == declared("MISSING_AUTHENTICATION_TOKEN")


def test_a_route_without_the_authorizer_needs_no_token(aws):
    reply = gateway.request("GET", "/api/v1/openapi.json")
    assert reply.status == 200
    assert reply.json()["openapi"].startswith("3.")


def test_the_authorizer_s_context_reaches_the_function(api, tenant, monkeypatch):
    seen: list[dict[str, Any]] = []
    real = runtime.invoke

    def spy(logical_id: str, event: dict[str, Any]) -> Any:
        if logical_id == "CustomersFunction":
            seen.append(event["requestContext"]["authorizer"])
        return real(logical_id, event)

    monkeypatch.setattr(runtime, "invoke", spy)
    assert api.get(CUSTOMERS).status == 200
    assert seen and seen[0]["business_id"] == tenant.business_id
    assert seen[0]["user_id"] == tenant.user_id and seen[0]["role"] == "owner"
    assert seen[0]["principalId"] == tenant.user_id


def test_an_authorizer_that_crashes_is_the_gateway_s_5xx(api, monkeypatch):
    auth_fn = template.authorizer()[0]
    real = runtime.invoke

    def crash(logical_id: str, event: dict[str, Any]) -> Any:
        if logical_id == auth_fn:
            raise RuntimeError("boom")
        return real(logical_id, event)

    monkeypatch.setattr(runtime, "invoke", crash)
    reply = api.get(CUSTOMERS)
    assert (reply.status, reply.json()) == declared("AUTHORIZER_FAILURE")
    assert reply.status == 500 and reply.json() == json.loads(template.gateway_response("DEFAULT_5XX")[1])


def test_a_function_that_raises_is_a_502_for_http_clients_and_raises_for_tests(api, monkeypatch):
    real = runtime.invoke

    def crash(logical_id: str, event: dict[str, Any]) -> Any:
        if logical_id == "CustomersFunction":
            raise RuntimeError("boom")
        return real(logical_id, event)

    monkeypatch.setattr(runtime, "invoke", crash)
    with pytest.raises(RuntimeError, match="boom"):
        gateway.request("GET", CUSTOMERS, headers=api.headers())
    reply = gateway.request("GET", CUSTOMERS, headers=api.headers(), propagate=False)
    assert reply.status == 502
    assert reply.json() == json.loads(template.gateway_response("DEFAULT_5XX")[1])


def test_a_function_answer_without_status_code_is_a_502(api, monkeypatch):
    real = runtime.invoke
    monkeypatch.setattr(runtime, "invoke",
                        lambda fid, event: {"body": "hi"} if fid == "CustomersFunction" else real(fid, event))
    assert gateway.request("GET", CUSTOMERS, headers=api.headers(), propagate=False).status == 502


def test_a_base64_proxy_answer_is_decoded(api, monkeypatch):
    real = runtime.invoke
    payload = b"\x89PNG\r\n"
    answer = {"statusCode": 200, "headers": {"Content-Type": "image/png"},
              "body": base64.b64encode(payload).decode(), "isBase64Encoded": True}
    monkeypatch.setattr(runtime, "invoke",
                        lambda fid, event: answer if fid == "CustomersFunction" else real(fid, event))
    reply = api.get(CUSTOMERS)
    assert reply.status == 200 and reply.content == payload


def test_a_body_that_is_not_utf8_arrives_base64_encoded_and_is_a_4xx(api):
    raw = base64.b64encode(b'{"name": "\xff\xfe"}').decode()
    reply = api.request("POST", CUSTOMERS, raw=raw, is_base64=True,
                        headers=api.headers(**{"Content-Type": "application/json"}))
    assert 400 <= reply.status < 500, reply.body


def test_undeclared_gateway_responses_fall_back_to_the_default_ones():
    status, body = template.gateway_response("AUTHORIZER_CONFIGURATION_ERROR")
    assert status == 500 and body == template.gateway_response("DEFAULT_5XX")[1]
    assert template.gateway_response("BAD_GATEWAY")[0] == 502


def test_methods_at_lists_the_methods_of_a_concrete_path():
    assert template.methods_at(CUSTOMERS) == ["GET", "POST"]
    assert template.methods_at(f"{CUSTOMERS}/0195f1a0-0000-7000-8000-0000000000c1") == ["DELETE", "GET", "PUT"]
    assert template.methods_at("/api/v1/nope") == []
