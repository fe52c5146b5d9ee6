"""Shared fixtures: emulated AWS (moto) with the table built from template.yaml, a business with
an owner, and a client that sends requests through the emulated API Gateway."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from helpers import Api, Tenant, make_tenant

from devstack import runtime
from devstack.emulated import FAKE_CREDENTIALS, emulated_aws

if not os.environ.get("E2E_BASE_URL"):
    # (Against a deployed stack, tests/e2e's E2E_BASE_URL mode, boto3 keeps its own configuration:
    # the stack's endpoint and credentials.)
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    # The functions' literal environment (Powertools service, metrics namespace, ...) before any
    # test module imports the layer: Powertools reads it when Logger/Metrics are created, at import.
    runtime.apply_environment({})


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for the whole test, with the template's table and every function's environment."""
    with emulated_aws("invoicing-test"):
        yield


@pytest.fixture
def tenant(aws: None) -> Tenant:
    return make_tenant()


@pytest.fixture
def api(tenant: Tenant) -> Api:
    return Api(tenant)
