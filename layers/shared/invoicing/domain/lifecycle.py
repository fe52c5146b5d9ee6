"""Invoice status transitions, as one table, and the numbering format."""

from __future__ import annotations

from typing import Literal

from invoicing.errors import Conflict

Action = Literal["finalize", "void", "paid", "pay", "remove_payment", "write_off", "link_entry", "deliver",
                 "edit_lines", "edit_terms", "delete"]

PAID = frozenset({"manual_paid", "stripe_paid"})
FROZEN = PAID | {"void"}

# action -> {from status: to status}. An action absent for a status is a 409.
TRANSITIONS: dict[Action, dict[str, str]] = {
    "finalize": {"draft": "open"},
    "void": {"open": "void"},
    "paid": {"open": "manual_paid", "partially_paid": "manual_paid"},
    # a payment's or its removal's status follows the money (domain.ledger.status_for)
    "pay": {"open": "open", "partially_paid": "partially_paid"},
    "remove_payment": {"open": "open", "partially_paid": "partially_paid", "manual_paid": "manual_paid"},
    "write_off": {"open": "uncollectible", "partially_paid": "uncollectible"},
    # a draft can still be deleted or change customer: an entry attaches to finalized invoices only
    "link_entry": {s: s for s in ("open", "partially_paid", "manual_paid", "stripe_paid", "void", "uncollectible")},
    "deliver": {s: s for s in ("open", "partially_paid", "manual_paid", "stripe_paid", "uncollectible")},
    "edit_lines": {"draft": "draft"},  # customer_id and line_items
    "edit_terms": {s: s for s in ("draft", "open", "partially_paid", "uncollectible")},  # due date, description...
    "delete": {"draft": "draft"},
}

_VERBS: dict[Action, str] = {
    "finalize": "finalized",
    "void": "voided",
    "paid": "marked paid",
    "pay": "paid",
    "remove_payment": "given back a payment",
    "write_off": "written off",
    "link_entry": "given a journal entry",
    "deliver": "marked delivered",
    "edit_lines": "given a new customer or line items",
    "edit_terms": "changed",
    "delete": "deleted",
}


def allowed_from(action: Action) -> frozenset[str]:
    return frozenset(TRANSITIONS[action])


def transition(action: Action, status: str) -> str:
    """The status after ``action``, or a 409 saying which state the invoice is in."""
    target = TRANSITIONS[action].get(status)
    if target is None:
        allowed = ", ".join(sorted(TRANSITIONS[action]))
        raise Conflict(f"A {status} invoice cannot be {_VERBS[action]} (allowed from: {allowed})",
                       code="invalid_status")
    return target


def invoice_number(sequence: int) -> str:
    """INV-001, INV-002, ..., INV-999, INV-1000: at least three digits."""
    if sequence < 1:
        raise ValueError("invoice numbers start at 1")
    return f"INV-{sequence:03d}"
