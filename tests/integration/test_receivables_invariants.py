"""Attacks on the receivables invariants (API.md Part 2, domain/ledger.py's docstring): a hypothesis
state machine creates and finalizes invoices for three customers, records bank transactions, pays
(random amounts, more than the balance, more than the transaction has left, from money paid out),
removes payments, marks paid, voids and writes off, in any order, on any invoice in any state. A
small model of its own predicts each call's status code and the money it leaves; after every step
everything is read back through the API and checked:

- every journal entry balances; a manual one never touches AR;
- per customer, AR (1200, debit - credit) == sum of balance_due over open, partially_paid and
  manual_paid invoices; Bad Debt (6100, by the entry's customer) == sum of balance_due over
  uncollectible ones; Bank (1000, from the invoices' entries) == the money allocated to invoices;
- total_paid == sum of the invoice's payments (embedded and listed), balance_due == total - total_paid,
  the status follows the money (uncollectible and void stay);
- each bank transaction's allocated == sum of the payments drawn on it, 0 <= allocated <= amount;
- an invoice's embedded journal_entries are exactly the journal's items with its invoice_id;
- metrics' total_outstanding and aging's total == sum of balance_due over open and partially_paid.

A refused call (4xx) changes nothing: the whole state read back equals the state before it.

``assert_invariants`` and ``snapshot`` are also used by test_receivables_races.py and
test_receivables_crashes.py."""

from __future__ import annotations

from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from helpers import Api, make_tenant
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from devstack.emulated import emulated_aws

INVOICES = "/api/v1/invoices"
TRANSACTIONS = "/api/v1/transactions"
JOURNAL = "/api/v1/journal-entries"
AR, BANK, BAD_DEBT, REVENUE = "1200", "1000", "6100", "4000"
IN_AR = ("open", "partially_paid", "manual_paid")
UNPAID = ("open", "partially_paid")


# ---------------------------------------------------------------- reading the whole state back

