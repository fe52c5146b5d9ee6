"""Optimistic concurrency, one way for every read-decide-write loop.

Storage reads, and makes one conditional write; when that write finds the item changed since it
was read, it raises ``LostRace``. The caller (an operation or an engine) decides whether to try
again, with ``optimistic``: the same step, read included, after a short random pause (full
jitter, so racing writers spread out instead of colliding again).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from invoicing.errors import Conflict

T = TypeVar("T")

ATTEMPTS = 10  # a lost race means someone else just wrote; ten in a row is contention worth a 409
_FIRST_PAUSE = 0.005  # seconds; doubles each attempt
_LONGEST_PAUSE = 0.25


class LostRace(Conflict):
    """A conditional write found the item changed since it was read: read it again. A 409
    ``concurrent_update`` when nobody retries it."""

    code = "concurrent_update"


def pause(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``: random, at most ``_FIRST_PAUSE * 2**attempt``."""
    return random.uniform(0, min(_FIRST_PAUSE * 2 ** min(attempt, 16), _LONGEST_PAUSE))


def optimistic(step: Callable[[], T], *, exhausted: Exception | Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """``step()`` until it does not raise ``LostRace``, at most ``attempts`` times; then raise
    ``exhausted`` (or return what it answers, when it is a function)."""
    for attempt in range(attempts):
        try:
            return step()
        except LostRace:
            if attempt + 1 < attempts:
                time.sleep(pause(attempt))
    if isinstance(exhausted, Exception):
        raise exhausted
    return exhausted()
