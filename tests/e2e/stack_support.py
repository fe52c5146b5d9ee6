"""Starting the one-command local stack for the e2e tests: ``python -m devstack serve`` in its own
process, with its own state file and none of this shell's endpoint overrides, stopped with
SIGTERM as a user's Ctrl-C would."""

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devstack import template

DEMO_BUSINESS = "0195f1a0-0000-7000-8000-000000000001"
DEMO_TOKEN = "dz_demo_owner_token_local_only"
DEMO_HEADERS = {"Authorization": f"Bearer {DEMO_TOKEN}", "x-business-id": DEMO_BUSINESS}
STARTUP_SECONDS = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(state_file: Path, *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """``python -m devstack serve *args`` started (not waited for), and the environment it got."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(DEVSTACK_STATE_FILE=str(state_file), PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "devstack", "serve", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               cwd=template.ROOT)
    return process, env


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
        done = subprocess.run([sys.executable, "-m", "ops.admin", *args], capture_output=True, text=True,
                              timeout=60, env=self.env, cwd=template.ROOT, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]


@contextmanager
def serve(tmp: Path, *extra: str) -> Iterator[Stack]:
    """The stack on a free port (state file in ``tmp``), up and seeded once its banner is out."""
    port = free_port()
    process, env = launch(tmp / "state.json", "--port", str(port), *extra)
    running = Stack(process, tmp / "state.json", env)
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
