"""What a caller waits for: each API function's first request, cold and restored from a snapshot.

- cold, no snapshot: a fresh interpreter imports the handler and answers one request, against
  the design's floor doing the same (a validating resolver with Logger, Tracer and Metrics
  answering one trivial route). Target 1.3x: our code adds at most 30% to the floor.
- restored: a fresh interpreter initialises as a SnapStart snapshot does
  (``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``; ``invoicing.http.snapshot``), then answers its
  first request, against the same process's steady-state request. Target 1.2x: nothing is left
  to do on the first request. The snapshot's restore itself is Lambda's and is not measured.

Each function answers a real request of its own (a list, a lookup, the authorizer checking a
token) from DynamoDB in moto's server on loopback, which every sample shares. Rounds alternate
which of the pair goes first; the figure is the median of each round's ratio. The same
processes report the peak memory (the max RSS) and the steady request's duration, which
``bench/cost.py`` prices and the memory sizes in template.yaml follow.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import uuid
from dataclasses import dataclass
from typing import Any

from bench.cold_start import SITE_PACKAGES
from devstack import local, runtime, template
from devstack.emulated import create_tenant
from devstack.events import api_event, authorizer_event

COLD_TARGET = 1.3
RESTORED_TARGET = 1.2
STEADY_REQUESTS = 15

# One interpreter: import (timed), the first request (timed), then the steady requests (the median).
_SCRIPT = """
import json, resource, statistics, sys, time
sys.path[:0] = [{code!r}, {layer!r}, {site!r}]
event = json.loads(sys.stdin.read())
class Context:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self): return 30000
t = time.perf_counter()
{body}
imported = time.perf_counter()
status = answer(event, Context())
first = time.perf_counter()
steady = []
for _ in range({steady}):
    s = time.perf_counter(); answer(event, Context()); steady.append(time.perf_counter() - s)
