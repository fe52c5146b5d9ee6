"""Recurring runs: the schedules fire through the local scheduler clock into RecurringRunFunction,
and each occurrence gets exactly one invoice, whatever fires twice, late or not at all."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from helpers import Api
from recurring_support import (
    RECURRING,
    START,
    Calendar,
    at_once,
    create,
    generated_invoices,
    get,
    history,
    set_catalog_price,
)

from bench import aws_calls
from devstack import runtime, template
from devstack.scheduler_clock import SchedulerClock
from invoicing.recurring import runs as recurring
from invoicing.recurring import schedule as scheduler
from invoicing.storage import keys
from invoicing.storage.table import client, key, table_name

EVENTS = template.ROOT / "events"


@pytest.fixture
def clock(aws: None) -> SchedulerClock:
    return SchedulerClock()

def issue_dates(invoices: list[dict]) -> list[str]:
    return [i["issue_date"] for i in invoices]


def template_fires(fired: list) -> list:
    """The fires of template schedules (the daily catch-up fires too whenever a day passes)."""
    return [f for f in fired if f.schedule != "RecurringCatchUpSchedule"]


def test_a_schedule_fires_its_template_once_per_occurrence(api: Api, shop: dict, calendar: Calendar,
                                                           clock: SchedulerClock) -> None:
    calendar.today = START - timedelta(days=1)
    template = create(api, shop)
    catch_up = clock.fire_due(calendar.at(calendar.today))[0]  # the daily catch-up: nothing due yet
    assert catch_up.schedule == "RecurringCatchUpSchedule" and catch_up.result["runs"][0]["generated"] == []
    calendar.today = START
    fired = template_fires(clock.fire_due(calendar.at(START, hour=0) + timedelta(minutes=5)))
    assert [(f.schedule, f.function, f.error) for f in fired] == [
        (scheduler.schedule_name(template["id"]), "RecurringRunFunction", None)]
    invoices = generated_invoices(api, template["id"])
    assert issue_dates(invoices) == ["2031-01-31"] and invoices[0]["due_date"] == "2031-02-14"
    assert invoices[0]["status"] == "draft" and invoices[0]["total"] == 2 * 1250 + 10000
    assert invoices[0]["description"] == "Retainer and widgets" and invoices[0]["customer_name"] == "Ada Lovelace"
    after = get(api, template["id"])
    assert (after["occurrences_generated"], after["last_generated_on"], after["next_occurrence"]) == (
        1, "2031-01-31", "2031-02-28")
    assert template_fires(clock.fire_due(calendar.at(START, hour=23))) == []  # the moved schedule: Feb 28
    assert [i["id"] for i in history(api, template["id"])] == [invoices[0]["id"]]


def test_a_run_reads_the_template_once_and_writes_each_occurrence_once(api: Api, shop: dict,
                                                                        calendar: Calendar) -> None:
    """Cost: one BatchGetItem for the template (and any unfinished finalize), then per occurrence one
    for its catalog and one transaction: the template is not read again after its own write."""
    from invoicing.storage.table import client

    template = create(api, shop)
    calendar.today = START + timedelta(days=31 + 28)  # Jan 31, Feb 28 and Mar 31 are due
    with aws_calls.counting(client()) as calls:
        result = recurring.run_due(shop["business"], template["id"])
    assert len(result.generated) == 3
    assert calls == {"BatchGetItem": 1 + 3, "TransactWriteItems": 3}


def test_the_schedule_fires_twice_one_invoice(api: Api, shop: dict, calendar: Calendar,
                                              clock: SchedulerClock) -> None:
    template = create(api, shop)
    name = scheduler.schedule_name(template["id"])
    first = clock.fire(name)
    second = clock.fire(name)  # a duplicate delivery of the same event
    assert first.error is None and second.error is None
    assert len(first.result["runs"][0]["generated"]) == 1 and second.result["runs"][0]["generated"] == []
    assert issue_dates(generated_invoices(api, template["id"])) == ["2031-01-31"]


def test_concurrent_runs_make_one_invoice_per_occurrence(api: Api, shop: dict, calendar: Calendar) -> None:
    template = create(api, shop, frequency="daily", day_of_month=None)
    calendar.today = START + timedelta(days=4)
    at_once(lambda: recurring.run_due(shop["business"], template["id"]))
    dates = issue_dates(generated_invoices(api, template["id"]))
    assert dates == [(START + timedelta(days=i)).isoformat() for i in range(5)]
    assert get(api, template["id"])["occurrences_generated"] == 5


def test_a_late_fire_catches_up(api: Api, shop: dict, calendar: Calendar, clock: SchedulerClock) -> None:
    template = create(api, shop, frequency="daily", day_of_month=None)
    calendar.today = START + timedelta(days=2)  # the schedule fires two days late
    clock.fire_due(calendar.at(calendar.today))
    assert issue_dates(generated_invoices(api, template["id"])) == ["2031-01-31", "2031-02-01", "2031-02-02"]
    assert get(api, template["id"])["next_occurrence"] == "2031-02-03"
    assert scheduler.get_schedule(template["id"])["ScheduleExpression"] == "at(2031-02-03T00:05:00)"  # type: ignore[index]


def test_down_over_three_occurrences_the_catch_up_generates_each_once(api: Api, shop: dict, calendar: Calendar,
                                                                      clock: SchedulerClock) -> None:
    template = create(api, shop)  # day 31: Jan 31, Feb 28, Mar 31
    other = create(api, shop, start_date="2031-03-01", day_of_month=1)
    scheduler.delete_schedule(template["id"])  # the per-template schedules were lost
    scheduler.delete_schedule(other["id"])
    calendar.today = date(2031, 4, 1)
    fired = clock.fire_due(calendar.at(calendar.today))
    assert [f.schedule for f in fired] == ["RecurringCatchUpSchedule"] and fired[0].event == {"catch_up": True}
    assert issue_dates(generated_invoices(api, template["id"])) == ["2031-01-31", "2031-02-28", "2031-03-31"]
    assert issue_dates(generated_invoices(api, other["id"])) == ["2031-03-01", "2031-04-01"]
    assert get(api, template["id"])["next_occurrence"] == "2031-04-30"
    # The catch-up put the schedules back; firing everything again generates nothing new.
    assert scheduler.get_schedule(template["id"]) is not None
    runtime.invoke("RecurringRunFunction", {"catch_up": True})
    clock.fire(scheduler.schedule_name(template["id"]))
    assert len(generated_invoices(api, template["id"])) == 3 and len(generated_invoices(api, other["id"])) == 2
    assert [h["issue_date"] for h in history(api, template["id"], "descending=true")] == [
        "2031-03-31", "2031-02-28", "2031-01-31"]


def _due_partition(business_id: str, template_id: str) -> str:
    got = client().get_item(TableName=table_name(), Key=key(keys.business(business_id), keys.recurring(template_id)))
    return got["Item"][keys.GSI2PK]["S"]  # type: ignore[no-any-return]


def test_templates_spread_over_the_due_index_shards_and_the_catch_up_runs_every_one(
        api: Api, shop: dict, calendar: Calendar, clock: SchedulerClock) -> None:
    templates = [create(api, shop, frequency="daily", day_of_month=None) for _ in range(24)]
    shards = {_due_partition(shop["business"], t["id"]) for t in templates}
    assert len(shards) > 1 and shards <= set(keys.recurring_due_partitions())
    for each in templates:
        scheduler.delete_schedule(each["id"])  # only the catch-up can find them
    calendar.today = START + timedelta(days=1)
    runtime.invoke("RecurringRunFunction", {"catch_up": True})
    for each in templates:
        assert issue_dates(generated_invoices(api, each["id"])) == ["2031-01-31", "2031-02-01"]


def test_paused_over_an_occurrence_generates_nothing_for_it(api: Api, shop: dict, calendar: Calendar,
                                                             clock: SchedulerClock) -> None:
    template = create(api, shop)
    clock.fire_due(calendar.at(START))
    api.post(f"{RECURRING}/{template['id']}/pause")
    calendar.today = date(2031, 3, 1)  # Feb 28 passes while paused
    clock.fire_due(calendar.at(calendar.today))
    runtime.invoke("RecurringRunFunction", {"business_id": shop["business"], "template_id": template["id"]})
    runtime.invoke("RecurringRunFunction", {"catch_up": True})
    assert issue_dates(generated_invoices(api, template["id"])) == ["2031-01-31"]
    resumed = api.post(f"{RECURRING}/{template['id']}/resume").json()["data"]
    assert resumed["skipped_dates"] == ["2031-02-28"] and resumed["next_occurrence"] == "2031-03-31"
    calendar.today = date(2031, 3, 31)
    clock.fire_due(calendar.at(calendar.today))
    assert issue_dates(generated_invoices(api, template["id"])) == ["2031-01-31", "2031-03-31"]


def test_skipped_occurrence_generates_nothing(api: Api, shop: dict, calendar: Calendar,
                                              clock: SchedulerClock) -> None:
    template = create(api, shop)
    api.post(f"{RECURRING}/{template['id']}/skip")
    calendar.today = date(2031, 2, 28)
    runtime.invoke("RecurringRunFunction", {"catch_up": True})
    assert issue_dates(generated_invoices(api, template["id"])) == ["2031-02-28"]


def test_variant_lines_take_the_catalog_price_of_their_day(api: Api, shop: dict, calendar: Calendar,
                                                           clock: SchedulerClock) -> None:
    template = create(api, shop, template_data={"line_items": [
        {"variant_id": shop["variant"], "quantity": 2},
        {"variant_id": shop["variant"], "unit_price": 999},  # an override stays
    ]})
    clock.fire_due(calendar.at(START))
    set_catalog_price(shop["business"], shop["variant"], 1500)
    calendar.today = date(2031, 2, 28)
    clock.fire_due(calendar.at(calendar.today))
    first, second = generated_invoices(api, template["id"])
    assert [line["unit_price"] for line in first["line_items"]] == [1250, 999]
    assert [line["unit_price"] for line in second["line_items"]] == [1500, 999]
    assert second["total"] == 2 * 1500 + 999


def test_auto_finalize_numbers_each_generated_invoice(api: Api, shop: dict, calendar: Calendar,
                                                       clock: SchedulerClock) -> None:
    template = create(api, shop, auto_finalize=True, frequency="daily", day_of_month=None)
    calendar.today = START + timedelta(days=2)
    clock.fire_due(calendar.at(calendar.today))
    invoices = generated_invoices(api, template["id"])
    assert [i["status"] for i in invoices] == ["open"] * 3
    assert [i["number"] for i in invoices] == ["INV-001", "INV-002", "INV-003"]


def test_max_occurrences_completes_the_template(api: Api, shop: dict, calendar: Calendar,
                                                 clock: SchedulerClock) -> None:
    template = create(api, shop, frequency="daily", day_of_month=None, max_occurrences=2)
    calendar.today = START + timedelta(days=5)
    clock.fire_due(calendar.at(calendar.today))
    assert issue_dates(generated_invoices(api, template["id"])) == ["2031-01-31", "2031-02-01"]
    after = get(api, template["id"])
    assert (after["status"], after["next_occurrence"]) == ("completed", None)
    assert scheduler.get_schedule(template["id"]) is None


def test_a_template_created_with_an_invoice_continues_from_it(api: Api, shop: dict, calendar: Calendar,
                                                              clock: SchedulerClock) -> None:
    invoice = api.post("/api/v1/invoices", {
        "customer_id": shop["customer"], "issue_date": "2031-01-31", "due_date": "2031-02-07",
        "line_items": [{"variant_id": shop["variant"]}], "recurring": {"frequency": "weekly"}}).json()["data"]
    template_id = invoice["recurring_template_id"]
    runtime.invoke("RecurringRunFunction", {"business_id": shop["business"], "template_id": template_id})
    assert issue_dates(generated_invoices(api, template_id)) == ["2031-01-31"]  # it covers its own date
    calendar.today = date(2031, 2, 7)
    clock.fire_due(calendar.at(calendar.today))
    invoices = generated_invoices(api, template_id)
    assert issue_dates(invoices) == ["2031-01-31", "2031-02-07"] and invoices[1]["due_date"] == "2031-02-14"
    assert [i["id"] for i in history(api, template_id)] == [invoice["id"], invoices[1]["id"]]


def test_a_failing_run_goes_to_the_dead_letter_queue(api: Api, shop: dict, calendar: Calendar,
                                                     clock: SchedulerClock, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    def broken(*args: object) -> None:
        raise RuntimeError("the invoice cannot be written")

    template = create(api, shop)
    monkeypatch.setattr(recurring, "_generate", broken)
    fired = clock.fire(scheduler.schedule_name(template["id"]))
    assert fired.error and "cannot be written" in fired.error
    sqs = boto3.client("sqs")
    url = runtime.physical_id("RecurringDeadLetterQueue")
    messages = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"]).get("Messages", [])
    assert [json.loads(m["Body"]) for m in messages] == [{"business_id": shop["business"],
                                                         "template_id": template["id"]}]


def test_a_template_whose_customer_was_deleted_is_canceled_at_its_next_run(api: Api, shop: dict, calendar: Calendar,
                                                                           clock: SchedulerClock) -> None:
    template = create(api, shop)
    before = generated_invoices(api, template["id"])
    assert api.delete(f"/api/v1/customers/{shop['customer']}").status == 204
    fired = clock.fire(scheduler.schedule_name(template["id"]))
    assert not fired.error  # not a failure to retry into the dead-letter queue: nobody is left to bill
    after = get(api, template["id"])
    assert (after["status"], after["next_occurrence"]) == ("canceled", None)
    assert generated_invoices(api, template["id"]) == before
    assert scheduler.get_schedule(template["id"]) is None


def test_sample_scheduler_events_run(aws: None) -> None:
    """events/recurring_run-*.json: the catch-up event runs; a schedule's event names a template
    that does not exist here, which is a no-op, not an error."""
    def run(name: str) -> list[dict]:
        return runtime.invoke("RecurringRunFunction", json.loads((EVENTS / name).read_text()))["runs"]

    assert sorted(p.name for p in EVENTS.glob("recurring_run-*.json")) == ["recurring_run-catch-up.json",
                                                                          "recurring_run-scheduled.json"]
    assert run("recurring_run-catch-up.json") == []  # nothing is due in an empty business
    [scheduled] = run("recurring_run-scheduled.json")
    assert (scheduled["generated"], scheduled["status"]) == ([], None)
