"""Receivables through the emulated API Gateway (API.md Part 2, "Bank transactions and payments",
"The journal", "Write-off, aging, metrics"): what a business sees when the money comes back."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from helpers import Api, errors_at, ids, make_tenant

INVOICES = "/api/v1/invoices"
TRANSACTIONS = "/api/v1/transactions"
JOURNAL = "/api/v1/journal-entries"
MISSING = "0195f1a0-0000-7000-8000-00000000dead"


def data(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.body
    return reply.json()["data"]


def detail(reply: Any, status: int, code: str) -> str:
    assert reply.status == status, reply.body
    assert reply.json()["code"] == code, reply.body
    return str(reply.json()["detail"])


@pytest.fixture
def customers(api: Api) -> dict[str, str]:
    return {name: data(api.post("/api/v1/customers", {"name": name, "email": f"{name.lower()}@example.com"}), 201)["id"]
            for name in ("Ada", "Bob")}


def open_invoice(api: Api, customer_id: str, total: int = 10_000, due: str = "2030-01-31", **fields: Any) -> dict:
    made = data(api.post(INVOICES, {"customer_id": customer_id, "due_date": due,
                                    "line_items": [{"description": "Work", "unit_price": total}], **fields}), 201)
    return dict(data(api.post(f"{INVOICES}/{made['id']}/finalize")))


def deposit(api: Api, amount: int, **fields: Any) -> dict:
    return dict(data(api.post(TRANSACTIONS, {"amount": amount, **fields}), 201))


def pay(api: Api, invoice_id: str, txn_id: str, amount: int, **fields: Any) -> Any:
    return api.post(f"{INVOICES}/{invoice_id}/payments", {"transaction_id": txn_id, "amount": amount, **fields})


def invoice(api: Api, invoice_id: str) -> dict:
    return dict(data(api.get(f"{INVOICES}/{invoice_id}")))


def lines(entry: dict) -> list[tuple[str, int, int]]:
    return [(ln["account_name"], ln["debit"], ln["credit"]) for ln in entry["lines"]]


def journal(api: Api, query: str = "") -> list[dict]:
    return list(data(api.get(JOURNAL, query=f"limit=1000&{query}"))["items"])


# ---------------------------------------------------------------- bank transactions

def test_a_transaction_shows_what_payments_took_from_it(api: Api, customers: dict[str, str]) -> None:
    txn = deposit(api, 25_000, datetime="2026-11-30", description="Wire", reconciled=True)
    assert {k: txn[k] for k in ("amount", "currency", "datetime", "description", "reconciled", "allocated",
                                "unallocated")} == {"amount": 25_000, "currency": "USD", "datetime": "2026-11-30",
                                                    "description": "Wire", "reconciled": True, "allocated": 0,
                                                    "unallocated": 25_000}
    first, second = open_invoice(api, customers["Ada"]), open_invoice(api, customers["Bob"])
    data(pay(api, first["id"], txn["id"], 10_000), 201)
    data(pay(api, second["id"], txn["id"], 4_000), 201)
    got = data(api.get(f"{TRANSACTIONS}/{txn['id']}"))
    assert (got["allocated"], got["unallocated"]) == (14_000, 11_000)
    assert ids(api.get(TRANSACTIONS, query="reconciled=true")) == [txn["id"]]
    assert ids(api.get(TRANSACTIONS, query="reconciled=false")) == []


def test_a_transaction_defaults_to_the_business_currency_and_today_in_its_time_zone(api: Api) -> None:
    tokyo = make_tenant(timezone="Asia/Tokyo", currency="EUR", name="Tokyo")
    txn = data(api.post(TRANSACTIONS, {"amount": -500}, as_tenant=tokyo), 201)
    assert txn["currency"] == "EUR"
    assert txn["datetime"] == datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()
    assert txn["unallocated"] == 0  # money paid out pays no invoice


@pytest.mark.parametrize(("body", "loc"), [
    ({"amount": 0}, ("body", "amount")),
    ({"amount": 1.5}, ("body", "amount")),
    ({"amount": 100, "currency": "JPY"}, ("body", "currency")),
    ({"amount": 100, "datetime": "2026-02-30"}, ("body", "datetime")),
    ({"amount": 10**16}, ("body", "amount")),
])
def test_bad_transactions_are_422_at_the_field(api: Api, body: dict, loc: tuple) -> None:
    assert loc in errors_at(api.post(TRANSACTIONS, body))


def test_another_business_transaction_is_missing(api: Api) -> None:
    txn = deposit(api, 100)
    other = make_tenant(name="Other")
    assert api.get(f"{TRANSACTIONS}/{txn['id']}", as_tenant=other).status == 404
    assert ids(api.get(TRANSACTIONS, as_tenant=other)) == []


# ---------------------------------------------------------------- payments

def test_partial_then_full_then_over_payment_moves_status_and_balance(api: Api, customers: dict[str, str]) -> None:
    inv = open_invoice(api, customers["Ada"], 10_000)
    txn = deposit(api, 50_000, datetime="2026-11-01")
    first = data(pay(api, inv["id"], txn["id"], 3_000), 201)
    assert {k: first[k] for k in ("invoice_id", "transaction_id", "amount", "currency", "paid_on")} == {
        "invoice_id": inv["id"], "transaction_id": txn["id"], "amount": 3_000, "currency": "USD",
        "paid_on": "2026-11-01"}  # the transaction's date by default
    got = invoice(api, inv["id"])
    assert (got["status"], got["total_paid"], got["balance_due"], got["paid_on"]) == ("partially_paid", 3_000, 7_000,
                                                                                      None)
    data(pay(api, inv["id"], txn["id"], 7_000, paid_on="2026-11-15T23:30:00Z"), 201)
    got = invoice(api, inv["id"])
    assert (got["status"], got["total_paid"], got["balance_due"], got["paid_on"]) == ("manual_paid", 10_000, 0,
                                                                                      "2026-11-15")
    # a paid invoice takes no more; an overpayment is a payment above the balance of an unpaid one
    detail(pay(api, inv["id"], txn["id"], 1), 409, "invalid_status")
    other = open_invoice(api, customers["Ada"], 1_000)
    data(pay(api, other["id"], txn["id"], 1_500), 201)
    got = invoice(api, other["id"])
    assert (got["status"], got["total_paid"], got["balance_due"]) == ("manual_paid", 1_500, -500)
    assert [p["amount"] for p in got["payments"]] == [1_500]


def test_removing_payments_recomputes_the_status_both_ways(api: Api, customers: dict[str, str]) -> None:
    inv = open_invoice(api, customers["Ada"], 10_000)
    txn = deposit(api, 10_000)
    a = data(pay(api, inv["id"], txn["id"], 4_000), 201)
    b = data(pay(api, inv["id"], txn["id"], 6_000), 201)
    assert invoice(api, inv["id"])["status"] == "manual_paid"
    reply = api.delete(f"{INVOICES}/{inv['id']}/payments/{b['id']}")
    assert (data(reply), reply.json()["code"]) == ({"id": b["id"]}, "payment.deleted")
    got = invoice(api, inv["id"])
    assert (got["status"], got["total_paid"], got["balance_due"], got["paid_on"]) == ("partially_paid", 4_000, 6_000,
                                                                                      None)
    assert data(api.get(f"{TRANSACTIONS}/{txn['id']}"))["unallocated"] == 6_000  # the money went back
    data(api.delete(f"{INVOICES}/{inv['id']}/payments/{a['id']}"))
    got = invoice(api, inv["id"])
    assert (got["status"], got["total_paid"], got["balance_due"], got["payments"]) == ("open", 0, 10_000, [])
    # and a removed payment is gone
    assert api.delete(f"{INVOICES}/{inv['id']}/payments/{a['id']}").status == 404


def test_payments_list_with_their_transaction(api: Api, customers: dict[str, str]) -> None:
    inv = open_invoice(api, customers["Ada"])
    txns = [deposit(api, 1_000, description=f"wire {n}") for n in range(3)]
    made = [data(pay(api, inv["id"], t["id"], 1_000), 201)["id"] for t in txns]
    page = data(api.get(f"{INVOICES}/{inv['id']}/payments", query="descending=false&limit=2"))
    assert [p["id"] for p in page["items"]] == made[:2] and page["has_next"]
    summary = ("id", "amount", "currency", "datetime", "description")
    assert page["items"][0]["transaction"] == {k: txns[0][k] for k in summary}
    rest = data(api.get(f"{INVOICES}/{inv['id']}/payments",
                        query=f"cursor={page['next_cursor']}&limit=2&descending=false"))
    assert [p["id"] for p in rest["items"]] == made[2:]
    assert [p["id"] for p in invoice(api, inv["id"])["payments"]] == made


def test_a_payment_takes_at_most_what_the_transaction_has_left(api: Api, customers: dict[str, str]) -> None:
    inv = open_invoice(api, customers["Ada"])
    txn = deposit(api, 5_000)
    data(pay(api, inv["id"], txn["id"], 4_000), 201)
    assert "1000 cents unallocated" in detail(pay(api, inv["id"], txn["id"], 1_001), 400, "transaction_exhausted")
    assert invoice(api, inv["id"])["total_paid"] == 4_000


@pytest.mark.parametrize("amount", [0, -100, 2.5, "100"])
def test_a_payment_amount_must_be_whole_cents_above_zero(api: Api, customers: dict[str, str], amount: Any) -> None:
    inv = open_invoice(api, customers["Ada"])
    txn = deposit(api, 5_000)
    assert ("body", "amount") in errors_at(pay(api, inv["id"], txn["id"], amount))


def test_payment_rules_answer_in_the_contract_shape(api: Api, customers: dict[str, str]) -> None:
    inv = open_invoice(api, customers["Ada"])
    euros = deposit(api, 5_000, currency="EUR")
    assert "EUR" in detail(pay(api, inv["id"], euros["id"], 100), 400, "currency_mismatch")
    outgoing = deposit(api, -5_000)
    detail(pay(api, inv["id"], outgoing["id"], 100), 400, "transaction_outgoing")
    detail(pay(api, inv["id"], MISSING, 100), 404, "transaction_not_found")
    txn = deposit(api, 5_000)
    detail(pay(api, MISSING, txn["id"], 100), 404, "invoice_not_found")
    detail(api.delete(f"{INVOICES}/{inv['id']}/payments/{MISSING}"), 404, "payment_not_found")
    assert ("body", "transaction_id") in errors_at(api.post(f"{INVOICES}/{inv['id']}/payments", {"amount": 1}))
    draft = data(api.post(INVOICES, {"customer_id": customers["Ada"], "due_date": "2030-01-31",
                                     "line_items": [{"description": "x", "unit_price": 100}]}), 201)
    assert "draft invoice" in detail(pay(api, draft["id"], txn["id"], 100), 409, "invalid_status")
    void = data(api.put(f"{INVOICES}/{open_invoice(api, customers['Ada'])['id']}/void"))
    detail(pay(api, void["id"], txn["id"], 100), 409, "invalid_status")
    assert data(api.get(f"{TRANSACTIONS}/{txn['id']}"))["allocated"] == 0


def test_another_business_cannot_pay_with_or_onto_what_is_not_its_own(api: Api, customers: dict[str, str]) -> None:
    other = make_tenant(name="Other")
    mine, my_txn = open_invoice(api, customers["Ada"]), deposit(api, 5_000)
    their_txn = data(api.post(TRANSACTIONS, {"amount": 5_000}, as_tenant=other), 201)
    detail(pay(api, mine["id"], their_txn["id"], 100), 404, "transaction_not_found")
    assert api.post(f"{INVOICES}/{mine['id']}/payments", {"transaction_id": my_txn["id"], "amount": 100},
                    as_tenant=other).status == 404
    payment = data(pay(api, mine["id"], my_txn["id"], 100), 201)
    assert api.delete(f"{INVOICES}/{mine['id']}/payments/{payment['id']}", as_tenant=other).status == 404
    assert api.get(f"{INVOICES}/{mine['id']}/payments", as_tenant=other).status == 404
    assert invoice(api, mine["id"])["total_paid"] == 100


def test_the_same_idempotency_key_pays_once(api: Api, customers: dict[str, str]) -> None:
    inv, txn = open_invoice(api, customers["Ada"]), deposit(api, 5_000)
    headers = {**api.headers(), "Idempotency-Key": "pay-once"}
    first = api.request("POST", f"{INVOICES}/{inv['id']}/payments", json_body={"transaction_id": txn["id"],
                                                                                "amount": 1_000}, headers=headers)
    again = api.request("POST", f"{INVOICES}/{inv['id']}/payments", json_body={"transaction_id": txn["id"],
                                                                                "amount": 1_000}, headers=headers)
    assert (first.status, again.status) == (201, 201) and first.json() == again.json()
    assert invoice(api, inv["id"])["total_paid"] == 1_000


# ---------------------------------------------------------------- the journal

def test_every_money_event_posts_a_balanced_entry_dated_in_the_business_time_zone(api: Api,
                                                                                  customers: dict[str, str]) -> None:
    inv = open_invoice(api, customers["Ada"], 10_000, issue_date="2026-06-30")  # backdated: the AR entry too
    txn = deposit(api, 10_000, datetime="2026-07-04")
    payment = data(pay(api, inv["id"], txn["id"], 2_500), 201)
    data(api.delete(f"{INVOICES}/{inv['id']}/payments/{payment['id']}"))
    written = data(api.post(f"{INVOICES}/{inv['id']}/uncollectible"))
    today = datetime.now(ZoneInfo(api.tenant.timezone)).date().isoformat()
    entries = written["journal_entries"]
    assert [(e["source"], e["entry_date"], lines(e)) for e in entries] == [
        ("invoice_finalized", "2026-06-30", [("Accounts Receivable", 10_000, 0), ("Revenue", 0, 10_000)]),
        ("payment", "2026-07-04", [("Bank", 2_500, 0), ("Accounts Receivable", 0, 2_500)]),
        ("payment_removed", today, [("Bank", 0, 2_500), ("Accounts Receivable", 2_500, 0)]),
        ("write_off", today, [("Bad Debt", 10_000, 0), ("Accounts Receivable", 0, 10_000)]),
    ]
    assert entries[2]["reverses"] == entries[1]["id"]
    for entry in entries:
        assert sum(ln["debit"] for ln in entry["lines"]) == sum(ln["credit"] for ln in entry["lines"]) == entry["total"]
    # the journal holds the same entries; filtered by invoice, in the order they were posted
    assert [e["id"] for e in journal(api, f"invoice_id={inv['id']}&descending=false")] == [e["id"] for e in entries]
    assert {e["id"] for e in journal(api)} == {e["id"] for e in entries}
    assert [e["source"] for e in journal(api, "start_date=2026-07-01&end_date=2026-07-31")] == ["payment"]
    assert (written["status"], written["balance_due"]) == ("uncollectible", 10_000)


def test_write_off_only_from_open_or_partially_paid(api: Api, customers: dict[str, str]) -> None:
    inv = open_invoice(api, customers["Ada"], 10_000)
    data(pay(api, inv["id"], deposit(api, 4_000)["id"], 4_000), 201)
    written = data(api.post(f"{INVOICES}/{inv['id']}/uncollectible"))
    assert lines(written["journal_entries"][-1]) == [("Bad Debt", 6_000, 0), ("Accounts Receivable", 0, 6_000)]
    detail(api.post(f"{INVOICES}/{inv['id']}/uncollectible"), 409, "invalid_status")
    paid = data(api.put(f"{INVOICES}/{open_invoice(api, customers['Ada'])['id']}/paid"))
    detail(api.post(f"{INVOICES}/{paid['id']}/uncollectible"), 409, "invalid_status")
    assert api.post(f"{INVOICES}/{MISSING}/uncollectible").status == 404


def test_void_with_payments_says_to_remove_them_first(api: Api, customers: dict[str, str]) -> None:
    inv = open_invoice(api, customers["Ada"], 10_000)
    payment = data(pay(api, inv["id"], deposit(api, 1_000)["id"], 1_000), 201)
    assert "remove them first" in detail(api.post(f"{INVOICES}/{inv['id']}/void"), 409, "invoice_has_payments")
    data(api.delete(f"{INVOICES}/{inv['id']}/payments/{payment['id']}"))
    voided = data(api.post(f"{INVOICES}/{inv['id']}/void"))
    assert voided["status"] == "void" and voided["journal_entries"][-1]["source"] == "invoice_voided"


def test_manual_entries_balance_and_stay_off_receivables(api: Api) -> None:
    body = {"entry_date": "2026-11-30", "description": "Owner's deposit",
            "lines": [{"account_code": "1000", "debit": 5_000}, {"account_code": "4000", "credit": 5_000}]}
    entry = data(api.post(JOURNAL, body), 201)
    assert (entry["source"], entry["total"], entry["invoice_id"], lines(entry)) == (
        "manual", 5_000, None, [("Bank", 5_000, 0), ("Revenue", 0, 5_000)])
    unbalanced = {**body, "lines": [{"account_code": "1000", "debit": 5_000}, {"account_code": "4000", "credit": 1}]}
    assert "does not balance" in errors_at(api.post(JOURNAL, unbalanced))[("body", "lines")]["msg"]
    receivable = {**body, "lines": [{"account_code": "1200", "debit": 5}, {"account_code": "4000", "credit": 5}]}
    assert ("body", "lines", 0, "account_code") in errors_at(api.post(JOURNAL, receivable))
    both = {**body, "lines": [{"account_code": "1000", "debit": 5, "credit": 5}, {"account_code": "4000", "credit": 5}]}
    assert ("body", "lines", 0) in errors_at(api.post(JOURNAL, both))
    assert ("body", "lines") in errors_at(api.post(JOURNAL, {**body, "lines": body["lines"][:1]}))
    assert ("body", "lines", 0, "account_code") in errors_at(
        api.post(JOURNAL, {**body, "lines": [{"account_code": "9999", "debit": 5}, body["lines"][1]]}))


def test_an_entry_is_linked_to_one_invoice(api: Api, customers: dict[str, str]) -> None:
    entry = data(api.post(JOURNAL, {"description": "Shipping refund", "lines": [
        {"account_code": "4100", "debit": 300}, {"account_code": "1000", "credit": 300}]}), 201)
    first, second = open_invoice(api, customers["Ada"]), open_invoice(api, customers["Bob"])
    path = f"{INVOICES}/{first['id']}/journal-entry/link"
    linked = data(api.post(path, {"journal_entry_id": entry["id"]}), 201)
    assert [e["id"] for e in linked["journal_entries"]][-1] == entry["id"]
    assert data(api.post(path, {"journal_entry_id": entry["id"]}), 201) == linked  # again: as it is
    detail(api.post(f"{INVOICES}/{second['id']}/journal-entry/link", {"journal_entry_id": entry["id"]}), 409,
           "journal_entry_linked")
    assert entry["id"] in [e["id"] for e in journal(api, f"invoice_id={first['id']}")]
    assert entry["id"] not in [e["id"] for e in journal(api, f"invoice_id={second['id']}")]
    detail(api.post(path, {"journal_entry_id": MISSING}), 404, "journal_entry_not_found")
    assert api.post(path, {"journal_entry_id": entry["id"]}, as_tenant=make_tenant(name="Other")).status == 404


# ---------------------------------------------------------------- aging and metrics

def test_aging_buckets_unpaid_balances_by_days_past_due(api: Api, customers: dict[str, str]) -> None:
    today = datetime.now(ZoneInfo(api.tenant.timezone)).date()

    def due(days_ago: int) -> str:
        return (today - timedelta(days=days_ago)).isoformat()

    made = {days: open_invoice(api, customers["Ada"], 1_000 * (n + 1), due=due(days), issue_date=due(days + 30))
            for n, days in enumerate((-5, 0, 1, 30, 31, 60, 61, 90, 91, 400))}
    data(pay(api, made[31]["id"], deposit(api, 500)["id"], 500), 201)  # partly paid: its balance ages
    paid = open_invoice(api, customers["Bob"], 7_000, due=due(10), issue_date=due(20))
    data(api.put(f"{INVOICES}/{paid['id']}/paid"))  # paid: not in aging
    euro = make_tenant(name="Euro", currency="EUR", timezone=api.tenant.timezone)  # another tenant: never seen
    theirs = data(api.post("/api/v1/customers", {"name": "Eve", "email": "e@example.com"}, as_tenant=euro), 201)
    their_invoice = data(api.post(INVOICES, {"customer_id": theirs["id"], "due_date": due(5), "issue_date": due(9),
                                             "line_items": [{"description": "x", "unit_price": 99}]},
                                  as_tenant=euro), 201)
    data(api.post(f"{INVOICES}/{their_invoice['id']}/finalize", as_tenant=euro))
    report = data(api.get(f"{INVOICES}/aging"))
    assert report["as_of_date"] == today.isoformat()
    by_id = {row["id"]: row for row in report["invoices"]}
    assert set(by_id) == {inv["id"] for inv in made.values()}
    expected = {-5: "current", 0: "current", 1: "1_30", 30: "1_30", 31: "31_60", 60: "31_60", 61: "61_90",
                90: "61_90", 91: "91_plus", 400: "91_plus"}
    assert {days: by_id[inv["id"]]["bucket"] for days, inv in made.items()} == expected
    assert by_id[made[31]["id"]]["balance_due"] == 5_000 - 500
    (row,) = report["customers"]
    assert (row["customer_id"], row["customer_name"], row["currency"]) == (customers["Ada"], "Ada", "USD")
    assert (row["current"], row["days_1_30"], row["days_31_60"], row["days_61_90"], row["days_91_plus"]) == (
        1_000 + 2_000, 3_000 + 4_000, 4_500 + 6_000, 7_000 + 8_000, 9_000 + 10_000)
    assert row["total"] == sum(i["balance_due"] for i in report["invoices"]) == report["totals"]["total"]
    # another day: the same balances, older
    later = data(api.get(f"{INVOICES}/aging", query=f"as_of_date={(today + timedelta(days=31)).isoformat()}"))
    assert {row["id"]: row["bucket"] for row in later["invoices"]}[made[-5]["id"]] == "1_30"
    assert ("query", "as_of_date") in errors_at(api.get(f"{INVOICES}/aging", query="as_of_date=yesterday"))


def test_metrics_outstanding_and_overdue_per_currency(api: Api, customers: dict[str, str]) -> None:
    today = datetime.now(ZoneInfo(api.tenant.timezone)).date()
    open_invoice(api, customers["Ada"], 1_000, due=(today - timedelta(days=1)).isoformat(),
                 issue_date=(today - timedelta(days=30)).isoformat())
    current = open_invoice(api, customers["Ada"], 2_000, due=today.isoformat())
    data(pay(api, current["id"], deposit(api, 500)["id"], 500), 201)
    open_invoice(api, customers["Bob"], 4_000, due=(today + timedelta(days=9)).isoformat(), currency="CAD")
    written = open_invoice(api, customers["Bob"], 8_000, due=(today - timedelta(days=40)).isoformat(),
                           issue_date=(today - timedelta(days=60)).isoformat())
    data(api.post(f"{INVOICES}/{written['id']}/uncollectible"))
    got = data(api.get(f"{INVOICES}/metrics"))
    assert (got["currency"], got["total_outstanding"], got["total_overdue"]) == ("USD", 1_000 + 1_500, 1_000)
    assert got["by_currency"] == [
        {"currency": "CAD", "total_outstanding": 4_000, "total_overdue": 0},
        {"currency": "USD", "total_outstanding": 2_500, "total_overdue": 1_000}]
    assert data(api.get(f"{INVOICES}/metrics", as_tenant=make_tenant(name="Empty")))["by_currency"] == []


def test_aging_and_metrics_read_only_the_unpaid_index(api: Api, customers: dict[str, str]) -> None:
    from bench import aws_calls
    from invoicing.operations import reports
    from invoicing.storage.table import client

    for n in range(3):
        open_invoice(api, customers["Ada"], 100 + n)
    with aws_calls.counting(client()) as calls:
        reports.aging(api.tenant.business_id, date.today().isoformat())
    assert calls == {"BatchGetItem": 1, "Query": 1}  # the business (its time zone), one Query of GSI6


def test_a_keyed_write_whose_answer_was_lost_is_found_again_not_repeated(api: Api, customers: dict[str, str]) -> None:
    """The idempotency record keeps only answers; should the function die after writing, its retry
    runs again: each new record's id derives from the key, so the retry finds the first write."""
    from invoicing.operations import journal as journal_ops
    from invoicing.operations import payments
    from invoicing.schemas.receivables import JournalEntryCreate, PaymentCreate, TransactionCreate

    business = api.tenant.business_id
    first = payments.create_transaction(business, TransactionCreate(amount=900), idempotency_key="k-1")
    again = payments.create_transaction(business, TransactionCreate(amount=900), idempotency_key="k-1")
    assert again == first and ids(api.get(TRANSACTIONS)) == [first.id]
    inv = open_invoice(api, customers["Ada"], 1_000)
    body = PaymentCreate(transaction_id=first.id, amount=300)
    paid = payments.add_payment(business, inv["id"], body, idempotency_key="k-2")
    assert payments.add_payment(business, inv["id"], body, idempotency_key="k-2") == paid
    assert invoice(api, inv["id"])["total_paid"] == 300
    assert payments.add_payment(business, inv["id"], body, idempotency_key="k-3").id != paid.id  # another key
    entry = JournalEntryCreate.model_validate({"description": "Deposit", "lines": [
        {"account_code": "1000", "debit": 5}, {"account_code": "4000", "credit": 5}]})
    made = journal_ops.create_entry(business, entry, idempotency_key="k-4")
    assert journal_ops.create_entry(business, entry, idempotency_key="k-4") == made
    assert [e["id"] for e in journal(api) if e["source"] == "manual"] == [made.id]
