"""Assertions the integration suites share."""

from __future__ import annotations

from typing import Any

VALIDATION_KEYS = {"loc", "msg", "type", "input", "ctx"}


def errors_at(reply: Any) -> dict[tuple[Any, ...], dict[str, Any]]:
    """A 422's details by location; every detail has the FastAPI shape."""
    assert reply.status == 422, reply.body
    details = reply.json()["detail"]
    for detail in details:
        assert set(detail) == VALIDATION_KEYS, detail
    return {tuple(d["loc"]): d for d in details}


def ids(reply: Any) -> list[str]:
    """The ids of a 200 list page, in order."""
    assert reply.status == 200, reply.body
    return [item["id"] for item in reply.json()["data"]["items"]]
