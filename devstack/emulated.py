"""In-process emulated AWS (moto's mock) with the template's table and queues: for tests, the
benchmark and the standalone ``invoke``. The served local stack uses moto's server instead (devstack.cli).

With ``DYNAMODB_LOCAL_ENDPOINT`` set (``make test`` starts AWS's DynamoDB Local and sets it for
a second run of the storage and integration suites), DynamoDB goes there instead, through
boto3's own ``AWS_ENDPOINT_URL_DYNAMODB``: a real engine with the limits and atomicity moto
lacks. Each use then gets a table of its own, dropped afterwards. DynamoDB Local must run with
``-sharedDb``: moto's mock swaps in its own credentials, which would otherwise pick another
database.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from devstack import moto_patches, runtime, scheduler_clock, template

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def reset_clients() -> None:
    """Forget cached settings and clients, so the next call builds them for the current backend."""
    from invoicing.recurring import schedule as scheduler
    from invoicing.settings import settings
    from invoicing.storage import documents, queue
    from invoicing.storage.table import client

    settings.cache_clear()
    client.cache_clear()
    queue.client.cache_clear()
    documents.client.cache_clear()
    scheduler.client.cache_clear()


@contextmanager
def emulated_aws(table_name: str = "invoicing-local") -> Iterator[dict[str, str]]:
    """Yields the physical ids of the template's resources (logical id -> table name, queue URL,
    schedule group name; ``<LogicalId>.Arn`` -> ARN)."""
    from moto import mock_aws
    from moto.core.config import default_user_config

    moto_patches.apply()
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    dynamodb_local = os.environ.get("DYNAMODB_LOCAL_ENDPOINT")
    passthrough: list[str] = []
    if dynamodb_local:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_local
        table_name = f"{table_name}-{uuid.uuid4().hex[:12]}"
        # moto's mock otherwise matches each of DynamoDB Local's requests against every AWS
        # service's URL patterns (about 1 ms a call) before letting it through.
        passthrough.append(re.escape(dynamodb_local.rstrip("/")))
    core = default_user_config["core"].copy()  # a section given replaces moto's whole one: start from its defaults
    core["passthrough"] = {"urls": passthrough, "services": []}
    with mock_aws(config={"core": core}):
        import boto3

        physical = {"Table": table_name, **template.create_queues(boto3.client("sqs"), table_name),
                    **template.create_buckets(boto3.client("s3"), table_name)}
        physical.update(scheduler_clock.provision(boto3.client("scheduler"), physical, table_name))
        runtime.apply_environment(physical)
        reset_clients()
        dynamodb = boto3.client("dynamodb")
        template.create_table(dynamodb, table_name)
        try:
            yield physical
        finally:
            reset_clients()
            if dynamodb_local:
                dynamodb.delete_table(TableName=table_name)


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
