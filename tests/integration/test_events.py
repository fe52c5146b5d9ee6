"""Every sample event in events/ runs as ``sam local invoke FUNCTION -e events/x.json`` would, through
``python -m devstack invoke`` in its own process with a throw-away stack (moto + demo data), and
its function answers without a server error."""

# ruff: noqa: S603 - the tests run this project's own commands

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devstack import template
from devstack.events import function_of_file

EVENT_FILES = sorted((template.ROOT / "events").glob("*.json"))


def invoke(function: str, event_file: Path, tmp_path: Path) -> tuple[int, Any, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env["DEVSTACK_STATE_FILE"] = str(tmp_path / "no-stack.json")  # never a developer's running stack
    done = subprocess.run(
        [sys.executable, "-m", "devstack", "invoke", function, "-e", str(event_file), "--ephemeral"],
        capture_output=True, text=True, timeout=120, cwd=template.ROOT, env=env, check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout must be the result only (logs go to stderr):\n{done.stdout}\n{done.stderr}"
    return done.returncode, json.loads(lines[0]), done.stderr


def test_there_are_sample_events():
    assert EVENT_FILES


@pytest.mark.parametrize("event_file", EVENT_FILES, ids=lambda f: f.name)
def test_a_sample_event_runs_standalone_without_a_server_error(event_file: Path, tmp_path: Path):
    function = function_of_file(event_file)
    assert function, f"{event_file.name} names no function (see events/README.md)"

    code, result, logs = invoke(function, event_file, tmp_path)

    assert code == 0 and "errorMessage" not in result, f"{function} failed: {result}\n{logs}"
    if function == template.authorizer()[0]:
        effects = {s["Effect"] for s in result["policyDocument"]["Statement"]}
        assert effects == {"Allow"}, result
        assert result["context"]["business_id"] == json.loads(event_file.read_text())["headers"]["x-business-id"]
    if "statusCode" in result:
        assert int(result["statusCode"]) < 500, f"{event_file.name}: {result}\n{logs}"
    if "batchItemFailures" in result:
        assert result["batchItemFailures"] == [], result


def test_invoke_without_a_function_name_takes_it_from_the_event(tmp_path: Path):
    authorizer = template.ROOT / "events" / "authorizer.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env["DEVSTACK_STATE_FILE"] = str(tmp_path / "no-stack.json")
    done = subprocess.run([sys.executable, "-m", "devstack", "invoke", "-e", "-"], input=authorizer.read_text(),
                          capture_output=True, text=True, timeout=120, cwd=template.ROOT, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["principalId"]


def test_invoke_names_the_functions_when_one_is_unknown(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "devstack", "invoke", "NoSuchFunction", "-e",
                           str(template.ROOT / "events" / "authorizer.json")],
                          capture_output=True, text=True, timeout=60, cwd=template.ROOT, check=False)
    assert done.returncode == 2
    assert "AuthorizerFunction" in done.stderr and done.stdout == ""
