"""Time-ordered identifiers (UUIDv7, RFC 9562): IDs sort by creation time in the table."""

from __future__ import annotations

import os
import time
import uuid

# The one spelling of a UUID (any version, either case) for request schemas and the authorizer.
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


_KEYED = uuid.UUID("0195f1a0-7c3e-7b2a-9d41-6a8f2e0b5c17")  # the namespace of key-derived ids


def keyed_id(kind: str, business_id: str, idempotency_key: str) -> str:
    """A new record's id: random (UUIDv7), or, for a request with an Idempotency-Key, derived from
    the key, so that the retry of a request whose answer was lost (a crash after the write, before
    the idempotency record kept the answer) finds what its first attempt wrote instead of writing
    it again."""
    if not idempotency_key:
        return uuid7()
    return str(uuid.uuid5(_KEYED, f"{kind}\n{business_id}\n{idempotency_key}"))


def uuid7(now_ms: int | None = None) -> str:
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand_a = int.from_bytes(os.urandom(2), "big") & 0xFFF
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))
