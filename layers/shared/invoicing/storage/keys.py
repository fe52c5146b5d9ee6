"""Every key pattern of the single table, in one place.

Business data lives in the business's partition: every such partition key begins with
``BIZ#<business id>``, so tenancy is in the key, not in a filter. Only authentication records
(users and token hashes) sit outside any business, because they are looked up before a business
is known.

| item            | PK                      | SK                        | GSI1PK / GSI1SK                              |
|-----------------|-------------------------|---------------------------|----------------------------------------------|
| business        | BIZ#<b>                 | BUSINESS                  |                                              |
| membership      | BIZ#<b>                 | MEMBER#<user>             | USER#<user> / MEMBER#<b>                     |
| customer        | BIZ#<b>                 | CUSTOMER#<id>             |                                              |
| product         | BIZ#<b>                 | PRODUCT#<id>              |                                              |
| variant         | BIZ#<b>                 | VARIANT#<id>              | BIZ#<b>#PRODUCT#<product> / VARIANT#<id>     |
| sku claim       | BIZ#<b>                 | SKU#<lower-case sku>      |                                              |
| location        | BIZ#<b>                 | LOCATION#<id>             |                                              |
| stock level     | BIZ#<b>                 | STOCK#<variant>#<location>| BIZ#<b>#LOCATION#<location> / STOCK#<variant>|
| adjustment      | BIZ#<b>                 | ADJUSTMENT#<id>           |                                              |
| invoice         | BIZ#<b>                 | INVOICE#<id>              | BIZ#<b>#INVOICES / <due date>#<id>           |
| invoice counter | BIZ#<b>                 | COUNTER#INVOICE           |                                              |
| delivery chunk  | BIZ#<b>                 | DELIVERY#<invoice>#<n>    |                                              |
| delayed charge  | BIZ#<b>                 | DCHARGE#<id>              | BIZ#<b>#CUSTOMER#<c>#DCHARGES / <status>#<id>|
| batch header    | BIZ#<b>                 | BATCH#<batch>             |                                              |
| batch item      | BIZ#<b>                 | BATCH#<batch>#ITEM#<00007>|                                              |
| batch draft     | BIZ#<b>                 | BATCHDRAFT#<batch>#<00007>|                                              |
| recurring tmpl  | BIZ#<b>                 | RECURRING#<id>            | BIZ#<b>#RECURRING / RECURRING#<id>           |
| occurrence run  | BIZ#<b>                 | RECURRING#<id>#RUN#<date> |                                              |
| pending finalize| BIZ#<b>                 | RECURRING#<id>#FINALIZE   | (GSI2: RECURRING#DUE#<n> / <occ.>#<b>#<id>)  |
| bank transaction| BIZ#<b>                 | BANKTXN#<id>              |                                              |
| payment         | BIZ#<b>                 | PAYMENT#<invoice>#<id>    |                                              |
| journal entry   | BIZ#<b>                 | JOURNAL#<id>              | BIZ#<b>#JOURNAL / <entry date>#<id>          |
| idempotency rec | BIZ#<b>                 | IDEMPOTENCY#<md5 of key>  | (Powertools idempotency; TTL expires_at)     |
| user            | USER#<user>             | USER                      |                                              |
| token           | TOKEN#<sha256 of secret>| TOKEN                     | TOKENID#<token id> / TOKEN                   |
| (never written) | PRIME                   | PRIME                     | read once by a SnapStart init (table.prime)  |

Invoices have two more sort orders on their own indexes: GSI2 (``BIZ#<b>#INVOICES`` /
``<total, offset and zero-padded>#<id>``) and GSI3 (``BIZ#<b>#INVOICES`` / ``<number sequence,
zero-padded; 0 for drafts>#<id>``). Creation order is the table's own ``INVOICE#<uuid7>``.

The two filters clients use most, a customer and a status, have indexes of their own in creation
order, so that such a list page is one Query however many other items the business holds:

| item            | GSI4PK / GSI4SK (by customer)                 | GSI5PK / GSI5SK (by status)                   |
|-----------------|-----------------------------------------------|-----------------------------------------------|
| invoice         | BIZ#<b>#CUSTOMER#<c>#INVOICES / INVOICE#<id>  | BIZ#<b>#INVOICES#STATUS#<status> / INVOICE#<id>|
| delayed charge  | BIZ#<b>#CUSTOMER#<c>#DCHARGES / DCHARGE#<id>  | BIZ#<b>#DCHARGES#STATUS#<status> / DCHARGE#<id>|

A journal entry of an invoice is also on GSI4 under ``BIZ#<b>#INVOICE#<i>#JOURNAL`` / ``JOURNAL#<id>``
(the journal filtered by invoice: one Query). An invoice that is open or partially paid is also on
GSI6 under ``BIZ#<b>#INVOICES#UNPAID`` / ``<due date>#<id>`` (sparse, projecting only what aging and
metrics read), so those reports read the unpaid invoices' few attributes, not the business.

Every write of an invoice's or a charge's status writes its GSI5PK with it (``item_of``, and the
UpdateItems that change a status), so the status index never lags the item.

An active recurring template is also on GSI2 under ``RECURRING#DUE#<n>`` / ``<next occurrence>#<b>#<id>``
(sparse: removed when it is paused, canceled or completed; ``n``, 0-15, from the template id, so
the index's writes spread over 16 partitions), so the daily catch-up finds every template with an
occurrence due, across businesses, with one Query per shard. A template's occurrence
markers (each written in the same transaction as the invoice it generated, at most once) sort
under ``RECURRING#<id>#RUN#``: its history is one Query. Template lists read GSI1, so they never
see the markers. An ``auto_finalize`` template's generated invoice that is not finalized yet has
a pending finalize, ``RECURRING#<id>#FINALIZE`` (at most one per template, outside the markers'
prefix; written with the invoice, deleted with its finalize), read with the template in one
BatchGetItem; it is on GSI2 under its template's shard at its occurrence date as well, so the catch-up
finishes it even for a template that is no longer due.

A batch's header and its per-item status records share the prefix ``BATCH#<batch>`` (the header
sorts first), so the whole batch is one Query; each item's priced draft invoice sits under
``BATCHDRAFT#`` instead, outside that prefix, so the Query stays small (far below 1 MB for
1000 items) however many lines the invoices have.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

PK, SK, GSI1PK, GSI1SK = "PK", "SK", "GSI1PK", "GSI1SK"
PRIME = "PRIME"  # a key nobody writes: what a snapshot's init reads to warm the SDK
GSI2PK, GSI2SK, GSI3PK, GSI3SK = "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"
GSI4PK, GSI4SK, GSI5PK, GSI5SK = "GSI4PK", "GSI4SK", "GSI5PK", "GSI5SK"
GSI6PK, GSI6SK = "GSI6PK", "GSI6SK"
GSI1, GSI2, GSI3, GSI4, GSI5, GSI6 = "GSI1", "GSI2", "GSI3", "GSI4", "GSI5", "GSI6"
BY_CUSTOMER, BY_STATUS, UNPAID = GSI4, GSI5, GSI6
INDEX_KEYS = {GSI1: (GSI1PK, GSI1SK), GSI2: (GSI2PK, GSI2SK), GSI3: (GSI3PK, GSI3SK),
              GSI4: (GSI4PK, GSI4SK), GSI5: (GSI5PK, GSI5SK), GSI6: (GSI6PK, GSI6SK)}


def _prefixed(prefix: str) -> Callable[[str], str]:
    """The key ``<prefix><id>`` of one kind of record: most keys are no more than that."""

    def key(record_id: str) -> str:
        return f"{prefix}{record_id}"

    return key


business = _prefixed("BIZ#")


BUSINESS_SK = "BUSINESS"
IDEMPOTENCY = "IDEMPOTENCY"  # prefix of the sort key of idempotency records: IDEMPOTENCY#<hash>
USER_SK = "USER"
TOKEN_SK = "TOKEN"  # noqa: S105 - a sort key, not a secret

CUSTOMER = "CUSTOMER#"
PRODUCT = "PRODUCT#"
VARIANT = "VARIANT#"
LOCATION = "LOCATION#"
STOCK = "STOCK#"
ADJUSTMENT = "ADJUSTMENT#"
INVOICE = "INVOICE#"
DELAYED_CHARGE = "DCHARGE#"
MEMBER = "MEMBER#"
SKU = "SKU#"


member = _prefixed(MEMBER)


customer = _prefixed(CUSTOMER)


product = _prefixed(PRODUCT)


variant = _prefixed(VARIANT)


def variants_of_product(business_id: str, product_id: str) -> str:
    return f"{business(business_id)}#{PRODUCT}{product_id}"


def sku(value: str) -> str:
    return f"{SKU}{value.strip().lower()}"


location = _prefixed(LOCATION)


def stock(variant_id: str, location_id: str) -> str:
    """SK of a variant's level at one location."""
    return f"{STOCK}{variant_id}#{location_id}"


