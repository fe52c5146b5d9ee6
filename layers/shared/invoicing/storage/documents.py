"""The documents bucket (private, encrypted, versioned) and the table attributes that say which
object is an invoice's or a payment's current document.

An invoice's writes replace its whole item (``invoices.item_of``), so a change drops
``pdf_key``/``pdf_rendered_for`` with the old version: ``pdf_url`` is null until the new state is
rendered. A render records its object only while the invoice is still the version it rendered
(``version = :rendered``), so a late or redelivered render of an older state never overwrites
the pointer to a newer one.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from invoicing.settings import settings
from invoicing.storage import bank, keys
from invoicing.storage.table import client as table_client
from invoicing.storage.table import get_item, key, table_name, value

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# How long a presigned GET of a PDF works: long enough to open or forward the link, short
# enough that a leaked one soon stops working. Clients ask GET /invoices/{id}/pdf for a fresh one.
URL_SECONDS = 15 * 60


@cache
def client() -> S3Client:
    # SigV4, as every region requires for presigned GETs of KMS/SSE objects.
    return boto3.client("s3", config=Config(signature_version="s3v4"))


def bucket() -> str:
    return settings().documents_bucket


def exists(object_key: str) -> bool:
    try:
        client().head_object(Bucket=bucket(), Key=object_key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def put_pdf(object_key: str, body: bytes) -> None:
    client().put_object(Bucket=bucket(), Key=object_key, Body=body, ContentType="application/pdf",
                        ServerSideEncryption="AES256")


def presigned(object_key: str, filename: str) -> str:
    """A GET URL of the object that expires after URL_SECONDS (computed locally: no AWS call)."""
    return client().generate_presigned_url(
        "get_object", ExpiresIn=URL_SECONDS,
        Params={"Bucket": bucket(), "Key": object_key,
                "ResponseContentDisposition": f'inline; filename="{filename}"'},
    )


def invoice_pdf_key(item: dict[str, Any]) -> str | None:
    """The object of the invoice item's current state, if rendered (else None)."""
    current = item.get("pdf_key") and int(item.get("pdf_rendered_for", -1)) == int(item.get("version", 1))
    return str(item["pdf_key"]) if current and bucket() else None


def pdf_filename(item: dict[str, Any]) -> str:
    return f"{item.get('number') or 'invoice'}.pdf"


def pdf_url_of(item: dict[str, Any]) -> str | None:
    """``pdf_url`` of an invoice item: a presigned URL of its current PDF, or None."""
    object_key = invoice_pdf_key(item)
    return presigned(object_key, pdf_filename(item)) if object_key else None


def record_invoice_pdf(business_id: str, invoice_id: str, version: int, object_key: str) -> bool:
    """Point the invoice at the PDF of ``version``; False (nothing written) when the invoice has
    moved on since (or is gone): that render is stale and a newer one is on its way."""
    try:
        table_client().update_item(
            TableName=table_name(), Key=key(keys.business(business_id), keys.invoice(invoice_id)),
            UpdateExpression="SET pdf_key = :key, pdf_rendered_for = :version",
            ConditionExpression="attribute_exists(PK) AND version = :version",
            ExpressionAttributeValues={":key": value(object_key), ":version": value(version)},
        )
    except table_client().exceptions.ConditionalCheckFailedException:
        return False
    return True


def payment_item(business_id: str, invoice_id: str, payment_id: str) -> dict[str, Any]:
    item = get_item(keys.business(business_id), keys.payment(invoice_id, payment_id))
    if item is None:
        raise bank.payment_not_found(payment_id)
    return item


def record_receipt(business_id: str, invoice_id: str, payment_id: str, object_key: str) -> bool:
    """Point the payment at its receipt; False when the payment was deleted meanwhile."""
    try:
        table_client().update_item(
            TableName=table_name(), Key=key(keys.business(business_id), keys.payment(invoice_id, payment_id)),
            UpdateExpression="SET receipt_key = :key", ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":key": value(object_key)},
        )
    except table_client().exceptions.ConditionalCheckFailedException:
        return False
    return True
