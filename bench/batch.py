"""The batch benchmark: a 1000-item batch with finalize and a delayed-charge sweep, end to end
(the API function accepts it, the local SQS event source mapping drains the queue through the
worker function), timed against a raw BatchWriteItem of as many invoice-sized items to the same
backend in the same run; SQS and DynamoDB calls; the API handler's peak memory against the peak
of only decoding the same request body.

For scale, the same invoices written with TransactWriteItems, 10 per call (what writing each
invoice exactly once, in a transaction, costs at the least) are timed against the raw write too.
Timings on these machines vary by a fifth from run to run: the batch is run in ``ROUNDS``
rounds, each on a fresh backend and against its own raw write, and the median round is shown
with every round's ratio.

Same code path as the local stack (handlers invoked in process, moto's SQS, the poller); the
backend is moto's in-process DynamoDB, or DynamoDB Local with ``DYNAMODB_LOCAL_ENDPOINT``.
"""

from __future__ import annotations

import gc
import json
import math
import os
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from bench import aws_calls, units
from devstack import runtime
from devstack.emulated import Tenant, create_tenant, emulated_aws
from devstack.events import api_event
from devstack.sqs_poller import SqsPoller

ITEMS = 1000
CUSTOMERS = 200  # each with a pending charge and a pending credit, swept by its first item
LINES = 3
MEMORY_TARGET_MB = 128
TIME_TARGET = 3.0
UNITS_TARGET = 2.5  # transactional writes cost twice a plain one: near the floor
ROUNDS = 3


@dataclass
class Result:
    items: int
    backend: str
    raw_seconds: float
    transact_seconds: float
    accept_seconds: float
    drain_seconds: float
    sqs_calls: Counter[str]
    dynamodb_calls: Counter[str]
    peak_mb: float
    decode_mb: float
    status: str  # the batch's, once drained: "completed" when every item is done and none failed
    outcome: str  # "1000 finalized, 0 failed"
    seconds: Counter[str]  # inside each AWS operation, end to end ("SQS " before SQS's)
    units: Counter[str]  # read and write units the batch consumed, end to end (bench/units.py)
    raw_write_units: float  # the raw BatchWriteItem's
    ratios: tuple[float, ...] = ()  # every round's ratio, when this is the median round of several

    @property
    def end_to_end(self) -> float:
        return self.accept_seconds + self.drain_seconds

    @property
    def ratio(self) -> float:
        return self.end_to_end / self.raw_seconds

    def rows(self) -> list[tuple[str, str, str, str]]:
        n = self.items
        per_item = sum(self.dynamodb_calls.values()) / n
        detail = ", ".join(f"{op} {count / n:.2f}" for op, count in self.dynamodb_calls.most_common())
        sends = self.sqs_calls["SendMessageBatch"]
        return [
            (f"batch of {n}, finalize + sweep, end to end ({self.backend})",
             f"{self.ratio:.1f}x raw{self._spread()} ({self.end_to_end:.2f} s = accept {self.accept_seconds:.2f} s + "
             f"queue {self.drain_seconds:.2f} s; raw BatchWriteItem of {n} items {self.raw_seconds:.2f} s); "
             f"{self.status}, {self.outcome}",
             f"<= {TIME_TARGET:.0f}x", "ok" if self.ratio <= TIME_TARGET and self.status == "completed" else "MISS"),
            (f"batch of {n}: API SQS calls", f"{sends} SendMessageBatch", f"<= {math.ceil(n / 10)}",
             "ok" if sends <= math.ceil(n / 10) and set(self.sqs_calls) == {"SendMessageBatch"} else "MISS"),
            (f"batch of {n}: the same invoices by TransactWriteItems, 10 per call ({self.backend})",
             f"{self.transact_seconds / self.raw_seconds:.1f}x raw ({self.transact_seconds:.2f} s)", "report", ""),
            (f"batch of {n}: DynamoDB calls per item", f"{per_item:.2f} ({detail})", "report", ""),
            (f"batch of {n}: where the end to end time goes ({self.backend})", self._where(), "report", ""),
            *self._capacity(),
            (f"batch of {n}: API handler peak memory",
             f"{self.peak_mb / self.decode_mb:.1f}x decoding the request alone ({self.peak_mb:.1f} MB vs "
             f"{self.decode_mb:.1f} MB, tracemalloc)",
             f"<= {MEMORY_TARGET_MB} MB", "ok" if self.peak_mb <= MEMORY_TARGET_MB else "MISS"),
        ]


    def _capacity(self) -> list[tuple[str, str, str, str]]:
        """Write units (computed alike on both backends, bench/units.py); reads where they are sized."""
        ratio = self.units["write"] / self.raw_write_units
        reads = f" + {self.units['read'] / self.items:.1f} read" if self.backend == "DynamoDB Local" else ""
        kinds = sorted(((n, k.removeprefix("write ")) for k, n in self.units.items() if k.startswith("write ")),
                       reverse=True)
        where = ", ".join(f"{kind} {n / self.items:.1f}" for n, kind in kinds)
        return [(f"batch of {self.items}: write units against a raw BatchWriteItem ({self.backend})",
                 f"{ratio:.2f}x ({self.units['write']:,.0f} vs {self.raw_write_units:,.0f}; per item "
                 f"{self.units['write'] / self.items:.1f} write{reads} units; writes by item: {where})",
                 f"<= {UNITS_TARGET:.1f}x", "ok" if ratio <= UNITS_TARGET else "MISS")]

    def _spread(self) -> str:
        if len(self.ratios) < 2:
            return ""
        return f", the median of {len(self.ratios)} rounds: {', '.join(f'{r:.1f}x' for r in sorted(self.ratios))}"

    def _where(self) -> str:
        inside = sum(self.seconds.values())
        parts = [f"{op} {s / self.raw_seconds:.1f}x" for op, s in self.seconds.most_common() if s >= 0.01]
        rest = self.end_to_end - inside
        return (f"in raw-write units: {', '.join(parts)}; the rest (the functions' own Python: validation, "
                f"pricing, models, logs) {rest / self.raw_seconds:.1f}x")


