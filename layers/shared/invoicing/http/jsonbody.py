"""Request bodies read as JSON once, within limits no request of this API comes near, so that no
body, however hostile, fails the parser (or whatever reads the parsed value next) with a 5xx.

Python's json module recurses once per nesting level (a ``RecursionError`` from some hundreds of
levels on, depending on how deep in the handler's stack it runs) and refuses integer literals
longer than 4,300 digits with a ``ValueError``; pydantic, the idempotency hash and the error
mapping then recurse into the parsed value again; and 9 MB of small lists (``[[1],[1],...]``)
become some 400 MB of Python objects, beyond the functions' 512 MB with the rest. So
``InvoicingApi.resolve`` reads every write's body here, before idempotency and routing, and
refuses with a 422 at ``["body"]`` (type ``json_invalid``, raised as ``Unprocessable`` and mapped
in invoicing.http.errors):

- nesting deeper than ``MAX_DEPTH`` levels (a request of this API needs 5), or more than
  ``MAX_CONTAINERS`` arrays and objects in all, both counted on the text without recursion,
  before it is parsed;
- an integer literal of more than ``MAX_INT_DIGITS`` digits (cents are at most 16), before it is
  converted;
- numbers JSON cannot carry: ``NaN`` and ``Infinity`` (not JSON, though Python reads them) and
  literals beyond a double's range such as ``1e999999`` (read as infinity, which no field may
  hold and no JSON answer may echo).

A body that is not JSON at all raises ``json.JSONDecodeError``: Powertools answers it with its
own 422 on a route that takes a body. Duplicate keys are read as json reads them (the last wins).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, NoReturn

from invoicing.errors import Unprocessable

MAX_DEPTH = 32
# The largest valid request, a batch of 1,000 items of 250 lines, holds 252,002.
MAX_CONTAINERS = 300_000
MAX_INT_DIGITS = 20

# Once escaped backslashes and quotes are dropped, a string is a quote, non-quotes and a quote
# (or the end, unterminated): one match per string, so the scan is linear on any text.
_STRING = re.compile(r'"[^"]*"?')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_ONE_KIND = bytes.maketrans(b"{}", b"[]")


@dataclass(frozen=True)
class Parsed:
    text: str
    value: Any


def read(text: str) -> Parsed | None:
    """The body parsed, or None when it is not JSON (left to Powertools); raises ``Unprocessable``."""
    try:
        return Parsed(text, parse(text))
    except json.JSONDecodeError:
        return None


def parse(text: str) -> Any:
    """``json.loads`` within the limits above: ``Unprocessable`` beyond them, ``json.JSONDecodeError``
    when the text is not JSON."""
    brackets = _brackets(text)
    if brackets.count(b"[") > MAX_CONTAINERS:
        _refuse(f"more than {MAX_CONTAINERS:,} arrays and objects", max_containers=MAX_CONTAINERS)
    if _deeper_than(brackets, MAX_DEPTH):
        _refuse(f"nested deeper than {MAX_DEPTH} levels", max_depth=MAX_DEPTH)
    try:
        return json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except RecursionError:  # the scan above should leave none; should a text slip past it, still a 422
        _refuse(f"nested deeper than {MAX_DEPTH} levels", max_depth=MAX_DEPTH)


def _brackets(text: str) -> bytes:
    """The text's brackets outside strings, all as ``[`` and ``]``."""
    outside = _STRING.sub("", text.replace("\\\\", "").replace('\\"', ""))
    return outside.encode("ascii", "ignore").translate(_ONE_KIND, _NOT_BRACKETS)


def _deeper_than(brackets: bytes, limit: int) -> bool:
    """Whether ``brackets`` nest deeper than ``limit``, without recursion: each pass removes the
    innermost pairs ("[]" once their content is gone), so a pair left after ``limit`` passes
    encloses more than ``limit`` levels; a run of ``limit + 1`` openers is that deep at once (and
    is what a body that never closes them looks like)."""
    openers = b"[" * (limit + 1)
    for _ in range(limit):
        if openers in brackets:
            return True
        if b"[]" not in brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return b"[]" in brackets or openers in brackets


def _integer(literal: str) -> int:
    # Checked before int() converts it: Python refuses beyond 4,300 digits, and slowly up to there.
    if len(literal) - literal.startswith("-") > MAX_INT_DIGITS:
        _refuse(f"an integer with more than {MAX_INT_DIGITS} digits", max_digits=MAX_INT_DIGITS)
    return int(literal)


def _float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        _refuse("a number beyond the range of a double (about 1.8e308)")
    return value


def _constant(name: str) -> NoReturn:
    _refuse(f"{name} is not a JSON number")


def _refuse(error: str, **limits: int) -> NoReturn:
    raise Unprocessable(f"Invalid JSON: {error}", loc=["body"], type="json_invalid", input={},
                        ctx={"error": error, **limits})
