"""Concurrency attacks on receivables: a transaction's allocation never exceeds its amount however
many invoices draw on it at once, and two money operations on one invoice end as some serial order
of them (or a clean 4xx/409), never a half-written or double-counted payment.

As in test_invoice_races.py, threads call the operations directly (the in-process API Gateway runs
one event per function at a time) against DynamoDB Local, a real engine (moto calls take turns).
Each race runs several rounds, its threads lined up on a barrier; after each, every invariant of
test_receivables_invariants.assert_invariants is checked through the API."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from helpers import Api
from helpers import race as helpers_race
from test_receivables_invariants import assert_invariants

from invoicing.errors import BadRequest, Conflict, DomainError, NotFound

pytestmark = [
    pytest.mark.dynamodb_local,
    pytest.mark.skipif(not os.environ.get("DYNAMODB_LOCAL_ENDPOINT"),
                       reason="races need a real engine (moto calls take turns): set DYNAMODB_LOCAL_ENDPOINT"),
]

ROUNDS = range(5)


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """``helpers.race``: a domain error is returned; anything else, a would-be 500, fails the test."""
    return helpers_race(calls, returned=DomainError)


def clean(error: Any, *allowed: tuple[type[DomainError], str]) -> None:
    """``error`` is one of the ``allowed`` (class, code) answers, a 4xx."""
    assert isinstance(error, DomainError), error
    assert 400 <= error.status < 500, error
    assert any(isinstance(error, kind) and error.code == code for kind, code in allowed), (error.code, error.detail)


@pytest.fixture
def business(api: Api) -> dict[str, str]:
    """Given a business on DynamoDB Local with two customers."""
    from invoicing.storage.table import client

    assert client().meta.endpoint_url == os.environ["DYNAMODB_LOCAL_ENDPOINT"]  # not moto
    customers = [api.post("/api/v1/customers", {"name": n, "email": f"{n}@example.com"}).json()["data"]["id"]
                 for n in ("ada", "bob")]
    assert api.tenant is not None
    return {"id": api.tenant.business_id, "customer": customers[0], "other": customers[1]}


def new_open(business: dict[str, str], total: int, customer: str = "customer") -> str:
    from invoicing.operations import invoices
    from invoicing.schemas.invoices import InvoiceCreate

    request = InvoiceCreate.model_validate({"customer_id": business[customer], "due_date": "2030-01-31",
                                            "line_items": [{"description": "Service", "unit_price": total}]})
    invoice_id = invoices.create_invoice(business["id"], request).id
    assert invoices.finalize_invoice(business["id"], invoice_id).total == total
    return invoice_id


def deposit(business: dict[str, str], amount: int) -> str:
    from invoicing.operations import payments
    from invoicing.schemas.receivables import TransactionCreate

    return payments.create_transaction(business["id"], TransactionCreate.model_validate({"amount": amount})).id


def pay(business: dict[str, str], invoice_id: str, txn_id: str, amount: int) -> Callable[[], Any]:
    from invoicing.operations import payments
    from invoicing.schemas.receivables import PaymentCreate

    body = PaymentCreate.model_validate({"transaction_id": txn_id, "amount": amount})
    return lambda: payments.add_payment(business["id"], invoice_id, body)


def invoice(business: dict[str, str], invoice_id: str) -> Any:
    from invoicing.operations import invoices

    return invoices.get_invoice(business["id"], invoice_id)


def allocated(business: dict[str, str], txn_id: str) -> int:
    from invoicing.operations import payments

    return payments.get_transaction(business["id"], txn_id).allocated


# ---------------------------------------------------------------- many invoices, one transaction

@pytest.mark.parametrize("round_", ROUNDS)
def test_twenty_invoices_paid_at_once_from_one_transaction_never_overdraw_it(
        api: Api, business: dict[str, str], round_: int) -> None:
    # Given twenty open invoices of random totals, and a transaction covering only some of them
    rng = random.Random(round_)
    totals = [rng.randint(300, 1500) for _ in range(20)]
    targets = [new_open(business, total, rng.choice(["customer", "other"])) for total in totals]
    amount = sum(totals) // 3
    txn_id = deposit(business, amount)
    # When each invoice is paid in full from it, all at once
    results = race([pay(business, i, txn_id, total) for i, total in zip(targets, totals, strict=True)])
    # Then the successes fit in the transaction and it holds exactly their sum
    successes = [(t, r) for t, r in zip(totals, results, strict=True) if not isinstance(r, Exception)]
    failures = [(t, r) for t, r in zip(totals, results, strict=True) if isinstance(r, Exception)]
    taken = sum(t for t, _ in successes)
    assert successes and taken <= amount, (taken, amount)
    assert allocated(business, txn_id) == taken
    # and every failure is a clean 400 (the money was gone when it read) or a 409 (contention)
    for total, error in failures:
        clean(error, (BadRequest, "transaction_exhausted"), (Conflict, "concurrent_update"))
        # allocations only grew: what found the money gone still does not fit
        if isinstance(error, DomainError) and error.code == "transaction_exhausted":
            assert total > amount - taken, (total, amount, taken)
    # and each invoice is paid exactly as its call answered
    for invoice_id, total, result in zip(targets, totals, results, strict=True):
        got = invoice(business, invoice_id)
        if isinstance(result, Exception):
            assert (got.status, got.total_paid, got.payments) == ("open", 0, []), got
        else:
            assert (got.status, got.total_paid, [p.id for p in got.payments]) == ("manual_paid", total, [result.id])
    assert_invariants(api)


# ---------------------------------------------------------------- two operations on one invoice

@pytest.mark.parametrize("round_", ROUNDS)
def test_payment_against_void_has_one_winner(api: Api, business: dict[str, str], round_: int) -> None:
    from invoicing.operations import payments

    # Given open invoices without payments, and money for them
    targets = [new_open(business, 1000) for _ in range(4)]
    txn_id = deposit(business, 10_000)
    # When each is paid in part and voided at the same time
    calls: list[Callable[[], Any]] = []
    for invoice_id in targets:
        calls += [pay(business, invoice_id, txn_id, 400), partial(payments.void, business["id"], invoice_id)]
    results = race(calls)
    # Then each ends as one serial order: paid then void refused (has payments), or void then pay refused
    paid_total = 0
    for n, invoice_id in enumerate(targets):
        paid, voided = results[2 * n], results[2 * n + 1]
        got = invoice(business, invoice_id)
        if isinstance(voided, Exception):
            assert not isinstance(paid, Exception), paid
            clean(voided, (Conflict, "invoice_has_payments"))
            assert (got.status, got.total_paid, [p.id for p in got.payments]) == ("partially_paid", 400, [paid.id])
            paid_total += 400
        else:
            clean(paid, (Conflict, "invalid_status"))
            assert (got.status, got.total_paid, got.payments) == ("void", 0, [])
    assert allocated(business, txn_id) == paid_total
    assert_invariants(api)


@pytest.mark.parametrize("round_", ROUNDS)
def test_payment_against_removing_another_payment_keeps_both_changes(api: Api, business: dict[str, str],
                                                                     round_: int) -> None:
    from invoicing.operations import payments

    # Given invoices with one payment each, from one transaction
    txn_id = deposit(business, 10_000)
    targets = {}
    for _ in range(4):
        invoice_id = new_open(business, 1000)
        targets[invoice_id] = pay(business, invoice_id, txn_id, 300)().id
    # When each takes a second payment while its first is removed
    calls: list[Callable[[], Any]] = []
    for invoice_id, first in targets.items():
        calls += [pay(business, invoice_id, txn_id, 200),
                  partial(payments.remove_payment, business["id"], invoice_id, first)]
    results = race(calls)
    # Then both orders end the same: only the second payment, partially paid; the first's money is back
    expected_allocated = 0
    for n, (invoice_id, first) in enumerate(targets.items()):
        added, removed = results[2 * n], results[2 * n + 1]
        got = invoice(business, invoice_id)
        kept = {p.id: p.amount for p in got.payments}
        if not isinstance(added, Exception) and not isinstance(removed, Exception):
            assert kept == {added.id: 200} and (got.status, got.total_paid) == ("partially_paid", 200), got
            expected_allocated += 200
        else:  # contention: the loser is a clean 409 and the winner alone is stored
            loser = added if isinstance(added, Exception) else removed
            clean(loser, (Conflict, "concurrent_update"))
            expected = {first: 300, added.id: 200} if isinstance(removed, Exception) else {}
            assert kept == expected, (kept, expected)
            expected_allocated += sum(expected.values())
    assert allocated(business, txn_id) == expected_allocated
    assert_invariants(api)


@pytest.mark.parametrize("round_", ROUNDS)
def test_two_payments_from_one_transaction_that_holds_one_take_it_once(api: Api, business: dict[str, str],
                                                                       round_: int) -> None:
    # Given invoices of 1000 and, for each, a transaction of 1000
    pairs = [(new_open(business, 1000), deposit(business, 1000)) for _ in range(4)]
    # When each invoice takes two payments of 600 from its transaction at once
    calls: list[Callable[[], Any]] = []
    for invoice_id, txn_id in pairs:
        calls += [pay(business, invoice_id, txn_id, 600), pay(business, invoice_id, txn_id, 600)]
    results = race(calls)
    # Then one of them is recorded and the other is a clean 400: the transaction has 400 left
    for n, (invoice_id, txn_id) in enumerate(pairs):
        pair = results[2 * n: 2 * n + 2]
        won = [r for r in pair if not isinstance(r, Exception)]
        lost = [r for r in pair if isinstance(r, Exception)]
        assert len(won) == 1 and len(lost) == 1, pair
        clean(lost[0], (BadRequest, "transaction_exhausted"), (Conflict, "concurrent_update"))
        got = invoice(business, invoice_id)
        assert ([p.id for p in got.payments], got.total_paid, got.status) == ([won[0].id], 600, "partially_paid")
        assert allocated(business, txn_id) == 600
    assert_invariants(api)


@pytest.mark.parametrize("round_", ROUNDS)
def test_two_payments_from_two_transactions_both_count(api: Api, business: dict[str, str], round_: int) -> None:
    # Given invoices of 1000, each with two transactions
    triples = [(new_open(business, 1000), deposit(business, 5000), deposit(business, 5000)) for _ in range(4)]
    # When each is paid 600 from both at once: serially, partially paid, then overpaid (a credit)
    calls: list[Callable[[], Any]] = []
    for invoice_id, first, second in triples:
        calls += [pay(business, invoice_id, first, 600), pay(business, invoice_id, second, 600)]
    results = race(calls)
    for n, (invoice_id, first, second) in enumerate(triples):
        pair = results[2 * n: 2 * n + 2]
        got = invoice(business, invoice_id)
        won = [r for r in pair if not isinstance(r, Exception)]
        for loser in (r for r in pair if isinstance(r, Exception)):
            clean(loser, (Conflict, "concurrent_update"))
        assert sorted(p.id for p in got.payments) == sorted(p.id for p in won), (got.payments, pair)
        assert got.total_paid == 600 * len(won) and got.balance_due == 1000 - 600 * len(won)
        assert got.status == {1: "partially_paid", 2: "manual_paid"}[len(won)]
        assert [allocated(business, t) for t in (first, second)] == [
            0 if isinstance(r, Exception) else 600 for r in pair]
    assert_invariants(api)


@pytest.mark.parametrize("round_", ROUNDS)
def test_two_full_payments_on_one_invoice_one_is_refused_as_paid(api: Api, business: dict[str, str],
                                                                 round_: int) -> None:
    # Given invoices of 1000, each with two transactions of 1000
    triples = [(new_open(business, 1000), deposit(business, 1000), deposit(business, 1000)) for _ in range(4)]
    # When each is paid in full from both at once
    calls: list[Callable[[], Any]] = []
    for invoice_id, first, second in triples:
        calls += [pay(business, invoice_id, first, 1000), pay(business, invoice_id, second, 1000)]
    results = race(calls)
    # Then one pays it, and the other finds it paid (409): a paid invoice takes no more payments
    for n, (invoice_id, first, second) in enumerate(triples):
        pair = results[2 * n: 2 * n + 2]
        won = [r for r in pair if not isinstance(r, Exception)]
        lost = [r for r in pair if isinstance(r, Exception)]
        assert len(won) == 1 and len(lost) == 1, pair
        clean(lost[0], (Conflict, "invalid_status"), (Conflict, "concurrent_update"))
        got = invoice(business, invoice_id)
        assert ([p.id for p in got.payments], got.status, got.balance_due) == ([won[0].id], "manual_paid", 0)
        assert sorted(allocated(business, t) for t in (first, second)) == [0, 1000]
    assert_invariants(api)


@pytest.mark.parametrize("round_", ROUNDS)
def test_one_payment_removed_twice_at_once_gives_its_money_back_once(api: Api, business: dict[str, str],
                                                                     round_: int) -> None:
    from invoicing.operations import payments

    # Given invoices with two payments each from one transaction
    txn_id = deposit(business, 10_000)
    targets = []
    for _ in range(4):
        invoice_id = new_open(business, 1000)
        first = pay(business, invoice_id, txn_id, 300)().id
        pay(business, invoice_id, txn_id, 100)()
        targets.append((invoice_id, first))
    # When the first payment of each is removed twice at the same time
    calls: list[Callable[[], Any]] = []
    for invoice_id, first in targets:
        calls += [partial(payments.remove_payment, business["id"], invoice_id, first)] * 2
    results = race(calls)
    # Then one removal succeeds and the other finds no such payment (404) or lost to contention (409)
    for n, (invoice_id, _) in enumerate(targets):
        pair = results[2 * n: 2 * n + 2]
        assert len([r for r in pair if not isinstance(r, Exception)]) == 1, pair
        lost = next(r for r in pair if isinstance(r, Exception))
        clean(lost, (NotFound, "payment_not_found"), (Conflict, "concurrent_update"))
        got = invoice(business, invoice_id)
        assert ([p.amount for p in got.payments], got.total_paid, got.status) == ([100], 100, "partially_paid")
    # and the transaction got 300 back per invoice, once
    assert allocated(business, txn_id) == 4 * 100
    assert_invariants(api)


@pytest.mark.parametrize("round_", ROUNDS)
def test_mark_paid_against_a_payment_ends_in_a_serial_order(api: Api, business: dict[str, str], round_: int) -> None:
    from invoicing.operations import payments

    # Given open invoices of 1000 and money
    targets = [new_open(business, 1000) for _ in range(4)]
    txn_id = deposit(business, 10_000)
    # When each is marked paid (a payment of its whole balance) while a payment of 300 comes in
    calls: list[Callable[[], Any]] = []
    for invoice_id in targets:
        calls += [pay(business, invoice_id, txn_id, 300), partial(payments.pay_in_full, business["id"], invoice_id)]
    results = race(calls)
    drawn = 0
    for n, invoice_id in enumerate(targets):
        added, marked = results[2 * n], results[2 * n + 1]
        got = invoice(business, invoice_id)
        amounts = sorted(p.amount for p in got.payments)
        assert not isinstance(marked, Exception), marked  # open or partially paid: it always applies
        assert (got.status, got.total_paid, got.balance_due) == ("manual_paid", 1000, 0), got
        if isinstance(added, Exception):
            # marked first: the payment found a paid invoice
            clean(added, (Conflict, "invalid_status"), (Conflict, "concurrent_update"))
            assert amounts == [1000], amounts
        else:
            # the payment first: the mark paid the remaining 700
            assert amounts == [300, 700], amounts
            drawn += 300
    assert allocated(business, txn_id) == drawn
    assert_invariants(api)


@pytest.mark.parametrize("round_", ROUNDS)
def test_one_manual_entry_linked_to_two_invoices_at_once_lands_on_one(api: Api, business: dict[str, str],
                                                                      round_: int) -> None:
    from invoicing.operations import journal
    from invoicing.schemas.receivables import JournalEntryCreate, JournalLink

    # Given manual entries (Dr Bank / Cr Revenue), and two invoices for each
    entries, pairs = [], []
    for _ in range(4):
        entries.append(journal.create_entry(business["id"], JournalEntryCreate.model_validate({
            "description": "by hand", "lines": [{"account_code": "1000", "debit": 500},
                                                {"account_code": "4000", "credit": 500}]})).id)
        pairs.append((new_open(business, 1000), new_open(business, 1000, "other")))
    # When each entry is linked to both of its invoices at the same time
    calls: list[Callable[[], Any]] = []
    for entry_id, (first, second) in zip(entries, pairs, strict=True):
        link = JournalLink.model_validate({"journal_entry_id": entry_id})
        calls += [partial(journal.link_entry, business["id"], first, link),
                  partial(journal.link_entry, business["id"], second, link)]
    results = race(calls)
    # Then one link wins; the other is a clean 409; the entry is on the winner only, with its customer
    for n, entry_id in enumerate(entries):
        pair = results[2 * n: 2 * n + 2]
        won = [r for r in pair if not isinstance(r, Exception)]
        assert len(won) == 1, pair
        clean(next(r for r in pair if isinstance(r, Exception)), (Conflict, "journal_entry_linked"),
              (Conflict, "concurrent_update"))
        for invoice_id in pairs[n]:
            embedded = [e.id for e in invoice(business, invoice_id).journal_entries]
            assert (entry_id in embedded) == (invoice_id == won[0].id), (invoice_id, embedded)
    assert_invariants(api)
