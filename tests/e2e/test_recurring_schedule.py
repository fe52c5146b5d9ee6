"""On a deployed stack, a recurring template's EventBridge Scheduler schedule fires the run
function. (A module of its own: it mostly waits, so `make deploy-check` runs it beside the rest.)"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from stack_support import DeployedStack, Stack, caller, new_customer, under_test

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack | DeployedStack]:
    with under_test(request, tmp_path_factory.mktemp("recurring-stack")) as running:
        yield running


@pytest.mark.waits("a schedule put now fires a minute later")
@pytest.mark.deployed_stack("a schedule put now fires a minute later (the integration suite steps the local "
                            "stack's scheduler clock instead)")
def test_a_recurring_template_s_schedule_fires_the_run_function(stack: DeployedStack) -> None:
    """A template starting today is due now: its EventBridge Scheduler schedule fires at(in a
    minute), in the business's time zone, and the run function writes the occurrence's invoice."""
    import boto3

    call = caller(stack, stack.demo_headers())
    customer = new_customer(call, "Recurring")
    template = call("POST", "/api/v1/recurring", {
        "name": "Monthly rent", "customer_id": customer, "frequency": "monthly",
        "template_data": {"line_items": [{"description": "Rent", "unit_price": 120000}]}}, 201)
    today = template["start_date"]
    assert template["next_occurrence"] == today and template["occurrences_generated"] == 0
    resources = stack.resources()
    schedule = boto3.client("scheduler").get_schedule(Name=f"recurring-{template['id']}",
                                                      GroupName=resources["RecurringScheduleGroup"])
    assert schedule["ScheduleExpression"].startswith(f"at({today}T")
    assert schedule["ScheduleExpressionTimezone"] == "UTC"  # see ministack_divergences: schedule_time_zone

    deadline = time.monotonic() + 150
    while not (history := call("GET", f"/api/v1/recurring/{template['id']}/history")["items"]):
        assert time.monotonic() < deadline, "the schedule did not fire the run function"
        time.sleep(2)
    [invoice] = history
    assert (invoice["customer_id"], invoice["total"], invoice["status"]) == (customer, 120000, "draft")
    after = call("GET", f"/api/v1/recurring/{template['id']}")
    assert after["occurrences_generated"] == 1 and after["last_generated_on"] == today
    assert after["next_occurrence"] > today
