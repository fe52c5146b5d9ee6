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
| user            | USER#<user>             | USER                      |                                              |
| token           | TOKEN#<sha256 of secret>| TOKEN                     | TOKENID#<token id> / TOKEN                   |

Invoices have two more sort orders on their own indexes: GSI2 (``BIZ#<b>#INVOICES`` /
``<total, offset and zero-padded>#<id>``) and GSI3 (``BIZ#<b>#INVOICES`` / ``<number sequence,
zero-padded; 0 for drafts>#<id>``). Creation order is the table's own ``INVOICE#<uuid7>``.
"""

from __future__ import annotations

PK, SK, GSI1PK, GSI1SK = "PK", "SK", "GSI1PK", "GSI1SK"
GSI2PK, GSI2SK, GSI3PK, GSI3SK = "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"
GSI1, GSI2, GSI3 = "GSI1", "GSI2", "GSI3"
INDEX_KEYS = {GSI1: (GSI1PK, GSI1SK), GSI2: (GSI2PK, GSI2SK), GSI3: (GSI3PK, GSI3SK)}


def business(business_id: str) -> str:
    return f"BIZ#{business_id}"


BUSINESS_SK = "BUSINESS"
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


def member(user_id: str) -> str:
    return f"{MEMBER}{user_id}"


def customer(customer_id: str) -> str:
    return f"{CUSTOMER}{customer_id}"


def product(product_id: str) -> str:
    return f"{PRODUCT}{product_id}"


def variant(variant_id: str) -> str:
    return f"{VARIANT}{variant_id}"


def variants_of_product(business_id: str, product_id: str) -> str:
    return f"{business(business_id)}#{PRODUCT}{product_id}"


def sku(value: str) -> str:
    return f"{SKU}{value.strip().lower()}"


def location(location_id: str) -> str:
    return f"{LOCATION}{location_id}"


def stock(variant_id: str, location_id: str) -> str:
    return f"{STOCK}{variant_id}#{location_id}"


def stock_of_variant(variant_id: str) -> str:
    """SK prefix of one variant's levels at every location."""
    return f"{STOCK}{variant_id}#"


def stock_at_location(business_id: str, location_id: str) -> str:
    return f"{business(business_id)}#{LOCATION}{location_id}"


def stock_at_location_sk(variant_id: str) -> str:
    """GSI1SK of a level under its location."""
    return f"{STOCK}{variant_id}"


def adjustment(adjustment_id: str) -> str:
    return f"{ADJUSTMENT}{adjustment_id}"


def invoice(invoice_id: str) -> str:
    return f"{INVOICE}{invoice_id}"


INVOICE_COUNTER_SK = "COUNTER#INVOICE"
_TOTAL_OFFSET = 10**15  # totals lie in [-10^15, 10^15]: offset, they sort as fixed-width strings


def invoices_index(business_id: str) -> str:
    """GSI1PK/GSI2PK/GSI3PK of every invoice of a business."""
    return f"{business(business_id)}#INVOICES"


def invoice_by_due_date(due_date: str, invoice_id: str) -> str:
    return f"{due_date}#{invoice_id}"


def invoice_by_total(total: int, invoice_id: str) -> str:
    return f"{total + _TOTAL_OFFSET:016d}#{invoice_id}"


def invoice_by_number(sequence: int, invoice_id: str) -> str:
    return f"{sequence:012d}#{invoice_id}"


def delivery_chunk(invoice_id: str, chunk: int) -> str:
    return f"DELIVERY#{invoice_id}#{chunk}"


def delayed_charge(charge_id: str) -> str:
    return f"{DELAYED_CHARGE}{charge_id}"


def delayed_charges_of_customer(business_id: str, customer_id: str) -> str:
    """GSI1PK of a customer's delayed charges."""
    return f"{business(business_id)}#{CUSTOMER}{customer_id}#DCHARGES"


def delayed_charge_by_status(status: str, charge_id: str = "") -> str:
    """GSI1SK of a delayed charge under its customer, ``<status>#<id>``: a customer's pending
    charges, oldest first, are one Query on the prefix (``charge_id`` left out)."""
    return f"{status}#{charge_id}"


def user(user_id: str) -> str:
    return f"USER#{user_id}"


def token(token_hash: str) -> str:
    return f"TOKEN#{token_hash}"
