"""The contract's response shapes: the success envelope, error bodies and list pages.

``defer_build`` here and on the request models: validators are built on first use, not at import.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from invoicing.observability import metrics

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    model_config = ConfigDict(defer_build=True)
    success: bool = True
    message: str
    code: str = Field(description="Stable machine-readable outcome, e.g. invoice.created")
    data: T


class Page(BaseModel, Generic[T]):
    model_config = ConfigDict(defer_build=True)
    items: list[T]
    total: int | None = Field(description="Count of all matches; null unless include_total_count=true")
    limit: int
    next_cursor: str | None
    prev_cursor: str | None
    has_next: bool
    has_prev: bool


class ErrorBody(BaseModel):
    model_config = ConfigDict(defer_build=True)
    detail: str
    code: str | None = None



def ok(data: Any, *, code: str, message: str) -> Envelope[Any]:
    """The success envelope; the route's ``status_code`` sets 200 or 201."""
    return Envelope(message=message, code=code, data=data)


def counted(data: Any, *, metric: str, code: str, message: str) -> Envelope[Any]:
    """``ok``, counting one ``metric`` (a write the dashboards follow)."""
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return ok(data, code=code, message=message)


_REASONS = {
    400: "Bad Request - Invalid input",
    401: "Unauthorized - Authentication required",
    403: "Forbidden - Insufficient permissions",
    404: "Not Found - Resource does not exist",
    409: "Conflict - The resource is not in a state that allows this",
    413: "Payload Too Large",
    415: "Unsupported Media Type - send application/json",
}


def documented(success: int, *errors: int, description: str = "Successful Response") -> dict[int, Any]:
    """OpenAPI ``responses`` of a route: its success status (schema from the return annotation)
    and every error status it can answer. 422 is added by Powertools' validation."""
    responses: dict[int, Any] = {success: {"description": description}}
    for status in sorted({400, 401, 403, 404, 415, *errors}):
        responses[status] = {
            "description": _REASONS[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
    return responses