def stock_of_variant(variant_id: str) -> str:
    """SK prefix of one variant's levels at every location."""
    return f"{STOCK}{variant_id}#"


def stock_at_location(business_id: str, location_id: str) -> str:
    return f"{business(business_id)}#{LOCATION}{location_id}"


stock_at_location_sk = _prefixed(STOCK)  # GSI1SK of a level under its location


adjustment = _prefixed(ADJUSTMENT)


invoice = _prefixed(INVOICE)


INVOICE_COUNTER_SK = "COUNTER#INVOICE"
_TOTAL_OFFSET = 10**15  # totals lie in [-10^15, 10^15]: offset, they sort as fixed-width strings


def invoices_index(business_id: str) -> str:
    """GSI1PK/GSI2PK/GSI3PK of every invoice of a business."""
    return f"{business(business_id)}#INVOICES"


def invoice_sort_keys(due_date: str, total: int, sequence: int, invoice_id: str) -> dict[str, str]:
    """An invoice's GSI1SK, GSI2SK and GSI3SK: by due date, by total (offset, zero-padded), by
    number (its sequence zero-padded, 0 for a draft), each ending with the id."""
    return {GSI1SK: f"{due_date}#{invoice_id}", GSI2SK: f"{total + _TOTAL_OFFSET:016d}#{invoice_id}",
            GSI3SK: f"{sequence:012d}#{invoice_id}"}


