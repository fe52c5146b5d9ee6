"""Recurrence date rules: every frequency, month ends without drift, day_of_week, end_date and
max_occurrences whichever first."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from itertools import islice, pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from invoicing.recurring.recurrence import FREQUENCIES, Rule, check, due, next_occurrence, nth, occurrences

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
frequencies = st.sampled_from(FREQUENCIES)


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    frequency = draw(frequencies)
    start = draw(dates)
    dom = draw(st.none() | st.integers(1, 31)) if frequency in ("monthly", "quarterly", "annually") else None
    dow = draw(st.none() | st.integers(0, 6)) if frequency in ("weekly", "biweekly") else None
    end = draw(st.none() | st.dates(min_value=start, max_value=date(2095, 12, 31)))
    limit = draw(st.none() | st.integers(1, 50))
    return Rule(frequency, start, day_of_month=dom, day_of_week=dow, end_date=end, max_occurrences=limit)


def first(rule: Rule, count: int) -> list[date]:
    return list(islice(occurrences(rule), count))


def test_day_31_never_drifts() -> None:
    rule = Rule("monthly", date(2024, 1, 31), day_of_month=31)
    assert first(rule, 6) == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30),
                              date(2024, 5, 31), date(2024, 6, 30)]
    assert nth(Rule("monthly", date(2025, 1, 31)), 1) == date(2025, 2, 28)  # start's day is the anchor


def test_quarterly_and_annually_keep_the_anchor() -> None:
    assert first(Rule("quarterly", date(2025, 11, 30), day_of_month=31), 4) == [
        date(2025, 11, 30), date(2026, 2, 28), date(2026, 5, 31), date(2026, 8, 31)]
    assert first(Rule("annually", date(2024, 2, 29)), 3) == [date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28)]
    # The anchor month's day has passed: the series starts one period later.
    assert nth(Rule("monthly", date(2026, 3, 20), day_of_month=15), 0) == date(2026, 4, 15)
    assert nth(Rule("annually", date(2026, 3, 20), day_of_month=15), 0) == date(2027, 3, 15)


def test_weekly_on_a_day_of_week() -> None:
    start = date(2026, 11, 18)  # a Wednesday
    assert first(Rule("weekly", start, day_of_week=0), 2) == [date(2026, 11, 23), date(2026, 11, 30)]
    assert first(Rule("biweekly", start), 2) == [start, date(2026, 12, 2)]
    assert first(Rule("daily", start), 2) == [start, date(2026, 11, 19)]


def test_end_date_and_max_occurrences_whichever_first() -> None:
    rule = Rule("monthly", date(2026, 1, 1), end_date=date(2026, 3, 1), max_occurrences=5)
    assert list(occurrences(rule)) == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert next_occurrence(rule, date(2026, 3, 1), generated=3) is None
    capped = Rule("monthly", date(2026, 1, 1), end_date=date(2027, 1, 1), max_occurrences=2)
    assert next_occurrence(capped, date(2026, 1, 1), generated=1) == date(2026, 2, 1)
    assert next_occurrence(capped, date(2026, 2, 1), generated=2) is None
    assert due(capped, date(2026, 1, 1), date(2026, 12, 31), generated=0) == [date(2026, 1, 1), date(2026, 2, 1)]


def test_invalid_combinations_are_reported() -> None:
    assert [f for f, _ in check(Rule("weekly", date(2026, 1, 1), day_of_month=3))] == ["day_of_month"]
    assert [f for f, _ in check(Rule("monthly", date(2026, 1, 1), day_of_week=3))] == ["day_of_week"]
    assert [f for f, _ in check(Rule("daily", date(2026, 1, 2), end_date=date(2026, 1, 1)))] == ["end_date"]


@settings(deadline=None)
@given(rules())
def test_series_is_strictly_increasing_and_from_the_start(rule: Rule) -> None:
    series = first(rule, 40)
    assert all(a < b for a, b in pairwise(series))
    if series:
        assert series[0] >= rule.start_date
    assert all(rule.end_date is None or d <= rule.end_date for d in series)


@settings(deadline=None)
@given(rules())
def test_each_occurrence_follows_its_rule(rule: Rule) -> None:
    for i, day in enumerate(first(rule, 30)):
        if rule.frequency in ("monthly", "quarterly", "annually"):
            wanted = rule.day_of_month or rule.start_date.day
            assert day.day == min(wanted, calendar.monthrange(day.year, day.month)[1])  # no drift, ever
            if i:
                months = (day.year - nth(rule, 0).year) * 12 + day.month - nth(rule, 0).month
                assert months == i * {"monthly": 1, "quarterly": 3, "annually": 12}[rule.frequency]
        else:
            step = {"daily": 1, "weekly": 7, "biweekly": 14}[rule.frequency]
            assert (day - nth(rule, 0)).days == i * step
            if rule.day_of_week is not None and rule.frequency != "daily":
                assert day.weekday() == rule.day_of_week
                assert nth(rule, 0) - rule.start_date < timedelta(days=7)


@settings(deadline=None)
@given(rules(), dates)
def test_next_occurrence_is_the_first_one_after(rule: Rule, after: date) -> None:
    found = next_occurrence(rule, after)
    n = 0
    while nth(rule, n) <= after:  # brute force: walk the whole series
        n += 1
    expected = nth(rule, n)
    assert found == (expected if rule.end_date is None or expected <= rule.end_date else None)


@settings(deadline=None)
@given(rules(), dates, st.integers(0, 60))
def test_due_respects_limits_and_today(rule: Rule, today: date, generated: int) -> None:
    start = next_occurrence(rule, None)
    got = due(rule, start, today, generated)
    assert all(d <= today for d in got)
    assert got == sorted(set(got))
    if rule.max_occurrences is not None:
        assert generated + len(got) <= max(rule.max_occurrences, generated)
    assert all(rule.end_date is None or d <= rule.end_date for d in got)
    if rule.max_occurrences is None and start is not None and start <= today:
        assert got[0] == start and got[-1] <= today
        assert next_occurrence(rule, got[-1]) is None or next_occurrence(rule, got[-1]) > today  # type: ignore[operator]
