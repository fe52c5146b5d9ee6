"""``python -m bench``: DynamoDB calls per operation and cold import ratios, as one table.

Targets: an invoice create with any number of lines makes at most 2 DynamoDB calls and no Scan;
a list page is 1 Query + at most 1 BatchGetItem (bench/lists.py: per filter, over more than
1 MB of a business's items); an uncontended finalize 1 read + 1 transaction;
each API function's first request, cold, at most 1.3x the design's floor doing the same, and restored from
a snapshot at most 1.2x its steady request (bench/first_request.py); the import-only rows are a report.
A 1000-item batch with finalize and sweep, end to end (accept + the queue drained through the
worker), is timed against a raw BatchWriteItem of 1000 items to the same backend (target 3x),
with its SQS calls (at most one per 10 items), DynamoDB calls per item and the API handler's
peak memory (at most 128 MB); see bench/batch.py.
Aging and metrics over a business of 10,000 invoices read only its 3,000 unpaid ones' few
attributes from their sparse index: calls, items read and read units against the same invoices'
keys alone and against reading every invoice; see bench/receivables.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench import aws_calls, batch, cold_start, documents, first_request, lists, receivables, units
from devstack import gateway, runtime
from devstack.emulated import create_tenant, emulated_aws
from devstack.events import api_event


def _post(tenant: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {tenant.token}", "x-business-id": tenant.business_id,
               "Content-Type": "application/json"}
    reply = gateway.request("POST", path, headers=headers, body=json.dumps(body))
    assert reply.status in (200, 201), (path, reply.status, reply.body)
    return reply.json()["data"]  # type: ignore[no-any-return]


def _handler(tenant: Any, function: str, method: str, path: str, body: Any = None, query: str = "") -> Any:
    """Call the function alone, as API Gateway does once the authorizer's answer is cached."""
    context = {"business_id": tenant.business_id, "user_id": tenant.user_id, "role": "owner"}
    out = runtime.invoke(function, api_event(method, path, body=body, query=query, authorizer=context))
    assert out["statusCode"] < 300, out
    return json.loads(out["body"])["data"] if out.get("body") else None


@dataclass
class Operation:
    name: str
    run: Callable[[], Any]
    limit: dict[str, int]  # operation name -> most calls allowed; absent names: none allowed

    def verdict(self, calls: Counter[str]) -> bool:
        return all(n <= self.limit.get(op, 0) for op, n in calls.items())

    @property
    def target(self) -> str:
        return " + ".join(f"{n} {op}" for op, n in self.limit.items())


