"""The batch suites' fixtures: a shop (five customers, a variant, a location) and the local SQS
event source mappings."""

from __future__ import annotations

from typing import Any

import pytest
from batch_support import new_shop
from helpers import Api

from devstack.sqs_poller import SqsPoller


@pytest.fixture
def shop(api: Api) -> dict[str, Any]:
    return new_shop(api)


@pytest.fixture
def poller(aws: None) -> SqsPoller:
    """The local SQS event source mappings over the emulated queues."""
    return SqsPoller()
