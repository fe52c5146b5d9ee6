"""AWS calls per operation, counted (and timed) with botocore's event hooks on the service's own
client."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
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


@contextmanager
def timing(client: Any) -> Iterator[Counter[str]]:
    """Seconds spent inside each API operation ``client`` calls in the block (from before the
    request is built to its parsed answer, the backend's work included), by operation name."""
    seconds: Counter[str] = Counter()
    started: dict[str, float] = {}

    def start(model: Any, **_: Any) -> None:
        started[model.name] = time.perf_counter()

    def stop(model: Any, **_: Any) -> None:
        seconds[model.name] += time.perf_counter() - started.pop(model.name)

    service = client.meta.service_model.service_name
    client.meta.events.register(f"before-parameter-build.{service}.*", start)
    client.meta.events.register(f"after-call.{service}.*", stop)
    try:
        yield seconds
    finally:
        client.meta.events.unregister(f"before-parameter-build.{service}.*", start)
        client.meta.events.unregister(f"after-call.{service}.*", stop)

