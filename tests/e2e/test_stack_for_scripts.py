"""The local stack as a newcomer and a script meet it, over real HTTP: the banner is README.md's,
the state file tells a script everything the banner does, 100 clients at once are all answered,
two stacks run side by side, Ctrl-C is prompt however much the stack holds, a token with an
exact expiry works until then, and nothing listens beyond loopback."""

# ruff: noqa: S603, S607 - the tests run this project's own commands (and lsof)

from __future__ import annotations

import ipaddress
import json
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
import requests
from helpers import normalized_banner, readme_banner
from stack_support import DEMO_BUSINESS, DEMO_HEADERS, Stack, free_port, serve, stack_env

from devstack import local, template
from invoicing.storage import keys

pytestmark = pytest.mark.e2e

CUSTOMERS = "/api/v1/customers"
STOP_SECONDS = 20  # a hang guard, not a target: a stack holding 5,000 invoices stops in a second or two


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack as ``make local`` runs it: its state file is ``<state dir>/<port>/stack.json``."""
    state_dir = tmp_path_factory.mktemp("stacks")
    with serve(state_dir, env={"DEVSTACK_STATE_DIR": str(state_dir)}) as running:
        yield running


def state_of(stack: Stack) -> dict[str, Any]:
    return json.loads(stack.state_file.read_text())  # type: ignore[no-any-return]


# ------------------------------------------------------------------ what a newcomer and a script see
def test_the_printed_banner_is_the_readme_s(stack):
    assert normalized_banner(stack.stdout) == normalized_banner(readme_banner())


def test_the_state_file_tells_a_script_what_the_banner_does(stack):
    state = state_of(stack)
    port = int(stack.base_url.rsplit(":", 1)[1])

    assert stat.S_IMODE(stack.state_file.stat().st_mode) == 0o600  # it holds a token
    assert (state["base_url"], state["api_url"], state["port"], state["pid"]) == (
        stack.base_url, f"{stack.base_url}/api/v1", port, stack.process.pid)
    assert state["endpoint_url"] == state["aws_endpoint_url"] and state["table_name"] == local.LOCAL_TABLE
    assert state["demo"]["business_id"] in stack.stdout and state["demo"]["token"] in stack.stdout
    assert f"{state['endpoint_url']}   table {state['table_name']}" in stack.stdout

    # what a script does: everything from the state file, nothing from the banner
    demo = state["demo"]
    reply = requests.get(f"{state['api_url']}/customers/{demo['customer_id']}", timeout=30,
                         headers={"Authorization": f"Bearer {demo['token']}", "x-business-id": demo["business_id"]})
    assert reply.status_code == 200, reply.text
    table = boto3.client("dynamodb", endpoint_url=state["endpoint_url"], region_name=state["region"],
                         aws_access_key_id="testing", aws_secret_access_key="testing")
    assert table.describe_table(TableName=state["table_name"])["Table"]["TableStatus"] == "ACTIVE"


def test_100_clients_at_once_are_each_answered(stack):
    clients = 100
    barrier = threading.Barrier(clients)
    answers: Counter[int | str] = Counter()

    def create(i: int) -> None:
        barrier.wait(timeout=60)
        try:  # requests.post opens a connection of its own each time
            reply = requests.post(stack.url(CUSTOMERS), json={"name": f"Client {i}", "email": f"c{i}@example.com"},
                                  headers=DEMO_HEADERS, timeout=120)
            answers[reply.status_code] += 1
        except requests.RequestException as error:
            answers[type(error).__name__] += 1

    threads = [threading.Thread(target=create, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == {201: clients}


@pytest.mark.skipif(not shutil.which("lsof"), reason="needs lsof")
def test_nothing_the_stack_starts_listens_beyond_loopback(stack):
    done = subprocess.run(["lsof", "-nP", "-a", "-p", str(stack.process.pid), "-iTCP", "-sTCP:LISTEN", "-Fn"],
                          capture_output=True, text=True, timeout=30, check=False)
    listening = {line[1:].rpartition(":")[::2] for line in done.stdout.splitlines() if line.startswith("n")}
    moto_port = state_of(stack)["aws_endpoint_url"].rsplit(":", 1)[1]

    assert {("127.0.0.1", stack.base_url.rsplit(":", 1)[1]), ("127.0.0.1", moto_port)} <= listening, done.stdout
    assert all(ipaddress.ip_address(host.strip("[]")).is_loopback for host, _ in listening), listening


def test_a_token_with_an_exact_expiry_works_until_then_and_is_401_after(stack):
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=8)  # room for the admin CLI to start
    token = stack.admin("create-token", "--business-id", DEMO_BUSINESS, "--role", "viewer",
                        "--expires-at", expires.astimezone(timezone(timedelta(hours=2))).isoformat())
    headers = {"Authorization": f"Bearer {token['token']}", "x-business-id": DEMO_BUSINESS}

    assert token["expires_at"] == expires.isoformat().replace("+00:00", "Z")
    assert time.time() < expires.timestamp() - 0.5, "the admin CLI took so long the token expired untried"
    assert requests.get(stack.url(CUSTOMERS), headers=headers, timeout=30).status_code == 200
    time.sleep(max(0.0, expires.timestamp() - time.time()) + 0.2)
    refused = requests.get(stack.url(CUSTOMERS), headers=headers, timeout=30)
    status, body = template.gateway_response("UNAUTHORIZED")
    assert (refused.status_code, refused.json()) == (status, json.loads(body))


# ------------------------------------------------------------------ stacks of their own
def test_two_stacks_run_side_by_side_each_with_its_own_state_and_data(tmp_path):
    port_b = free_port()
    state_dir = {"DEVSTACK_STATE_DIR": str(tmp_path)}
    # one as `invoicing-local serve --port N`, the other as `make local PORT=N` (the variable only)
    with serve(tmp_path, env=state_dir) as a, serve(tmp_path, env={**state_dir, "PORT": str(port_b)}) as b:
        port_a = int(a.base_url.rsplit(":", 1)[1])
        assert b.base_url == f"http://127.0.0.1:{port_b}" != a.base_url
        assert (a.state_file, b.state_file) == (tmp_path / str(port_a) / "stack.json",
                                                tmp_path / str(port_b) / "stack.json")
        assert state_of(a)["base_url"] == a.base_url and state_of(b)["base_url"] == b.base_url
        assert state_of(a)["endpoint_url"] != state_of(b)["endpoint_url"]

        created = requests.post(a.url(CUSTOMERS), json={"name": "Only in A", "email": "a@example.com"},
                                headers=DEMO_HEADERS, timeout=30)
        assert created.status_code == 201, created.text
        assert "Only in A" in customer_names(a) and "Only in A" not in customer_names(b)

        # the admin CLI asks which stack, and PORT tells it
        asked = subprocess.run([sys.executable, "-m", "ops.admin", "create-token", "--business-id", DEMO_BUSINESS,
                                "--role", "viewer"], capture_output=True, text=True, timeout=60, env=a.env,
                               cwd=template.ROOT, check=False)
        assert asked.returncode == 1 and "PORT" in json.loads(asked.stderr.strip().splitlines()[-1])["error"]
        token = b.admin("create-token", "--business-id", DEMO_BUSINESS, "--role", "viewer")
        headers = {"Authorization": f"Bearer {token['token']}", "x-business-id": DEMO_BUSINESS}
        assert requests.get(b.url(CUSTOMERS), headers=headers, timeout=30).status_code == 200
        assert requests.get(a.url(CUSTOMERS), headers=headers, timeout=30).status_code == 401


def customer_names(stack: Stack) -> set[str]:
    reply = requests.get(stack.url(CUSTOMERS), headers=DEMO_HEADERS, params={"limit": 100}, timeout=30)
    return {customer["name"] for customer in reply.json()["data"]["items"]}


def load_invoices(stack: Stack, count: int) -> None:
    """``count`` copies of one invoice made through the API, written by BatchWriteItem straight to
    the stack's DynamoDB (thousands through the API would take minutes)."""
    created = requests.post(stack.url("/api/v1/invoices"), headers=DEMO_HEADERS, timeout=60, json={
        "customer_id": "0195f1a0-0000-7000-8000-0000000000c1", "due_date": "2030-01-31",
        "line_items": [{"description": "Service", "quantity": 1, "unit_price": 1000}]})
    assert created.status_code == 201, created.text
    invoice_id = created.json()["data"]["id"]
    state = state_of(stack)
    table = boto3.resource("dynamodb", endpoint_url=state["endpoint_url"], region_name=state["region"],
                           aws_access_key_id="testing", aws_secret_access_key="testing").Table(state["table_name"])
    item = table.get_item(Key={"PK": keys.business(DEMO_BUSINESS), "SK": keys.invoice(invoice_id)})["Item"]
    with table.batch_writer() as batch:  # 25 per BatchWriteItem, unprocessed items retried
        for _ in range(count):
            copy_id = str(uuid.uuid4())  # the id is in the sort keys too
            batch.put_item(Item={k: v.replace(invoice_id, copy_id) if isinstance(v, str) else v
                                 for k, v in item.items()})