def invoices_of_customer(business_id: str, customer_id: str) -> str:
    """GSI4PK of a customer's invoices (GSI4SK: ``invoice(id)``)."""
    return f"{business(business_id)}#{CUSTOMER}{customer_id}#INVOICES"


def invoices_with_status(business_id: str, status: str) -> str:
    """GSI5PK of a business's invoices in one status (GSI5SK: ``invoice(id)``)."""
    return f"{invoices_index(business_id)}#STATUS#{status}"


def unpaid_invoices(business_id: str) -> str:
    """GSI6PK of a business's open and partially paid invoices (GSI6SK: ``unpaid_sort_key``)."""
    return f"{invoices_index(business_id)}#UNPAID"


def unpaid_sort_key(due_date: str, invoice_id: str) -> str:
    """GSI6SK: by due date, like GSI1SK."""
    return f"{due_date}#{invoice_id}"


BANK_TRANSACTION = "BANKTXN#"
PAYMENT = "PAYMENT#"
JOURNAL = "JOURNAL#"


bank_transaction = _prefixed(BANK_TRANSACTION)


def payments_of_invoice(invoice_id: str) -> str:
    """SK prefix of an invoice's payments: its payment list is one Query."""
    return f"{PAYMENT}{invoice_id}#"


def payment(invoice_id: str, payment_id: str) -> str:
    return f"{payments_of_invoice(invoice_id)}{payment_id}"


journal_entry = _prefixed(JOURNAL)


def journal_index(business_id: str) -> str:
    """GSI1PK of a business's journal (GSI1SK: ``journal_by_date``)."""
    return f"{business(business_id)}#JOURNAL"


def journal_by_date(entry_date: str, entry_id: str) -> str:
    return f"{entry_date}#{entry_id}"


def journal_of_invoice(business_id: str, invoice_id: str) -> str:
    """GSI4PK of an invoice's journal entries (GSI4SK: ``journal_entry(id)``)."""
    return f"{business(business_id)}#{INVOICE}{invoice_id}#JOURNAL"


def delivery_chunk(invoice_id: str, chunk: int) -> str:
    return f"DELIVERY#{invoice_id}#{chunk}"


delayed_charge = _prefixed(DELAYED_CHARGE)


def delayed_charges_of_customer(business_id: str, customer_id: str) -> str:
    """GSI1PK (by status, then id) and GSI4PK (by id alone) of a customer's delayed charges."""
    return f"{business(business_id)}#{CUSTOMER}{customer_id}#DCHARGES"