def all_pages(api: Api, path: str, query: str = "") -> list[dict[str, Any]]:
    """Every item of a list, following next_cursor (oldest first)."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        q = f"limit=1000&descending=false{'&' + query if query else ''}{'&cursor=' + cursor if cursor else ''}"
        reply = api.get(path, query=q)
        assert reply.status == 200, (path, reply.body)
        page = reply.json()["data"]
        items += page["items"]
        if not page["has_next"]:
            return items
        cursor = page["next_cursor"]
        assert cursor, page
    raise AssertionError(f"{path} never ended")


@dataclass
class Snapshot:
    invoices: dict[str, dict[str, Any]]
    transactions: dict[str, dict[str, Any]]
    journal: dict[str, dict[str, Any]]
    payments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # invoice id -> listed payments
    by_invoice: dict[str, list[str]] = field(default_factory=dict)  # invoice id -> GET /journal-entries?invoice_id=
    outstanding: int = 0  # metrics' total_outstanding
    aging_total: int = 0

    def comparable(self) -> dict[str, Any]:
        return {"invoices": self.invoices, "transactions": self.transactions, "journal": self.journal,
                "payments": self.payments, "by_invoice": self.by_invoice, "outstanding": self.outstanding,
                "aging": self.aging_total}


def snapshot(api: Api) -> Snapshot:
    invoices = {i["id"]: i for i in all_pages(api, INVOICES)}
    transactions = {t["id"]: t for t in all_pages(api, TRANSACTIONS)}
    journal = {e["id"]: e for e in all_pages(api, JOURNAL)}
    payments, by_invoice = {}, {}
    for invoice_id, invoice in invoices.items():
        if invoice["status"] == "draft" and not invoice["journal_entries"]:
            continue
        payments[invoice_id] = all_pages(api, f"{INVOICES}/{invoice_id}/payments")
        by_invoice[invoice_id] = [e["id"] for e in all_pages(api, JOURNAL, f"invoice_id={invoice_id}")]
    metrics = api.get(f"{INVOICES}/metrics")
    assert metrics.status == 200, metrics.body
    aging = api.get(f"{INVOICES}/aging")
    assert aging.status == 200, aging.body
    return Snapshot(invoices, transactions, journal, payments, by_invoice,
                    metrics.json()["data"]["total_outstanding"], aging.json()["data"]["totals"]["total"])


def status_for(total: int, paid: int) -> str:
    if paid <= 0:
        return "open"
    return "manual_paid" if paid >= total else "partially_paid"


def assert_invariants(api: Api, state: Snapshot | None = None) -> Snapshot:
    """Every invariant of API.md Part 2 over the business's whole state; returns the state read."""
    state = state or snapshot(api)
    ar: dict[str, int] = defaultdict(int)
    bad_debt: dict[str | None, int] = defaultdict(int)
    for entry in state.journal.values():
        debits = sum(line["debit"] for line in entry["lines"])
        credits = sum(line["credit"] for line in entry["lines"])
        assert debits == credits, ("unbalanced entry", entry)
        assert entry["total"] == debits, entry
        if entry["source"] == "manual":
            assert all(line["account_code"] != AR for line in entry["lines"]), entry
        for line in entry["lines"]:
            assert line["debit"] >= 0 and line["credit"] >= 0, entry
            if line["account_code"] == AR:
                assert line["customer_id"] == entry["customer_id"], entry
                ar[line["customer_id"]] += line["debit"] - line["credit"]
            if line["account_code"] == BAD_DEBT and entry["source"] != "manual":
                bad_debt[entry["customer_id"]] += line["debit"] - line["credit"]

    expected_ar: dict[str, int] = defaultdict(int)
    expected_bad: dict[str | None, int] = defaultdict(int)
    drawn: dict[str, int] = defaultdict(int)
    for invoice_id, invoice in state.invoices.items():
        status, total = invoice["status"], invoice["total"]
        if status in IN_AR:
            expected_ar[invoice["customer_id"]] += invoice["balance_due"]
        if status == "uncollectible":
            expected_bad[invoice["customer_id"]] += invoice["balance_due"]
        embedded = invoice["payments"]
        assert invoice["total_paid"] == sum(p["amount"] for p in embedded), invoice
        assert invoice["balance_due"] == total - invoice["total_paid"], invoice
        if status in IN_AR:
            assert status == status_for(total, invoice["total_paid"]), ("status does not follow the money", invoice)
        if status == "manual_paid":
            assert invoice["paid_on"] == max(p["paid_on"] for p in embedded), invoice
        if status == "void":
            assert invoice["total_paid"] == 0, invoice
        if status == "draft":  # no money; at most manual entries linked to it
            assert not embedded and all(e["source"] == "manual" for e in invoice["journal_entries"]), invoice
        listed = state.payments.get(invoice_id, [])
        assert sorted((p["id"], p["amount"], p["transaction_id"]) for p in listed) == sorted(
            (p["id"], p["amount"], p["transaction_id"]) for p in embedded), ("payment items != embedded", invoice_id)
        for payment in listed:
            assert payment["invoice_id"] == invoice_id and payment["amount"] > 0, payment
            assert payment["transaction"] is not None, ("payment on a missing transaction", payment)
            drawn[payment["transaction_id"]] += payment["amount"]
        # the embedded entries are exactly the journal's items of this invoice, as stored
        mine = {e_id for e_id, e in state.journal.items() if e["invoice_id"] == invoice_id}
        # (as sets: the index lists by entry id, so an older manual entry linked later sorts before
        # the entries posted between its creation and its link, where the invoice appends it)
        embedded_ids = [e["id"] for e in invoice["journal_entries"]]
        assert len(set(embedded_ids)) == len(embedded_ids), ("an entry embedded twice", invoice_id)
        assert set(embedded_ids) == mine, ("embedded entries != journal", invoice_id)
        if invoice_id in state.by_invoice:
            assert sorted(state.by_invoice[invoice_id]) == sorted(embedded_ids), ("?invoice_id= list", invoice_id)
        for entry in invoice["journal_entries"]:
            assert entry == state.journal[entry["id"]], ("embedded entry differs from its item", entry)
            assert entry["customer_id"] == invoice["customer_id"], ("entry of another customer", entry)
        finalized = [e for e in invoice["journal_entries"] if e["source"] == "invoice_finalized"]
        assert len(finalized) == (status != "draft"), ("a finalized invoice has exactly one AR entry", invoice_id)
    dangling = [e for e in state.journal.values() if e["invoice_id"] and e["invoice_id"] not in state.invoices]
    assert not dangling, ("journal entries attached to an invoice that does not exist", dangling)

    customers = set(ar) | set(expected_ar)
    assert {c: ar[c] for c in customers} == {c: expected_ar[c] for c in customers}, "AR != balance due"
    customers_bad = set(bad_debt) | set(expected_bad)
    assert {c: bad_debt[c] for c in customers_bad} == {c: expected_bad[c] for c in customers_bad}, \
        "Bad Debt != balance due of uncollectible invoices"
    bank = sum(line["debit"] - line["credit"] for e in state.journal.values() if e["source"] != "manual"
               for line in e["lines"] if line["account_code"] == BANK)
    assert bank == sum(drawn.values()), "Bank (1000) != money allocated to invoices"

    for txn_id, txn in state.transactions.items():
        assert txn["allocated"] == drawn.get(txn_id, 0), ("allocated != payments drawn on it", txn)
        assert 0 <= txn["allocated"] <= max(txn["amount"], 0), ("over-allocated", txn)
        assert txn["unallocated"] == max(txn["amount"] - txn["allocated"], 0), txn
    assert set(drawn) <= set(state.transactions), "a payment names a transaction that does not exist"

    unpaid = sum(i["balance_due"] for i in state.invoices.values() if i["status"] in UNPAID)
    assert state.outstanding == unpaid, ("metrics' total_outstanding", state.outstanding, unpaid)
    assert state.aging_total == unpaid, ("aging's total", state.aging_total, unpaid)
    return state


