"""What a cold start imports: only what handling a typical request needs (issue 2, bench/cold_start.py).

Each check runs a fresh interpreter, as a cold start is, with the layer on the path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers" / "shared"


def _run(code: str, **env: str | None) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in env}
    environ.update({k: v for k, v in env.items() if v is not None})
    environ["PYTHONPATH"] = str(LAYER)
    environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ,  # noqa: S603
                         check=True)
    return out.stdout.strip()


def test_the_resolver_leaves_the_idempotency_utility_to_the_first_keyed_write() -> None:
    loaded = _run("import sys, invoicing.http.api; "
                  "print('aws_lambda_powertools.utilities.idempotency' in sys.modules)")
    assert loaded == "False"


def test_an_enabled_tracer_is_the_xray_recorder_patching_botocore() -> None:
    out = _run("import sys; from invoicing.observability import tracer; "
               "print(tracer.disabled, type(tracer.provider).__module__.split('.')[0],"
               " 'aws_xray_sdk.ext.botocore.patch' in sys.modules)",
               POWERTOOLS_TRACE_DISABLED=None, LAMBDA_TASK_ROOT="/var/task", AWS_SAM_LOCAL=None)
    assert out == "False aws_xray_sdk True"


def test_the_authorizer_settings_need_no_pydantic() -> None:
    out = _run("import sys; from invoicing.settings import settings; "
               "print(settings().table_name, 'pydantic' in sys.modules)", TABLE_NAME="t")
    assert out == "t False"
