"""Aging and metrics from the unpaid invoices (pure): buckets by days past due, per customer and
currency, in the business's calendar (``as_of`` is a date there)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from invoicing.domain.ledger import bucket

_ROW_FIELD = {"current": "current", "1_30": "days_1_30", "31_60": "days_31_60", "61_90": "days_61_90",
              "91_plus": "days_91_plus"}


def _row(customer_id: str | None, customer_name: str | None, currency: str) -> dict[str, Any]:
    return {"customer_id": customer_id, "customer_name": customer_name, "currency": currency,
            **dict.fromkeys(_ROW_FIELD.values(), 0), "total": 0}


def _add(row: dict[str, Any], where: str, amount: int) -> None:
    row[_ROW_FIELD[where]] += amount
    row["total"] += amount


def aging(unpaid: Iterable[Mapping[str, Any]], as_of: date, currency: str) -> dict[str, Any]:
    """The aging report of ``unpaid`` (open and partially paid invoices) on ``as_of``."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    totals: dict[str, dict[str, Any]] = {}
    invoices = []
    for inv in sorted(unpaid, key=lambda i: (i["due_date"], i["id"])):
        days = (as_of - date.fromisoformat(inv["due_date"])).days
        where = bucket(days)
        cur = inv["currency"]
        row = rows.setdefault((inv["customer_id"], cur), _row(inv["customer_id"], inv.get("customer_name"), cur))
        _add(row, where, int(inv["balance_due"]))
        _add(totals.setdefault(cur, _row(None, None, cur)), where, int(inv["balance_due"]))
        invoices.append({"id": inv["id"], "invoice_number": inv.get("number"), "customer_id": inv["customer_id"],
                         "customer_name": inv.get("customer_name"), "status": inv["status"], "currency": cur,
                         "total": int(inv["total"]), "total_paid": int(inv["total_paid"]),
                         "balance_due": int(inv["balance_due"]), "due_date": inv["due_date"],
                         "days_past_due": max(days, 0), "bucket": where})
    return {
        "as_of_date": as_of.isoformat(),
        "customers": sorted(rows.values(), key=lambda r: (r["customer_name"] or "", r["customer_id"], r["currency"])),
        "invoices": invoices,
        "totals": totals.get(currency, _row(None, None, currency)),
        "totals_by_currency": [totals[c] for c in sorted(totals)],
    }


def metrics(unpaid: Iterable[Mapping[str, Any]], today: date, currency: str) -> dict[str, Any]:
    """Outstanding and overdue (due before ``today``) balance per currency."""
    per: dict[str, dict[str, Any]] = {}
    for inv in unpaid:
        m = per.setdefault(inv["currency"], {"currency": inv["currency"], "total_outstanding": 0, "total_overdue": 0})
        m["total_outstanding"] += int(inv["balance_due"])
        if date.fromisoformat(inv["due_date"]) < today:
            m["total_overdue"] += int(inv["balance_due"])
    mine = per.get(currency, {"total_outstanding": 0, "total_overdue": 0})
    return {"as_of_date": today.isoformat(), "currency": currency, "total_outstanding": mine["total_outstanding"],
            "total_overdue": mine["total_overdue"], "by_currency": [per[c] for c in sorted(per)]}
