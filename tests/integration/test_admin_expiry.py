"""``invoicing-admin create-token --expires-at``: an exact expiry (ISO 8601 with a time zone, in the
future, not with --expires-in-days) that the authorizer honours to the second. Over HTTP, a real
token expiring a few seconds ahead: tests/e2e/test_stack_for_scripts.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ops import admin


def create_token_args(*extra: str) -> list[str]:
    return ["create-token", "--business-id", "0195f1a0-0000-7000-8000-000000000001", "--role", "viewer", *extra]


def parsed(*extra: str) -> object:
    args = admin.parser().parse_args(create_token_args(*extra))
    admin.validate(args)
    return args.expires_at


def test_an_exact_expiry_is_read_with_its_time_zone():
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    assert parsed("--expires-at", soon.isoformat()) == soon
    assert parsed("--expires-at", soon.isoformat().replace("+00:00", "Z")) == soon
    assert parsed("--expires-at", soon.astimezone().isoformat()) == soon  # any offset: the same instant
    assert parsed() is None


@pytest.mark.parametrize(("value", "complaint"), [
    ("2030-01-31T18:00:00", "no time zone"),
    ("2000-01-31T18:00:00Z", "not in the future"),
    ("next tuesday", "not an ISO 8601 time"),
])
def test_an_expiry_without_a_zone_in_the_past_or_unreadable_is_a_usage_error(value, complaint):
    with pytest.raises(admin.UsageError, match=complaint):
        parsed("--expires-at", value)


def test_an_exact_expiry_and_a_number_of_days_are_one_or_the_other(capsys):
    with pytest.raises(SystemExit) as exited:
        admin.parser().parse_args(create_token_args("--expires-in-days", "1", "--expires-at", "2030-01-31T18:00:00Z"))
    assert exited.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_a_token_works_until_its_second_and_not_from_it(tenant):
    from invoicing.storage import auth

    expires = datetime.now(UTC) + timedelta(seconds=30, microseconds=700_000)
    issued = auth.create_token(tenant.user_id, expires_at=expires)
    stored = datetime.fromisoformat(issued["expires_at"])

    assert stored == expires.replace(microsecond=0)  # kept to the second, never later than asked
    at = stored.timestamp()
    assert auth.authenticate(issued["token"], tenant.business_id, now=at - 1)[1] == "owner"
    assert auth.authenticate(issued["token"], tenant.business_id, now=at) == (None, None)
