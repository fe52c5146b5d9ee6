"""Where the Powertools idempotency utility keeps its records: the service's own table.

A record sits in the business's partition (``PK`` = ``BIZ#<b>``, ``SK`` = ``IDEMPOTENCY#<md5>``,
the hash of the business id and the client's key), so tenancy is in the key here too, and
expires through the table's TTL attribute ``expires_at`` (24 h after the request).
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from invoicing.storage import keys, table

EXPIRY_ATTRIBUTE = "expires_at"  # the table's TimeToLiveSpecification attribute


def persistence_layer(business_id: str) -> DynamoDBPersistenceLayer:
    """A persistence layer writing into ``business_id``'s partition (cheap: shares the client)."""
    return DynamoDBPersistenceLayer(
        table_name=table.table_name(),
        key_attr=keys.PK,
        sort_key_attr=keys.SK,
        static_pk_value=keys.business(business_id),
        expiry_attr=EXPIRY_ATTRIBUTE,
        in_progress_expiry_attr="idempotency_in_progress_until",
        status_attr="idempotency_status",
        data_attr="idempotency_response",
        validation_key_attr="idempotency_request_hash",
        boto3_client=table.client(),
    )
