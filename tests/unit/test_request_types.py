"""The shared request field types behave as the contract needs (DESIGN.md sharp edges)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from invoicing.schemas.types import Cents, DateString, Uuid

cents = TypeAdapter(Cents)
dates = TypeAdapter(DateString)
uuids = TypeAdapter(Uuid)


@pytest.mark.parametrize("value", [126, 126.0, 0])
def test_cents_accepts_integers_and_integral_floats(value):
    assert cents.validate_python(value) == int(value)


@pytest.mark.parametrize("value", ["126", True, 1.5, -1, 10**15 + 1, None])
def test_cents_rejects_strings_bools_fractions_negatives_and_overflow(value):
    with pytest.raises(ValidationError):
        cents.validate_python(value)


@pytest.mark.parametrize("value", ["2026-02-28", "2024-02-29"])
def test_dates_accept_calendar_days(value):
    assert dates.validate_python(value) == value


@pytest.mark.parametrize("value", [0, "2026-02-30", "2026-2-1", "2026-02-01T00:00:00", "", "20260201"])
def test_dates_reject_numbers_impossible_days_and_datetimes(value):
    with pytest.raises(ValidationError):
        dates.validate_python(value)


@given(st.uuids())
def test_uuids_are_normalised_to_lower_case(value):
    assert uuids.validate_python(str(value).upper()) == str(value)
