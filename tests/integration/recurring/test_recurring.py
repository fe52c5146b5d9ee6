"""Recurring templates API through the emulated API Gateway: create (standalone and from an
invoice), list, get, update, pause, resume, cancel, skip, clone, history; every change keeps
the template's EventBridge Scheduler schedule (in moto) true to it."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from helpers import Api, make_tenant
from recurring_support import (
    INVOICES,
    RECURRING,
    START,
    Calendar,
    create,
    get,
    history,
    make_shop,
    template_body,
)

from invoicing.recurring import schedule as scheduler

MISSING = "0195f1a0-0000-7000-8000-00000000dead"


@pytest.fixture
def shop(api: Api) -> dict[str, str]:
    return make_shop(api)

def schedule_of(template_id: str) -> dict | None:
    return scheduler.get_schedule(template_id)


def test_create_standalone_template_and_its_schedule(api: Api, shop: dict, calendar: Calendar) -> None:
    template = create(api, shop, auto_finalize=True)
    assert template["status"] == "active" and template["recurrence_type"] == "invoice"
    assert (template["next_occurrence"], template["occurrences_generated"]) == ("2031-01-31", 0)
    assert template["template_data"]["line_items"][0] == {"variant_id": shop["variant"], "quantity": 2}
    assert template["currency"] == "USD" and template["auto_finalize"] is True and "version" not in template
    schedule = schedule_of(template["id"])
    assert schedule is not None
    assert schedule["ScheduleExpression"] == "at(2031-01-31T00:05:00)"
    assert schedule["ScheduleExpressionTimezone"] == calendar.timezone
    target = schedule["Target"]
    assert json.loads(target["Input"]) == {"business_id": shop["business"], "template_id": template["id"]}
    assert re.search(r":function:invoicing-test[-0-9a-f]*-recurring-run:live$", target["Arn"]), target["Arn"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0 and target["DeadLetterConfig"]["Arn"]


def test_bill_templates_are_not_supported(api: Api, shop: dict, calendar: Calendar) -> None:
    reply = api.post(RECURRING, template_body(shop, recurrence_type="bill"))
    assert reply.status == 422, reply.body
    detail = reply.json()["detail"][0]
    assert detail["loc"] == ["body", "recurrence_type"] and "not supported" in detail["msg"]


def test_invalid_schedule_fields_are_422(api: Api, shop: dict, calendar: Calendar) -> None:
    reply = api.post(RECURRING, template_body(shop, frequency="weekly"))  # day_of_month 31 on a weekly template
    assert reply.status == 422 and reply.json()["detail"][0]["loc"] == ["body", "day_of_month"]
    reply = api.post(RECURRING, template_body(shop, end_date="2030-01-01"))
    assert reply.status == 422 and reply.json()["detail"][0]["loc"] == ["body", "end_date"]
    reply = api.post(RECURRING, template_body(shop, template_data={"line_items": [{"variant_id": MISSING}]}))
    assert reply.status == 404


def test_past_start_begins_today(api: Api, shop: dict, calendar: Calendar) -> None:
    template = create(api, shop, frequency="daily", day_of_month=None, start_date="2030-06-01")
    assert template["next_occurrence"] == calendar.today.isoformat()


def test_list_filters_and_pages(api: Api, shop: dict, calendar: Calendar) -> None:
    other = api.post("/api/v1/customers", {"name": "Bob", "email": "bob@example.com"}).json()["data"]["id"]
    first = create(api, shop)
    second = create(api, shop, customer_id=other)
    third = create(api, shop)
    api.post(f"{RECURRING}/{third['id']}/pause")
    everything = api.get(RECURRING).json()["data"]
    assert [t["id"] for t in everything["items"]] == [third["id"], second["id"], first["id"]]
    active = api.get(RECURRING, query="status=active").json()["data"]["items"]
    assert {t["id"] for t in active} == {first["id"], second["id"]}
    mine = api.get(RECURRING, query=f"customer_id={other}").json()["data"]["items"]
    assert [t["id"] for t in mine] == [second["id"]]
    page = api.get(RECURRING, query="limit=2&include_total_count=true").json()["data"]
    assert len(page["items"]) == 2 and page["has_next"] and page["total"] == 3
    rest = api.get(RECURRING, query=f"limit=2&cursor={page['next_cursor']}").json()["data"]
    assert [t["id"] for t in rest["items"]] == [first["id"]] and not rest["has_next"]
    assert api.get(RECURRING, query="status=bogus").status == 422
    # DayZero's shortcut for invoice templates (all of this service's): the same list, the same filters
    shortcut = api.get(f"{RECURRING}/invoices", query="status=active")
    assert shortcut.status == 200, shortcut.body
    assert [t["id"] for t in shortcut.json()["data"]["items"]] == [t["id"] for t in active]
    assert api.get(f"{RECURRING}/invoices", as_tenant=make_tenant(name="Other")).json()["data"]["items"] == []


def test_another_business_templates_answer_like_missing_ones(api: Api, shop: dict, calendar: Calendar) -> None:
    template = create(api, shop)
    other = make_tenant(name="Other Co")
    for method, suffix in [("GET", ""), ("PUT", ""), ("POST", "/pause"), ("POST", "/resume"), ("POST", "/cancel"),
                           ("POST", "/skip"), ("POST", "/clone"), ("GET", "/history")]:
        body = {"name": "x"} if method == "PUT" else None
        reply = api.request(method, f"{RECURRING}/{template['id']}{suffix}", json_body=body, as_tenant=other)
        assert reply.status == 404, (method, suffix, reply.body)
        assert reply.json()["code"] == "recurring_template_not_found"
    assert api.get(RECURRING, as_tenant=other).json()["data"]["items"] == []
    assert api.post(RECURRING, template_body(shop), as_tenant=other).status == 404  # the customer is not theirs


def test_update_moves_the_schedule(api: Api, shop: dict, calendar: Calendar) -> None:
    template = create(api, shop)
    reply = api.put(f"{RECURRING}/{template['id']}", {"day_of_month": 15, "name": "Mid-month", "days_until_due": 7})
    assert reply.status == 200, reply.body
    updated = reply.json()["data"]
    assert (updated["name"], updated["days_until_due"], updated["next_occurrence"]) == ("Mid-month", 7, "2031-02-15")
    assert schedule_of(template["id"])["ScheduleExpression"] == "at(2031-02-15T00:05:00)"  # type: ignore[index]
    lines = {"line_items": [{"description": "Flat fee", "unit_price": 5000}]}
    updated = api.put(f"{RECURRING}/{template['id']}", {"template_data": lines}).json()["data"]
    assert updated["template_data"]["line_items"] == lines["line_items"] and updated["next_occurrence"] == "2031-02-15"
    assert api.put(f"{RECURRING}/{template['id']}", {"frequency": "weekly"}).status == 422  # day_of_month kept
    assert api.put(f"{RECURRING}/{template['id']}", {"customer_id": MISSING}).status == 404
    assert api.put(f"{RECURRING}/{template['id']}", {"surprise": 1}).status == 422


def test_pause_resume_cancel(api: Api, shop: dict, calendar: Calendar) -> None:
    template = create(api, shop, frequency="weekly", day_of_month=None, day_of_week=4)  # Fridays
    assert template["next_occurrence"] == "2031-01-31"  # a Friday
    paused = api.post(f"{RECURRING}/{template['id']}/pause").json()["data"]
    assert (paused["status"], paused["next_occurrence"]) == ("paused", None)
    assert schedule_of(template["id"]) is None
    assert api.post(f"{RECURRING}/{template['id']}/pause").status == 409
    assert api.post(f"{RECURRING}/{template['id']}/skip").status == 409

    calendar.today = START + timedelta(days=15)  # two Fridays went by while paused
    resumed = api.post(f"{RECURRING}/{template['id']}/resume").json()["data"]
    assert resumed["status"] == "active" and resumed["next_occurrence"] == "2031-02-21"
    assert resumed["skipped_dates"] == ["2031-01-31", "2031-02-07", "2031-02-14"]
    assert schedule_of(template["id"])["ScheduleExpression"] == "at(2031-02-21T00:05:00)"  # type: ignore[index]

    canceled = api.post(f"{RECURRING}/{template['id']}/cancel").json()["data"]
    assert (canceled["status"], canceled["next_occurrence"]) == ("canceled", None)
    assert schedule_of(template["id"]) is None
    for action in ("cancel", "resume", "pause"):
        reply = api.post(f"{RECURRING}/{template['id']}/{action}")
        assert reply.status == 409 and reply.json()["code"] == "invalid_template_status"
    assert api.put(f"{RECURRING}/{template['id']}", {"name": "again"}).status == 409


def test_skip_returns_the_skipped_and_the_next_occurrence(api: Api, shop: dict, calendar: Calendar) -> None:
    template = create(api, shop)
    reply = api.post(f"{RECURRING}/{template['id']}/skip")
    assert reply.status == 200, reply.body
    data = reply.json()["data"]
    assert (data["skipped_date"], data["next_occurrence"]) == ("2031-01-31", "2031-02-28")
    assert data["template"]["skipped_dates"] == ["2031-01-31"]
    assert schedule_of(template["id"])["ScheduleExpression"] == "at(2031-02-28T00:05:00)"  # type: ignore[index]
    assert get(api, template["id"])["next_occurrence"] == "2031-02-28"


def test_skip_the_last_occurrence_completes(api: Api, shop: dict, calendar: Calendar) -> None:
    template = create(api, shop, end_date="2031-02-27")
    data = api.post(f"{RECURRING}/{template['id']}/skip").json()["data"]
    assert data["next_occurrence"] is None and data["template"]["status"] == "completed"
    assert schedule_of(template["id"]) is None


def test_clone(api: Api, shop: dict, calendar: Calendar) -> None:
    template = create(api, shop)
    api.post(f"{RECURRING}/{template['id']}/skip")
    reply = api.post(f"{RECURRING}/{template['id']}/clone")
    assert reply.status == 201, reply.body
    copy = reply.json()["data"]
    assert copy["id"] != template["id"] and copy["name"] == "Monthly retainer (copy)"
    assert (copy["status"], copy["occurrences_generated"], copy["skipped_dates"]) == ("active", 0, [])
    assert copy["next_occurrence"] == "2031-01-31" and copy["template_data"] == template["template_data"]
    assert schedule_of(copy["id"]) is not None


def test_recurring_on_create_invoice(api: Api, shop: dict, calendar: Calendar) -> None:
    reply = api.post(INVOICES, {"customer_id": shop["customer"], "issue_date": "2031-01-31", "due_date": "2031-02-10",
                                "line_items": [{"variant_id": shop["variant"]}],
                                "recurring": {"frequency": "monthly", "auto_finalize": True, "name": "Widgets"}})
    assert reply.status == 201, reply.body
    invoice = reply.json()["data"]
    template = get(api, invoice["recurring_template_id"])
    assert (template["name"], template["days_until_due"], template["start_date"]) == ("Widgets", 10, "2031-01-31")
    assert (template["occurrences_generated"], template["last_generated_on"]) == (1, "2031-01-31")
    assert template["next_occurrence"] == "2031-02-28" and template["source_invoice_id"] == invoice["id"]
    assert template["template_data"]["line_items"] == [{"variant_id": shop["variant"]}]
    assert [i["id"] for i in history(api, template["id"])] == [invoice["id"]]
    assert schedule_of(template["id"])["ScheduleExpression"] == "at(2031-02-28T00:05:00)"  # type: ignore[index]


def test_max_occurrences_one_on_an_invoice_completes_at_once(api: Api, shop: dict, calendar: Calendar) -> None:
    reply = api.post(INVOICES, {"customer_id": shop["customer"], "issue_date": "2031-01-31", "due_date": "2031-02-10",
                                "line_items": [{"variant_id": shop["variant"]}],
                                "recurring": {"frequency": "daily", "max_occurrences": 1}})
    template = get(api, reply.json()["data"]["recurring_template_id"])
    assert (template["status"], template["next_occurrence"]) == ("completed", None)
    assert schedule_of(template["id"]) is None


def test_recurring_on_update_invoice(api: Api, shop: dict, calendar: Calendar) -> None:
    invoice = api.post(INVOICES, {"customer_id": shop["customer"], "issue_date": "2031-01-31",
                                  "due_date": "2031-03-02", "line_items": [{"variant_id": shop["variant"],
                                                                            "quantity": 3}]}).json()["data"]
    assert invoice["recurring_template_id"] is None
    path = f"{INVOICES}/{invoice['id']}"
    reply = api.put(path, {"id": invoice["id"], "recurring": {"frequency": "quarterly"}})
    assert reply.status == 200, reply.body
    updated = reply.json()["data"]
    template = get(api, updated["recurring_template_id"])
    assert (template["days_until_due"], template["next_occurrence"]) == (30, "2031-04-30")
    assert template["template_data"]["line_items"] == [{"variant_id": shop["variant"], "quantity": 3}]
    assert api.get(path).json()["data"]["recurring_template_id"] == template["id"]
    again = api.put(path, {"id": invoice["id"], "recurring": {"frequency": "monthly"}})
    assert again.status == 409 and again.json()["code"] == "already_recurring"


def test_history_of_an_unknown_template_is_404(api: Api, calendar: Calendar) -> None:
    reply = api.get(f"{RECURRING}/{MISSING}/history")
    assert reply.status == 404 and reply.json()["code"] == "recurring_template_not_found"
