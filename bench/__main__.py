"""``python -m bench``: DynamoDB calls per operation and cold import ratios, as one table.

Targets (issue 2): an invoice create with any number of lines makes at most 2 DynamoDB calls
and no Scan; each function's cold import is at most 1.3x a bare Powertools resolver + boto3.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import date, timedelta
from typing import Any

from bench import aws_calls, cold_start
from devstack import gateway, runtime
from devstack.emulated import create_tenant, emulated_aws
from devstack.events import api_event


def _post(tenant: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {tenant.token}", "x-business-id": tenant.business_id,
               "Content-Type": "application/json"}
    reply = gateway.request("POST", path, headers=headers, body=json.dumps(body))
    assert reply.status in (200, 201), (path, reply.status, reply.body)
    return reply.json()["data"]  # type: ignore[no-any-return]


def _handler(tenant: Any, function: str, method: str, path: str, body: Any = None) -> dict[str, Any]:
    """Call the function alone, as API Gateway does once the authorizer's answer is cached."""
    context = {"business_id": tenant.business_id, "user_id": tenant.user_id, "role": "owner"}
    out = runtime.invoke(function, api_event(method, path, body=body, authorizer=context))
    assert out["statusCode"] < 300, out
    return json.loads(out["body"])["data"]  # type: ignore[no-any-return]


def _create_operations(tenant: Any) -> dict[str, Any]:
    customer = _post(tenant, "/api/v1/customers", {"name": "Bench Customer", "email": "bench@example.com"})
    product = _post(tenant, "/api/v1/inventory/products", {"name": "Bench product"})
    variants = [
        _post(tenant, "/api/v1/inventory/products/variants",
              {"product_id": product["id"], "name": f"Variant {i}", "sku": f"B-{i}", "unit_price": 100 + i})["id"]
        for i in range(150)
    ]
    location = _post(tenant, "/api/v1/inventory/locations", {"name": "Main", "code": "MAIN", "is_default": True})
    due = (date.today() + timedelta(days=30)).isoformat()

    def create(lines: list[dict[str, Any]]) -> Any:
        body = {"customer_id": customer["id"], "line_items": lines, "due_date": due,
                "fulfillment_location_id": location["id"]}
        return lambda: _handler(tenant, "InvoicesFunction", "POST", "/api/v1/invoices", body)

    return {
        "create invoice, 1 custom line": create([{"description": "Work", "unit_price": 5000}]),
        "create invoice, 10 variant lines": create([{"variant_id": v, "quantity": 2} for v in variants[:10]]),
        "create invoice, 250 lines / 5 variants": create(
            [{"variant_id": variants[i % 5], "location_id": location["id"]} for i in range(250)]),
        "create invoice, 250 lines / 150 variants": create([{"variant_id": variants[i % 150]} for i in range(250)]),
    }


def dynamodb_calls() -> list[tuple[str, Counter[str]]]:
    from invoicing.storage.table import client

    with emulated_aws("bench"):
        tenant = create_tenant()
        operations = _create_operations(tenant)
        return aws_calls.measure(operations, client())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="cold-start samples per function (default 7)")
    args = parser.parse_args(argv)

    rows: list[tuple[str, str, str, str]] = []
    for name, calls in dynamodb_calls():
        total = sum(calls.values())
        detail = ", ".join(f"{op} {n}" for op, n in sorted(calls.items()))
        # BatchGetItem takes 100 keys: past 99 distinct variants/locations a create reads in chunks.
        limit = 3 if "150 variants" in name else 2
        ok = total <= limit and "Scan" not in calls
        rows.append((name, f"{total} DynamoDB calls ({detail})", f"<= {limit}, no Scan", "ok" if ok else "MISS"))
    for function, base, mine, ratio in cold_start.measure(args.rounds):
        rows.append((f"cold import {function}", f"{ratio:.2f}x ({mine * 1000:.0f} ms vs {base * 1000:.0f} ms)",
                     "<= 1.30x", "ok" if ratio <= 1.3 else "MISS"))

    widths = [max(len(r[i]) for r in [("measure", "result", "target", ""), *rows]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format("measure", "result", "target", ""))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
