"""In-process emulated AWS (moto's mock) with the template's table: for tests, the benchmark and
the standalone ``invoke``. The served local stack uses moto's server instead (devstack.cli)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from devstack import runtime, template

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def reset_clients() -> None:
    """Forget cached settings and clients, so the next call builds them for the current backend."""
    from invoicing.settings import settings
    from invoicing.storage.table import client

    settings.cache_clear()
    client.cache_clear()


@contextmanager
def emulated_aws(table_name: str = "invoicing-local") -> Iterator[None]:
    from moto import mock_aws

    os.environ.update(FAKE_CREDENTIALS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        runtime.apply_environment({"Table": table_name})
        reset_clients()
        import boto3

        template.create_table(boto3.client("dynamodb"), table_name)
        try:
            yield
        finally:
            reset_clients()


@dataclass
class Tenant:
    business_id: str
    token: str
    user_id: str
    currency: str
    timezone: str


def create_tenant(role: str = "owner", currency: str = "USD", timezone: str = "America/New_York",
                  name: str = "Acme Supplies") -> Tenant:
    """A business with one member of ``role`` holding a fresh token."""
    from invoicing.storage import auth

    business = auth.create_business(name, currency, timezone)
    user_id = auth.create_user(f"{role}@{business.id}.example")
    auth.add_member(business.id, user_id, role)  # type: ignore[arg-type]
    token = auth.create_token(user_id)["token"]
    return Tenant(business.id, token, user_id, currency, timezone)
