"""Attacks on the batch's promise: every accepted item ends as exactly one invoice or one failed
entry with its reason, whatever happens. The worker processes an event's items together (one
transaction per ~10) and any item the group leaves alone (``advance_one``); both paths are
attacked: the worker dying or erring before and after each step and then redelivered, duplicate
messages, two batches for the same customers interleaved, a number taken by hand between the
group's read and its write, things changing between acceptance and processing, and poison
messages that reach the dead-letter queue. Runs on moto, and on DynamoDB Local with
DYNAMODB_LOCAL_ENDPOINT set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from batch_support import (
    BATCH,
    DUE,
    INVOICES,
    assert_charges_on_one_invoice_each,
    assert_consistent,
    batch,
    batch_body,
    charge,
    charge_of,
    data,
    invoices,
    item,
)
from helpers import Api

from bench import aws_calls
from devstack import runtime, template
from devstack.sqs_poller import SqsPoller
from invoicing.batches import accept, advance
from invoicing.batches import records as batch_store
from invoicing.batches.schemas import BatchInvoiceRequest
from invoicing.errors import Conflict, NotFound
from invoicing.storage import delayed_charges, queue, transactions
from invoicing.storage import invoices as invoice_store

RECEIVES = int(template.load()["Resources"]["BatchQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"])


class Crash(Exception):
    """An error at a chosen point of the worker (a throttled call, a bug): the code sees it."""


class Died(BaseException):
    """The worker's runtime dying at a chosen point (a timeout, out of memory): nothing in the
    function sees it, the whole invocation fails and every record of it comes back."""


@pytest.fixture
def one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The group pass always errs, so every item goes through ``advance_one`` alone."""
    def unavailable(*args: Any) -> Any:
        raise Crash("the group pass is unavailable")

    monkeypatch.setattr(advance, "advance_together", unavailable)


def crash(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, when: str, times: int = 1,
          only: Callable[..., bool] = lambda *a, **k: True, kind: type[BaseException] = Crash) -> list[int]:
    """Make ``owner.name`` raise ``kind`` ``before`` or ``after`` doing its work, the first
    ``times`` calls ``only`` accepts. Returns a counter of the crashes left."""
    original = getattr(owner, name)
    left = [times]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        hit = left[0] > 0 and only(*args, **kwargs)
        if hit and when == "before":
            left[0] -= 1
            raise kind(f"crash before {name}")
        out = original(*args, **kwargs)
        if hit and when == "after":
            left[0] -= 1
            raise kind(f"crash after {name}")
        return out

    monkeypatch.setattr(owner, name, wrapper)
    return left


def sweeping_batch(api: Api, shop: dict[str, Any], count: int = 12, **flags: Any) -> tuple[dict[str, Any], list[str]]:
    """Given two pending charges and a credit per customer, a batch of ``count`` items over the five
    customers, sweeping and finalizing."""
    charges = []
    for customer in shop["customers"]:
        charges += [charge(api, customer, 900)["id"], charge(api, customer, 300, "credit")["id"],
                    charge(api, customer, 150)["id"]]
    body = {**batch_body([shop["customers"][i % 5] for i in range(count)]), "include_delayed_charges": True,
            "finalize": True, **flags}
    return data(api.post(BATCH, body), 201), charges


def assert_done_once(api: Api, batch_id: str, charges: list[str], *, total: int = 12) -> dict[str, Any]:
    """Every item finalized exactly once: one invoice each, numbers 1..total, each charge on one."""
    done = batch(api, batch_id)
    assert (done["status"], done["created"], done["finalized"], done["failed"]) == ("completed", total, total, 0)
    assert_consistent(api, done)
    mine = [i for i in invoices(api) if i["id"] in {e["invoice_id"] for e in done["items"]}]
    assert len(mine) == total == len(invoices(api))
    assert sorted(int(i["number"].removeprefix("INV-")) for i in mine) == list(range(1, total + 1))
    on = assert_charges_on_one_invoice_each(api, charges)
    assert len(on) == len(charges)  # the five sweeping items took all of them
    return done


