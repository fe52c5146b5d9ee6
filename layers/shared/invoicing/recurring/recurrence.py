"""When a recurring template's invoices fall: pure date rules, no I/O.

Every occurrence is computed from the anchor (``start_date``) and its index, never from the
previous occurrence, so month ends never drift: day 31 monthly gives Jan 31, Feb 28 (29),
Mar 31, Apr 30, May 31. ``end_date`` (inclusive) and ``max_occurrences`` (invoices generated,
the creating invoice included) both stop the series, whichever comes first. Dates are calendar
dates in the business's own time zone (``clock.today_in``): callers pass them in.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from invoicing.domain.models import FREQUENCIES, Frequency, RecurringTemplate
from invoicing.errors import Unprocessable

__all__ = ["FREQUENCIES", "Frequency", "Rule", "check", "check_rule", "due", "next_from", "next_occurrence", "nth",
           "occurrences", "rule_of", "with_next"]

_DAYS: dict[str, int] = {"daily": 1, "weekly": 7, "biweekly": 14}
_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3, "annually": 12}


@dataclass(frozen=True)
class Rule:
    frequency: Frequency
    start_date: date
    day_of_month: int | None = None  # 1-31: monthly, quarterly, annually
    day_of_week: int | None = None  # 0=Monday: weekly, biweekly
    end_date: date | None = None
    max_occurrences: int | None = None


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _first(rule: Rule) -> tuple[date, int]:
    """(the first occurrence on or after start_date, its month offset for month-based rules)."""
    start = rule.start_date
    if rule.frequency in _DAYS:
        if rule.day_of_week is None or rule.frequency == "daily":
            return start, 0
        return start + timedelta(days=(rule.day_of_week - start.weekday()) % 7), 0
    day = rule.day_of_month or start.day
    if _clamped(start.year, start.month, day) >= start:
        return _clamped(start.year, start.month, day), 0
    step = _MONTHS[rule.frequency]  # this period's day has passed: the next period's
    return _clamped(*_add_months(start.year, start.month, step), day), step


def nth(rule: Rule, n: int) -> date:
    """The ``n``-th occurrence of the series (0 = the first), ignoring end_date and max_occurrences."""
    first, offset = _first(rule)
    if rule.frequency in _DAYS:
        return first + timedelta(days=_DAYS[rule.frequency] * n)
    day = rule.day_of_month or rule.start_date.day
    return _clamped(*_add_months(rule.start_date.year, rule.start_date.month, offset + _MONTHS[rule.frequency] * n),
                    day)


def _index_after(rule: Rule, after: date) -> int:
    """The index of the first occurrence strictly after ``after``."""
    first, _ = _first(rule)
    if after < first:
        return 0
    if rule.frequency in _DAYS:
        return (after - first).days // _DAYS[rule.frequency] + 1
    months = (after.year - first.year) * 12 + after.month - first.month
    n = max(0, months // _MONTHS[rule.frequency] - 1)  # an estimate a step short; walk forward
    while nth(rule, n) <= after:
        n += 1
    return n


def _within(rule: Rule, day: date) -> bool:
    return rule.end_date is None or day <= rule.end_date


def occurrences(rule: Rule, *, after: date | None = None) -> Iterator[date]:
    """The series (strictly after ``after`` if given) up to end_date; unbounded without one.
    ``max_occurrences`` counts generated invoices, so it is the caller's (``next_occurrence``)."""
    n = 0 if after is None else _index_after(rule, after)
    while _within(rule, day := nth(rule, n)):
        yield day
        n += 1


def next_occurrence(rule: Rule, after: date | None, generated: int = 0) -> date | None:
    """The first occurrence strictly after ``after`` (the first of all when None), or None when
    the series is over: past end_date, or ``generated`` invoices already reach max_occurrences."""
    if rule.max_occurrences is not None and generated >= rule.max_occurrences:
        return None
    return next(occurrences(rule, after=after), None)


def due(rule: Rule, next_date: date | None, today: date, generated: int) -> list[date]:
    """The occurrences to generate now: from ``next_date`` through ``today``, at most what
    max_occurrences still allows (a late or missed fire catches up on all of them)."""
    found: list[date] = []
    day = next_date
    while day is not None and day <= today and _within(rule, day):
        if rule.max_occurrences is not None and generated + len(found) >= rule.max_occurrences:
            break
        found.append(day)
        day = next(occurrences(rule, after=day), None)
    return found


def check(rule: Rule) -> list[tuple[str, str]]:
    """What is wrong with a rule, as (field, message) pairs: none when it is valid."""
    problems = []
    if rule.day_of_month is not None and rule.frequency not in _MONTHS:
        problems.append(("day_of_month", "day_of_month applies to monthly, quarterly and annually only"))
    if rule.day_of_week is not None and rule.frequency not in ("weekly", "biweekly"):
        problems.append(("day_of_week", "day_of_week applies to weekly and biweekly only"))
    if rule.end_date is not None and rule.end_date < rule.start_date:
        problems.append(("end_date", "end_date must not be before start_date"))
    return problems


# --------------------------------------------------------------------------- a template's series
def rule_of(template: RecurringTemplate) -> Rule:
    return Rule(
        frequency=template.frequency, start_date=date.fromisoformat(template.start_date),
        day_of_month=template.day_of_month, day_of_week=template.day_of_week,
        end_date=date.fromisoformat(template.end_date) if template.end_date else None,
        max_occurrences=template.max_occurrences,
    )


def check_rule(rule: Rule, loc: Sequence[str]) -> None:
    for name, message in check(rule):
        raise Unprocessable(message, loc=(*loc, name), type="value_error")


def iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def next_from(template: RecurringTemplate, today: date) -> str | None:
    """The first occurrence on or after ``today`` and after the last generated one."""
    after = today - timedelta(days=1)
    if template.last_generated_on:
        after = max(after, date.fromisoformat(template.last_generated_on))
    return iso(next_occurrence(rule_of(template), after, template.occurrences_generated))


def with_next(template: RecurringTemplate, next_day: str | None, **update: Any) -> RecurringTemplate:
    """``template`` with its next occurrence; an active one without any is completed."""
    status = update.pop("status", template.status)
    if status == "active" and next_day is None:
        status = "completed"
    if status != "active":
        next_day = None
    return template.model_copy(update={"next_occurrence": next_day, "status": status, **update})
