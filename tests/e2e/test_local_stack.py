"""The one-command local stack, over real HTTP: ``python -m devstack serve`` in its own process,
exercised with ``requests`` (and ``curl``, when installed) and the admin CLI, as a user would.
With ``E2E_BASE_URL`` the same tests run against a deployed stack, but for those marked
``local_stack`` (see conftest)."""

# ruff: noqa: S603 - the tests run this project's own commands

from __future__ import annotations

import json
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from stack_support import (
    DEMO_BUSINESS,
    DEMO_TOKEN,
    STARTUP_SECONDS,
    DeployedStack,
    Stack,
    free_port,
    launch,
    under_test,
)

from devstack import template

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack | DeployedStack]:
    """Given ``python -m devstack serve`` on a free port (its own state file), up and seeded (or
    the deployed stack)."""
    with under_test(request, tmp_path_factory.mktemp("devstack")) as running:
        yield running


def printed_curl(stdout: str) -> list[str]:
    """The create-invoice curl the stack printed, as argv."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("curl "))
    command = []
    for line in lines[start:]:
        command.append(line.rstrip("\\").strip())
        if not line.endswith("\\"):
            break
    return shlex.split(" ".join(command))


def replay_with_requests(argv: list[str]) -> tuple[int, Any]:
    """Send what a curl argv (-X, -H, -d, URL) would send."""
    method, url, headers, data = "GET", "", {}, None
    words = iter(argv[1:])
    for word in words:
        if word == "-X":
            method = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            data = next(words)
        elif not word.startswith("-"):
            url = word
    reply = requests.request(method, url, headers=headers, data=data, timeout=30)
    return reply.status_code, reply.json()


@pytest.mark.local_stack("the banner `make local` prints")
def test_the_banner_names_the_base_url_business_token_and_docs(stack):
    assert stack.base_url in stack.stdout
    assert DEMO_BUSINESS in stack.stdout and DEMO_TOKEN in stack.stdout
    assert f"{stack.base_url}/api/v1/docs" in stack.stdout
    assert "invoicing-admin create-token" in stack.stdout


@pytest.mark.local_stack("the state file of `invoicing-local serve`")
def test_the_state_file_names_the_running_stack(stack):
    state = json.loads(stack.state_file.read_text())
    assert state["base_url"] == stack.base_url
    assert state["endpoint_url"].startswith("http://127.0.0.1:") and state["table_name"]


@pytest.mark.local_stack("the curl `make local` prints, for its demo data")
def test_the_printed_curl_creates_an_invoice(stack):
    argv = printed_curl(stack.stdout)
    assert argv[0] == "curl" and f"{stack.base_url}/api/v1/invoices" in argv
    if shutil.which("curl"):
        done = subprocess.run([*argv, "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=30,
                              check=False)
        body, _, status = done.stdout.rpartition("\n")
        status_code, created = int(status), json.loads(body)
    else:
        status_code, created = replay_with_requests(argv)

    assert status_code == 201, created
    invoice = created["data"]
    assert invoice["status"] == "draft" and invoice["business_id"] == DEMO_BUSINESS
    assert [line["variant_id"] is None for line in invoice["line_items"]] == [False, True]
    assert invoice["total"] == sum(line["amount"] for line in invoice["line_items"]) > 0


@pytest.mark.local_stack("the curl `make local` prints, for its demo data")
def test_the_printed_curl_also_works_replayed_with_requests(stack):
    status, created = replay_with_requests(printed_curl(stack.stdout))
    assert status == 201, created


@pytest.mark.local_stack("the local stack's demo data")
def test_the_seeded_catalog_and_stock_are_there(stack):
    headers = stack.demo_headers()
    customers = requests.get(stack.url("/api/v1/customers"), headers=headers, timeout=30).json()["data"]["items"]
    variants = requests.get(stack.url("/api/v1/inventory/products/variants"), headers=headers,
                            timeout=30).json()["data"]["items"]
    locations = requests.get(stack.url("/api/v1/inventory/locations"), headers=headers,
                             timeout=30).json()["data"]["items"]
    levels = requests.get(stack.url("/api/v1/inventory/levels"), headers=headers, timeout=30).json()["data"]["items"]
    assert len(customers) == 3 and len(variants) == 2 and len(locations) == 2
    assert [loc["id"] for loc in locations if loc["is_default"]] == ["0195f1a0-0000-7000-8000-0000000000f1"]
    assert len(levels) == 4 and all(level["quantity"] > 0 for level in levels)


def test_without_a_token_it_is_401(stack):
    reply = requests.post(stack.url("/api/v1/invoices"), json={}, headers={"x-business-id": DEMO_BUSINESS},
                          timeout=30)
    assert reply.status_code == 401
    assert reply.json()["detail"] == "Not authenticated"


def test_a_valid_token_on_another_business_is_404_business_not_found(stack):
    reply = requests.get(stack.url("/api/v1/customers"), timeout=30,
                         headers=stack.demo_headers(**{"x-business-id": str(uuid.uuid4())}))
    assert reply.status_code == 404
    assert reply.json()["detail"] == "Business not found"


def test_an_unknown_route_is_the_template_s_answer(stack):
    status, body = template.gateway_response("MISSING_AUTHENTICATION_TOKEN")
    for method, path in (("GET", "/api/v1/nope"), ("DELETE", "/api/v1/invoices"), ("GET", "/")):
        reply = requests.request(method, stack.url(path), headers=stack.demo_headers(), timeout=30)
        assert (reply.status_code, reply.json()) == (status, json.loads(body)), (method, path)


def test_malformed_json_is_a_422_on_the_body(stack):
    reply = requests.post(stack.url("/api/v1/invoices"), data='{"customer_id": ', timeout=30,
                          headers=stack.demo_headers(**{"Content-Type": "application/json"}))
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body"]


def test_a_body_that_is_not_utf8_is_a_4xx_not_a_crash(stack):
    reply = requests.post(stack.url("/api/v1/customers"), data=b'{"name": "\xff\xfe"}', timeout=30,
                          headers=stack.demo_headers(**{"Content-Type": "application/json"}))
    assert 400 <= reply.status_code < 500, reply.text


@pytest.mark.ministack_diverges("request_size")
def test_a_body_over_10_mb_is_the_template_s_413(stack):
    status, body = template.gateway_response("REQUEST_TOO_LARGE")
    reply = requests.post(stack.url("/api/v1/customers"), data=b"x" * (10 * 1024 * 1024 + 1), timeout=60,
                          headers=stack.demo_headers(**{"Content-Type": "application/json"}))
    assert (reply.status_code, reply.json()) == (status, json.loads(body))


@pytest.mark.local_stack("HEAD and OPTIONS are the local front's own answers (API Gateway routes only the "
                         "template's methods)")
def test_head_is_a_get_without_a_body_and_options_lists_the_methods(stack):
    get = requests.get(stack.url("/api/v1/customers"), headers=stack.demo_headers(), timeout=30)
    head = requests.head(stack.url("/api/v1/customers"), headers=stack.demo_headers(), timeout=30)
    assert head.status_code == get.status_code == 200
    assert head.content == b"" and int(head.headers["Content-Length"]) == len(get.content)

    options = requests.options(stack.url("/api/v1/customers"), timeout=30)
    assert options.status_code == 204
    assert {"GET", "POST"} <= {m.strip() for m in options.headers["Allow"].split(",")}
    assert requests.options(stack.url("/api/v1/nope"), timeout=30).status_code == 404


def test_the_docs_are_served(stack):
    assert requests.get(stack.url("/api/v1/openapi.json"), timeout=30).json()["openapi"].startswith("3.")
    docs = requests.get(stack.url("/api/v1/docs"), timeout=30)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


@pytest.mark.local_stack("revocation is immediate only there: deployed, API Gateway caches the authorizer's "
                         "answer for TokenCacheSeconds")
def test_the_admin_cli_works_against_the_running_stack_and_revocation_stops_the_token(stack):
    business = stack.admin("create-business", "--name", "E2E Bikes", "--currency", "eur",
                           "--timezone", "Europe/Berlin")
    assert (business["currency"], business["timezone"]) == ("EUR", "Europe/Berlin")
    token = stack.admin("create-token", "--business-id", business["id"], "--role", "admin",
                        "--email", "ops@e2e.example.com", "--expires-in-days", "7")
    assert token["token"].startswith("dz_") and token["expires_at"]
    headers = {"Authorization": f"Bearer {token['token']}", "x-business-id": business["id"]}

    created = requests.post(stack.url("/api/v1/customers"), headers=headers, timeout=30,
                            json={"name": "Rider", "email": "rider@e2e.example.com"})
    assert created.status_code == 201, created.text
    assert requests.get(stack.url("/api/v1/customers"), headers=headers,
                        timeout=30).json()["data"]["items"][0]["name"] == "Rider"
    # the token is for that business only
    other = requests.get(stack.url("/api/v1/customers"), timeout=30,
                         headers={**headers, "x-business-id": DEMO_BUSINESS})
    assert other.status_code == 404

    assert stack.admin("revoke-token", "--token-id", token["token_id"]) == {"token_id": token["token_id"],
                                                                            "revoked": True}
    assert requests.get(stack.url("/api/v1/customers"), headers=headers, timeout=30).status_code == 401


def test_the_admin_cli_rejects_bad_input_with_a_json_error(stack):
    for args in (["create-business", "--name", "X", "--currency", "XYZ"],
                 ["create-business", "--name", "X", "--currency", "USD", "--timezone", "Mars/Olympus"],
                 ["create-token", "--business-id", str(uuid.uuid4()), "--role", "owner"]):
        done = subprocess.run([sys.executable, "-m", "ops.admin", *args], capture_output=True, text=True,
                              timeout=60, env=stack.env, cwd=template.ROOT, check=False)
        assert done.returncode == 1 and done.stdout == ""
        assert json.loads(done.stderr.strip().splitlines()[-1])["error"]


@pytest.mark.local_stack("`invoicing-local invoke` runs functions in-process against it")
def test_invoke_runs_against_the_running_stack(stack, tmp_path):
    token = stack.admin("create-token", "--business-id", DEMO_BUSINESS, "--role", "viewer")
    event = json.loads((template.ROOT / "events" / "authorizer.json").read_text())
    event["headers"]["Authorization"] = f"Bearer {token['token']}"  # exists in this stack only
    done = subprocess.run([sys.executable, "-m", "devstack", "invoke", "AuthorizerFunction", "-e", "-"],
                          input=json.dumps(event), capture_output=True, text=True, timeout=60, env=stack.env,
                          cwd=template.ROOT, check=False)
    assert done.returncode == 0, done.stderr
    policy = json.loads(done.stdout)
    assert policy["context"]["role"] == "viewer"
    assert {s["Effect"] for s in policy["policyDocument"]["Statement"]} == {"Allow"}


@pytest.mark.local_stack("its state file")
def test_a_second_serve_refuses_while_the_stack_runs(stack):
    done = subprocess.run([sys.executable, "-m", "devstack", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=60, env=stack.env, cwd=template.ROOT, check=False)
    assert done.returncode == 1 and "already running" in done.stderr


@pytest.mark.local_stack("it starts one")
def test_sigterm_stops_a_stack_cleanly_and_removes_its_state_file(tmp_path):
    process, _ = launch(tmp_path / "state.json", "--no-seed", "--port", str(free_port()))
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not (tmp_path / "state.json").exists():
            assert process.poll() is None and time.monotonic() < deadline, "the stack did not start"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert not (tmp_path / "state.json").exists()
    finally:
        if process.poll() is None:
            process.kill()