# ---------------------------------------------------------------- crashes, then redelivery
GROUP_STEPS = [
    (batch_store, "load_items", "after"),
    (delayed_charges, "pending_for_customer", "after"),
    (invoice_store, "take_numbers_action", "after"),
    (transactions, "transact", "before"),
    (transactions, "transact", "after"),
]
ONE_BY_ONE_STEPS = [
    (batch_store, "load_item", "after"),
    (delayed_charges, "pending_for_customer", "after"),
    (invoice_store, "put_new", "before"),
    (invoice_store, "put_new", "after"),
    (invoice_store, "finalize", "before"),
    (invoice_store, "finalize", "after"),
    (transactions, "transact", "before"),
    (transactions, "transact", "after"),
]


@pytest.mark.parametrize(("owner", "name", "when"), GROUP_STEPS, ids=[f"{w}-{n}" for _, n, w in GROUP_STEPS])
def test_the_worker_dying_at_any_step_of_the_group_then_redelivery_makes_one_invoice(
        api: Api, shop: dict[str, Any], poller: SqsPoller, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str,
        when: str) -> None:
    created, charges = sweeping_batch(api, shop, count=60)  # 6 messages, one event, two transactions
    left = crash(monkeypatch, owner, name, when, times=2, kind=Died)
    delivered = poller.drain()
    assert left == [0], "every injected death happened"
    assert delivered.failed >= 2 * 6  # each death sent its whole invocation back
    assert delivered.records == 6 + delivered.failed
    assert_done_once(api, created["batch_id"], charges, total=60)


@pytest.mark.parametrize(("owner", "name", "when"), GROUP_STEPS, ids=[f"{w}-{n}" for _, n, w in GROUP_STEPS])
def test_an_error_at_any_step_of_the_group_leaves_the_items_to_be_done_one_by_one(
        api: Api, shop: dict[str, Any], poller: SqsPoller, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str,
        when: str) -> None:
    created, charges = sweeping_batch(api, shop)
    left = crash(monkeypatch, owner, name, when, times=1)
    delivered = poller.drain()
    assert left == [0], "the injected error happened"
    assert delivered.failed == 0  # the group erred; each item was then done alone, in the same invocation
    assert_done_once(api, created["batch_id"], charges)


@pytest.mark.usefixtures("one_by_one")
@pytest.mark.parametrize(("owner", "name", "when"), ONE_BY_ONE_STEPS,
                         ids=[f"{w}-{n}" for _, n, w in ONE_BY_ONE_STEPS])
def test_an_error_at_any_step_of_an_item_alone_then_redelivery_makes_one_invoice(
        api: Api, shop: dict[str, Any], poller: SqsPoller, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str,
        when: str) -> None:
    created, charges = sweeping_batch(api, shop)
    left = crash(monkeypatch, owner, name, when, times=4)
    delivered = poller.drain()
    assert left == [0], "every injected crash happened"
    # the neighbours of each crashed item were done; each message with a crashed item came back once
    assert 1 <= delivered.failed <= 2 and delivered.records == 2 + delivered.failed
    assert_done_once(api, created["batch_id"], charges)


