"""A large batch through the one-command local stack, over real HTTP: accepted at once, then
worked off by the stack's SQS poller (the worker function, batchItemFailures honoured) until
GET shows it completed. Also with DynamoDB on DynamoDB Local (``serve --endpoint-url``), where
the queues stay on moto."""

# ruff: noqa: S603 - the tests run this project's own commands

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack import template

pytestmark = pytest.mark.e2e

DEMO_BUSINESS = "0195f1a0-0000-7000-8000-000000000001"
DEMO_TOKEN = "dz_demo_owner_token_local_only"
DEMO_CUSTOMER = "0195f1a0-0000-7000-8000-0000000000c1"
HEADERS = {"Authorization": f"Bearer {DEMO_TOKEN}", "x-business-id": DEMO_BUSINESS}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(tmp: Path, *extra: str) -> Iterator[tuple[str, Path]]:
    state_file = tmp / "state.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(DEVSTACK_STATE_FILE=str(state_file), PYTHONUNBUFFERED="1")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "devstack", "serve", "--port", str(port), *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               cwd=template.ROOT)
    lines: list[str] = []
    assert process.stdout is not None
    threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")),  # type: ignore[union-attr]
                     daemon=True).start()
    deadline = time.monotonic() + 90
    while "Ctrl-C stops the stack" not in "".join(lines):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the local stack did not start:\n" + "".join(lines))
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}", state_file
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with serve(tmp_path_factory.mktemp("batch-stack")) as running:
        yield running


def run_a_large_batch(base_url: str) -> dict[str, Any]:
    def post(path: str, body: Any) -> dict[str, Any]:
        reply = requests.post(base_url + path, json=body, headers=HEADERS, timeout=60)
        assert reply.status_code == 201, reply.text
        return reply.json()["data"]  # type: ignore[no-any-return]

    customers = [DEMO_CUSTOMER] + [post("/api/v1/customers", {"name": f"E2E {i}", "email": f"e{i}@example.com"})["id"]
                                   for i in range(2)]
    post("/api/v1/delayed-charges", {"customer_id": customers[1], "amount": 450, "description": "Late delivery"})
    due = (date.today() + timedelta(days=14)).isoformat()
    body = {"items": [{"customer_id": customers[i % 3], "due_date": due, "description": f"E2E {i}",
                       "line_items": [{"description": "Service", "unit_price": 1000 + i}]} for i in range(25)],
            "include_delayed_charges": True, "finalize": True}
    accepted = post("/api/v1/invoices/batch", body)
    assert (accepted["status"], accepted["total"]) == ("processing", 25)
    deadline = time.monotonic() + 90
    while True:
        reply = requests.get(f"{base_url}/api/v1/invoices/batches/{accepted['batch_id']}", headers=HEADERS, timeout=30)
        assert reply.status_code == 200, reply.text
        current: dict[str, Any] = reply.json()["data"]
        if current["status"] != "processing" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (current["status"], current["finalized"], current["failed"]) == ("completed", 25, 0), current
    for entry in current["items"]:
        invoice = requests.get(f"{base_url}/api/v1/invoices/{entry['invoice_id']}", headers=HEADERS, timeout=30)
        assert invoice.json()["data"]["status"] == "open"
    swept = requests.get(f"{base_url}/api/v1/invoices/{current['items'][1]['invoice_id']}", headers=HEADERS,
                         timeout=30).json()["data"]
    assert swept["total"] == 1001 + 450
    return current


def test_a_large_batch_completes_through_the_stack_s_queue(stack: tuple[str, Path]) -> None:
    base_url, state_file = stack
    state = json.loads(state_file.read_text())
    assert set(state["resources"]) >= {"BatchQueue", "BatchDeadLetterQueue"}
    run_a_large_batch(base_url)


@pytest.mark.dynamodb_local
@pytest.mark.skipif(not os.environ.get("DYNAMODB_LOCAL_ENDPOINT"), reason="set DYNAMODB_LOCAL_ENDPOINT")
def test_with_dynamodb_local_the_queues_stay_on_moto(tmp_path: Path) -> None:
    table = f"e2e-batch-{uuid.uuid4().hex[:8]}"
    with serve(tmp_path, "--endpoint-url", os.environ["DYNAMODB_LOCAL_ENDPOINT"], "--table", table) as (base_url,
                                                                                                   state_file):
        state = json.loads(state_file.read_text())
        assert state["endpoint_url"] == os.environ["DYNAMODB_LOCAL_ENDPOINT"]
        assert state["aws_endpoint_url"] != state["endpoint_url"]
        run_a_large_batch(base_url)