def _accept(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    """The API function alone, as API Gateway calls it once the authorizer's answer is cached."""
    context = {"business_id": tenant.business_id, "user_id": tenant.user_id, "role": "owner"}
    event = api_event("POST", "/api/v1/invoices/batch", body=body, authorizer=context)
    out = runtime.invoke("BatchFunction", event)
    assert out["statusCode"] == 201, out["body"][:500]
    return json.loads(out["body"])["data"]  # type: ignore[no-any-return]


def _business(items: int) -> tuple[Tenant, dict[str, Any], list[dict[str, Any]]]:
    """A business with customers (each owing a charge and holding a credit), a variant, and a
    batch request over them; also the invoice-sized items of the raw write."""
    from invoicing.operations import customers, delayed_charges, inventory
    from invoicing.schemas.customers import CustomerCreate
    from invoicing.schemas.delayed_charges import DelayedChargeCreate
    from invoicing.schemas.inventory import ProductCreate, VariantCreate

    tenant = create_tenant()
    product = inventory.create_product(tenant.business_id, ProductCreate(name="Bench product"))
    variant = inventory.create_variant(tenant.business_id, VariantCreate(product_id=product.id, name="Bench variant",
                                                                         sku="BENCH-1", unit_price=1250))
    people = [customers.create_customer(tenant.business_id,
                                        CustomerCreate(name=f"Customer {i}", email=f"c{i}@example.com")).id
              for i in range(CUSTOMERS)]
    for customer_id in people:
        delayed_charges.create_delayed_charge(tenant.business_id, DelayedChargeCreate(
            customer_id=customer_id, amount=700, description="Extra delivery"))
        delayed_charges.create_delayed_charge(tenant.business_id, DelayedChargeCreate(
            customer_id=customer_id, amount=200, description="Goodwill credit", type="credit"))
    due = (date.today() + timedelta(days=30)).isoformat()
    lines = [{"variant_id": variant.id, "quantity": 2}, *({"description": f"Service {j}", "unit_price": 1000 + j}
                                                          for j in range(LINES - 1))]
    body = {"items": [{"customer_id": people[i % CUSTOMERS], "line_items": lines, "due_date": due,
                       "description": f"Bench item {i}"} for i in range(items)],
            "include_delayed_charges": True, "finalize": True}
    return tenant, body, people


def _raw_writes(items: int, like: dict[str, Any]) -> tuple[float, float, float]:
    """``items`` copies of an invoice as stored, written with BatchWriteItem (25 per call), then
    again (other keys) with TransactWriteItems (10 per call); each timed, and the first one's
    write units."""
    from invoicing.batches import records as batch_records
    from invoicing.domain.models import Invoice
    from invoicing.storage import invoices, keys, table, transactions

    invoice = Invoice.model_validate(like)
    records = []
    for i in range(items):
        record = invoices.item_of(invoice.model_copy(update={"id": f"raw-{i:05d}"}), version=1)
        record[keys.SK] = f"RAW#{i:05d}"
        records.append(record)
    with units.writes(table.client()) as spent:
        start = time.perf_counter()
        batch_records.write_new(records)
        raw = time.perf_counter() - start
    for record in records:
        record[keys.SK] = f"TRANSACT#{record[keys.SK]}"
    start = time.perf_counter()
    for first in range(0, items, 10):
        transactions.transact([transactions.put(r) for r in records[first:first + 10]])
    return raw, time.perf_counter() - start, spent["write"]


def _peak(call: Any) -> float:
    """The peak of what ``call()`` allocates, in MB."""
    gc.collect()
    tracemalloc.start()
    try:
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _peak_memory(items: int) -> tuple[float, float]:
    """The API handler's peak allocation while accepting ``items`` items (its own backend, so the
    batch is never drained: only acceptance is measured), and the peak of decoding its body."""
    with emulated_aws("bench-memory"):
        tenant, body, _ = _business(items)
        _accept(tenant, {"items": body["items"][:1]})  # warm: imports and clients are not the batch's
        encoded = json.dumps(body)
        return _peak(lambda: _accept(tenant, body)), _peak(lambda: json.loads(encoded))


def measure(items: int = ITEMS, rounds: int = ROUNDS) -> Result:
    """The median round of ``rounds`` (by ratio; this machine's timings vary run to run), each
    round on a fresh backend; the peak memory is measured once."""
    peak, decode = _peak_memory(items)
    results = sorted((_round(items, peak, decode) for _ in range(rounds)), key=lambda result: result.ratio)
    return replace(results[len(results) // 2], ratios=tuple(result.ratio for result in results))


def _round(items: int, peak: float, decode: float) -> Result:
    from invoicing.storage import queue
    from invoicing.storage.table import client

    with emulated_aws("bench-batch"):
        backend = "DynamoDB Local" if os.environ.get("DYNAMODB_LOCAL_ENDPOINT") else "moto"
        tenant, body, _ = _business(items)
        poller = SqsPoller()
        _accept(tenant, {"items": body["items"][:1]})  # warm
        poller.drain()
        with (aws_calls.timing(client()) as seconds, aws_calls.timing(queue.client()) as api_sqs_seconds,
              aws_calls.timing(poller.sqs) as poller_sqs_seconds):
            with (aws_calls.counting(client()) as dynamodb, aws_calls.counting(queue.client()) as sqs,
                  units.writes(client()) as consumed):
                start = time.perf_counter()
                accepted = _accept(tenant, body)
                accept_seconds = time.perf_counter() - start
                api_sqs = Counter(sqs)
            with aws_calls.counting(client()) as more, units.writes(client()) as more_consumed:
                start = time.perf_counter()
                poller.drain()
                drain_seconds = time.perf_counter() - start
        consumed.update(more_consumed)
        dynamodb.update(more)
        for op, spent in (api_sqs_seconds + poller_sqs_seconds).items():
            seconds[f"SQS {op}"] += spent
        from invoicing.batches import accept
        from invoicing.operations import invoices

        done = accept.get_batch(tenant.business_id, accepted["batch_id"])
        like = invoices.get_invoice(tenant.business_id, done.items[0].invoice_id).model_dump()
        raw, transact, raw_units = _raw_writes(items, like)
    return Result(items, backend, raw, transact, accept_seconds, drain_seconds, api_sqs, dynamodb, peak, decode,
                  done.status, f"{done.finalized} finalized, {done.failed} failed", seconds, consumed, raw_units)
