"""The checked-in OpenAPI document is the one the handlers generate, describes exactly the
template's routes, and is what the public docs function serves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate

from devstack import gateway, openapi, template
from invoicing.http import idempotency

DOCS_FUNCTION = "DocsFunction"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def generated() -> str:
    return openapi.generate()


@pytest.fixture(scope="module")
def document(generated: str) -> dict[str, Any]:
    return json.loads(generated)


def test_the_checked_in_document_is_up_to_date(generated: str) -> None:
    stored = openapi.DOCUMENT.read_text(encoding="utf-8") if openapi.DOCUMENT.exists() else ""
    assert generated == stored, (
        f"{openapi.DOCUMENT.relative_to(template.ROOT)} differs from what the handlers generate: "
        "run `make openapi` and commit the result")


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert document["info"]["title"] == "DayZero Invoicing API"


def test_the_document_describes_exactly_the_template_routes(document: dict[str, Any]) -> None:
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item
                  if method in METHODS}
    # The docs function's own routes are public plumbing, left out of the document.
    routed = {(r.method, r.path) for r in template.api_routes() if r.function != DOCS_FUNCTION}
    assert documented == routed, (f"only in the document: {sorted(documented - routed)}; "
                                  f"only in template.yaml: {sorted(routed - documented)}")


def test_every_operation_requires_the_token_and_the_business_header(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {**schemes["bearerToken"], "type": "http", "scheme": "bearer"}
    assert schemes["businessId"] == {**schemes["businessId"], "type": "apiKey", "in": "header",
                                     "name": "x-business-id"}
    assert document["security"] == [{"bearerToken": [], "businessId": []}]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("security", document["security"]) == document["security"], (method, path)


def _resolved(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = document["components"][kind][name]
    return node


def test_every_post_and_put_declares_the_idempotency_key_and_its_409(document: dict[str, Any]) -> None:
    # API.md: `Idempotency-Key` on any POST/PUT; the same key with a different request, or while the
    # first is in flight, is a 409 (the contract's error shape, like every other 409).
    assert idempotency.METHODS == {"POST", "PUT"}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    covered, missing = 0, []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            headers = [_resolved(document, p) for p in operation.get("parameters", [])]
            keys = [p for p in headers if p["in"] == "header" and p["name"].lower() == "idempotency-key"]
            if method not in ("post", "put"):
                assert not keys, f"{method.upper()} {path}: idempotency covers only POST and PUT"
                continue
            covered += 1
            if len(keys) != 1 or operation["responses"].get("409", {}).get("content") != error:
                missing.append(f"{method.upper()} {path}")
                continue
            assert keys[0]["name"] == idempotency.HEADER and keys[0]["required"] is False
            assert keys[0]["schema"] == {"type": "string", "maxLength": idempotency.MAX_KEY_LENGTH,
                                         "title": idempotency.HEADER}
            assert "idempotency_key_reused" in operation["responses"]["409"]["description"]
    assert not missing, f"POST/PUT without the Idempotency-Key header or its 409: {missing}"
    writes = {(r.method, r.path) for r in template.api_routes() if r.method in ("POST", "PUT")}
    assert covered == len(writes) > 0


def test_a_route_declaring_the_idempotency_key_itself_fails_the_generation() -> None:
    document = {"components": {"schemas": {"ErrorBody": {}}}, "paths": {"/x": {"post": {
        "parameters": [{"name": "idempotency-key", "in": "header"}], "responses": {}}}}}
    with pytest.raises(ValueError, match="declares Idempotency-Key itself"):
        openapi._document_idempotency(document)


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/docs"])
def test_the_docs_routes_are_public_and_not_documented(path: str, document: dict[str, Any]) -> None:
    assert path not in document["paths"]
    route, _ = template.match_route("GET", path) or (None, None)
    assert route is not None and route.function == DOCS_FUNCTION and not route.authorized


def test_the_docs_function_serves_the_document_without_credentials() -> None:
    reply = gateway.request("GET", "/api/v1/openapi.json")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    served = reply.json()
    assert served == {**json.loads(openapi.DOCUMENT.read_text(encoding="utf-8")), "servers": [{"url": "/"}]}


def test_behind_api_gateway_s_own_host_the_server_is_the_stage() -> None:
    reply = gateway.request("GET", "/api/v1/openapi.json",
                            headers={"Host": "abcdef1234.execute-api.us-east-1.amazonaws.com"})
    assert reply.json()["servers"] == [{"url": "/prod"}]


def test_the_docs_function_serves_swagger_ui_offline() -> None:
    reply = gateway.request("GET", "/api/v1/docs")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    page = reply.body
    assert "SwaggerUIBundle(" in page and "<style>" in page
    assert "https://" not in page.split("<script>", 1)[0], "no stylesheet or script from the internet"
    assert '"title": "DayZero Invoicing API"' in page, "the document is inlined as the page's spec"
    as_json = gateway.request("GET", "/api/v1/docs", query="format=json")
    assert as_json.status == 200 and as_json.json()["info"]["title"] == "DayZero Invoicing API"


def test_two_functions_defining_one_model_name_differently_fail_the_generation() -> None:
    same = {"components": {"schemas": {"Customer": {"type": "object"}}}}
    openapi._check_components_agree([same, same])
    with pytest.raises(ValueError, match="Customer"):
        openapi._check_components_agree([same, {"components": {"schemas": {"Customer": {"type": "string"}}}}])


def _request_fields(document: dict[str, Any], node: dict[str, Any], seen: set[str]) -> Any:
    """(name, schema) of every property and parameter a client sends, $refs followed."""
    if "$ref" in node:
        if node["$ref"] in seen:
            return
        seen.add(node["$ref"])
    node = _resolved(document, node)
    for name, schema in node.get("properties", {}).items():
        yield name, schema
        yield from _request_fields(document, schema, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key, []):
            yield from _request_fields(document, branch, seen)
    if "items" in node:
        yield from _request_fields(document, node["items"], seen)


def test_every_date_a_client_sends_is_declared_a_calendar_date(document: dict[str, Any]) -> None:
    # Without format: date a schema-driven client or fuzzer sends 0000-00-00 for a date field.
    sent = []
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                parameter = _resolved(document, parameter)
                sent.append((parameter["name"], parameter["schema"]))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                sent += _request_fields(document, content["schema"], set())
    dates = [(name, schema) for name, schema in sent if name.endswith("date")]
    assert {"issue_date", "due_date", "start_date", "as_of_date"} <= {name for name, _ in dates}
    assert all('"format": "date"' in json.dumps(schema) for _, schema in dates), [
        name for name, schema in dates if '"format": "date"' not in json.dumps(schema)]