def test_ctrl_c_stops_a_stack_holding_5000_invoices_promptly(tmp_path, record_property):
    with serve(tmp_path, env={"DEVSTACK_STATE_DIR": str(tmp_path)}) as running:
        load_invoices(running, 5000)
        listed = requests.get(running.url("/api/v1/invoices"), headers=DEMO_HEADERS, timeout=60,
                              params={"limit": 1, "include_total_count": "true"})
        assert listed.json()["data"]["total"] == 5001, listed.text

        started = time.monotonic()
        running.process.send_signal(signal.SIGINT)
        code = running.process.wait(timeout=STOP_SECONDS)
        elapsed = time.monotonic() - started

    record_property("stop_seconds", round(elapsed, 2))
    print(f"a stack holding 5,000 invoices stopped {elapsed:.2f} s after SIGINT")
    assert code == 0, running.stdout
    assert "Stopping the local stack." in running.stdout
    assert not running.state_file.exists() and not running.state_file.parent.exists()


def test_a_script_s_kill_int_stops_a_stack_it_started_in_the_background(tmp_path):
    """A non-interactive shell starts a background job with SIGINT ignored; ``kill -INT`` still stops it."""
    port = free_port()
    script = f"""
        {sys.executable} -m devstack serve --no-seed --port {port} > {tmp_path}/log 2>&1 &
        pid=$!
        for _ in $(seq 900); do [ -f {tmp_path}/{port}/stack.json ] && break; kill -0 $pid || exit 3; sleep 0.1; done
        kill -INT $pid
        for _ in $(seq {STOP_SECONDS * 10}); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
        kill -0 $pid 2>/dev/null && {{ kill -KILL $pid; exit 4; }}
        wait $pid
    """
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=180,
                          env=stack_env(DEVSTACK_STATE_DIR=str(tmp_path)), cwd=template.ROOT, check=False)
    assert done.returncode == 0, (done.returncode, (tmp_path / "log").read_text())
    assert not (tmp_path / str(port)).exists()
