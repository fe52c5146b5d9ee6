"""Batch processing under real concurrency: workers in threads, as several Lambda containers
would run them, against AWS's DynamoDB Local (its transactions are the real engine's).

Threads call the operations directly (the in-process gateway and runtime run one event per
function at a time, like one warm container). Every round lines its threads up on a barrier."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from batch_support import (
    BATCH,
    assert_charges_on_one_invoice_each,
    assert_consistent,
    batch,
    batch_body,
    charge,
    data,
    invoices,
)
from helpers import Api, race

from invoicing.batches import advance
from invoicing.batches.schemas import ITEMS_PER_MESSAGE, QueuedItem

pytestmark = [
    pytest.mark.dynamodb_local,
    pytest.mark.skipif(not os.environ.get("DYNAMODB_LOCAL_ENDPOINT"),
                       reason="races need a real engine (moto calls take turns): set DYNAMODB_LOCAL_ENDPOINT"),
]


def worker(business_id: str, batch_id: str, indexes: list[int]) -> Callable[[], list[Any]]:
    """A worker processing messages in order; one that raises is retried, as SQS would redeliver it."""

    def run() -> list[Any]:
        done = []
        for index in indexes:
            for _ in range(3):
                try:
                    done.append(advance.advance_one(business_id, batch_id, index))
                    break
                except Exception as error:  # noqa: BLE001 - redelivered
                    done.append(error)
        return done

    return run


def group_worker(business_id: str, batch_id: str, indexes: list[int]) -> Callable[[], list[Any]]:
    """A worker as the Lambda function works: each event's items (ten messages of ten) together,
    then any item the group left alone; an event that raises is retried, as SQS would redeliver it."""
    event = 10 * ITEMS_PER_MESSAGE

    def run() -> list[Any]:
        done: list[Any] = []
        for start in range(0, len(indexes), event):
            messages = [QueuedItem(business_id=business_id, batch_id=batch_id, index=i)
                        for i in indexes[start:start + event]]
            for _ in range(3):
                try:
                    together = advance.advance_by_batch(messages)
                    done += [together[m] if m in together else advance.advance_one(business_id, batch_id, m.index)
                             for m in messages]
                    break
                except Exception as error:  # noqa: BLE001 - redelivered
                    done.append(error)
        return done

    return run


def accept(api: Api, customers: list[str], **flags: Any) -> dict[str, Any]:
    return data(api.post(BATCH, {**batch_body(customers), **flags}), 201)  # type: ignore[no-any-return]


@pytest.mark.parametrize("round_", range(2))
@pytest.mark.parametrize("make_worker", [worker, group_worker], ids=["one-by-one", "together"])
def test_concurrent_batches_for_the_same_customers_put_each_charge_on_one_invoice(
        api: Api, shop: dict[str, Any], round_: int, make_worker: Callable[..., Callable[[], list[Any]]]) -> None:
    from invoicing.storage.table import client

    assert client().meta.endpoint_url == os.environ["DYNAMODB_LOCAL_ENDPOINT"]  # not moto
    business = api.tenant.business_id  # type: ignore[union-attr]
    customers = [shop["customers"][i % 5] for i in range(20)]
    charges = [charge(api, c, 100 * (i + 1), "credit" if i % 4 == 3 else "charge")["id"]
               for i, c in enumerate(shop["customers"] * 4)]
    made = [accept(api, customers, include_delayed_charges=True, finalize=True) for _ in range(3)]
    # three batches, each worked by two workers (even and odd items), all six at once
    results = race([make_worker(business, b["batch_id"], list(range(start, 20, 2))) for b in made
                    for start in (0, 1)])
    assert not [r for rs in results for r in rs if isinstance(r, Exception)], results
    for each in made:
        done = batch(api, each["batch_id"])
        assert (done["status"], done["finalized"]) == ("completed", 20)
        assert_consistent(api, done)
    on = assert_charges_on_one_invoice_each(api, charges)
    assert len(on) == len(charges)
    assert len(invoices(api)) == 60
    assert sorted(int(i["number"].removeprefix("INV-")) for i in invoices(api)) == list(range(1, 61))


def test_the_same_item_delivered_to_four_workers_at_once_makes_one_invoice(api: Api, shop: dict[str, Any]) -> None:
    business = api.tenant.business_id  # type: ignore[union-attr]
    charges = [charge(api, shop["customers"][0], 500)["id"], charge(api, shop["customers"][0], 200, "credit")["id"]]
    made = accept(api, [shop["customers"][i % 5] for i in range(11)], include_delayed_charges=True, finalize=True)
    for index in range(11):
        outcomes = race([partial(advance.advance_one, business, made["batch_id"], index)] * 4)
        assert outcomes == ["finalized"] * 4, outcomes
    done = batch(api, made["batch_id"])
    assert (done["created"], done["finalized"], done["failed"]) == (11, 11, 0)
    assert len(invoices(api)) == 11
    assert len(assert_charges_on_one_invoice_each(api, charges)) == 2


def test_the_same_ten_items_taken_together_by_four_workers_at_once_make_one_invoice_each(
        api: Api, shop: dict[str, Any]) -> None:
    business = api.tenant.business_id  # type: ignore[union-attr]
    charges = [charge(api, shop["customers"][0], 500)["id"], charge(api, shop["customers"][1], 200, "credit")["id"]]
    made = accept(api, [shop["customers"][i % 5] for i in range(11)], include_delayed_charges=True, finalize=True)
    outcomes = race([partial(advance.advance_together, business, made["batch_id"], range(10))] * 4)
    for outcome in outcomes:  # each worker's answer: finalized, or left to be done alone
        assert set(outcome.values()) <= {"finalized"}, outcomes
    for index in range(11):
        assert advance.advance_one(business, made["batch_id"], index) == "finalized"
    done = batch(api, made["batch_id"])
    assert (done["created"], done["finalized"], done["failed"]) == (11, 11, 0)
    assert sorted(int(i["number"].removeprefix("INV-")) for i in invoices(api)) == list(range(1, 12))
    assert len(assert_charges_on_one_invoice_each(api, charges)) == 2


def test_a_dead_letter_racing_a_late_delivery_ends_as_one_outcome(api: Api, shop: dict[str, Any]) -> None:
    business = api.tenant.business_id  # type: ignore[union-attr]
    made = accept(api, [shop["customers"][i % 5] for i in range(11)])
    for index in range(11):
        outcomes = race([partial(advance.advance_one, business, made["batch_id"], index),
                         lambda i=index: advance.give_up(business, made["batch_id"], [i]).get(i)])
        assert outcomes[0] == outcomes[1] in ("created", "failed"), outcomes
    done = batch(api, made["batch_id"])
    assert done["created"] + done["failed"] == 11 and done["status"] != "processing"
    assert_consistent(api, done)
    assert len(invoices(api)) == done["created"]
