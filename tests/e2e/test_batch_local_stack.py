"""A large batch through the one-command local stack, over real HTTP: accepted at once, then
worked off by the stack's SQS poller (the worker function, batchItemFailures honoured) until
GET shows it completed. Also with DynamoDB on DynamoDB Local (``serve --endpoint-url``), where
the queues stay on moto; and against a deployed stack (``E2E_BASE_URL``), through its SQS event
source mapping."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from stack_support import DeployedStack, Stack, serve, under_test

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack | DeployedStack]:
    with under_test(request, tmp_path_factory.mktemp("batch-stack")) as running:
        yield running


def run_a_large_batch(stack: Stack | DeployedStack) -> dict[str, Any]:
    base_url, headers = stack.base_url, stack.demo_headers()

    def post(path: str, body: Any) -> dict[str, Any]:
        reply = requests.post(base_url + path, json=body, headers=headers, timeout=60)
        assert reply.status_code == 201, reply.text
        return reply.json()["data"]  # type: ignore[no-any-return]

    customers = [post("/api/v1/customers", {"name": f"E2E {i}", "email": f"e{i}@example.com"})["id"] for i in range(3)]
    post("/api/v1/delayed-charges", {"customer_id": customers[1], "amount": 450, "description": "Late delivery"})
    due = (date.today() + timedelta(days=14)).isoformat()
    body = {"items": [{"customer_id": customers[i % 3], "due_date": due, "description": f"E2E {i}",
                       "line_items": [{"description": "Service", "unit_price": 1000 + i}]} for i in range(25)],
            "include_delayed_charges": True, "finalize": True}
    accepted = post("/api/v1/invoices/batch", body)
    assert (accepted["status"], accepted["total"]) == ("processing", 25)
    deadline = time.monotonic() + 90
    while True:
        reply = requests.get(f"{base_url}/api/v1/invoices/batches/{accepted['batch_id']}", headers=headers, timeout=30)
        assert reply.status_code == 200, reply.text
        current: dict[str, Any] = reply.json()["data"]
        if current["status"] != "processing" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (current["status"], current["finalized"], current["failed"]) == ("completed", 25, 0), current
    for entry in current["items"]:
        invoice = requests.get(f"{base_url}/api/v1/invoices/{entry['invoice_id']}", headers=headers, timeout=30)
        assert invoice.json()["data"]["status"] == "open"
    swept = requests.get(f"{base_url}/api/v1/invoices/{current['items'][1]['invoice_id']}", headers=headers,
                         timeout=30).json()["data"]
    assert swept["total"] == 1001 + 450
    return current


def test_a_large_batch_completes_through_the_stack_s_queue(stack: Stack | DeployedStack) -> None:
    assert set(stack.resources()) >= {"BatchQueue", "BatchDeadLetterQueue"}
    run_a_large_batch(stack)


@pytest.mark.dynamodb_local
@pytest.mark.local_stack("it serves one on DynamoDB Local")
@pytest.mark.skipif(not os.environ.get("DYNAMODB_LOCAL_ENDPOINT"), reason="set DYNAMODB_LOCAL_ENDPOINT")
def test_with_dynamodb_local_the_queues_stay_on_moto(tmp_path: Path) -> None:
    table = f"e2e-batch-{uuid.uuid4().hex[:8]}"
    with serve(tmp_path, "--endpoint-url", os.environ["DYNAMODB_LOCAL_ENDPOINT"], "--table", table) as running:
        state = json.loads(running.state_file.read_text())
        assert state["endpoint_url"] == os.environ["DYNAMODB_LOCAL_ENDPOINT"]
        assert state["aws_endpoint_url"] != state["endpoint_url"]
        run_a_large_batch(running)
