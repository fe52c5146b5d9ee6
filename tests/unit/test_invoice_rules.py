"""Line pricing, totals and date rules (pure domain)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.domain.invoices import MAX_TOTAL_CENTS, CatalogPrice, LineInput, check_dates, price_lines, total_of
from invoicing.errors import BadRequest, NotFound, Unprocessable

VARIANT = "0195f1a0-0000-7000-8000-0000000000e1"
CATALOG = {VARIANT: CatalogPrice(name="Blue widget", unit_price=1250)}


def _ids():
    counter = itertools.count(1)
    return lambda: f"line-{next(counter)}"


def price(*lines: LineInput, currency: str = "USD"):
    return price_lines(lines, catalog=CATALOG, invoice_currency=currency, catalog_currency="USD", new_id=_ids())


def test_variant_line_takes_catalog_name_price_and_default_quantity():
    (line,) = price(LineInput(variant_id=VARIANT))
    assert (line.description, line.unit_price, line.quantity, line.amount) == ("Blue widget", 1250, 1, 1250)
    assert line.variant_id == VARIANT


def test_unit_price_overrides_catalog_and_amount_is_the_deprecated_fallback():
    (overridden,) = price(LineInput(variant_id=VARIANT, quantity=3, unit_price=999))
    assert (overridden.unit_price, overridden.amount) == (999, 2997)
    (legacy,) = price(LineInput(description="Setup", amount=5000))
    assert (legacy.unit_price, legacy.amount) == (5000, 5000)
    (both,) = price(LineInput(description="Setup", amount=5000, unit_price=4000))
    assert both.unit_price == 4000


def test_custom_line_ignores_location_and_custom_keyword():
    (line,) = price(LineInput(variant_id="custom", description="Consulting", unit_price=10000, quantity=2,
                              location_id="0195f1a0-0000-7000-8000-0000000000f1"))
    assert line.variant_id is None and line.location_id is None and line.amount == 20000


@pytest.mark.parametrize(
    ("line", "field"),
    [(LineInput(unit_price=100), "description"), (LineInput(description="Hours"), "unit_price")],
)
def test_custom_line_without_description_or_price_is_422_at_its_field(line, field):
    with pytest.raises(Unprocessable) as raised:
        price(LineInput(variant_id=VARIANT), line)
    assert raised.value.loc == ["body", "line_items", 1, field]


def test_unknown_variant_is_404_naming_the_line():
    with pytest.raises(NotFound, match=r"line_items\[0\]"):
        price(LineInput(variant_id="0195f1a0-0000-7000-8000-00000000dead"))


def test_catalog_price_in_another_currency_is_400_but_an_override_is_fine():
    with pytest.raises(BadRequest, match="USD, not EUR"):
        price(LineInput(variant_id=VARIANT), currency="EUR")
    (line,) = price(LineInput(variant_id=VARIANT, unit_price=1100), currency="EUR")
    assert line.unit_price == 1100


cents = st.integers(min_value=0, max_value=10**15)
quantities = st.integers(min_value=1, max_value=10**6)
lines = st.lists(st.builds(LineInput, description=st.just("x"), unit_price=cents, quantity=quantities),
                 min_size=1, max_size=250)


@given(lines)
def test_total_is_the_exact_sum_or_a_422_beyond_the_limit(requested):
    priced = price(*requested)
    exact = sum(line.unit_price * (line.quantity or 1) for line in requested)
    assert all(p.amount == p.quantity * p.unit_price for p in priced)
    if exact <= MAX_TOTAL_CENTS:
        assert total_of(priced) == exact
    else:
        with pytest.raises(Unprocessable) as raised:
            total_of(priced)
        assert raised.value.loc == ["body", "line_items"]


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)), st.integers(min_value=-400, max_value=400))
def test_due_date_may_not_precede_issue_date(issue, offset):
    due = issue + timedelta(days=offset)
    if offset < 0:
        with pytest.raises(Unprocessable) as raised:
            check_dates(issue, due)
        assert raised.value.loc == ["body", "due_date"]
    else:
        check_dates(issue, due)
