"""Recurring runs of ``auto_finalize`` templates that die between generating an occurrence's
invoice and finalizing it: whichever run of the template comes next (the fire redelivered, the
next fire, the daily catch-up) finalizes that invoice exactly once, numbers stay gapless, and an
invoice the user has since deleted or made something else than a draft is left as it is."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from helpers import Api
from recurring_support import (
    INVOICES,
    RECURRING,
    START,
    Calendar,
    at_once,
    crash_before_finalize,
    create,
    generated_invoices,
    get,
    history,
    last_invoice_number,
    pending_finalize,
)

from devstack import runtime
from devstack.scheduler_clock import SchedulerClock
from invoicing.recurring import runs as recurring
from invoicing.recurring import schedule as scheduler

FEB_28 = date(2031, 2, 28)


def summary(fired: Any) -> dict[str, Any]:
    assert fired.error is None, fired.error
    (run,) = fired.result["runs"]
    return run  # type: ignore[no-any-return]


def catch_up() -> list[dict[str, Any]]:
    return runtime.invoke("RecurringRunFunction", {"catch_up": True})["runs"]  # type: ignore[no-any-return]


def run_template(shop: dict[str, str], template_id: str) -> dict[str, Any]:
    """The template's own schedule firing (as its next fire would)."""
    result = runtime.invoke("RecurringRunFunction", {"business_id": shop["business"], "template_id": template_id})
    (run,) = result["runs"]
    return run  # type: ignore[no-any-return]


def numbered(api: Api, template_id: str) -> list[tuple[str, str, str | None]]:
    return [(i["issue_date"], i["status"], i.get("number")) for i in generated_invoices(api, template_id)]


