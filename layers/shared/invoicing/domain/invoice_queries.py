"""How ``GET /invoices`` reads its filters: status spellings and search text."""

from __future__ import annotations

import typing
from collections.abc import Iterable

from invoicing.domain.models import InvoiceStatus
from invoicing.errors import Unprocessable

STATUSES: tuple[str, ...] = typing.get_args(InvoiceStatus)


def parse_statuses(values: Iterable[str]) -> list[str]:
    """``open``, ``Partially-Paid``, ``partially_paid`` ... -> canonical names; comma lists too."""
    found: list[str] = []
    for raw in values:
        for part in raw.split(","):
            name = part.strip().lower().replace("-", "_")
            if not name:
                continue
            if name not in STATUSES:
                raise Unprocessable(
                    f"Unknown status '{part.strip()}': use one of {', '.join(STATUSES)}",
                    loc=("query", "status"), type="enum", input=part, ctx={"expected": ", ".join(STATUSES)},
                )
            if name not in found:
                found.append(name)
    return found


def search_text(*parts: str | None) -> str:
    """What ``search`` matches, lower-cased: DynamoDB's contains() is case-sensitive."""
    return "\n".join(p for p in parts if p).lower()
