"""SnapStart (invoicing.http.snapshot): a snapshot's init leaves nothing for the first request, a
plain cold start stays lazy, and copies restored from one snapshot do not share their randomness.

Each case is a fresh interpreter importing a function's handler as Lambda does, against moto's
server on loopback (the priming read needs a table)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from devstack import local, runtime, template

FACTS = """
import json, os, random, sys
sys.path[:0] = [{code!r}, {layer!r}]
from invoicing.storage import table
calls = []
import botocore.client
original = botocore.client.BaseClient._make_api_call
def counted(self, name, params):
    calls.append(name)
    return original(self, name, params)
botocore.client.BaseClient._make_api_call = counted
import {module} as handler
app = getattr(handler, "app", None)
routes = [] if app is None else [r for r in app._static_routes + app._dynamic_routes]
from snapshot_restore_py import get_after_restore
print(json.dumps({{
    "idempotency_loaded": "aws_lambda_powertools.utilities.idempotency" in sys.modules,
    "recurring_loaded": "invoicing.recurring.templates" in sys.modules,
    "table_client": table.client.cache_info().currsize,
    "calls": calls,
    "routes": len(routes),
    "routes_built": sum(r._dependant is not None for r in routes),
    "reseeds": any(hook is random.seed for hook, _, _ in get_after_restore()),
}}))
"""

# A restore resumes the snapshot's memory, the random module's state included (os.fork would
# not show it: Python reseeds a forked child by itself).
RESTORES = """
import json, random, sys
sys.path[:0] = [{code!r}, {layer!r}]
import {module} as handler
from snapshot_restore_py import get_after_restore
snapshot = random.getstate()
draws = []
for _ in range(2):
    random.setstate(snapshot)
    if {run_hooks}:
        for hook, args, kwargs in get_after_restore():
            hook(*args, **kwargs)
    draws.append(random.random())
print(json.dumps(draws))
"""


@pytest.fixture(scope="module")
def backend() -> Iterator[dict[str, str]]:
    saved = dict(os.environ)
    with local.MotoServer() as moto:
        table_name = f"snapshot-{uuid.uuid4().hex[:8]}"
        local.use_endpoint(moto.endpoint_url, table_name)
        local.ensure_table(table_name)
        env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}
        try:
            yield env
        finally:
            os.environ.clear()
            os.environ.update(saved)
            local.reset_clients()


def _run(script: str, function: str, env: dict[str, str], **extra: str) -> object:
    fn = template.functions()[function]
    code = script.format(code=str(fn.code_dir), layer=str(runtime.LAYER_DIR), module=fn.module, **extra)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,  # noqa: S603
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("function", ["InvoicesFunction", "ReceivablesFunction", "BatchFunction"])
def test_a_snapshot_init_does_what_a_first_request_would(function: str, backend: dict[str, str]) -> None:
    facts = _run(FACTS, function, {**backend, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"})
    assert facts == {"idempotency_loaded": True, "recurring_loaded": True, "table_client": 1, "calls": ["GetItem"],
                     "routes": facts["routes"], "routes_built": facts["routes"], "reseeds": True}
    assert facts["routes"] > 0


def test_the_authorizer_primes_its_client_too(backend: dict[str, str]) -> None:
    facts = _run(FACTS, "AuthorizerFunction", {**backend, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"})
    assert (facts["table_client"], facts["calls"], facts["reseeds"]) == (1, ["GetItem"], True)


def test_without_a_snapshot_the_cold_start_stays_lazy(backend: dict[str, str]) -> None:
    env = {k: v for k, v in backend.items() if k != "AWS_LAMBDA_INITIALIZATION_TYPE"}
    facts = _run(FACTS, "InvoicesFunction", env)
    assert facts == {"idempotency_loaded": False, "recurring_loaded": False, "table_client": 0, "calls": [],
                     "routes": facts["routes"], "routes_built": 0, "reseeds": False}


def test_copies_restored_from_one_snapshot_draw_different_jitter(backend: dict[str, str]) -> None:
    env = {**backend, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    shared = _run(RESTORES, "InvoicesFunction", env, run_hooks="False")
    assert shared[0] == shared[1]  # what the hook is for: without it the copies pause in lockstep
    restored = _run(RESTORES, "InvoicesFunction", env, run_hooks="True")
    assert restored[0] != restored[1]
