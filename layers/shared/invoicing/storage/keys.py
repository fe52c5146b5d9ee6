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
| invoice         | BIZ#<b>                 | INVOICE#<id>              |                                              |
| user            | USER#<user>             | USER                      |                                              |
| token           | TOKEN#<sha256 of secret>| TOKEN                     | USER#<user> / TOKEN#<token id>               |
"""

from __future__ import annotations

PK, SK, GSI1PK, GSI1SK = "PK", "SK", "GSI1PK", "GSI1SK"
GSI1 = "GSI1"


def business(business_id: str) -> str:
    return f"BIZ#{business_id}"


BUSINESS_SK = "BUSINESS"
USER_SK = "USER"
TOKEN_SK = "TOKEN"

CUSTOMER = "CUSTOMER#"
PRODUCT = "PRODUCT#"
VARIANT = "VARIANT#"
LOCATION = "LOCATION#"
STOCK = "STOCK#"
ADJUSTMENT = "ADJUSTMENT#"
INVOICE = "INVOICE#"
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


def user(user_id: str) -> str:
    return f"USER#{user_id}"


def token(token_hash: str) -> str:
    return f"TOKEN#{token_hash}"
