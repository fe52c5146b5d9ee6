"""The batch's pure rules: statuses, which item sweeps, how much one invoice can take, charges as
lines, and errors rewritten to name the item."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.batches.rules import at_item, batch_status, charge_line, sweep_room, sweeping_indexes
from invoicing.domain.models import DelayedCharge
from invoicing.errors import BadRequest, NotFound, Unprocessable
from invoicing.storage.transactions import MAX_ACTIONS as MAX_TRANSACTION_ACTIONS


def test_a_batch_is_processing_until_every_item_is_done() -> None:
    assert batch_status(total=3, created=2, finalized=0, failed=0, finalize=False) == "processing"
    assert batch_status(total=3, created=3, finalized=0, failed=0, finalize=False) == "completed"
    assert batch_status(total=3, created=2, finalized=0, failed=1, finalize=False) == "completed_with_errors"
    # with finalize, created is not done yet
    assert batch_status(total=3, created=3, finalized=2, failed=0, finalize=True) == "processing"
    assert batch_status(total=3, created=3, finalized=2, failed=1, finalize=True) == "completed_with_errors"
    assert batch_status(total=3, created=3, finalized=3, failed=0, finalize=True) == "completed"


@given(st.integers(1, 1000), st.data())
def test_done_means_every_item_ended(total: int, data: st.DataObject) -> None:
    failed = data.draw(st.integers(0, total))
    finalized = data.draw(st.integers(0, total - failed))
    status = batch_status(total=total, created=finalized, finalized=finalized, failed=failed, finalize=True)
    assert (status == "processing") == (failed + finalized < total)
    assert (status == "completed_with_errors") == (failed > 0 and failed + finalized == total)


@given(st.lists(st.sampled_from(["a", "b", "c", "A"]), max_size=30))
def test_the_lowest_index_of_each_customer_sweeps(customers: list[str]) -> None:
    sweeping = sweeping_indexes(customers)
    assert len(sweeping) == len({c.lower() for c in customers})
    for index in sweeping:
        assert customers[index].lower() not in {c.lower() for c in customers[:index]}


def test_an_invoice_takes_charges_up_to_its_lines_and_its_transaction() -> None:
    assert sweep_room(1, max_lines=250) == MAX_TRANSACTION_ACTIONS - 5 == 95  # with the AR entry
    assert sweep_room(248, max_lines=250) == 2
    assert sweep_room(250, max_lines=250) == 0


def charge(type: str, amount: int) -> DelayedCharge:
    return DelayedCharge(id="c1", business_id="b", customer_id="x", type=type, status="pending",  # type: ignore[arg-type]
                         currency="USD", amount=amount, description="Extra", created_at="t", updated_at="t")


@pytest.mark.parametrize(("type", "signed"), [("charge", 700), ("credit", -700)])
def test_a_charge_is_a_line_of_quantity_one_and_a_credit_is_negative(type: str, signed: int) -> None:
    line = charge_line(charge(type, 700), lambda: "line-1")
    assert (line.id, line.quantity, line.unit_price, line.amount, line.delayed_charge_id, line.variant_id) == (
        "line-1", 1, signed, signed, "c1", None)


def test_errors_name_the_item() -> None:
    moved = at_item(7, Unprocessable("bad date", loc=("body", "due_date"), type="greater_than_equal", input="x",
                                     ctx={"ge": "y"}))
    assert isinstance(moved, Unprocessable)
    assert (moved.loc, moved.detail, moved.type, moved.input, moved.ctx) == (
        ["body", "items", 7, "due_date"], "bad date", "greater_than_equal", "x", {"ge": "y"})
    assert at_item(2, Unprocessable("x", loc=("body", "line_items", 0, "unit_price"))).loc == [
        "body", "items", 2, "line_items", 0, "unit_price"]
    missing = at_item(11, NotFound("Customer c not found", code="customer_not_found"))
    assert isinstance(missing, NotFound)
    assert (missing.detail, missing.code) == ("items[11]: Customer c not found", "customer_not_found")
    assert isinstance(at_item(0, BadRequest("no")), BadRequest)
