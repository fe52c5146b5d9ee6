"""Crash attacks on receivables' all-or-nothing promise: each money operation is one BatchGetItem
and one TransactWriteItems, so a crash between any two of its steps leaves either the state before
it or the state after it, never a half-written payment; and a retry of the same request with the
same ``Idempotency-Key`` does the work exactly once.

The crash is the boto3 client's call raising (tests/integration/batch's ``crash`` approach, on the
shared DynamoDB client): ``before`` the request is sent (a throttle, a connection refused) or
``after`` it went through (the answer lost: a timeout, the function dying after the commit). The
exception propagates out of the function as a real invocation error would (the emulated gateway
re-raises it). Runs on moto, and on DynamoDB Local with DYNAMODB_LOCAL_ENDPOINT set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from helpers import Api
from test_receivables_invariants import INVOICES, TRANSACTIONS, Snapshot, assert_invariants

from invoicing.storage import keys


class Crash(Exception):
    """The DynamoDB call failing at the chosen point."""


def crash_once(monkeypatch: pytest.MonkeyPatch, name: str, when: str,
               only: Callable[..., bool] = lambda **_: True) -> list[int]:
    """Make the shared client's ``name`` raise ``Crash`` ``before`` or ``after`` doing its work, on
    the first call ``only`` accepts. Returns the crashes left."""
    from invoicing.storage.table import client

    target = client()
    original = getattr(target, name)
    left = [1]

    def wrapper(**kwargs: Any) -> Any:
        hit = left[0] > 0 and only(**kwargs)
        if hit and when == "before":
            left[0] -= 1
            raise Crash(f"crash before {name}")
        out = original(**kwargs)
        if hit and when == "after":
            left[0] -= 1
            raise Crash(f"crash after {name}")
        return out

    monkeypatch.setattr(target, name, wrapper)
    return left


def reads_an_invoice(**kwargs: Any) -> bool:
    """A BatchGetItem of the operation (the authorizer's reads are not the payment's steps)."""
    return any(k["SK"]["S"].startswith(keys.INVOICE) for spec in kwargs["RequestItems"].values()
               for k in spec["Keys"])


CRASH_POINTS = [("batch_get_item", "before"), ("batch_get_item", "after"),
                ("transact_write_items", "before"), ("transact_write_items", "after")]


# ---------------------------------------------------------------- the operations and their effect

@dataclass
class Scene:
    invoice: str
    txn: str
    payment: str | None  # an existing payment of 300 from txn


def scene(api: Api, *, with_payment: bool) -> Scene:
    """Given an open invoice of 1000 (a second one of another customer beside it), a transaction of
    5000, and (``with_payment``) a payment of 300 from it on the invoice."""
    customers = [api.post("/api/v1/customers", {"name": n, "email": f"{n}@example.com"}).json()["data"]["id"]
                 for n in ("ada", "bob")]
    ids = []
    for customer in customers:
        body = {"customer_id": customer, "due_date": "2030-01-31",
                "line_items": [{"description": "Work", "unit_price": 1000}]}
        invoice_id = api.post(INVOICES, body).json()["data"]["id"]
        assert api.post(f"{INVOICES}/{invoice_id}/finalize").status == 200
        ids.append(invoice_id)
    txn = api.post(TRANSACTIONS, {"amount": 5000}).json()["data"]["id"]
    payment = None
    if with_payment:
        reply = api.post(f"{INVOICES}/{ids[0]}/payments", {"transaction_id": txn, "amount": 300})
        assert reply.status == 201, reply.body
        payment = reply.json()["data"]["id"]
    return Scene(ids[0], txn, payment)


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: Callable[[Scene], str]
    body: Callable[[Scene], Any]
    status: int  # its success
    source: str  # the journal entry it posts
    with_payment: bool = False


OPERATIONS = [
    Operation("add_payment", "POST", lambda s: f"{INVOICES}/{s.invoice}/payments",
              lambda s: {"transaction_id": s.txn, "amount": 250}, 201, "payment"),
    Operation("add_payment_to_a_paid_one", "POST", lambda s: f"{INVOICES}/{s.invoice}/payments",
              lambda s: {"transaction_id": s.txn, "amount": 700}, 201, "payment", with_payment=True),
    Operation("remove_payment", "DELETE", lambda s: f"{INVOICES}/{s.invoice}/payments/{s.payment}",
              lambda s: None, 200, "payment_removed", with_payment=True),
    Operation("pay_in_full", "PUT", lambda s: f"{INVOICES}/{s.invoice}/paid", lambda s: None, 200, "payment",
              with_payment=True),
    Operation("void", "PUT", lambda s: f"{INVOICES}/{s.invoice}/void", lambda s: None, 200, "invoice_voided"),
    Operation("write_off", "POST", lambda s: f"{INVOICES}/{s.invoice}/uncollectible", lambda s: None, 200,
              "write_off", with_payment=True),
]


def call(api: Api, op: Operation, s: Scene, key: str) -> Any:
    return api.request(op.method, op.path(s), json_body=op.body(s), headers=api.headers(**{"Idempotency-Key": key}))


def unchanged(before: Snapshot, after: Snapshot) -> bool:
    return before.comparable() == after.comparable()


def assert_applied_once(op: Operation, s: Scene, before: Snapshot, after: Snapshot) -> None:
    """``after`` is ``before`` with exactly one application of ``op``, and nothing else changed."""
    was, now = before.invoices[s.invoice], after.invoices[s.invoice]
    new_entries = [e for e_id, e in after.journal.items() if e_id not in before.journal]
    assert [e["source"] for e in new_entries] == [op.source], ("entries posted", new_entries)
    assert new_entries[0]["invoice_id"] == s.invoice
    assert set(before.journal) <= set(after.journal), "an entry disappeared"
    # the other invoice is untouched
    for invoice_id in before.invoices:
        if invoice_id != s.invoice:
            assert after.invoices[invoice_id] == before.invoices[invoice_id], invoice_id
    new_txns = set(after.transactions) - set(before.transactions)
    payments_was = {p["id"]: p["amount"] for p in was["payments"]}
    payments_now = {p["id"]: p["amount"] for p in now["payments"]}
    allocated_was, allocated_now = before.transactions[s.txn]["allocated"], after.transactions[s.txn]["allocated"]
    if op.name.startswith("add_payment"):
        amount = op.body(s)["amount"]
        added = {p: a for p, a in payments_now.items() if p not in payments_was}
        assert list(added.values()) == [amount] and payments_was.items() <= payments_now.items(), \
            ("the payment is recorded once", payments_was, payments_now)
        assert allocated_now == allocated_was + amount, (allocated_was, allocated_now)
        assert now["total_paid"] == was["total_paid"] + amount and not new_txns
    elif op.name == "remove_payment":
        assert payments_now == {p: a for p, a in payments_was.items() if p != s.payment}
        assert allocated_now == allocated_was - 300 and not new_txns
        assert now["status"] == "open"
    elif op.name == "pay_in_full":
        (txn_id,) = new_txns
        assert after.transactions[txn_id]["amount"] == after.transactions[txn_id]["allocated"] == was["balance_due"]
        assert (now["status"], now["balance_due"], len(payments_now)) == ("manual_paid", 0, len(payments_was) + 1)
        assert allocated_now == allocated_was
    else:
        assert (now["status"], payments_now, allocated_now, new_txns) == (
            {"void": "void", "write_off": "uncollectible"}[op.name], payments_was, allocated_was, set())


@pytest.mark.parametrize(("name", "when"), CRASH_POINTS, ids=[f"{w}-{n}" for n, w in CRASH_POINTS])
@pytest.mark.parametrize("op", OPERATIONS, ids=[op.name for op in OPERATIONS])
def test_a_crash_leaves_nothing_or_everything_and_a_retry_does_the_work_once(
        api: Api, monkeypatch: pytest.MonkeyPatch, op: Operation, name: str, when: str) -> None:
    # Given the scene and its state
    s = scene(api, with_payment=op.with_payment)
    before = assert_invariants(api)
    # When the operation crashes at the chosen point
    left = crash_once(monkeypatch, name, when, reads_an_invoice if name == "batch_get_item" else lambda **_: True)
    with pytest.raises(Crash):
        call(api, op, s, "retry-me")
    assert left == [0], "the crash happened"
    monkeypatch.undo()
    # Then the state is the state before (nothing was written) or after (everything was)
    crashed = assert_invariants(api)
    if (name, when) == ("transact_write_items", "after"):
        assert_applied_once(op, s, before, crashed)
    else:
        assert unchanged(before, crashed), "a crash before the write changed something"
    # When the client retries the same request with the same key
    retried = call(api, op, s, "retry-me")
    # Then the work is done exactly once in all: done now if the crash lost it, not again if it was done
    final = assert_invariants(api)
    assert_applied_once(op, s, before, final)
    if unchanged(before, crashed):
        assert retried.status == op.status, retried.body
    else:
        assert retried.status in (op.status, 404, 409), retried.body
    # and a further retry with the key changes nothing
    again = call(api, op, s, "retry-me")
    assert again.status in (op.status, 404, 409), again.body
    assert unchanged(final, assert_invariants(api))
    if retried.status == op.status and op.method != "DELETE":
        assert (again.status, again.json()) == (retried.status, retried.json())
        assert again.headers.get("Idempotent-Replayed") == "true"


def test_a_payment_whose_answer_was_lost_is_not_recorded_twice_by_its_retry(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plainest form of the double payment: the transaction commits, the function dies before
    answering (the Idempotency-Key's record is dropped with the error), the client retries."""
    s = scene(api, with_payment=False)
    crash_once(monkeypatch, "transact_write_items", "after")
    body = {"transaction_id": s.txn, "amount": 250}
    headers = api.headers(**{"Idempotency-Key": "pay-once"})
    with pytest.raises(Crash):
        api.post(f"{INVOICES}/{s.invoice}/payments", body, headers=headers)
    monkeypatch.undo()
    api.post(f"{INVOICES}/{s.invoice}/payments", body, headers=headers)
    invoice = api.get(f"{INVOICES}/{s.invoice}").json()["data"]
    txn = api.get(f"{TRANSACTIONS}/{s.txn}").json()["data"]
    assert ([p["amount"] for p in invoice["payments"]], invoice["total_paid"], txn["allocated"]) == ([250], 250, 250)


