"""Lambda SnapStart: what the snapshot holds, and what a restore makes fresh.

A SnapStart function initialises once per published version (``AWS_LAMBDA_INITIALIZATION_TYPE``
is ``snap-start``); every cold start after that resumes the snapshot, so anything a first
request would do costs nothing if init does it. Without a snapshot, init stays lean and these
costs fall on the first request that needs them (a GET never imports the idempotency utility).

Before the snapshot: the imports that are lazy elsewhere (the idempotency utility, recurring
templates), the AWS clients with one read made (``storage.table.prime``), and every route's
request and response models (Powertools builds them on a route's first call; the OpenAPI schema
builds all of them).

After a restore, fresh: the ``random`` module's state. Copies restored from one snapshot would
otherwise share it, and the retry jitter (``storage.retry``) of writers racing each other would
stop spreading them out. Nothing else needs a hook: ids (``uuid7``) and token secrets read
``os.urandom`` on every call; the priming read's connection is dead after a restore and
botocore's pool replaces a dropped connection by itself; a SnapStart function gets its
credentials from Lambda's container credentials endpoint, which botocore re-reads as they expire.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from invoicing.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver


def taking_snapshot() -> bool:
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"


def prepare(app: APIGatewayRestResolver | None = None) -> None:
    """During a snapshot's init, do now what a first request would do; otherwise nothing."""
    if not taking_snapshot():
        return
    from invoicing.http import idempotency
    from invoicing.recurring import schedule, templates  # noqa: F401 - the invoice functions import it lazily
    from invoicing.storage import queue, table

    idempotency.load()
    table.client(), queue.client(), schedule.client()
    try:
        table.prime()
    except (BotoCoreError, ClientError):  # the snapshot is still worth taking; the first request pays
        logger.warning("Could not prime the DynamoDB client before the snapshot", exc_info=True)
    if app is not None:
        app.get_openapi_schema()
    _after_restore(random.seed)  # no argument: seeded from os.urandom


def _after_restore(hook: Callable[[], object]) -> None:
    try:
        from snapshot_restore_py import register_after_restore  # part of Lambda's Python runtimes
    except ImportError:
        return
    register_after_restore(hook)
