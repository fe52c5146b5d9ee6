"""Domain exceptions. ``invoicing.http.errors`` maps each to the contract's response body."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """A refusal the API answers with ``status`` and a body carrying ``code`` (overridable per raise)."""

    status = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code


class BadRequest(DomainError, status=400, code="bad_request"):
    pass


class Unauthorized(DomainError, status=401, code="not_authenticated"):
    pass


class NotFound(DomainError, status=404, code="not_found"):
    pass


class Conflict(DomainError, status=409, code="conflict"):
    pass


class Unprocessable(DomainError, status=422, code="validation_error"):
    """A rule over several fields failed: answered as a FastAPI-shaped 422 at ``loc``."""

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