# ---------------------------------------------------------------- the model

@dataclass
class ModelInvoice:
    id: str
    customer: str
    total: int
    status: str
    payments: dict[str, tuple[str, int]] = field(default_factory=dict)  # payment id -> (transaction, amount)

    @property
    def paid(self) -> int:
        return sum(amount for _, amount in self.payments.values())


@dataclass
class ModelTransaction:
    id: str
    amount: int
    currency: str = "USD"
    allocated: int = 0


PAY_AMOUNTS = st.sampled_from(["random", "balance", "over_balance", "unallocated", "over_unallocated", "one"])


class Receivables(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        self.stack.enter_context(emulated_aws("invoicing-receivables"))
        self.api = Api(make_tenant())
        self.customers: list[str] = []
        self.invoices: list[ModelInvoice] = []
        self.transactions: dict[str, ModelTransaction] = {}
        self.removed: list[tuple[str, str]] = []  # (invoice, payment) pairs removed already
        self.manual: dict[str, str | None] = {}  # manual entry -> the invoice it is linked to
        self.state: Snapshot | None = None

    def teardown(self) -> None:
        self.stack.close()

    @initialize()
    def customers_exist(self) -> None:
        for n in range(3):
            reply = self.api.post("/api/v1/customers", {"name": f"Customer {n}", "email": f"c{n}@example.com"})
            assert reply.status == 201, reply.body
            self.customers.append(reply.json()["data"]["id"])
        self.state = snapshot(self.api)

    # ------------------------------------------------------------ helpers

    def invoice(self, pick: int) -> ModelInvoice:
        return self.invoices[pick % len(self.invoices)]

    def expect(self, reply: Any, status: int, code: str | None = None) -> dict[str, Any]:
        """The call answered ``status`` (and ``code``); a refused one changed nothing."""
        assert reply.status == status, (status, code, reply.status, reply.body)
        body = reply.json()
        if code is not None:
            assert body.get("code") == code, body
        if status >= 400:
            after = snapshot(self.api)
            assert self.state is not None
            assert after.comparable() == self.state.comparable(), "a refused call changed the state"
            self.state = after
            return body
        self.state = None  # read again by the invariant
        return body

    def add_transaction(self, amount: int, currency: str = "USD") -> ModelTransaction:
        reply = self.api.post(TRANSACTIONS, {"amount": amount, "currency": currency, "description": "deposit"})
        txn = ModelTransaction(self.expect(reply, 201)["data"]["id"], amount, currency)
        self.transactions[txn.id] = txn
        return txn

    # ------------------------------------------------------------ rules

    @rule(customer=st.integers(0, 2), cents=st.integers(1, 5000), quantity=st.integers(1, 3),
          finalize=st.booleans() | st.just(True))
    def create_invoice(self, customer: int, cents: int, quantity: int, finalize: bool) -> None:
        body = {"customer_id": self.customers[customer], "due_date": "2030-01-31",
                "line_items": [{"description": "Work", "unit_price": cents, "quantity": quantity}]}
        created = self.expect(self.api.post(INVOICES, body), 201)["data"]
        invoice = ModelInvoice(created["id"], created["customer_id"], created["total"], "draft")
        assert invoice.total == cents * quantity, created
        if finalize:
            opened = self.expect(self.api.post(f"{INVOICES}/{invoice.id}/finalize"), 200)["data"]
            assert opened["status"] == "open" and opened["balance_due"] == invoice.total, opened
            invoice.status = "open"
        self.invoices.append(invoice)

    @rule(customers=st.lists(st.integers(0, 2), min_size=1, max_size=4), cents=st.integers(1, 5000))
    def create_batch(self, customers: list[int], cents: int) -> None:
        """A finalizing batch (small: done before the answer): its invoices open, each with its AR entry."""
        items = [{"customer_id": self.customers[c], "due_date": "2030-01-31",
                  "line_items": [{"description": "Batch work", "unit_price": cents}]} for c in customers]
        done = self.expect(self.api.post("/api/v1/invoices/batch", {"items": items, "finalize": True}), 201)["data"]
        assert (done["status"], done["finalized"]) == ("completed", len(items)), done
        for item, customer in zip(done["items"], customers, strict=True):
            self.invoices.append(ModelInvoice(item["invoice_id"], self.customers[customer], cents, "open"))

    @rule(cents=st.integers(1, 6000), kind=st.integers(0, 9))
    def create_transaction(self, cents: int, kind: int) -> None:
        """Mostly money in, in the business's currency; sometimes money out (0) or euros (1)."""
        self.add_transaction(-cents if kind == 0 else cents, "EUR" if kind == 1 else "USD")

    @rule(cents=st.integers(1, 6000), receivable=st.integers(0, 5))
    def manual_entry(self, cents: int, receivable: int) -> None:
        """A manual entry (Dr Bank / Cr Revenue); one posting to AR is refused (422) and changes nothing."""
        credit = "1200" if receivable == 0 else REVENUE
        body = {"description": "by hand", "lines": [{"account_code": BANK, "debit": cents},
                                                     {"account_code": credit, "credit": cents}]}
        reply = self.api.post(JOURNAL, body)
        if credit == AR:
            self.expect(reply, 422)
        else:
            self.manual[self.expect(reply, 201)["data"]["id"]] = None

    @precondition(lambda self: self.manual and any(i.status != "draft" for i in self.invoices))
    @rule(pick=st.integers(0, 10**6), which=st.integers(0, 10**6))
    def link_entry(self, pick: int, which: int) -> None:
        """(Linking to a draft: test_an_entry_linked_to_a_draft_* below.)"""
        finalized = [i for i in self.invoices if i.status != "draft"]
        invoice = finalized[pick % len(finalized)]
        entry_id = sorted(self.manual)[which % len(self.manual)]
        reply = self.api.post(f"{INVOICES}/{invoice.id}/journal-entry/link", {"journal_entry_id": entry_id})
        linked = self.manual[entry_id]
        if linked is not None and linked != invoice.id:
            self.expect(reply, 409, "journal_entry_linked")
            return
        after = self.expect(reply, 201)["data"]
        assert entry_id in [e["id"] for e in after["journal_entries"]], after
        self.manual[entry_id] = invoice.id

    @precondition(lambda self: self.invoices and self.transactions)
    @rule(pick=st.integers(0, 10**6), which=st.integers(0, 10**6), how=PAY_AMOUNTS, cents=st.integers(1, 6000))
    def pay(self, pick: int, which: int, how: str, cents: int) -> None:
        invoice = self.invoice(pick)
        txns = list(self.transactions.values())
        txn = txns[which % len(txns)]
        free = max(txn.amount - txn.allocated, 0)
        amount = {"random": cents, "balance": invoice.total - invoice.paid,
                  "over_balance": invoice.total - invoice.paid + cents, "unallocated": free,
                  "over_unallocated": free + cents, "one": 1}[how]
        reply = self.api.post(f"{INVOICES}/{invoice.id}/payments", {"transaction_id": txn.id, "amount": amount})
        if amount <= 0:
            errors = self.expect(reply, 422)
            assert errors["detail"][0]["loc"] == ["body", "amount"], errors
        elif invoice.status not in UNPAID:
            self.expect(reply, 409, "invalid_status")
        elif txn.amount < 0:
            self.expect(reply, 400, "transaction_outgoing")
        elif txn.currency != "USD":
            self.expect(reply, 400, "currency_mismatch")
        elif amount > free:
            self.expect(reply, 400, "transaction_exhausted")
        else:
            payment = self.expect(reply, 201)["data"]
            assert (payment["amount"], payment["transaction_id"], payment["invoice_id"]) == (amount, txn.id, invoice.id)
            invoice.payments[payment["id"]] = (txn.id, amount)
            txn.allocated += amount
            invoice.status = status_for(invoice.total, invoice.paid)

    @precondition(lambda self: any(i.payments for i in self.invoices) or self.removed)
    @rule(pick=st.integers(0, 10**6), which=st.integers(0, 10**6), stale=st.integers(0, 7))
    def remove_payment(self, pick: int, which: int, stale: int) -> None:
        paid = [i for i in self.invoices if i.payments]
        if (stale == 0 and self.removed) or not paid:
            invoice_id, payment_id = self.removed[which % len(self.removed)]
            self.expect(self.api.delete(f"{INVOICES}/{invoice_id}/payments/{payment_id}"), 404, "payment_not_found")
            return
        invoice = paid[pick % len(paid)]
        payment_id = sorted(invoice.payments)[which % len(invoice.payments)]
        reply = self.api.delete(f"{INVOICES}/{invoice.id}/payments/{payment_id}")
        if invoice.status not in IN_AR:
            self.expect(reply, 409, "invalid_status")
            return
        assert self.expect(reply, 200)["data"] == {"id": payment_id}
        txn_id, amount = invoice.payments.pop(payment_id)
        self.transactions[txn_id].allocated -= amount
        invoice.status = status_for(invoice.total, invoice.paid)
        self.removed.append((invoice.id, payment_id))

    @precondition(lambda self: self.invoices)
    @rule(pick=st.integers(0, 10**6))
    def mark_paid(self, pick: int) -> None:
        invoice = self.invoice(pick)
        reply = self.api.put(f"{INVOICES}/{invoice.id}/paid")
        if invoice.status not in UNPAID:
            self.expect(reply, 409, "invalid_status")
            return
        after = self.expect(reply, 200)["data"]
        balance = invoice.total - invoice.paid
        assert (after["status"], after["balance_due"], after["total_paid"]) == ("manual_paid", 0, invoice.total), after
        new = [p for p in after["payments"] if p["id"] not in invoice.payments]
        assert len(new) == 1 and new[0]["amount"] == balance, after["payments"]
        invoice.payments[new[0]["id"]] = (new[0]["transaction_id"], balance)
        txn_id = new[0]["transaction_id"]
        self.transactions[txn_id] = ModelTransaction(txn_id, balance, "USD", balance)
        invoice.status = "manual_paid"

    @precondition(lambda self: self.invoices)
    @rule(pick=st.integers(0, 10**6))
    def void(self, pick: int) -> None:
        invoice = self.invoice(pick)
        reply = self.api.put(f"{INVOICES}/{invoice.id}/void")
        if invoice.payments:
            self.expect(reply, 409, "invoice_has_payments")
        elif invoice.status != "open":
            self.expect(reply, 409, "invalid_status")
        else:
            assert self.expect(reply, 200)["data"]["status"] == "void"
            invoice.status = "void"

    @precondition(lambda self: self.invoices)
    @rule(pick=st.integers(0, 10**6))
    def write_off(self, pick: int) -> None:
        invoice = self.invoice(pick)
        reply = self.api.post(f"{INVOICES}/{invoice.id}/uncollectible")
        if invoice.status not in UNPAID:
            self.expect(reply, 409, "invalid_status")
        else:
            after = self.expect(reply, 200)["data"]
            assert (after["status"], after["balance_due"]) == ("uncollectible", invoice.total - invoice.paid), after
            invoice.status = "uncollectible"

    # ------------------------------------------------------------ after every step

    @invariant()
    def everything_agrees(self) -> None:
        if not self.customers:
            return
        self.state = assert_invariants(self.api, self.state)
        # and the API agrees with the model
        for invoice in self.invoices:
            got = self.state.invoices[invoice.id]
            assert (got["status"], got["total"], got["total_paid"]) == (invoice.status, invoice.total, invoice.paid), \
                (invoice, got)
            assert {p["id"]: (p["transaction_id"], p["amount"]) for p in got["payments"]} == invoice.payments
        for txn in self.transactions.values():
            got = self.state.transactions[txn.id]
            assert (got["amount"], got["allocated"]) == (txn.amount, txn.allocated), (txn, got)
        assert set(self.state.transactions) == set(self.transactions)
        assert set(self.state.invoices) == {i.id for i in self.invoices}
        for entry_id, invoice_id in self.manual.items():
            entry = self.state.journal[entry_id]
            assert entry["invoice_id"] == invoice_id, entry
            if invoice_id:
                assert entry["customer_id"] == self.state.invoices[invoice_id]["customer_id"], entry


Receivables.TestCase.settings = settings(max_examples=15, stateful_step_count=25, deadline=None,
                                         suppress_health_check=list(HealthCheck))
TestReceivables = Receivables.TestCase


# ---------------------------------------------------------------- a manual entry and a draft

def _customer(api: Api, name: str) -> str:
    reply = api.post("/api/v1/customers", {"name": name, "email": f"{name}@example.com"})
    assert reply.status == 201, reply.body
    return str(reply.json()["data"]["id"])


def test_an_entry_cannot_be_linked_to_a_draft_which_could_vanish_or_change_customer(api: Api) -> None:
    """A draft can be deleted or given another customer; an entry linked to it would be left
    naming a missing invoice or the wrong customer. So the link waits for the invoice's finalize."""
    ada = _customer(api, "ada")
    body = {"customer_id": ada, "due_date": "2030-01-31", "line_items": [{"description": "Work", "unit_price": 1000}]}
    draft = api.post(INVOICES, body).json()["data"]["id"]
    entry = api.post(JOURNAL, {"description": "by hand", "lines": [
        {"account_code": BANK, "debit": 500}, {"account_code": REVENUE, "credit": 500}]}).json()["data"]["id"]
    refused = api.post(f"{INVOICES}/{draft}/journal-entry/link", {"journal_entry_id": entry})
    assert (refused.status, refused.json()["code"]) == (409, "invalid_status"), refused.body
    assert "draft invoice" in refused.json()["detail"]
    state = assert_invariants(api)
    assert state.journal[entry]["invoice_id"] is None
    # once finalized, it links, to the invoice's customer
    assert api.post(f"{INVOICES}/{draft}/finalize").status == 200
    linked = api.post(f"{INVOICES}/{draft}/journal-entry/link", {"journal_entry_id": entry})
    assert linked.status == 201, linked.body
    state = assert_invariants(api)
    assert (state.journal[entry]["invoice_id"], state.journal[entry]["customer_id"]) == (draft, ada)
