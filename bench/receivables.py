"""What aging and metrics read: a business of ``INVOICES`` finalized invoices, ``UNPAID_SHARE`` of
them open or partially paid (due over the last 120 days and the next 30), the rest paid. The two
reports read the sparse GSI6 (only the unpaid invoices, only ``UNPAID_ATTRIBUTES``), never the
business: their DynamoDB calls, index entries read (the Queries' ``ScannedCount``) and read
capacity, against two baselines from the same run:

- the same unpaid invoices' keys alone (PK, SK, GSI6PK, GSI6SK: what a KEYS_ONLY index would read;
  the least any read of these invoices costs);
- every invoice item of the business, whole (what a report Querying the business's invoices,
  without the index, would read).

Read units follow DynamoDB's published rules (``item_size``, ``paged_units``): per Query (1 MB of
items), the items' sizes summed and rounded up to 4 KB, one unit per 4 KB strongly consistent,
half that eventually consistent (a GSI read always is); BatchGetItem rounds each item up to 4 KB.
DynamoDB reports them itself (``ReturnConsumedCapacity``); the backend is asked first
(``_backend_sizes``), and moto answers a flat 1 unit a Query whatever it read, so on moto they are
computed from the items the calls returned, and the row says which. moto also cuts a Query's
1 MB pages by the whole table item's size, not the index entry's: the row shows the Queries moto
made and, where they differ, the ones DynamoDB would.

The invoices are written straight into the table (BatchWriteItem of ``storage.invoices.item_of``
items, as the service writes them: lines, AR entry, payments), not through the API.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bench import aws_calls
from bench.units import item_size
from devstack.emulated import create_tenant, emulated_aws

INVOICES = 10_000
UNPAID_SHARE = 0.3
CUSTOMERS = 100
LINES = 3
PAGE_BYTES = 1024 * 1024  # a Query answers at most 1 MB of items a call
UNIT_BYTES = 4096  # one read unit: 4 KB strongly consistent, 8 KB eventually consistent


def query_units(sizes: list[int], *, consistent: bool = False) -> float:
    """One Query page: its items' sizes summed, rounded up to 4 KB."""
    units = math.ceil(sum(sizes) / UNIT_BYTES)
    return units if consistent else units / 2


def paged_units(sizes: list[int], *, consistent: bool = False) -> tuple[int, float]:
    """Queries and read units to read items of these sizes in order, 1 MB a Query."""
    pages: list[list[int]] = [[]]
    for size in sizes:
        if pages[-1] and sum(pages[-1]) + size > PAGE_BYTES:
            pages.append([])
        pages[-1].append(size)
    return len(pages), sum(query_units(page, consistent=consistent) for page in pages)


@dataclass
class Reads:
    """What a block's DynamoDB calls read: the Queries' items (as answered) and ``ScannedCount``,
    BatchGetItem's read units (computed), and the read units the backend reported."""

    scanned: int = 0
    queried: list[dict[str, Any]] = field(default_factory=list)
    consistent: bool = False  # a Query asked for ConsistentRead (a GSI's cannot)
    lookups: float = 0.0
    reported: float = 0.0

    def query_units(self) -> tuple[int, float]:
        """The Queries DynamoDB would make for these items (1 MB of them each; moto pages by the
        whole table item instead) and their read units."""
        return paged_units([item_size(i) for i in self.queried], consistent=self.consistent)


