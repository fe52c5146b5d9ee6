"""What the suites share: the client through the emulated API Gateway, tenants, assertions."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devstack import gateway
from devstack.emulated import Tenant, create_tenant
from devstack.template import ROOT

make_tenant = create_tenant

VALIDATION_KEYS = {"loc", "msg", "type", "input", "ctx"}
MARK = "\u0000hostile\u0000"  # where ``written`` puts its literal


def written(value: Any, literal: str) -> str:
    """``value`` as JSON text, with ``literal`` (JSON text, written as is: a 5,001-digit integer,
    ``NaN``, 100,000 brackets) where it holds MARK."""
    return json.dumps(value).replace(json.dumps(MARK), literal)


def race(calls: list[Callable[[], Any]], *, returned: type[BaseException] = Exception) -> list[Any]:
    """Every call in its own thread, all released at once by a barrier; an exception of type
    ``returned`` is returned in the call's place, anything else fails the test."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait(timeout=60)
        try:
            return call()
        except returned as error:
            return error

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


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


class Api:
    """Requests through the emulated API Gateway (routes, authorizer, gateway responses)."""

    def __init__(self, tenant: Tenant | None) -> None:
        self.tenant = tenant

    def headers(self, tenant: Tenant | None = None, **extra: str) -> dict[str, str]:
        who = tenant or self.tenant
        base = {"Authorization": f"Bearer {who.token}", "x-business-id": who.business_id} if who else {}
        return {**base, **extra}

    def request(self, method: str, path: str, *, json_body: Any = None, raw: str | None = None,
                query: str = "", headers: dict[str, str] | None = None, as_tenant: Tenant | None = None,
                is_base64: bool = False) -> gateway.Reply:
        all_headers = self.headers(as_tenant) if headers is None else headers
        if json_body is not None:
            raw = json.dumps(json_body)
            all_headers = {"Content-Type": "application/json", **all_headers}
        return gateway.request(method, path, headers=all_headers, body=raw, query=query, is_base64=is_base64)

    def get(self, path: str, **kw: Any) -> gateway.Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> gateway.Reply:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> gateway.Reply:
        return self.request("PUT", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> gateway.Reply:
        return self.request("DELETE", path, **kw)


# The parts of the local stack's banner that differ from run to run, and what stands for each.
_BANNER_VARIABLES = [
    (re.compile(r"(State file +)\S+"), r"\1<path>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "<date>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<id>"),
    (re.compile(r"\bdz_\w+"), "<token>"),
]


def normalized_banner(text: str) -> str:
    """The banner from its title to its last line, the variable parts replaced."""
    start = text.index("DayZero invoicing - local stack")
    end = text.index("\n", text.index("Ctrl-C stops the stack", start))
    banner = text[start:end]
    for pattern, replacement in _BANNER_VARIABLES:
        banner = pattern.sub(replacement, banner)
    return banner


def readme_banner() -> str:
    """The sample banner README.md shows (the code block after its banner comment)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- the local stack's banner[^>]*-->\n```\n(.*?)```", readme, flags=re.S)
    assert found, "README.md lost the sample banner's marker comment"
    return found.group(1)


# ---------------------------------------------------------------- documents (DocumentsQueue)

def send_document_event(business_id: str, invoice_id: str, detail_type: str = "invoice.finalized",
                        payment_id: str | None = None, *, event_id: str | None = None) -> str:
    """Send DocumentsQueue an EventBridge event as the events feature's rule will: the whole event
    as the body (until that feature lands, nothing else sends to the queue locally)."""
    import uuid

    import boto3

    from devstack import runtime

    event_id = event_id or str(uuid.uuid4())
    detail = {"event_id": event_id, "business_id": business_id, "invoice_id": invoice_id,
              **({"payment_id": payment_id} if payment_id else {})}
    body = {"version": "0", "id": event_id, "source": "invoicing", "detail-type": detail_type,
            "account": "123456789012", "time": "2026-12-02T21:15:00Z", "region": "us-east-1", "resources": [],
            "detail": detail}
    boto3.client("sqs").send_message(QueueUrl=runtime.physical_id("DocumentsQueue"), MessageBody=json.dumps(body))
    return event_id


def deliver_documents() -> Any:
    """Run DocumentsFunction on everything in its queue, redelivering failed records (as their
    visibility timeout would) until the queue is empty or they are dead-lettered."""
    from devstack import template
    from devstack.sqs_poller import SqsPoller

    sources = [s for s in template.sqs_sources() if s.function == "DocumentsFunction"]
    return SqsPoller(sources=sources).drain()
