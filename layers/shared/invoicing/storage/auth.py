"""Businesses, users, memberships and API tokens.

A token is ``dz_`` plus 32 random bytes (urlsafe base64). Only its SHA-256 is stored: the table
never holds a usable secret.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from invoicing.domain.clock import now_iso
from invoicing.domain.ids import uuid7
from invoicing.errors import NotFound
from invoicing.storage import keys
from invoicing.storage.table import client, deserialize, get_item, key, put_item, table_name

if TYPE_CHECKING:  # the authorizer reads tokens and memberships only: no pydantic models on its cold start
    from invoicing.domain.models import Business, Role

TOKEN_PREFIX = "dz_"  # noqa: S105 - a prefix, not a secret


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_business(name: str, currency: str, timezone: str = "UTC", business_id: str | None = None) -> Business:
    from invoicing.domain.models import Business

    business = Business(id=business_id or uuid7(), name=name, currency=currency, timezone=timezone,  # type: ignore[arg-type]
                        created_at=now_iso())
    put_item({keys.PK: keys.business(business.id), keys.SK: keys.BUSINESS_SK, **business.model_dump()})
    return business


def create_user(email: str, user_id: str | None = None) -> str:
    user_id = user_id or uuid7()
    put_item({keys.PK: keys.user(user_id), keys.SK: keys.USER_SK, "id": user_id, "email": email,
              "created_at": now_iso()})
    return user_id


def add_member(business_id: str, user_id: str, role: Role) -> None:
    put_item(
        {
            keys.PK: keys.business(business_id), keys.SK: keys.member(user_id),
            keys.GSI1PK: keys.user(user_id), keys.GSI1SK: keys.member(business_id),
            "business_id": business_id, "user_id": user_id, "role": role, "created_at": now_iso(),
        },
        new=False,
    )


def create_token(user_id: str, *, expires_in_days: int | None = None, expires_at: datetime | None = None,
                 secret: str | None = None) -> dict[str, Any]:
    """Store a new token for ``user_id``, expiring ``expires_at`` (aware) or in ``expires_in_days``;
    the returned dict is the only place the secret appears."""
    secret = secret or TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = uuid7()
    expires = expires_at or (datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None)
    if expires is not None:  # stored in whole seconds (the TTL attribute): say the stored time
        expires = datetime.fromtimestamp(int(expires.timestamp()), UTC)
    put_item(
        {
            keys.PK: keys.token(hash_secret(secret)), keys.SK: keys.TOKEN_SK,
            keys.GSI1PK: f"TOKENID#{token_id}", keys.GSI1SK: keys.TOKEN_SK,
            "token_id": token_id, "user_id": user_id, "created_at": now_iso(), "revoked": False,
            # expires_at is also the table's TTL attribute: DynamoDB removes expired tokens later.
            "expires_at": int(expires.timestamp()) if expires else None,
        }
    )
    return {"token": secret, "token_id": token_id, "user_id": user_id,
            "expires_at": expires.isoformat().replace("+00:00", "Z") if expires else None}


def revoke_token(*, token_id: str | None = None, secret: str | None = None) -> str:
    if secret:
        pk = keys.token(hash_secret(secret))
    else:
        found = client().query(
            TableName=table_name(), IndexName=keys.GSI1,
            KeyConditionExpression="GSI1PK = :pk", ExpressionAttributeValues={":pk": {"S": f"TOKENID#{token_id}"}},
        )["Items"]
        if not found:
            raise NotFound("Token not found")
        pk = found[0]["PK"]["S"]
    try:
        out = client().update_item(
            TableName=table_name(), Key=key(pk, keys.TOKEN_SK), UpdateExpression="SET revoked = :t",
            ConditionExpression="attribute_exists(PK)", ExpressionAttributeValues={":t": {"BOOL": True}},
            ReturnValues="ALL_NEW",
        )
    except client().exceptions.ConditionalCheckFailedException:
        raise NotFound("Token not found") from None
    return str(deserialize(out["Attributes"])["token_id"])


def authenticate(secret: str, business_id: str, now: float | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """(the live token record or None, the user's role in ``business_id`` or None)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None, None
    token = get_item(keys.token(hash_secret(secret)), keys.TOKEN_SK, consistent=False)
    moment = datetime.now(UTC).timestamp() if now is None else now
    if token is None or token.get("revoked") or (token.get("expires_at") and token["expires_at"] <= moment):
        return None, None
    member = get_item(keys.business(business_id), keys.member(token["user_id"]), consistent=False)
    return token, (str(member["role"]) if member else None)


def get_business(business_id: str) -> Business:
    from invoicing.domain.models import Business

    item = get_item(keys.business(business_id), keys.BUSINESS_SK, consistent=False)
    if item is None:
        raise NotFound("Business not found")
    return Business.model_validate(item)
