"""Shared fixtures: emulated AWS (moto) with the table built from template.yaml, a business with
an owner, and a client that sends requests through the emulated API Gateway."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from devstack import gateway, runtime
from devstack.emulated import FAKE_CREDENTIALS, Tenant, create_tenant, emulated_aws

os.environ.update(FAKE_CREDENTIALS)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)
# The functions' literal environment (Powertools service, metrics namespace, ...) before any test
# module imports the layer: Powertools reads it when Logger/Metrics are created, at import.
runtime.apply_environment({})

make_tenant = create_tenant


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for the whole test, with the template's table and every function's environment."""
    with emulated_aws("invoicing-test"):
        yield


@pytest.fixture
def tenant(aws: None) -> Tenant:
    return make_tenant()


class Api:
    """Requests through the emulated API Gateway (routes, authorizer, gateway responses)."""

    def __init__(self, tenant: Tenant | None) -> None:
        self.tenant = tenant

    def headers(self, tenant: Tenant | None = None, **extra: str) -> dict[str, str]:
        who = tenant or self.tenant
        base = {"Authorization": f"Bearer {who.token}", "x-business-id": who.business_id} if who else {}
        return {**base, **extra}

    def request(self, method: str, path: str, *, json_body: Any = None, raw: str | None = None,
                query: str = "", headers: dict[str, str] | None = None, as_tenant: Tenant | None = None,
                is_base64: bool = False) -> gateway.Reply:
        all_headers = self.headers(as_tenant) if headers is None else headers
        if json_body is not None:
            raw = json.dumps(json_body)
            all_headers = {"Content-Type": "application/json", **all_headers}
        return gateway.request(method, path, headers=all_headers, body=raw, query=query, is_base64=is_base64)

    def get(self, path: str, **kw: Any) -> gateway.Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> gateway.Reply:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> gateway.Reply:
        return self.request("PUT", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> gateway.Reply:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def api(tenant: Tenant) -> Api:
    return Api(tenant)
