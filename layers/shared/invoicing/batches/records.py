"""The batch engine's storage: a header ``BIZ#<b> / BATCH#<batch>`` with the counts, a manifest
``BATCH#<batch>#MANIFEST`` (each item's customer and invoice id, one JSON string), each item's
priced draft invoice ``BATCHDRAFT#<batch>#<00007>``, and a small status record
``BATCH#<batch>#ITEM#<00007>`` per item once it is done with: an item without one is pending.

Accepting writes the drafts, the manifest and the header (last) with BatchWriteItem (25 per
call). Reading a batch back is one Query on the ``BATCH#<batch>`` prefix (header, status
records, manifest); the drafts, the large records, are outside that prefix. Processing an item
writes its status record (created, finalized or failed) with actions that join the transaction
writing the invoice, each conditional on the status it leaves (none, for pending), so a
redelivered message changes nothing. ``load_items`` reads several items, their drafts, their
customers and the invoice counter in one BatchGetItem.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from invoicing.batches.rules import batch_status
from invoicing.batches.schemas import Batch, BatchItemResult, ItemStatus
from invoicing.domain.models import Invoice
from invoicing.errors import NotFound
from invoicing.storage import invoices, keys, lookup, transactions
from invoicing.storage.paging import query_all
from invoicing.storage.table import Throttled, client, serialize, table_name, value

BATCH_WRITE_LIMIT = 25
_RETRIES = 8
_STATUS = {"#status": "status"}


def not_found(batch_id: str) -> NotFound:
    return NotFound(f"Batch {batch_id} not found", code="batch_not_found")


# ------------------------------------------------------------------------------------ records
def header_record(business_id: str, batch_id: str, *, total: int, include_delayed_charges: bool, finalize: bool,
                  request_sha256: str, now: str) -> dict[str, Any]:
    """The batch's header; ``request_sha256`` tells a retry of the same request from another one."""
    return {
        keys.PK: keys.business(business_id), keys.SK: keys.batch(batch_id), "kind": "batch",
        "batch_id": batch_id, "business_id": business_id, "total": total, "created": 0, "finalized": 0, "failed": 0,
        "include_delayed_charges": include_delayed_charges, "finalize": finalize, "request_sha256": request_sha256,
        "created_at": now, "updated_at": now,
    }


def manifest_record(business_id: str, batch_id: str, items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The batch's ``(customer id, invoice id)`` per item, in index order."""
    return {keys.PK: keys.business(business_id), keys.SK: keys.batch_manifest(batch_id), "kind": "batch_manifest",
            "items_json": json.dumps(list(items), separators=(",", ":"))}


def item_record(business_id: str, batch_id: str, index: int, *, customer_id: str, invoice_id: str,
                now: str, status: ItemStatus) -> dict[str, Any]:
    return {
        keys.PK: keys.business(business_id), keys.SK: keys.batch_item(batch_id, index), "kind": "batch_item",
        "index": index, "customer_id": customer_id, "invoice_id": invoice_id, "status": status,
        "updated_at": now,
    }


def draft_record(business_id: str, batch_id: str, index: int, *, invoice: Invoice, product_ids: Iterable[str],
                 sweep: bool) -> dict[str, Any]:
    """The invoice as priced at acceptance, what it sells, and whether it takes its customer's
    delayed charges (``sweep``). The invoice is one JSON string, not a map: the record is only
    ever written whole and read whole, and a string costs a fraction of a nested map to encode,
    store and decode."""
    return {
        keys.PK: keys.business(business_id), keys.SK: keys.batch_draft(batch_id, index), "kind": "batch_draft",
        "invoice_json": invoice.model_dump_json(), "product_ids": set(product_ids) or None, "sweep": sweep,
    }


def write_new(records: Sequence[dict[str, Any]]) -> int:
    """Write new records with BatchWriteItem, 25 per call, retrying unprocessed ones with backoff.
    Returns the number of calls."""
    calls = 0
    for start in range(0, len(records), BATCH_WRITE_LIMIT):
        pending: Any = {table_name(): [{"PutRequest": {"Item": serialize(r)}}
                                       for r in records[start:start + BATCH_WRITE_LIMIT]]}
        for attempt in range(_RETRIES):
            calls += 1
            pending = client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(min(0.025 * 2**attempt, 1.0))  # DynamoDB asks callers to back off before retrying
        else:
            raise Throttled(f"BatchWriteItem left items unprocessed after {_RETRIES} attempts")
    return calls


# ------------------------------------------------------------------------------------ reading
def _result(item: dict[str, Any]) -> BatchItemResult:
    return BatchItemResult(index=int(item["index"]), customer_id=item["customer_id"], invoice_id=item["invoice_id"],
                           status=item["status"], error=item.get("error"))


def batch_of(header: dict[str, Any], items: Iterable[BatchItemResult]) -> Batch:
    counts = {name: int(header.get(name, 0)) for name in ("total", "created", "finalized", "failed")}
    return Batch(
        batch_id=header["batch_id"], business_id=header["business_id"],
        status=batch_status(**counts, finalize=bool(header["finalize"])), **counts,
        include_delayed_charges=bool(header["include_delayed_charges"]), finalize=bool(header["finalize"]),
        created_at=header["created_at"], updated_at=header["updated_at"], items=list(items),
    )


def read(business_id: str, batch_id: str) -> Batch:
    """The batch with every item: one Query (header and item records only, far below 1 MB for
    1000 items; a further page is followed should one ever be needed)."""
    return read_keyed(business_id, batch_id)[0]


def read_keyed(business_id: str, batch_id: str) -> tuple[Batch, str | None]:
    """The batch and the fingerprint of the request that created it (None for a batch without
    one): the same one Query as ``read``."""
    args: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": value(keys.business(business_id)), ":prefix": value(keys.batch(batch_id))},
        "ConsistentRead": True,
    }
    header: dict[str, Any] | None = None
    manifest: list[list[str]] = []
    done: dict[int, BatchItemResult] = {}
    for record in query_all(args):
        if record[keys.SK] == keys.batch(batch_id):
            header = record
        elif record[keys.SK] == keys.batch_manifest(batch_id):
            manifest = json.loads(record["items_json"])
        else:
            done[int(record["index"])] = _result(record)
    if header is None:
        raise not_found(batch_id)
    pending = (BatchItemResult(index=i, customer_id=customer_id, invoice_id=invoice_id, status="pending")
               for i, (customer_id, invoice_id) in enumerate(manifest) if i not in done)
    items = sorted([*done.values(), *pending], key=lambda item: item.index)
    return batch_of(header, items), header.get("request_sha256")