@contextmanager
def reads(client: Any) -> Iterator[Reads]:
    """Each Query and BatchGetItem asks for its consumed capacity (``ReturnConsumedCapacity``,
    added to the service's own calls); read units are also computed from what each answered."""
    seen = Reads()

    def ask(params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = params

    def query(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        items = parsed.get("Items", [])
        seen.scanned += int(parsed.get("ScannedCount", len(items)))
        seen.queried.extend(items)
        seen.consistent |= bool(context.get("bench_params", {}).get("ConsistentRead"))
        seen.reported += float(parsed.get("ConsumedCapacity", {}).get("CapacityUnits", 0))

    def batch_get(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        asked = context.get("bench_params", {}).get("RequestItems", {})
        for table, items in parsed.get("Responses", {}).items():
            consistent = bool(asked.get(table, {}).get("ConsistentRead"))
            seen.lookups += sum(math.ceil(item_size(i) / UNIT_BYTES) * (1 if consistent else 0.5) for i in items)
        seen.reported += sum(float(c.get("CapacityUnits", 0)) for c in parsed.get("ConsumedCapacity", []))

    hooks = [("provide-client-params.dynamodb.Query", ask), ("provide-client-params.dynamodb.BatchGetItem", ask),
             ("before-parameter-build.dynamodb.*", remember), ("after-call.dynamodb.Query", query),
             ("after-call.dynamodb.BatchGetItem", batch_get)]
    for event, hook in hooks:
        client.meta.events.register(event, hook)
    try:
        yield seen
    finally:
        for event, hook in hooks:
            client.meta.events.unregister(event, hook)


# The business.

def _invoices(business_id: str, count: int, today: date, currency: str) -> Iterator[tuple[Any, int]]:
    """(invoice, number sequence): every ``1 / UNPAID_SHARE``-th-ish one open or partially paid
    (due over the last 120 days and the next 30), the others paid in full."""
    from invoicing.domain import ledger
    from invoicing.domain.ids import uuid7
    from invoicing.domain.lifecycle import invoice_number
    from invoicing.domain.models import Invoice, LineItem, Payment

    unpaid = round(count * UNPAID_SHARE)
    now = f"{today.isoformat()}T09:00:00Z"
    u = 0
    for n in range(count):
        is_unpaid = u < unpaid and (n * unpaid) // count >= u  # spread through the business's invoices
        if is_unpaid:
            due = today + timedelta(days=-120 + (u * 151) // max(unpaid, 1))
            u += 1
        else:
            due = today - timedelta(days=30 + n % 300)
        issued = due - timedelta(days=30)
        customer = n % CUSTOMERS
        lines = [LineItem(id=uuid7(), description=f"Service {i + 1} of invoice {n + 1}", quantity=1 + i,
                          unit_price=2500 + 100 * (n % 7), amount=(1 + i) * (2500 + 100 * (n % 7)))
                 for i in range(LINES)]
        total = sum(line.amount for line in lines)
        sequence = n + 1
        invoice = Invoice(
            id=uuid7(), business_id=business_id, created_at=now, updated_at=now, status="open", currency=currency,
            total=total, balance_due=total, customer_id=f"{customer:08d}-0000-7000-8000-000000000000",
            customer_name=f"Customer {customer}", customer_email=f"customer{customer}@example.com",
            issue_date=issued.isoformat(), due_date=due.isoformat(), line_items=lines,
            number=invoice_number(sequence))
        invoice = invoice.model_copy(update={
            "journal_entries": [ledger.finalized(invoice, entry_id=uuid7(), now=now)]})
        paying = 0 if is_unpaid and u % 3 else (total // 2 if is_unpaid else total)  # a third partially paid
        if paying:
            payment = Payment(id=uuid7(), business_id=business_id, invoice_id=invoice.id, transaction_id=uuid7(),
                              amount=paying, currency=currency, paid_on=today.isoformat(), created_at=now,
                              updated_at=now)
            invoice = ledger.with_money(invoice, payments=[payment], now=now,
                                        entry=ledger.paid(invoice, payment, entry_id=uuid7(), now=now))
        yield invoice, sequence


def _write(items: list[dict[str, Any]]) -> None:
    """BatchWriteItem, 25 items a call (botocore's parameter validation off: the items are
    ``serialize``'s, and validating 10,000 invoices' nested lines takes longer than moto's write)."""
    import boto3
    from botocore.config import Config

    from invoicing.storage.table import table_name

    writer = boto3.client("dynamodb", config=Config(parameter_validation=False))
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {table_name(): [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while pending:
            pending = writer.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


@contextmanager
def _moto_projects_once() -> Iterator[None]:
    """moto's ``Item.project`` as moto has it, but, for top-level attribute names (an index's
    projection), converting the item to plain JSON once rather than once per projected attribute
    (14 times a GSI6 entry: a minute of a 10,000-invoice run). The answers are the same; only
    moto's time changes, and only inside this block."""
    try:
        from moto.dynamodb.models import dynamo_type
    except ImportError:  # pragma: no cover - not on moto
        yield
        return
    original = dynamo_type.Item.project

    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        if any(len(expr) != 1 or "[" in expr[0] for expr in projection_expressions):
            return original(self, projection_expressions)  # nested paths: moto's own, unchanged
        result: dict[str, Any] = {}
        regular = self.to_regular_json()
        for expr in projection_expressions:
            dynamo_type.merge_dicts(result, dynamo_type.find_nested_key(expr, regular))
        return dynamo_type.Item(hash_key=self.hash_key, range_key=self.range_key,
                                attrs=dict(dynamo_type.serializer.serialize(result)["M"]))

    dynamo_type.Item.project = project  # type: ignore[method-assign]
    try:
        yield
    finally:
        dynamo_type.Item.project = original  # type: ignore[method-assign]


@dataclass
class Report:
    name: str
    calls: Counter[str]
    reads: Reads


@dataclass
class Result:
    invoices: int
    unpaid: int
    sized_by_backend: bool
    reports: list[Report]
    keys_units: float  # the unpaid invoices' keys alone
    keys_queries: int
    every_units: float  # every invoice item, whole
    every_queries: int

    def rows(self) -> list[tuple[str, str, str, str]]:
        how = ("as DynamoDB reported (ReturnConsumedCapacity)" if self.sized_by_backend else
               "computed by DynamoDB's size rules from the items returned; moto answers a flat 1 a Query")
        rows = []
        for report in self.reports:
            seen = report.reads
            queries, units = seen.query_units()
            total = seen.reported if self.sized_by_backend else units + seen.lookups
            detail = " + ".join(f"{n} {op}" for op, n in sorted(report.calls.items()))
            paging = "" if queries == report.calls["Query"] else (
                f" (moto pages by the whole item's size; DynamoDB, by the index entries': {queries} Query)")
            split = "" if self.sized_by_backend else (
                f" ({_units(units)} the index, {_units(seen.lookups)} the business item)")
            rows.append((
                f"{report.name}, {self.invoices:,} invoices ({self.unpaid:,} unpaid)",
                f"{detail}{paging}, {seen.scanned:,} items read, {_units(total)} RCU{split} "
                f"= {total / self.keys_units:.1f}x the unpaid invoices' keys alone "
                f"({self.keys_queries} Query, {_units(self.keys_units)} RCU); reading every invoice: "
                f"{self.every_queries} Query, {_units(self.every_units)} RCU ({self.every_units / total:.0f}x this "
                f"report, {self.every_units / self.keys_units:.0f}x the keys); RCU {how}",
                f"{self.unpaid:,} items read, no Scan",
                "ok" if seen.scanned == self.unpaid and "Scan" not in report.calls else "MISS"))
        return rows


def _units(units: float) -> str:
    return f"{units:,.1f}".removesuffix(".0")


def _backend_sizes(business_id: str) -> bool:
    """Whether the backend's ConsumedCapacity for a Query on GSI6 grows with what it reads (one
    entry against a full page); moto's is 1.0 whatever the Query read."""
    from invoicing.storage import keys
    from invoicing.storage.table import client, table_name

    def units(**limit: int) -> float:
        out = client().query(
            TableName=table_name(), IndexName=keys.UNPAID, KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": keys.GSI6PK}, ReturnConsumedCapacity="TOTAL",
            ExpressionAttributeValues={":pk": {"S": keys.unpaid_invoices(business_id)}}, **limit)  # type: ignore[arg-type]
        return float(out.get("ConsumedCapacity", {}).get("CapacityUnits", 0))

    return units(Limit=1) < units(Limit=50)


def measure(count: int = INVOICES) -> Result:
    from invoicing.domain.clock import today_in
    from invoicing.operations import reports
    from invoicing.storage import invoices as store
    from invoicing.storage import keys
    from invoicing.storage.table import client, serialize

    with emulated_aws("bench-receivables"), _moto_projects_once():
        tenant = create_tenant()
        today = today_in(tenant.timezone)
        items = [serialize(store.item_of(invoice, version=3 if invoice.payments else 2, number_seq=seq))
                 for invoice, seq in _invoices(tenant.business_id, count, today, tenant.currency)]
        _write(items)
        unpaid = sum(keys.GSI6PK in item for item in items)
        sized = _backend_sizes(tenant.business_id)

        done = []
        for name, run in (("aging", reports.aging), ("metrics", reports.metrics)):
            with aws_calls.counting(client()) as calls, reads(client()) as seen:
                run(tenant.business_id)
            done.append(Report(name, calls, seen))

        projected = done[0].reads.queried
        allowed = {keys.PK, keys.SK, keys.GSI6PK, keys.GSI6SK, *store.UNPAID_ATTRIBUTES}
        assert projected and all(set(item) <= allowed for item in projected), "GSI6 answers only what it projects"
        index_keys = (keys.PK, keys.SK, keys.GSI6PK, keys.GSI6SK)
        keys_queries, keys_units = paged_units([item_size({k: item[k] for k in index_keys}) for item in projected])
        every_queries, every_units = paged_units([item_size(item) for item in items])
        return Result(invoices=count, unpaid=unpaid, sized_by_backend=sized, reports=done, keys_units=keys_units,
                      keys_queries=keys_queries, every_units=every_units, every_queries=every_queries)
