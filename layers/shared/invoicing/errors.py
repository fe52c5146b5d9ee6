"""Domain exceptions. ``invoicing.http.errors`` maps each to the contract's response body."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Unauthorized(DomainError):
    status = 401
    code = "not_authenticated"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unprocessable(DomainError):
    """A rule over several fields failed: answered as a FastAPI-shaped 422 at ``loc``."""

    status = 422
    code = "validation_error"

    def __init__(
        self,
        detail: str,
        *,
        loc: Sequence[str | int],
        type: str = "value_error",
        input: Any = None,
        ctx: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.loc = list(loc)
        self.type = type
        self.input = input
        self.ctx = ctx or {}
