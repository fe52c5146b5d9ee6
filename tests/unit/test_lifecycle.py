"""The transition table, exhaustively: every action from every status."""

from __future__ import annotations

import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.domain.lifecycle import TRANSITIONS, invoice_number, transition
from invoicing.domain.models import InvoiceStatus
from invoicing.errors import Conflict

STATUSES = typing.get_args(InvoiceStatus)
EXPECTED = {
    # (action, from): to ; everything not listed is a 409
    ("finalize", "draft"): "open",
    ("void", "open"): "void",
    ("paid", "open"): "manual_paid",
    ("paid", "partially_paid"): "manual_paid",
    **{("deliver", s): s for s in ("open", "partially_paid", "manual_paid", "stripe_paid", "uncollectible")},
    ("edit_lines", "draft"): "draft",
    **{("edit_terms", s): s for s in ("draft", "open", "partially_paid", "uncollectible")},
    ("delete", "draft"): "draft",
    # payments: the status after one follows the money (domain.ledger.status_for)
    ("pay", "open"): "open",
    ("pay", "partially_paid"): "partially_paid",
    **{("remove_payment", s): s for s in ("open", "partially_paid", "manual_paid")},
    ("write_off", "open"): "uncollectible",
    ("write_off", "partially_paid"): "uncollectible",
    **{("link_entry", s): s for s in ("open", "partially_paid", "manual_paid", "stripe_paid", "void", "uncollectible")},
}


@pytest.mark.parametrize("action", list(TRANSITIONS))
@pytest.mark.parametrize("status", STATUSES)
def test_every_action_from_every_status(action, status):
    expected = EXPECTED.get((action, status))
    if expected is None:
        with pytest.raises(Conflict, match=f"A {status} invoice cannot be"):
            transition(action, status)
    else:
        assert transition(action, status) == expected


def test_void_and_paid_invoices_are_frozen():
    for status in ("void", "manual_paid", "stripe_paid"):
        for action in ("finalize", "void", "paid", "edit_lines", "edit_terms", "delete"):
            with pytest.raises(Conflict):
                transition(action, status)


@given(st.integers(min_value=1, max_value=10**9))
def test_numbers_have_at_least_three_digits_and_keep_their_order(n):
    number = invoice_number(n)
    assert number.startswith("INV-") and len(number) >= 7 and int(number[4:]) == n


def test_first_numbers():
    assert [invoice_number(n) for n in (1, 2, 999, 1000)] == ["INV-001", "INV-002", "INV-999", "INV-1000"]