def _operations(tenant: Any) -> list[Operation]:
    customer = _post(tenant, "/api/v1/customers", {"name": "Bench Customer", "email": "bench@example.com"})
    product = _post(tenant, "/api/v1/inventory/products", {"name": "Bench product"})
    variants = [
        _post(tenant, "/api/v1/inventory/products/variants",
              {"product_id": product["id"], "name": f"Variant {i}", "sku": f"B-{i}", "unit_price": 100 + i})["id"]
        for i in range(150)
    ]
    location = _post(tenant, "/api/v1/inventory/locations", {"name": "Main", "code": "MAIN", "is_default": True})
    due = (date.today() + timedelta(days=30)).isoformat()
    made: list[str] = []

    def create(lines: list[dict[str, Any]]) -> Callable[[], Any]:
        body = {"customer_id": customer["id"], "line_items": lines, "due_date": due,
                "fulfillment_location_id": location["id"]}
        return lambda: made.append(_handler(tenant, "InvoicesFunction", "POST", "/api/v1/invoices", body)["id"])

    def on(index: int, method: str, action: str, query: str = "") -> Callable[[], Any]:
        return lambda: _handler(tenant, "InvoicesFunction", method, f"/api/v1/invoices/{made[index]}{action}",
                                query=query)

    create_limit = {"BatchGetItem": 1, "PutItem": 1}
    return [
        Operation("create invoice, 1 custom line", create([{"description": "Work", "unit_price": 5000}]),
                  create_limit),
        Operation("create invoice, 10 variant lines", create([{"variant_id": v, "quantity": 2} for v in variants[:10]]),
                  create_limit),
        Operation("create invoice, 250 lines / 5 variants",
                  create([{"variant_id": variants[i % 5], "location_id": location["id"]} for i in range(250)]),
                  create_limit),
        # BatchGetItem takes 100 keys: past 99 distinct variants/locations a create reads in chunks.
        Operation("create invoice, 250 lines / 150 variants",
                  create([{"variant_id": variants[i % 150]} for i in range(250)]), {"BatchGetItem": 2, "PutItem": 1}),
        Operation("finalize (uncontended)", on(1, "POST", "/finalize"), {"BatchGetItem": 1, "TransactWriteItems": 1}),
        Operation("delivered, 10 variant lines", on(1, "PUT", "/delivered", "delivered_on=2026-11-21"),
                  {"BatchGetItem": 1, "TransactWriteItems": 1}),
        Operation("delivered again (date only)", on(1, "PUT", "/delivered", "delivered_on=2026-11-22"),
                  {"BatchGetItem": 1, "PutItem": 1}),
        Operation("paid (a payment of the balance)", on(1, "PUT", "/paid"),
                  {"BatchGetItem": 1, "TransactWriteItems": 1}),
        Operation("finalize another", on(0, "POST", "/finalize"), {"BatchGetItem": 1, "TransactWriteItems": 1}),
        Operation("void (with the reversing entry)", on(0, "PUT", "/void"),
                  {"BatchGetItem": 1, "TransactWriteItems": 1}),
        Operation("update draft (new lines)", lambda: _handler(
            tenant, "InvoicesFunction", "PUT", f"/api/v1/invoices/{made[2]}",
            {"id": made[2], "line_items": [{"variant_id": variants[7], "quantity": 3}]}),
                  {"BatchGetItem": 1, "PutItem": 1}),
        Operation("delete draft", on(3, "DELETE", ""), {"GetItem": 1, "TransactWriteItems": 1}),
        Operation("get invoice", on(2, "GET", ""), {"GetItem": 1}),
        Operation("list page (created_at)", lambda: _handler(tenant, "InvoicesFunction", "GET", "/api/v1/invoices",
                                                             query="limit=2"), {"Query": 1, "BatchGetItem": 1}),
        Operation("list page (total, status + search filters)", lambda: _handler(
            tenant, "InvoicesFunction", "GET", "/api/v1/invoices",
            query="sort_by=total&status=open&status=manual_paid&search=bench"), {"Query": 1, "BatchGetItem": 1}),
        *_receivables(tenant, create([{"description": "Work", "unit_price": 5000}]), made, on),
    ]


def _receivables(tenant: Any, create: Callable[[], Any], made: list[str],
                 on: Callable[..., Callable[[], Any]]) -> list[Operation]:
    """A payment, its removal and a write-off: each one read and one transaction."""
    txn = _post(tenant, "/api/v1/transactions", {"amount": 100_000, "description": "Bench deposit"})
    paid: list[str] = []

    def receivables(method: str, path: str, body: Any = None) -> Any:
        return _handler(tenant, "ReceivablesFunction", method, f"/api/v1/invoices/{made[-1]}{path}", body)

    one_read_one_transaction = {"BatchGetItem": 1, "TransactWriteItems": 1}
    return [
        Operation("create invoice to collect", create, {"BatchGetItem": 1, "PutItem": 1}),
        Operation("finalize it (with its AR entry)", lambda: on(len(made) - 1, "POST", "/finalize")(),
                  one_read_one_transaction),
        Operation("payment (partial)", lambda: paid.append(receivables(
            "POST", "/payments", {"transaction_id": txn["id"], "amount": 1000})["id"]), one_read_one_transaction),
        Operation("delete payment", lambda: receivables("DELETE", f"/payments/{paid[0]}"), one_read_one_transaction),
        Operation("write-off", lambda: receivables("POST", "/uncollectible"), one_read_one_transaction),
    ]


