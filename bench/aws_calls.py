"""AWS calls per operation, counted with botocore's event hooks on the service's own client."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def counting(client: Any) -> Iterator[Counter[str]]:
    """Count every API call ``client`` makes inside the block, by operation name."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    service = client.meta.service_model.service_name
    client.meta.events.register(f"before-call.{service}.*", count)
    try:
        yield calls
    finally:
        client.meta.events.unregister(f"before-call.{service}.*", count)


def measure(operations: dict[str, Callable[[], Any]], client: Any) -> list[tuple[str, Counter[str]]]:
    rows = []
    for name, operation in operations.items():
        with counting(client) as calls:
            operation()
        rows.append((name, calls))
    return rows
