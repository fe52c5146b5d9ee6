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
        done = subprocess.run([sys.executable, "-m", "ops.admin", *args], capture_output=True, text=True,
                              timeout=60, env=self.env, cwd=template.ROOT, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]


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
