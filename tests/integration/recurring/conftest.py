"""The recurring suites' fixtures: a steppable business calendar, a shop (a customer and a
variant) and the local scheduler clock."""

from __future__ import annotations

import pytest
from helpers import Api, Tenant
from recurring_support import Calendar, make_calendar, make_shop

from devstack.scheduler_clock import SchedulerClock


@pytest.fixture
def calendar(monkeypatch: pytest.MonkeyPatch, tenant: Tenant) -> Calendar:
    return make_calendar(monkeypatch, tenant)


@pytest.fixture
def shop(api: Api) -> dict[str, str]:
    return make_shop(api)


@pytest.fixture
def clock(aws: None) -> SchedulerClock:
    return SchedulerClock()