print(json.dumps({{"init": imported - t, "first": first - imported, "steady": statistics.median(steady),
                  "status": status, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

_FUNCTION = """
import os
import {module} as handler
if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":  # what a restore does:
    from snapshot_restore_py import get_after_restore
    for hook, args, kwargs in get_after_restore():
        hook(*args, **kwargs)
    from invoicing.storage import table
    table.client()._endpoint.http_session.close()  # a new network: init's connections are gone
def answer(event, context):
    out = handler.{handler}(event, context)
    return out["statusCode"] if "statusCode" in out else out["policyDocument"]["Statement"][0]["Effect"]
"""

FLOOR = """
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
app = APIGatewayRestResolver(enable_validation=True)
logger, tracer, metrics = Logger(), Tracer(patch_modules=("botocore",)), Metrics(namespace="bench")
@app.get("/ping")
def ping() -> dict:
    return {"ok": True}
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def floor_handler(event, context):
    return app.resolve(event, context)
def answer(event, context):
    return floor_handler(event, context)["statusCode"]
"""


@dataclass(frozen=True)
class Sample:
    init: float
    first: float
    steady: float
    status: Any
    peak_mb: float


@dataclass(frozen=True)
class Row:
    function: str
    request: str
    cold: float  # import + first request, ours
    floor: float  # the same, the floor's
    cold_ratio: float
    restored_first: float
    steady: float
    restored_ratio: float
    peak_mb: float


def _run(body: str, code_dir: str, event: dict[str, Any], env: dict[str, str]) -> Sample:
    script = _SCRIPT.format(code=code_dir, layer=str(runtime.LAYER_DIR), site=SITE_PACKAGES, body=body,
                            steady=STEADY_REQUESTS)
    out = subprocess.run(  # noqa: S603 - our own interpreter running our own script
        [sys.executable, "-S", "-c", script], input=json.dumps(event), capture_output=True, text=True, check=True,
        env=env)
    return Sample(**json.loads(out.stdout.strip().splitlines()[-1]))


def _requests(tenant: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """function -> (what it answers, the event): each API function's first GET route (path
    parameters as fresh UUIDs: a lookup that finds nothing), the authorizer checking a token."""
    context = {"business_id": tenant.business_id, "user_id": tenant.user_id, "role": "owner"}
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    routes = sorted(template.api_routes(), key=lambda r: r.path.count("{"))
    for route in routes:
        if route.method != "GET" or route.function in found:
            continue
        params = {name: str(uuid.uuid4()) for name in route.pattern.groupindex}
        path = route.path.format(**params)
        found[route.function] = (f"GET {route.path}", api_event(
            "GET", path, resource=route.path, path_parameters=params or None,
            authorizer=context if route.authorized else None))
    authorizer, _ = template.authorizer()
    headers = {"Authorization": f"Bearer {tenant.token}", "x-business-id": tenant.business_id}
    found[authorizer] = ("a valid token", authorizer_event("/api/v1/invoices", "GET", headers, "/api/v1/invoices"))
    return found


def measure(rounds: int = 5) -> list[Row]:
    saved = dict(os.environ)
    try:
        return _measure(rounds)
    finally:  # use_endpoint pointed this process at moto's server: put it back
        os.environ.clear()
        os.environ.update(saved)
        local.reset_clients()


def _measure(rounds: int) -> list[Row]:
    with local.MotoServer() as moto:
        table_name = f"bench-{uuid.uuid4().hex[:8]}"
        local.use_endpoint(moto.endpoint_url, table_name)
        local.ensure_table(table_name)
        tenant = create_tenant()
        env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
               "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}
        env.pop("AWS_LAMBDA_INITIALIZATION_TYPE", None)
        snap_env = {**env, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
        functions = template.functions()
        floor_event = api_event("GET", "/ping")
        rows = []
        for logical_id, (request, event) in _requests(tenant).items():
            fn = functions[logical_id]
            body = _FUNCTION.format(module=fn.module, handler=fn.handler)
            code = str(fn.code_dir)
            _run(body, code, event, env)  # warm the bytecode caches
            ours: list[Sample] = []
            floors: list[Sample] = []
            restored: list[Sample] = []
            for i in range(rounds):
                pair = [(ours, body, event), (floors, FLOOR, floor_event)]
                for samples, script, request_event in pair if i % 2 else reversed(pair):
                    samples.append(_run(script, code, request_event, env))
                restored.append(_run(body, code, event, snap_env))
            assert all(s.status in (200, 404, "Allow") for s in ours + restored), (logical_id, ours[0].status)
            rows.append(Row(
                logical_id, request,
                cold=statistics.median(s.init + s.first for s in ours),
                floor=statistics.median(s.init + s.first for s in floors),
                cold_ratio=statistics.median((o.init + o.first) / (f.init + f.first)
                                             for o, f in zip(ours, floors, strict=True)),
                restored_first=statistics.median(s.first for s in restored),
                steady=statistics.median(s.steady for s in restored),
                restored_ratio=statistics.median(s.first / s.steady for s in restored),
                peak_mb=max(s.peak_mb for s in ours + restored)))
        return rows


def rows(measured: list[Row]) -> list[tuple[str, str, str, str]]:
    out = []
    for row in measured:
        out.append((f"cold first request {row.function} ({row.request})",
                    f"{row.cold_ratio:.2f}x ({row.cold * 1000:.0f} ms vs the floor's {row.floor * 1000:.0f} ms)",
                    f"<= {COLD_TARGET:.2f}x", "ok" if row.cold_ratio <= COLD_TARGET else "MISS"))
        out.append((f"restored first request {row.function}",
                    f"{row.restored_ratio:.2f}x ({row.restored_first * 1000:.1f} ms vs steady "
                    f"{row.steady * 1000:.1f} ms; peak {row.peak_mb:.0f} MB)",
                    f"<= {RESTORED_TARGET:.2f}x", "ok" if row.restored_ratio <= RESTORED_TARGET else "MISS"))
    return out


if __name__ == "__main__":
    for line in rows(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3)):
        print(" | ".join(line))
