"""Time, in UTC for timestamps and in the business's own time zone for calendar dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def today_in(timezone: str, now: datetime | None = None) -> date:
    moment = now or datetime.now(UTC)
    return moment.astimezone(ZoneInfo(timezone)).date()


def day_of(value: str) -> str | None:
    """``YYYY-MM-DD``, or the date of an ISO 8601 datetime as written (clients send date-times
    where a day is meant); None when it is neither."""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return None


def is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