# The operations whose units the bench reports: on DynamoDB Local, which sizes reads (bench/units.py).
PRICED = ("create invoice, 10 variant lines", "finalize (uncontended)", "payment (partial)", "get invoice",
          "list page (created_at)", "void (with the reversing entry)")


def dynamodb_calls() -> list[tuple[Operation, Counter[str], Counter[str]]]:
    """Each operation: its calls, and its read and write units (bench/units.py)."""
    from invoicing.storage.table import client

    with emulated_aws("bench"):
        tenant = create_tenant()
        rows = []
        for operation in _operations(tenant):
            with aws_calls.counting(client()) as calls, units.writes(client()) as spent:
                operation.run()
            rows.append((operation, calls, spent))
        return rows


@contextlib.contextmanager
def _on_dynamodb_local(endpoint: str) -> Iterator[None]:
    os.environ["DYNAMODB_LOCAL_ENDPOINT"] = endpoint
    try:
        yield
    finally:
        del os.environ["DYNAMODB_LOCAL_ENDPOINT"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="cold-start samples per function (default 7)")
    parser.add_argument("--batch-items", type=int, default=batch.ITEMS,
                        help=f"items of the batch benchmark (default {batch.ITEMS}; 0 skips it)")
    parser.add_argument("--batch-rounds", type=int, default=batch.ROUNDS,
                        help=f"rounds of the batch benchmark, the median reported (default {batch.ROUNDS})")
    parser.add_argument("--receivables-invoices", type=int, default=receivables.INVOICES,
                        help=f"invoices of the aging/metrics benchmark's business (default {receivables.INVOICES:,}; "
                             "0 skips it)")
    parser.add_argument("--dynamodb-local", metavar="URL",
                        help="also run the batch benchmark with DynamoDB on this DynamoDB Local endpoint")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (as in README.md)")
    args = parser.parse_args(argv)

    # The functions run in process: their metrics (CloudWatch EMF lines, which Lambda would ship to
    # CloudWatch) are printed to stdout. Only the table belongs there.
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        rows = _measure(args)
    _print(rows, markdown=args.markdown)
    return 0


def _measure(args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for operation, calls, _ in dynamodb_calls():
        detail = " + ".join(f"{n} {op}" for op, n in sorted(calls.items()))
        rows.append((operation.name, f"{sum(calls.values())} DynamoDB calls: {detail}", f"<= {operation.target}",
                     "ok" if operation.verdict(calls) else "MISS"))
    rows += lists.measure()
    if args.receivables_invoices:
        rows += receivables.measure(args.receivables_invoices).rows()
    if args.batch_items:
        rows += batch.measure(args.batch_items, args.batch_rounds).rows()
    if args.dynamodb_local:
        with _on_dynamodb_local(args.dynamodb_local):
            rows += [(f"units: {operation.name} (DynamoDB Local)",
                      f"{spent['read']:g} read + {spent['write']:g} write units", "report", "")
                     for operation, _, spent in dynamodb_calls() if operation.name in PRICED]
            if args.batch_items:
                rows += [row for row in batch.measure(args.batch_items, args.batch_rounds).rows()
                         if "SQS calls" not in row[0]]
    rows += documents.rows(max(args.rounds, 3))
    rows += first_request.rows(first_request.measure(args.rounds))
    for function, base, mine, ratio in cold_start.measure(args.rounds):  # a report: what a caller waits for is above
        rows.append((f"cold import {function}", f"{ratio:.2f}x ({mine * 1000:.0f} ms vs {base * 1000:.0f} ms)",
                     "report", ""))
    return rows


def _print(rows: list[tuple[str, str, str, str]], *, markdown: bool) -> None:
    header = ("measure", "result", "target", "")
    if markdown:
        print("\n".join(f"| {' | '.join(row)} |" for row in [header, ("---",) * 4, *rows]))
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))


if __name__ == "__main__":
    sys.exit(main())