def delayed_charges_with_status(business_id: str, status: str) -> str:
    """GSI5PK of a business's delayed charges in one status (GSI5SK: ``delayed_charge(id)``)."""
    return f"{business(business_id)}#DCHARGES#STATUS#{status}"


def delayed_charge_by_status(status: str, charge_id: str = "") -> str:
    """GSI1SK of a delayed charge under its customer, ``<status>#<id>``: a customer's pending
    charges, oldest first, are one Query on the prefix (``charge_id`` left out)."""
    return f"{status}#{charge_id}"


user = _prefixed("USER#")


token = _prefixed("TOKEN#")


BATCH = "BATCH#"
BATCH_DRAFT = "BATCHDRAFT#"


def batch(batch_id: str) -> str:
    """SK of a batch's header, and the prefix of the batch's header and item records."""
    return f"{BATCH}{batch_id}"


def batch_item(batch_id: str, index: int) -> str:
    """SK of an item's status record; the index is zero-padded so that items sort in request order."""
    return f"{BATCH}{batch_id}#ITEM#{index:05d}"


def batch_manifest(batch_id: str) -> str:
    return f"{BATCH}{batch_id}#MANIFEST"


def batch_draft(batch_id: str, index: int) -> str:
    return f"{BATCH_DRAFT}{batch_id}#{index:05d}"


RECURRING = "RECURRING#"
RECURRING_DUE = "RECURRING#DUE"
RECURRING_DUE_SHARDS = 16


def recurring_due_shard(template_id: str) -> str:
    """GSI2PK of an active template and of its pending finalize (sparse): ``RECURRING#DUE#<n>``,
    one of 16 partitions chosen by the template id, so that the writes of every business's
    templates (each run moves its template's next occurrence) spread over 16 index partitions
    instead of queueing on one."""
    return f"{RECURRING_DUE}#{zlib.crc32(template_id.encode()) % RECURRING_DUE_SHARDS}"


def recurring_due_partitions() -> list[str]:
    """Every GSI2PK the daily catch-up reads: the 16 shards."""
    return [f"{RECURRING_DUE}#{n}" for n in range(RECURRING_DUE_SHARDS)]


recurring = _prefixed(RECURRING)


def recurring_templates(business_id: str) -> str:
    """GSI1PK of a business's recurring templates (GSI1SK: ``recurring(id)``)."""
    return f"{business(business_id)}#RECURRING"


def recurring_runs(template_id: str) -> str:
    """SK prefix of a template's occurrence markers."""
    return f"{RECURRING}{template_id}#RUN#"


def recurring_run(template_id: str, occurrence: str) -> str:
    return f"{recurring_runs(template_id)}{occurrence}"


def recurring_finalize(template_id: str) -> str:
    """SK of a template's pending finalize (the generated invoice still to be numbered)."""
    return f"{RECURRING}{template_id}#FINALIZE"


def recurring_due(next_occurrence: str, business_id: str, template_id: str) -> str:
    """GSI2SK of an active template: ``<next occurrence>#<business>#<id>``."""
    return f"{next_occurrence}#{business_id}#{template_id}"


def recurring_due_through(day: str) -> str:
    """The GSI2SK bound after every ``recurring_due`` of ``day`` or earlier (ids are lower-case
    hex and dashes, so ``~`` sorts after each of them)."""
    return f"{day}#~"


# ---------------------------------------------------------------- S3 object keys (DocumentsBucket)
# Documents live in the stack's private bucket, every key under the business (tenancy in the key,
# as in the table):
#
# | object          | key                                               |
# |-----------------|---------------------------------------------------|
# | invoice PDF     | <b>/invoices/<invoice>/v<invoice version>.pdf     |
# | payment receipt | <b>/invoices/<invoice>/receipts/<payment>.pdf     |
#
# An invoice PDF's key names the invoice version it was rendered from: the same state always
# renders to the same key (a redelivery finds it there), a newer state to a new one. The invoice
# item records the current one (``pdf_key`` / ``pdf_rendered_for``), the payment item its receipt
# (``receipt_key``); a payment never changes, so its receipt has one key.


def invoice_pdf(business_id: str, invoice_id: str, version: int) -> str:
    return f"{business_id}/invoices/{invoice_id}/v{version}.pdf"


def payment_receipt(business_id: str, invoice_id: str, payment_id: str) -> str:
    return f"{business_id}/invoices/{invoice_id}/receipts/{payment_id}.pdf"
