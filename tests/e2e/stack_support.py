"""What the e2e tests run against: the one-command local stack (``python -m devstack serve`` in
its own process, with its own state file and none of this shell's endpoint overrides, stopped
with SIGTERM as a user's Ctrl-C would), or, with ``E2E_BASE_URL`` set, a deployed stack.

Against a deployed stack (``make deploy-check`` deploys one to MiniStack and sets these):
    E2E_BASE_URL      the API's base URL, as the stack's ApiUrl output gives it (.../api/v1)
    E2E_TOKEN         an owner's API token of ...
    E2E_BUSINESS_ID   ... this business (``invoicing-admin create-business``, ``create-token``)
    E2E_STACK_NAME    the CloudFormation stack, for tests that reach its resources through boto3
                      (its own configuration: AWS_ENDPOINT_URL, credentials, region)
Tests marked ``local_stack`` need the local stack itself and are skipped there, each with its
reason; tests marked ``deployed_stack`` need a deployed one and are skipped on the local stack."""

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack import template

DEMO_BUSINESS = "0195f1a0-0000-7000-8000-000000000001"
DEMO_TOKEN = "dz_demo_owner_token_local_only"
DEMO_HEADERS = {"Authorization": f"Bearer {DEMO_TOKEN}", "x-business-id": DEMO_BUSINESS}
STARTUP_SECONDS = 90
DEPLOYED = bool(os.environ.get("E2E_BASE_URL"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stack_env(state_file: Path | None = None, **env: str) -> dict[str, str]:
    """This environment without endpoint overrides, a state file or a port of its own, plus ``env``
    (and ``state_file`` pinned as ``DEVSTACK_STATE_FILE``, when given)."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("AWS_ENDPOINT_URL", "DEVSTACK_STATE")) and k != "PORT"}
    clean.update(PYTHONUNBUFFERED="1", **env)
    if state_file is not None:
        clean["DEVSTACK_STATE_FILE"] = str(state_file)
    return clean


def launch(state_file: Path | None, *args: str,
           env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """``python -m devstack serve *args`` started (not waited for), and the environment it got
    (``stack_env(state_file, **env)``)."""
    full = stack_env(state_file, **(env or {}))
    process = subprocess.Popen([sys.executable, "-m", "devstack", "serve", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full,
                               cwd=template.ROOT)
    return process, full


@dataclass
class Stack:
    process: subprocess.Popen[str]
    state_file: Path
    env: dict[str, str]
    lines: list[str] = field(default_factory=list)
    base_url: str = ""

    @property
    def stdout(self) -> str:
        return "".join(self.lines)

    def demo_headers(self, **extra: str) -> dict[str, str]:
        return {**DEMO_HEADERS, **extra}

    def url(self, path: str) -> str:
        return self.base_url + path

    def admin(self, *args: str) -> dict[str, Any]:
        return admin(self.env, *args)

    def resources(self) -> dict[str, str]:
        """The stack's resources, logical id -> physical id."""
        return json.loads(self.state_file.read_text())["resources"]  # type: ignore[no-any-return]


def admin(env: dict[str, str], *args: str) -> dict[str, Any]:
    """``invoicing-admin *args`` with ``env``; its JSON answer."""
    done = subprocess.run([sys.executable, "-m", "ops.admin", *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=template.ROOT, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@dataclass
class DeployedStack:
    """A deployed stack, as ``E2E_*`` name it (see the module's docstring)."""

    base_url: str  # the stage's URL: E2E_BASE_URL without /api/v1, so tests name /api/v1/... paths
    token: str
    business_id: str
    stack_name: str
    env: dict[str, str]  # for the admin CLI: boto3's configuration and the stack's table

    @classmethod
    def from_environment(cls) -> DeployedStack:
        base_url = os.environ["E2E_BASE_URL"].rstrip("/").removesuffix("/api/v1")
        stack_name = os.environ.get("E2E_STACK_NAME", "")
        env = dict(os.environ)
        if stack_name:
            env["TABLE_NAME"] = cloudformation_outputs(stack_name)["TableName"]
        return cls(base_url, os.environ["E2E_TOKEN"], os.environ["E2E_BUSINESS_ID"], stack_name, env)

    def demo_headers(self, **extra: str) -> dict[str, str]:
        """The owner's headers (on the local stack, the demo owner's)."""
        return {"Authorization": f"Bearer {self.token}", "x-business-id": self.business_id, **extra}

    def url(self, path: str) -> str:
        return self.base_url + path

    def admin(self, *args: str) -> dict[str, Any]:
        assert self.stack_name, "set E2E_STACK_NAME: the admin CLI writes to the stack's table"
        return admin(self.env, *args)

    def resources(self) -> dict[str, str]:
        import boto3

        found = boto3.client("cloudformation").describe_stack_resources(StackName=self.stack_name)
        return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in found["StackResources"]}


def cloudformation_outputs(stack_name: str) -> dict[str, str]:
    import boto3

    described = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


@contextmanager
def serve(tmp: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[Stack]:
    """The stack on a free port (state file in ``tmp``), up and seeded once its banner is out.
    With ``DEVSTACK_STATE_DIR`` in ``env`` the stack keeps its own per-port state file there; with
    ``PORT`` in ``env`` it takes its port from that, as ``make local PORT=...`` does."""
    env = env or {}
    port = int(env.get("PORT") or free_port())
    state_dir = env.get("DEVSTACK_STATE_DIR")
    state_file = Path(state_dir) / str(port) / "stack.json" if state_dir else tmp / "state.json"
    process, full_env = launch(None if state_dir else state_file,
                               *(() if "PORT" in env else ("--port", str(port))), *extra, env=env)
    running = Stack(process, state_file, full_env)
    assert process.stdout is not None
    threading.Thread(target=lambda: running.lines.extend(iter(process.stdout.readline, "")),  # type: ignore[union-attr]
                     daemon=True).start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while "Ctrl-C stops the stack" not in running.stdout:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the local stack did not start:\n{running.stdout}")
        time.sleep(0.1)
    running.base_url = f"http://127.0.0.1:{port}"
    try:
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


@contextmanager
def under_test(request: pytest.FixtureRequest, tmp: Path, *extra: str) -> Iterator[Stack | DeployedStack]:
    """The deployed stack (``E2E_BASE_URL``), else the local stack served in ``tmp``."""
    if DEPLOYED:
        yield request.getfixturevalue("deployed_stack")
        return
    with serve(tmp, *extra) as running:
        yield running


# ------------------------------------------------------------------------------------ API calls
def caller(stack: Stack | DeployedStack, headers: dict[str, str]) -> Callable[..., Any]:
    """``call(method, path, body=None, status=200)``: the answer's data, after checking its status."""

    def call(method: str, path: str, body: Any = None, status: int = 200) -> Any:
        reply = requests.request(method, stack.url(path), json=body, headers=headers, timeout=60)
        assert reply.status_code == status, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json().get("data") if reply.content else None

    return call


def new_customer(call: Callable[..., Any], name: str) -> str:
    return str(call("POST", "/api/v1/customers", {"name": name, "email": f"{name.lower()}@example.com"}, 201)["id"])


def new_owner(stack: Stack | DeployedStack, name: str) -> dict[str, str]:
    """A business of its own (UTC), and its owner's headers."""
    business = stack.admin("create-business", "--name", name, "--currency", "USD", "--timezone", "UTC")
    owner = stack.admin("create-token", "--business-id", business["id"], "--role", "owner")
    return {"Authorization": f"Bearer {owner['token']}", "x-business-id": business["id"]}
