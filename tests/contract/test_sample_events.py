"""events/: every function has a sample event, and every sample is one its function can receive.

Naming (events/README.md): ``events/<folder>.json`` or ``events/<folder>-<case>.json`` (``_`` works
as the separator too), where the folder is the function's CodeUri ``functions/<folder>/``; the
longest matching folder name wins.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devstack import template

EVENTS = template.ROOT / "events"
EVENT_FILES = sorted(EVENTS.glob("*.json"))
AUTHORIZER, IDENTITY_HEADERS = template.authorizer()


def folder_of(logical_id: str) -> str:
    return template.functions()[logical_id].code_dir.name


def function_of(event_file: Path) -> str | None:
    """The template function an event file belongs to, by the naming convention."""
    stem = event_file.stem
    owners = [(len(folder), fid) for fid in template.functions() if (folder := folder_of(fid))
              and (stem == folder or stem.startswith((folder + "-", folder + "_")))]
    return max(owners)[1] if owners else None


def load(event_file: Path) -> Any:
    return json.loads(event_file.read_text(encoding="utf-8"))


def event_types(logical_id: str) -> set[str]:
    return {event["Type"] for event in template.functions()[logical_id].events.values()}


@pytest.mark.parametrize("logical_id", sorted(template.functions()))
def test_every_function_has_a_sample_event(logical_id: str) -> None:
    mine = [f.name for f in EVENT_FILES if function_of(f) == logical_id]
    assert mine, f"{logical_id}: add events/{folder_of(logical_id)}-<case>.json (see events/README.md)"


@pytest.mark.parametrize("event_file", EVENT_FILES, ids=lambda f: f.name)
def test_every_sample_event_belongs_to_a_function(event_file: Path) -> None:
    folders = sorted(folder_of(fid) for fid in template.functions())
    assert function_of(event_file), f"{event_file.name}: name it <folder>[-<case>].json, folder one of {folders}"


@pytest.mark.parametrize("event_file", EVENT_FILES, ids=lambda f: f.name)
def test_every_sample_event_has_its_function_s_shape(event_file: Path) -> None:
    event = load(event_file)  # invalid JSON fails here
    assert isinstance(event, dict), f"{event_file.name}: an event is a JSON object"
    logical_id = function_of(event_file)
    if logical_id is None:
        pytest.skip("belongs to no function (reported by its own test)")
    if logical_id == AUTHORIZER:
        check_authorizer_event(event)
    elif "Api" in event_types(logical_id):
        check_api_event(event, logical_id)
    elif "SQS" in event_types(logical_id):
        check_sqs_event(event)
    # other functions (EventBridge Scheduler targets) take their schedule's input: any JSON object


def check_api_event(event: dict[str, Any], logical_id: str) -> None:
    for key in ("httpMethod", "path", "resource", "headers", "requestContext"):
        assert key in event, f"an API Gateway proxy event has {key!r}"
    assert event["body"] is None or isinstance(event["body"], str), "the body is a string (JSON text) or null"
    assert isinstance(event["headers"], dict)
    routes = {(r.method, r.path): r for r in template.api_routes() if r.function == logical_id}
    route = routes.get((event["httpMethod"], event["resource"]))
    assert route, f"{event['httpMethod']} {event['resource']} is not an Api event of {logical_id}: {sorted(routes)}"
    found = route.pattern.match(event["path"])
    assert found, f"path {event['path']} does not match resource {route.path}"
    assert (event.get("pathParameters") or {}) == found.groupdict(), "pathParameters must be the path's values"
    context = event["requestContext"]
    assert context.get("stage") and context.get("httpMethod") == event["httpMethod"]
    if route.authorized:
        granted = context.get("authorizer") or {}
        missing = {"business_id", "user_id", "role"} - set(granted)
        assert not missing, f"behind the authorizer, requestContext.authorizer needs {sorted(missing)}"


def check_authorizer_event(event: dict[str, Any]) -> None:
    assert event.get("type") == "REQUEST", "the authorizer is a REQUEST authorizer"
    assert str(event.get("methodArn", "")).startswith("arn:aws:execute-api:")
    headers = {name.lower() for name in event.get("headers") or {}}
    missing = {name.lower() for name in IDENTITY_HEADERS} - headers
    assert not missing, f"the authorizer's identity headers are missing: {sorted(missing)}"


def check_sqs_event(event: dict[str, Any]) -> None:
    records = event.get("Records")
    assert isinstance(records, list) and 1 <= len(records) <= 10, "an SQS event has 1..10 Records"
    for record in records:
        assert record.get("eventSource") == "aws:sqs"
        assert isinstance(record.get("body"), str) and record.get("messageId")