@dataclass(frozen=True)
class ItemState:
    """One item as its processing reads it."""

    business_id: str
    batch_id: str
    index: int
    customer_id: str
    invoice_id: str
    status: ItemStatus
    finalize: bool
    sweep: bool
    draft: Invoice
    product_ids: frozenset[str]
    # For a pending item read with its customer: the customer exists and is not deleted. None
    # when the reader did not ask (``load_items`` without ``customers``) or the item is done.
    customer_live: bool | None


def load_item(business_id: str, batch_id: str, index: int, *, customer: bool = False,
              customer_id: str | None = None) -> ItemState | None:
    """The item's record, draft and its batch's flags, and with ``customer`` its customer
    (``load_items``; ``customer_id`` names it, so it is read in the same call). None when the
    batch has no such item."""
    customers = [customer_id] if customer else None
    return load_items(business_id, batch_id, [index], customers)[0].get(index)


def load_items(business_id: str, batch_id: str, indexes: Iterable[int],
               customers: Iterable[str | None] | None = None) -> tuple[dict[int, ItemState], int]:
    """Several items of one batch (those that exist, by index) and the business's last invoice
    number: one BatchGetItem (consistent) per 100 keys, for a status and a draft per item.

    With ``customers`` (the ids the items' messages name; None where a message names none), the
    pending items' customers too: those named in the same call, any other in one more. Without,
    no customer is read (``customer_live`` is None): what gives items up or reads them again
    needs none.

    An item's customer is read here, not checked in the transaction that writes its invoice: a
    customer deleted after this read still gets that invoice, as with POST /invoices, whose read
    and write are as far apart. A ConditionCheck per item would close that window at the price
    of a third of the transaction's actions."""
    wanted = list(indexes)
    header_sk = keys.batch(batch_id)
    named = [customer_id for customer_id in customers or () if customer_id]
    found = lookup.fetch(business_id, business=False, customers=named, also=[
        header_sk, keys.INVOICE_COUNTER_SK,
        *(sk for i in wanted for sk in (keys.batch_item(batch_id, i), keys.batch_draft(batch_id, i)))])
    header, last_number = found.raw(header_sk), invoices.last_number(found)
    if header is None:
        return {}, last_number
    items = {index: (draft, Invoice.model_validate_json(draft["invoice_json"]),
                     found.raw(keys.batch_item(batch_id, index)) or {})
             for index in wanted if (draft := found.raw(keys.batch_draft(batch_id, index))) is not None}
    pending = {invoice.customer_id for _, invoice, record in items.values()
               if record.get("status", "pending") == "pending"} if customers is not None else set()
    unread = pending - set(named)
    read = lookup.fetch(business_id, business=False, customers=unread) if unread else found
    states = {index: ItemState(
        business_id=business_id, batch_id=batch_id, index=index, customer_id=invoice.customer_id,
        invoice_id=invoice.id, status=record.get("status", "pending"), finalize=bool(header["finalize"]),
        sweep=bool(draft.get("sweep")), draft=invoice, product_ids=frozenset(draft.get("product_ids") or ()),
        customer_live=(found.customer(invoice.customer_id) or read.customer(invoice.customer_id)) is not None
        if invoice.customer_id in pending else None,
    ) for index, (draft, invoice, record) in items.items()}
    return states, last_number


# ------------------------------------------------------------------------------------ transaction actions
def move_action(state: ItemState, to: ItemStatus, now: str, *, error: str | None = None) -> dict[str, Any]:
    """The action moving the item's record from its status as read to ``to`` (the record written
    whole: it holds nothing else); it fails (cancelling its transaction) if the record moved
    since."""
    record = item_record(state.business_id, state.batch_id, state.index, customer_id=state.customer_id,
                         invoice_id=state.invoice_id, now=now, status=to)
    if error is not None:
        record["error"] = error
    if state.status == "pending":  # a pending item has no record yet
        return transactions.put(record)
    return transactions.put(record, "#status = :from", names=_STATUS, values={":from": state.status})


def count_action(state: ItemState, now: str, **counts: int) -> dict[str, Any]:
    """The action adding to the header's counters (``created``, ``finalized``, ``failed``)."""
    assert counts and set(counts) <= {"created", "finalized", "failed"}
    adds = ", ".join(f"{name} :{name}" for name in counts)
    return transactions.update(keys.business(state.business_id), keys.batch(state.batch_id),
                               f"SET updated_at = :now ADD {adds}", condition="attribute_exists(PK)",
                               values={":now": now, **{f":{name}": n for name, n in counts.items()}})
