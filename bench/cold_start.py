"""Cold import time of each function, as a ratio to a bare Powertools resolver + boto3 import.

Also measured the same way: the floor, what any API function of this design imports before a
line of its own: a resolver with Powertools validation on (pydantic and Powertools' OpenAPI
models) and the Logger, Tracer (the X-Ray SDK) and Metrics that issue 2 wires into every
function.

Each sample is a fresh interpreter (as a Lambda cold start is). A round is one baseline and one
function sample back to back (which goes first alternates), so a burst of machine load hits
both alike; the figure is the median over rounds of each round's function/baseline ratio (the
timings reported next to it are the plain medians).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import sysconfig

from devstack import runtime, template

# Lambda's python path: the function's code, then its layer, then the dependencies; `-S` keeps
# this venv's .pth files (the editable install's finder) out, as they are in Lambda.
_TIMED = """
import sys, time
sys.path[:0] = [{code!r}, {layer!r}, {site!r}]
t = time.perf_counter()
{body}
print(time.perf_counter() - t)
"""


SITE_PACKAGES = sysconfig.get_paths()["purelib"]

BASELINE = """
import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
APIGatewayRestResolver()
"""


FLOOR = """
import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
APIGatewayRestResolver(enable_validation=True)
Logger(), Tracer(patch_modules=("botocore",)), Metrics()
"""
FLOOR_NAME = "the floor: validating resolver + Logger, Tracer, Metrics, no service code"


def _sample(body: str, code_dir: str, env: dict[str, str]) -> float:
    script = _TIMED.format(layer=str(runtime.LAYER_DIR), code=code_dir, site=SITE_PACKAGES, body=body)
    lambda_env = {**env, "LAMBDA_TASK_ROOT": code_dir, "AWS_LAMBDA_FUNCTION_NAME": "bench",
                  "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}
    out = subprocess.run(  # noqa: S603 - our own interpreter running our own script
        [sys.executable, "-S", "-c", script], capture_output=True, text=True, check=True, env=lambda_env
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(rounds: int = 7) -> list[tuple[str, float, float, float]]:
    """[(function, baseline median s, function median s, ratio)], the floor first."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true",
           "PYTHONDONTWRITEBYTECODE": "0"}
    for fn in template.functions().values():
        env.update(runtime.resolve_environment(fn, {"Table": "bench"}))
    functions = list(template.functions().values())
    subjects = [(FLOOR_NAME, FLOOR, str(functions[0].code_dir))]
    subjects += [(fn.logical_id, f"import {fn.module}", str(fn.code_dir)) for fn in functions]
    rows = []
    for name, body, code_dir in subjects:
        base, mine = [], []
        _sample(body, code_dir, env)  # warm the bytecode caches for both
        _sample(BASELINE, code_dir, env)
        for i in range(rounds):
            if i % 2:
                mine.append(_sample(body, code_dir, env))
                base.append(_sample(BASELINE, code_dir, env))
            else:
                base.append(_sample(BASELINE, code_dir, env))
                mine.append(_sample(body, code_dir, env))
        ratio = statistics.median(m / b for b, m in zip(base, mine, strict=True))
        rows.append((name, statistics.median(base), statistics.median(mine), ratio))
    return rows