def crashed_first_occurrence(api: Api, shop: dict, clock: SchedulerClock, monkeypatch: pytest.MonkeyPatch,
                             **overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """An auto_finalize template whose first fire died after generating the Jan 31 invoice and
    before finalizing it: (the template, that draft invoice)."""
    template = create(api, shop, auto_finalize=True, **overrides)
    crash_before_finalize(monkeypatch)
    fired = clock.fire(scheduler.schedule_name(template["id"]))
    assert fired.error and "Crash" in fired.error
    (draft,) = generated_invoices(api, template["id"])
    assert (draft["issue_date"], draft["status"], draft.get("number")) == ("2031-01-31", "draft", None)
    assert pending_finalize(shop["business"], template["id"]) is not None
    assert last_invoice_number(shop["business"]) == 0
    return template, draft


def test_the_redelivered_fire_finalizes_it_once(api: Api, shop: dict, calendar: Calendar, clock: SchedulerClock,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    template, draft = crashed_first_occurrence(api, shop, clock, monkeypatch)
    name = scheduler.schedule_name(template["id"])
    again = summary(clock.fire(name))  # the scheduler's retry of the same event
    assert (again["generated"], again["finalized"]) == ([], [draft["id"]])
    assert numbered(api, template["id"]) == [("2031-01-31", "open", "INV-001")]
    assert pending_finalize(shop["business"], template["id"]) is None
    assert (again["next_occurrence"], get(api, template["id"])["next_occurrence"]) == ("2031-02-28", "2031-02-28")
    assert scheduler.get_schedule(template["id"])["ScheduleExpression"] == "at(2031-02-28T00:05:00)"  # type: ignore[index]
    once_more = summary(clock.fire(name))  # a duplicate delivery: nothing left to do
    assert (once_more["generated"], once_more["finalized"]) == ([], [])
    calendar.today = FEB_28
    following = summary(clock.fire(name))  # the next fire
    assert len(following["generated"]) == 1 and following["finalized"] == []
    assert all(run["generated"] == [] and run["finalized"] == [] for run in catch_up())
    assert numbered(api, template["id"]) == [("2031-01-31", "open", "INV-001"), ("2031-02-28", "open", "INV-002")]
    assert last_invoice_number(shop["business"]) == 2
    assert [i["id"] for i in history(api, template["id"])] == [draft["id"], *following["generated"]]


def test_the_next_fire_finalizes_it_before_generating_more(api: Api, shop: dict, calendar: Calendar,
                                                           clock: SchedulerClock,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    template, draft = crashed_first_occurrence(api, shop, clock, monkeypatch, frequency="daily", day_of_month=None)
    calendar.today = START + timedelta(days=2)  # no retry; the template runs again two days later
    run = run_template(shop, template["id"])
    assert run["finalized"] == [draft["id"]] and len(run["generated"]) == 2
    assert numbered(api, template["id"]) == [("2031-01-31", "open", "INV-001"), ("2031-02-01", "open", "INV-002"),
                                             ("2031-02-02", "open", "INV-003")]
    assert all(run["generated"] == [] and run["finalized"] == [] for run in catch_up())
    assert last_invoice_number(shop["business"]) == 3
    assert pending_finalize(shop["business"], template["id"]) is None


def test_the_catch_up_finalizes_it_even_before_the_next_occurrence(api: Api, shop: dict, calendar: Calendar,
                                                                   clock: SchedulerClock,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    template, draft = crashed_first_occurrence(api, shop, clock, monkeypatch)
    calendar.today = START + timedelta(days=1)  # retries exhausted; the next occurrence is Feb 28
    runs = [run for run in catch_up() if run["template_id"] == template["id"]]
    assert [(run["generated"], run["finalized"]) for run in runs] == [([], [draft["id"]])]
    assert numbered(api, template["id"]) == [("2031-01-31", "open", "INV-001")]
    assert scheduler.get_schedule(template["id"])["ScheduleExpression"] == "at(2031-02-28T00:05:00)"  # type: ignore[index]
    assert catch_up() == []  # nothing due and nothing pending any more
    calendar.today = FEB_28
    clock.fire_due(calendar.at(FEB_28))
    assert numbered(api, template["id"]) == [("2031-01-31", "open", "INV-001"), ("2031-02-28", "open", "INV-002")]


def test_a_crash_in_a_backlog_resumes_in_occurrence_order(api: Api, shop: dict, calendar: Calendar,
                                                          clock: SchedulerClock,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    template = create(api, shop, auto_finalize=True, frequency="daily", day_of_month=None)
    calendar.today = START + timedelta(days=3)
    crash_before_finalize(monkeypatch, 2)  # the second occurrence's finalize dies
    name = scheduler.schedule_name(template["id"])
    assert "Crash" in (clock.fire(name).error or "")
    assert numbered(api, template["id"]) == [("2031-01-31", "open", "INV-001"), ("2031-02-01", "draft", None)]
    again = summary(clock.fire(name))
    assert len(again["finalized"]) == 1 and len(again["generated"]) == 2
    assert numbered(api, template["id"]) == [
        ("2031-01-31", "open", "INV-001"), ("2031-02-01", "open", "INV-002"),
        ("2031-02-02", "open", "INV-003"), ("2031-02-03", "open", "INV-004")]
    assert get(api, template["id"])["occurrences_generated"] == 4


def test_concurrent_runs_finalize_it_once(api: Api, shop: dict, calendar: Calendar, clock: SchedulerClock,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    template, draft = crashed_first_occurrence(api, shop, clock, monkeypatch)
    results = at_once(lambda: recurring.run_due(shop["business"], template["id"]))
    assert [i.id for r in results for i in r.finalized] == [draft["id"]]
    assert numbered(api, template["id"]) == [("2031-01-31", "open", "INV-001")]
    assert last_invoice_number(shop["business"]) == 1


def test_a_deleted_draft_is_neither_recreated_nor_finalized(api: Api, shop: dict, calendar: Calendar,
                                                            clock: SchedulerClock,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    template, draft = crashed_first_occurrence(api, shop, clock, monkeypatch)
    assert api.delete(f"{INVOICES}/{draft['id']}").status == 204
    name = scheduler.schedule_name(template["id"])
    again = summary(clock.fire(name))
    assert (again["generated"], again["finalized"]) == ([], [])
    assert generated_invoices(api, template["id"]) == []
    assert pending_finalize(shop["business"], template["id"]) is None
    assert catch_up() == []
    calendar.today = FEB_28
    summary(clock.fire(name))
    assert all(run["generated"] == [] and run["finalized"] == [] for run in catch_up())
    assert numbered(api, template["id"]) == [("2031-02-28", "open", "INV-001")]  # no number was lost
    assert [i["issue_date"] for i in history(api, template["id"])] == ["2031-02-28"]


def test_a_finalized_then_voided_invoice_is_left_alone(api: Api, shop: dict, calendar: Calendar,
                                                       clock: SchedulerClock,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    template, draft = crashed_first_occurrence(api, shop, clock, monkeypatch)
    finalized = api.post(f"{INVOICES}/{draft['id']}/finalize")
    assert finalized.status == 200 and finalized.json()["data"]["number"] == "INV-001"
    assert api.post(f"{INVOICES}/{draft['id']}/void").status == 200
    again = summary(clock.fire(scheduler.schedule_name(template["id"])))
    assert (again["generated"], again["finalized"]) == ([], [])
    assert pending_finalize(shop["business"], template["id"]) is None
    calendar.today = FEB_28
    run_template(shop, template["id"])
    assert numbered(api, template["id"]) == [("2031-01-31", "void", "INV-001"), ("2031-02-28", "open", "INV-002")]
    assert last_invoice_number(shop["business"]) == 2


def test_an_edited_draft_is_still_finalized(api: Api, shop: dict, calendar: Calendar, clock: SchedulerClock,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    template, draft = crashed_first_occurrence(api, shop, clock, monkeypatch)
    edited = api.put(f"{INVOICES}/{draft['id']}", {"id": draft["id"], "description": "Edited"})
    assert edited.status == 200, edited.body
    again = summary(clock.fire(scheduler.schedule_name(template["id"])))
    assert again["finalized"] == [draft["id"]]
    (invoice,) = generated_invoices(api, template["id"])
    assert (invoice["status"], invoice["number"], invoice["description"]) == ("open", "INV-001", "Edited")


def test_auto_finalize_turned_off_meanwhile_leaves_the_draft(api: Api, shop: dict, calendar: Calendar,
                                                             clock: SchedulerClock,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    template, draft = crashed_first_occurrence(api, shop, clock, monkeypatch)
    assert api.put(f"{RECURRING}/{template['id']}", {"auto_finalize": False}).status == 200
    again = summary(clock.fire(scheduler.schedule_name(template["id"])))
    assert (again["generated"], again["finalized"]) == ([], [])
    assert pending_finalize(shop["business"], template["id"]) is None
    assert numbered(api, template["id"]) == [("2031-01-31", "draft", None)]
    assert [i["id"] for i in generated_invoices(api, template["id"])] == [draft["id"]]
    assert last_invoice_number(shop["business"]) == 0


def test_the_last_occurrence_of_a_completed_template_is_finalized_by_the_catch_up(
        api: Api, shop: dict, calendar: Calendar, clock: SchedulerClock, monkeypatch: pytest.MonkeyPatch) -> None:
    template, draft = crashed_first_occurrence(api, shop, clock, monkeypatch, max_occurrences=1)
    assert get(api, template["id"])["status"] == "completed"  # its advance committed with the invoice
    calendar.today = START + timedelta(days=1)
    runs = catch_up()
    assert [(run["template_id"], run["finalized"], run["status"]) for run in runs] == [
        (template["id"], [draft["id"]], "completed")]
    assert numbered(api, template["id"]) == [("2031-01-31", "open", "INV-001")]
    assert scheduler.get_schedule(template["id"]) is None
    assert catch_up() == []