@pytest.mark.usefixtures("one_by_one")
def test_a_crash_in_every_delivery_but_the_last_still_makes_one_invoice(api: Api, shop: dict[str, Any],
                                                                         poller: SqsPoller,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 0 crashes after creating, then after finalizing: the third delivery only records it."""
    created, charges = sweeping_batch(api, shop)
    first = created["items"][0]["invoice_id"]
    crash(monkeypatch, invoice_store, "put_new", "after", only=lambda invoice, **_: invoice.id == first)
    crash(monkeypatch, invoice_store, "finalize", "after", only=lambda _, invoice_id, *a, **k: invoice_id == first)
    delivered = poller.drain()
    assert delivered.failed == 2 and delivered.records == 2 + 2
    assert_done_once(api, created["batch_id"], charges)


@pytest.mark.usefixtures("one_by_one")
def test_a_small_batch_that_crashes_inline_is_finished_through_the_queue(api: Api, shop: dict[str, Any],
                                                                         poller: SqsPoller,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    created, charges = sweeping_batch(api, shop, count=5)
    assert created["status"] == "completed"  # the control: inline
    crash(monkeypatch, invoice_store, "finalize", "before", times=2)
    again = data(api.post(BATCH, {**batch_body(shop["customers"][:4]), "finalize": True}), 201)
    assert (again["status"], again["created"], again["finalized"]) == ("processing", 4, 2)
    assert [i["status"] for i in again["items"]] == ["created", "created", "finalized", "finalized"]
    delivered = poller.drain()
    assert (delivered.records, delivered.failed) == (1, 0)  # the two items, in one message
    done = batch(api, again["batch_id"])
    assert (done["status"], done["finalized"]) == ("completed", 4)
    assert sorted(int(i["number"].removeprefix("INV-")) for i in invoices(api)) == list(range(1, 10))
    assert_charges_on_one_invoice_each(api, charges)


# ---------------------------------------------------------------- items together
def test_items_together_cost_one_read_and_one_transaction(api: Api, shop: dict[str, Any]) -> None:
    """Their messages name their customers, read with the items; a message that does not (sent
    before they did) costs one read more. So for an item done alone."""
    from invoicing.storage.table import client

    business = api.tenant.business_id  # type: ignore[union-attr]
    people = [shop["customers"][i % 5] for i in range(12)]
    created = data(api.post(BATCH, {**batch_body(people), "finalize": True}), 201)
    with aws_calls.counting(client()) as calls:
        assert advance.advance_together(business, created["batch_id"], range(6), people[:6]) == dict.fromkeys(
            range(6), "finalized")
    assert calls == {"BatchGetItem": 1, "TransactWriteItems": 1}
    with aws_calls.counting(client()) as calls:
        assert advance.advance_together(business, created["batch_id"], range(6, 10)) == dict.fromkeys(
            range(6, 10), "finalized")
    assert calls == {"BatchGetItem": 2, "TransactWriteItems": 1}
    assert sorted(int(i["number"].removeprefix("INV-")) for i in invoices(api)) == list(range(1, 11))
    # an item alone: the same, its customer read with it when named (then it is created and finalized)
    with aws_calls.counting(client()) as calls:
        assert advance.advance_one(business, created["batch_id"], 10, customer_id=people[10]) == "finalized"
    assert calls == {"BatchGetItem": 2, "TransactWriteItems": 2}
    with aws_calls.counting(client()) as calls:
        assert advance.advance_one(business, created["batch_id"], 11) == "finalized"
    assert calls == {"BatchGetItem": 3, "TransactWriteItems": 2}


def test_a_number_taken_between_the_groups_read_and_write_keeps_numbers_gapless(api: Api, shop: dict[str, Any],
                                                                                monkeypatch: pytest.MonkeyPatch
                                                                                ) -> None:
    business = api.tenant.business_id  # type: ignore[union-attr]
    by_hand = data(api.post(INVOICES, {"customer_id": shop["customers"][0], "due_date": DUE,
                                       "line_items": [{"description": "Work", "unit_price": 100}]}), 201)
    created = data(api.post(BATCH, {**batch_body([shop["customers"][i % 5] for i in range(12)]), "finalize": True}),
                   201)
    original = batch_store.load_items
    raced: list[bool] = []

    def read_then_finalize_by_hand(*args: Any) -> Any:
        found = original(*args)
        if not raced:
            raced.append(True)
            assert data(api.post(f"{INVOICES}/{by_hand['id']}/finalize"))["number"] == "INV-001"
        return found

    monkeypatch.setattr(batch_store, "load_items", read_then_finalize_by_hand)
    assert advance.advance_together(business, created["batch_id"], range(10)) == dict.fromkeys(range(10), "finalized")
    assert raced
    numbers = {i["id"]: int(i["number"].removeprefix("INV-")) for i in invoices(api)}
    assert sorted(numbers.values()) == list(range(1, 12))
    assert numbers[by_hand["id"]] == 1


def test_items_whose_charges_overflow_one_transaction_are_split_across_several(api: Api, shop: dict[str, Any],
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Five customers with 30 charges each: five items take 150 charges, more than one transaction
    holds (100 actions); the group splits them, each transaction within the limit, numbers gapless."""
    business = api.tenant.business_id  # type: ignore[union-attr]
    charges = [charge(api, customer, 10 + n)["id"] for customer in shop["customers"] for n in range(30)]
    created = data(api.post(BATCH, {**batch_body([shop["customers"][i % 5] for i in range(12)]),
                                    "include_delayed_charges": True, "finalize": True}), 201)
    sizes: list[int] = []
    original = transactions.transact

    def counted(actions: Any) -> Any:
        sizes.append(len(actions))
        return original(actions)

    monkeypatch.setattr(transactions, "transact", counted)
    assert advance.advance_together(business, created["batch_id"], range(10)) == dict.fromkeys(range(10), "finalized")
    assert len(sizes) >= 2 and max(sizes) <= 100, sizes
    monkeypatch.undo()
    assert advance.advance_together(business, created["batch_id"], [10, 11]) == {10: "finalized", 11: "finalized"}
    assert_done_once(api, created["batch_id"], charges)


def test_two_groups_for_the_same_customers_interleaved_put_each_charge_on_one_invoice(
        api: Api, shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Group A reads the customers' pending charges; before its transaction, batch B's group for
    the same customers runs to the end. A's transaction is cancelled on the charges; it reads again
    and writes its invoices without them."""
    first, charges = sweeping_batch(api, shop)
    business = api.tenant.business_id  # type: ignore[union-attr]
    second = data(api.post(BATCH, {**batch_body([shop["customers"][i % 5] for i in range(12)]),
                                   "include_delayed_charges": True, "finalize": True}), 201)
    original = delayed_charges.pending_for_customer
    raced: list[bool] = []

    def read_then_let_the_other_batch_in(*args: Any) -> Any:
        found = original(*args)
        if not raced:
            raced.append(True)
            assert set(advance.advance_together(business, second["batch_id"], range(12)).values()) == {"finalized"}
        return found

    monkeypatch.setattr(delayed_charges, "pending_for_customer", read_then_let_the_other_batch_in)
    assert advance.advance_together(business, first["batch_id"], range(12)) == dict.fromkeys(range(12), "finalized")
    monkeypatch.undo()
    a, b = batch(api, first["batch_id"]), batch(api, second["batch_id"])
    assert (a["status"], a["finalized"], b["status"], b["finalized"]) == ("completed", 12, "completed", 12)
    on = assert_charges_on_one_invoice_each(api, charges)
    assert len(on) == len(charges)
    assert set(on.values()) <= {e["invoice_id"] for e in b["items"][:5]}  # the second batch won the race
    assert sorted(int(i["number"].removeprefix("INV-")) for i in invoices(api)) == list(range(1, 25))


# ---------------------------------------------------------------- duplicates
def test_every_message_delivered_twice_changes_nothing_the_second_time(api: Api, shop: dict[str, Any],
                                                                        poller: SqsPoller) -> None:
    created, charges = sweeping_batch(api, shop)
    # the same messages again, before and after the first ones were processed
    messages = [{"business_id": api.tenant.business_id, "batch_id": created["batch_id"],  # type: ignore[union-attr]
                 "items": [{"index": i}]} for i in range(12)]
    queue.send_items(messages)
    poller.drain()
    first = assert_done_once(api, created["batch_id"], charges)
    listed = invoices(api)
    queue.send_items(messages)
    delivered = poller.drain()
    assert (delivered.records, delivered.failed) == (12, 0)
    assert batch(api, created["batch_id"]) == first
    assert invoices(api) == listed


def test_the_same_item_processed_again_directly_is_a_no_op(api: Api, shop: dict[str, Any]) -> None:
    created, _ = sweeping_batch(api, shop, count=3)
    before = batch(api, created["batch_id"])
    for index in range(3):
        assert advance.advance_one(api.tenant.business_id, created["batch_id"], index) == "finalized"  # type: ignore[union-attr]
        assert advance.give_up(api.tenant.business_id, created["batch_id"], [index])[index] == "finalized"  # type: ignore[union-attr]
    assert batch(api, created["batch_id"]) == before


def test_a_message_for_no_batch_is_dropped(api: Api, poller: SqsPoller) -> None:
    queue.send_items([{"business_id": api.tenant.business_id, "batch_id": "0195f1a0-0000-7000-8000-00000000dead",  # type: ignore[union-attr]
                       "items": [{"index": 0}]}])
    delivered = poller.drain()
    assert (delivered.records, delivered.failed) == (1, 0)
    assert invoices(api) == []


# ---------------------------------------------------------------- two batches, same customers
def test_two_batches_interleaved_put_each_charge_on_exactly_one_invoice(api: Api, shop: dict[str, Any],
                                                                        poller: SqsPoller,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch A reads a customer's pending charges; before its transaction, batch B's item for the
    same customer runs to the end. A's transaction is cancelled on the charges, it reads again and
    writes its invoice without them."""
    first, charges = sweeping_batch(api, shop)
    business = api.tenant.business_id  # type: ignore[union-attr]
    second = data(api.post(BATCH, {**batch_body([shop["customers"][i % 5] for i in range(12)]),
                                   "include_delayed_charges": True, "finalize": True}), 201)
    original = delayed_charges.pending_for_customer
    raced: list[int] = []
    busy: list[bool] = []

    def read_then_let_the_other_batch_in(business_id: str, customer_id: str, *args: Any) -> Any:
        found = original(business_id, customer_id, *args)
        if found and not busy:
            index = shop["customers"].index(customer_id)
            raced.append(index)
            busy.append(True)
            try:
                assert advance.advance_one(business, second["batch_id"], index) == "finalized"
            finally:
                busy.clear()
        return found

    monkeypatch.setattr(delayed_charges, "pending_for_customer", read_then_let_the_other_batch_in)
    for index in range(12):
        advance.advance_one(business, first["batch_id"], index)
    monkeypatch.undo()
    poller.drain()  # both batches' messages: the rest of the second batch, duplicates of the first
    assert sorted(raced) == [0, 1, 2, 3, 4]
    a, b = batch(api, first["batch_id"]), batch(api, second["batch_id"])
    assert (a["status"], a["finalized"], b["status"], b["finalized"]) == ("completed", 12, "completed", 12)
    on = assert_charges_on_one_invoice_each(api, charges)
    assert len(on) == len(charges)
    assert set(on.values()) == {e["invoice_id"] for e in b["items"][:5]}  # the second batch won every race
    assert len(invoices(api)) == 24
    assert sorted(int(i["number"].removeprefix("INV-")) for i in invoices(api)) == list(range(1, 25))


def test_a_charge_edited_after_the_sweep_read_it_is_invoiced_at_its_new_amount(api: Api, shop: dict[str, Any],
                                                                                monkeypatch: pytest.MonkeyPatch
                                                                                ) -> None:
    alice = shop["customers"][0]
    pending = charge(api, alice, 900)
    original = delayed_charges.pending_for_customer
    edited: list[bool] = []

    def read_then_edit(*args: Any) -> Any:
        found = original(*args)
        if not edited:
            edited.append(True)
            assert api.put(f"/api/v1/delayed-charges/{pending['id']}", {"amount": 950}).status == 200
        return found

    monkeypatch.setattr(delayed_charges, "pending_for_customer", read_then_edit)
    created = data(api.post(BATCH, {"items": [item(alice)], "include_delayed_charges": True}), 201)
    invoice = data(api.get(f"/api/v1/invoices/{created['items'][0]['invoice_id']}"))
    assert [line["amount"] for line in invoice["line_items"]] == [1000, 950]
    assert charge_of(api, pending["id"])["invoiced_invoice_id"] == invoice["id"]


# ---------------------------------------------------------------- changes between acceptance and processing
def test_a_customer_deleted_after_acceptance_fails_its_items_only(api: Api, shop: dict[str, Any],
                                                                  poller: SqsPoller) -> None:
    created = data(api.post(BATCH, batch_body([shop["customers"][i % 5] for i in range(12)])), 201)
    assert api.delete(f"/api/v1/customers/{shop['customers'][1]}").status == 204
    poller.drain()
    done = batch(api, created["batch_id"])
    assert (done["status"], done["created"], done["failed"]) == ("completed_with_errors", 9, 3)
    failed = [i for i in done["items"] if i["status"] == "failed"]
    assert [i["index"] for i in failed] == [1, 6, 11]
    assert all("was deleted after the batch was accepted" in i["error"] for i in failed)
    assert_consistent(api, done)


@pytest.mark.usefixtures("one_by_one")
def test_an_invoice_finalized_by_hand_before_the_worker_got_to_it_counts_once(api: Api, shop: dict[str, Any],
                                                                               poller: SqsPoller,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    created = data(api.post(BATCH, {**batch_body([shop["customers"][i % 5] for i in range(12)]), "finalize": True}),
                   201)
    crash(monkeypatch, invoice_store, "put_new", "after",  # item 0 created, not finalized
          only=lambda invoice, **_: invoice.id == created["items"][0]["invoice_id"])
    poller.drain(expire_failed=False)
    monkeypatch.undo()
    first = created["items"][0]["invoice_id"]
    assert batch(api, created["batch_id"])["items"][0]["status"] == "created"
    by_hand = data(api.post(f"/api/v1/invoices/{first}/finalize"))
    # the crashed message is still in flight (its visibility timeout): deliver it as its redelivery would
    queue.send_items([{"business_id": api.tenant.business_id, "batch_id": created["batch_id"],  # type: ignore[union-attr]
                       "items": [{"index": 0}]}])
    poller.drain()
    done = batch(api, created["batch_id"])
    assert (done["status"], done["created"], done["finalized"]) == ("completed", 12, 12)
    assert data(api.get(f"/api/v1/invoices/{first}"))["number"] == by_hand["number"]
    assert sorted(int(i["number"].removeprefix("INV-")) for i in invoices(api)) == list(range(1, 13))


@pytest.mark.usefixtures("one_by_one")
def test_an_invoice_deleted_before_it_was_finalized_fails_its_item(api: Api, shop: dict[str, Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    business = api.tenant.business_id  # type: ignore[union-attr]
    created = data(api.post(BATCH, {**batch_body(shop["customers"][:1]), "finalize": True}), 201)
    assert created["status"] == "completed"  # the control
    crash(monkeypatch, invoice_store, "finalize", "before")
    body = {**batch_body(shop["customers"][:1]), "finalize": True}
    second = data(api.post(BATCH, body), 201)
    assert second["items"][0]["status"] == "created"
    assert api.delete(f"/api/v1/invoices/{second['items'][0]['invoice_id']}").status == 204
    assert advance.advance_one(business, second["batch_id"], 0) == "failed"
    done = batch(api, second["batch_id"])
    assert (done["status"], done["created"], done["failed"]) == ("completed_with_errors", 1, 1)
    assert "was deleted before it could be finalized" in done["items"][0]["error"]


# ---------------------------------------------------------------- poison messages
def test_a_poison_item_reaches_the_dead_letter_queue_and_shows_failed(api: Api, shop: dict[str, Any],
                                                                      poller: SqsPoller,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    created = data(api.post(BATCH, {**batch_body([shop["customers"][i % 5] for i in range(12)]), "finalize": True}),
                   201)
    poison = created["items"][7]["invoice_id"]  # its invoice cannot be written, together or alone
    crash(monkeypatch, invoice_store, "put_new_action", "before", times=1000,
          only=lambda invoice, **_: invoice.id == poison)
    crash(monkeypatch, invoice_store, "put_new", "before", times=1000, only=lambda invoice, **_: invoice.id == poison)
    delivered = poller.drain()
    assert delivered.by_function["BatchDeadLetterFunction"] == 1
    assert delivered.failed == RECEIVES  # delivered three times, then dead-lettered
    done = batch(api, created["batch_id"])
    assert (done["status"], done["created"], done["finalized"], done["failed"]) == ("completed_with_errors", 11, 11,
                                                                                     1)
    assert done["items"][7]["status"] == "failed"
    assert done["items"][7]["error"] == advance.DEAD_LETTER_REASON
    assert poison not in {i["id"] for i in invoices(api)}
    assert_consistent(api, done)
    dead = runtime.physical_id("BatchDeadLetterQueue")
    assert poller.sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessages"] == "0"


@pytest.mark.usefixtures("one_by_one")
def test_an_item_that_never_finalizes_fails_saying_its_draft_stays(api: Api, shop: dict[str, Any], poller: SqsPoller,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    created = data(api.post(BATCH, {**batch_body([shop["customers"][i % 5] for i in range(12)]), "finalize": True}),
                   201)
    poison = created["items"][2]["invoice_id"]
    crash(monkeypatch, invoice_store, "finalize", "before", times=1000,
          only=lambda business_id, invoice_id, *a, **k: invoice_id == poison)
    poller.drain()
    done = batch(api, created["batch_id"])
    assert (done["status"], done["created"], done["finalized"], done["failed"]) == ("completed_with_errors", 12, 11,
                                                                                     1)
    assert "created as a draft but could not be finalized" in done["items"][2]["error"]
    assert data(api.get(f"/api/v1/invoices/{poison}"))["status"] == "draft"


def test_a_message_that_is_not_a_batch_item_is_dead_lettered_and_dropped(api: Api, poller: SqsPoller) -> None:
    queue.client().send_message(QueueUrl=runtime.physical_id("BatchQueue"), MessageBody="not json")
    delivered = poller.drain()
    assert delivered.failed == RECEIVES and delivered.by_function["BatchDeadLetterFunction"] == 1
    for logical_id in ("BatchQueue", "BatchDeadLetterQueue"):
        attributes = poller.sqs.get_queue_attributes(QueueUrl=runtime.physical_id(logical_id),
                                                     AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


# ---------------------------------------------------------------- the API dying after accepting
def keyed_post(api: Api, body: dict[str, Any], key: str) -> Any:
    return api.post(BATCH, body, headers=api.headers(**{"Idempotency-Key": key}))


def the_dead_attempts_timeout_passes(api: Api) -> None:
    """The died attempt's idempotency record is in progress until its Lambda timeout: pass it."""
    from invoicing.storage import keys
    from invoicing.storage.table import client, table_name

    pk = {"S": keys.business(api.tenant.business_id)}  # type: ignore[union-attr]
    records = client().query(TableName=table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                             ExpressionAttributeValues={":pk": pk, ":prefix": {"S": keys.IDEMPOTENCY}},
                             ConsistentRead=True)["Items"]
    assert records, "the died attempt left its idempotency record in progress"
    for record in records:
        client().update_item(TableName=table_name(), Key={"PK": record["PK"], "SK": record["SK"]},
                             UpdateExpression="SET idempotency_in_progress_until = :past",
                             ExpressionAttributeValues={":past": {"N": "0"}})


def test_a_retry_after_the_api_died_between_writing_and_queueing_resumes_the_same_batch(
        api: Api, shop: dict[str, Any], poller: SqsPoller, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt wrote the batch and died before sending its messages (its answer never
    came); the retry with the same Idempotency-Key queues the same batch's items: one invoice each."""
    created_before = len(invoices(api))
    charges = [charge(api, customer, 900)["id"] for customer in shop["customers"]]
    body = {**batch_body([shop["customers"][i % 5] for i in range(12)]), "include_delayed_charges": True,
            "finalize": True}
    crash(monkeypatch, queue, "send_items", "before", kind=Died)
    with pytest.raises(Died):
        keyed_post(api, body, "retry-me-1")
    monkeypatch.undo()
    assert keyed_post(api, body, "retry-me-1").status == 409  # still in progress, as far as anyone knows
    the_dead_attempts_timeout_passes(api)
    assert poller.drain().records == 0  # nothing was queued
    again = data(keyed_post(api, body, "retry-me-1"), 201)
    assert again["batch_id"] == accept.batch_id_for(api.tenant.business_id, "retry-me-1")  # type: ignore[union-attr]
    poller.drain()
    done = batch(api, again["batch_id"])
    assert (done["status"], done["finalized"]) == ("completed", 12)
    assert len(invoices(api)) == created_before + 12  # the first attempt's batch, not a second one
    assert len(assert_charges_on_one_invoice_each(api, charges)) == 5
    replay = keyed_post(api, body, "retry-me-1")  # now the stored answer
    assert replay.status == 201 and replay.json()["data"]["batch_id"] == again["batch_id"]


def test_a_retry_after_the_api_died_processing_a_small_batch_inline_finishes_it(
        api: Api, shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    body = {**batch_body(shop["customers"][:4]), "finalize": True}
    crash(monkeypatch, advance, "advance_together", "before")  # the group pass errs: the items go one by one
    crash(monkeypatch, batch_store, "load_item", "before", kind=Died, only=lambda business_id, batch_id, index, **_:
          index == 2)  # and the API dies before the third
    with pytest.raises(Died):
        keyed_post(api, body, "retry-me-2")
    monkeypatch.undo()
    business = api.tenant.business_id  # type: ignore[union-attr]
    died = accept.get_batch(business, accept.batch_id_for(business, "retry-me-2"))
    assert [i.status for i in died.items] == ["finalized", "finalized", "pending", "pending"]
    the_dead_attempts_timeout_passes(api)
    again = data(keyed_post(api, body, "retry-me-2"), 201)
    assert (again["status"], again["finalized"]) == ("completed", 4)
    assert sorted(int(i["number"].removeprefix("INV-")) for i in invoices(api)) == [1, 2, 3, 4]


def test_a_retry_after_the_api_died_while_writing_the_batch_writes_it_once(
        api: Api, shop: dict[str, Any], poller: SqsPoller, monkeypatch: pytest.MonkeyPatch) -> None:
    from invoicing.storage.table import client

    body = batch_body([shop["customers"][i % 5] for i in range(30)])  # 61 records: three BatchWriteItem calls
    crash(monkeypatch, client(), "batch_write_item", "after", times=1, kind=Died)
    with pytest.raises(Died):
        keyed_post(api, body, "retry-me-3")
    monkeypatch.undo()
    the_dead_attempts_timeout_passes(api)
    business = api.tenant.business_id  # type: ignore[union-attr]
    with pytest.raises(NotFound):  # the header is written last: no half batch is visible
        accept.get_batch(business, accept.batch_id_for(business, "retry-me-3"))
    again = data(keyed_post(api, body, "retry-me-3"), 201)
    poller.drain()
    done = batch(api, again["batch_id"])
    assert (done["status"], done["created"]) == ("completed", 30)
    assert len(invoices(api)) == 30


def test_the_same_key_for_another_batch_request_is_a_409_even_after_its_record_expired(
        api: Api, shop: dict[str, Any]) -> None:
    business = api.tenant.business_id  # type: ignore[union-attr]
    first = BatchInvoiceRequest.model_validate(batch_body(shop["customers"][:2]))
    other = BatchInvoiceRequest.model_validate(batch_body(shop["customers"][2:4]))
    made = accept.create_batch(business, first, idempotency_key="expired-key")  # as if its record had expired
    assert accept.create_batch(business, first, idempotency_key="expired-key").batch_id == made.batch_id
    with pytest.raises(Conflict) as conflict:
        accept.create_batch(business, other, idempotency_key="expired-key")
    assert conflict.value.code == "idempotency_key_reused"
    assert len(invoices(api)) == 2
    unkeyed = [accept.create_batch(business, first).batch_id for _ in range(2)]
    assert len({made.batch_id, *unkeyed}) == 3  # without a key every request is a new batch


# ---------------------------------------------------------------- the fan-out's cost
def test_sqs_calls_are_one_per_hundred_items(api: Api, shop: dict[str, Any], poller: SqsPoller) -> None:
    """Ten items a message, ten messages a SendMessageBatch."""
    calls: list[str] = []
    sqs = queue.client()
    sqs.meta.events.register("before-call.sqs.*", lambda model, **_: calls.append(model.name))
    created = data(api.post(BATCH, batch_body([shop["customers"][i % 5] for i in range(201)])), 201)
    assert calls == ["SendMessageBatch"] * 3
    delivered = poller.drain()
    assert (delivered.records, delivered.invocations, delivered.failed) == (21, 3, 0)
    assert batch(api, created["batch_id"])["status"] == "completed"


def test_items_whose_messages_could_not_be_sent_fail_at_once(api: Api, shop: dict[str, Any], poller: SqsPoller,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """SQS unreachable after the first ten messages (100 items): the answer is still the batch,
    the unsent items failed with the reason, the sent ones done by the worker."""
    sqs = queue.client()
    original = sqs.send_message_batch
    calls: list[int] = []

    def second_call_fails(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("SQS is unreachable")
        return original(**kwargs)

    monkeypatch.setattr(sqs, "send_message_batch", second_call_fails)
    created = data(api.post(BATCH, batch_body([shop["customers"][i % 5] for i in range(115)])), 201)
    assert (created["status"], created["failed"]) == ("processing", 15)
    assert [i["status"] for i in created["items"]] == ["pending"] * 100 + ["failed"] * 15
    assert all(i["error"].startswith(accept.QUEUE_FAILED_REASON) for i in created["items"][100:])
    monkeypatch.undo()
    poller.drain()
    done = batch(api, created["batch_id"])
    assert (done["status"], done["created"], done["failed"]) == ("completed_with_errors", 100, 15)
    assert_consistent(api, done)
    assert len(invoices(api)) == 100


@pytest.mark.usefixtures("one_by_one")
def test_a_small_batch_item_that_cannot_be_processed_nor_queued_fails(api: Api, shop: dict[str, Any],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    crash(monkeypatch, invoice_store, "finalize", "before")
    monkeypatch.setenv("BATCH_QUEUE_URL", "")
    from invoicing.settings import settings

    settings.cache_clear()
    try:
        created = data(api.post(BATCH, {**batch_body(shop["customers"][:2]), "finalize": True}), 201)
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    assert (created["status"], created["created"], created["finalized"], created["failed"]) == (
        "completed_with_errors", 2, 1, 1)
    assert "was created as a draft but could not be finalized" in created["items"][0]["error"]