def test_a_payment_that_died_before_its_key_kept_the_answer_is_not_recorded_again_after_the_timeout(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The step after the transaction: the Idempotency-Key's record saving the answer. It fails, so
    the record stays in progress (a retry meanwhile is a 409); once the invocation's time is up the
    key is free again, and the retry must still not pay a second time."""
    from invoicing.storage.table import client, table_name

    s = scene(api, with_payment=False)
    crash_once(monkeypatch, "update_item", "before",
               only=lambda **kw: kw["Key"]["SK"]["S"].startswith(keys.IDEMPOTENCY))
    body = {"transaction_id": s.txn, "amount": 250}
    headers = api.headers(**{"Idempotency-Key": "pay-once"})
    with pytest.raises(Exception):  # noqa: B017 (the utility wraps the crash in its own error)
        api.post(f"{INVOICES}/{s.invoice}/payments", body, headers=headers)
    monkeypatch.undo()
    # the payment is recorded, and a retry while the first invocation could still be running is a 409
    assert api.get(f"{TRANSACTIONS}/{s.txn}").json()["data"]["allocated"] == 250
    busy = api.post(f"{INVOICES}/{s.invoice}/payments", body, headers=headers)
    assert (busy.status, busy.json()["code"]) == (409, "idempotency_request_in_progress"), busy.body
    # When the invocation's time is up (its record's in-progress deadline passed) and the client retries
    assert api.tenant is not None
    records = client().query(TableName=table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
                             ExpressionAttributeValues={":pk": {"S": keys.business(api.tenant.business_id)},
                                                        ":sk": {"S": keys.IDEMPOTENCY}})["Items"]
    assert len(records) == 1, records
    client().update_item(TableName=table_name(), Key={"PK": records[0]["PK"], "SK": records[0]["SK"]},
                         UpdateExpression="SET idempotency_in_progress_until = :past",
                         ExpressionAttributeValues={":past": {"N": "0"}})
    api.post(f"{INVOICES}/{s.invoice}/payments", body, headers=headers)
    # Then there is still one payment
    invoice = api.get(f"{INVOICES}/{s.invoice}").json()["data"]
    txn = api.get(f"{TRANSACTIONS}/{s.txn}").json()["data"]
    assert ([p["amount"] for p in invoice["payments"]], invoice["total_paid"], txn["allocated"]) == ([250], 250, 250)
    assert_invariants(api)
