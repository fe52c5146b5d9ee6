"""The query parameters every list endpoint takes (API.md, "Lists").

Powertools documents but does not fill parameters declared inside a ``Depends`` callable, and a
pydantic model in ``Query()`` puts the model's name into error locations (``["query", "page",
"limit"]``). So each list route declares these as plain parameters, with the aliases below::

    def list_things(limit: Limit = 50, cursor: Cursor = None, direction: Direction = None,
                    descending: Descending = True, include_total_count: IncludeTotal = False,
                    sort_by: SortByCreated = "created_at") -> ...:
        request = page_request(limit, cursor, direction, descending, include_total_count)
"""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query

from invoicing.storage.paging import PageRequest

Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page, 1-1000")]
Cursor = Annotated[
    str | None,
    Query(min_length=1, max_length=2048,
          description="Opaque cursor: the next_cursor or prev_cursor of a page of this same list"),
]
Direction = Annotated[
    Literal["next", "prev"] | None,
    Query(description="Which way to read from the cursor; default: the way the cursor was issued"),
]
Descending = Annotated[bool, Query(description="Newest first (default true)")]
IncludeTotal = Annotated[bool, Query(description="Also count every match into 'total' (costs an extra read)")]
SortByCreated = Annotated[
    Literal["created_at"],
    Query(description="Sort key; this list is ordered by creation time (IDs are time-ordered UUIDv7)"),
]


def page_request(limit: int, cursor: str | None, direction: Literal["next", "prev"] | None, descending: bool,
                 include_total_count: bool) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor, direction=direction, descending=descending,
                       include_total=include_total_count)
