"""Run a template function's handler in this process, as Lambda would.

Each function's ``app.py`` is imported under its own module name (they are all called ``app``),
with the environment template.yaml gives it, and called with a Lambda-like context.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from devstack import template

LAYER_DIR = template.ROOT / "layers" / "shared"


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"
    function_version: str = "$LATEST"

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


# Pseudo parameters locally (``physical`` may override them, e.g. AWS::StackName).
PSEUDO_PARAMETERS = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
                     "AWS::StackName": "invoicing-local"}


def resolve_value(value: Any, physical: dict[str, str]) -> str | None:
    """A template value with !Ref, !GetAtt (``physical["<LogicalId>.<Attribute>"]``) and a string
    !Sub resolved: resources from ``physical``, parameters from their defaults, pseudo parameters
    from ``PSEUDO_PARAMETERS``. None when it names something ``physical`` lacks."""
    params = template.load().get("Parameters", {})

    def lookup(name: str) -> str | None:
        if name in physical:
            return physical[name]
        if name in params:
            return str(params[name]["Default"])
        return PSEUDO_PARAMETERS.get(name)

    if not isinstance(value, dict):
        return str(value)
    if "Ref" in value:
        return lookup(value["Ref"])
    if "Fn::GetAtt" in value:
        return physical.get(".".join(value["Fn::GetAtt"]))
    if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        missing: list[str] = []

        def substitute(found: re.Match[str]) -> str:
            resolved = lookup(found.group(1))
            if resolved is None:
                missing.append(found.group(1))
            return resolved or ""

        text = re.sub(r"\$\{([^}!]+)\}", substitute, value["Fn::Sub"])
        return None if missing else text
    return None


def resolve_environment(fn: template.Function, physical: dict[str, str]) -> dict[str, str]:
    """The function's environment with !Ref, !GetAtt and !Sub resolved (``resolve_value``). A
    variable referring to a resource ``physical`` lacks is left out."""
    env = {}
    for name, value in fn.environment.items():
        resolved = resolve_value(value, physical)
        if resolved is not None:
            env[name] = resolved
    return env


# Logical id -> physical id (table name, queue URL) of the resources the environment points at.
_physical: dict[str, str] = {}


def physical_id(logical_id: str) -> str:
    """The physical id of a template resource in the current local environment."""
    if logical_id not in _physical:
        raise KeyError(f"{logical_id} has no local resource (known: {', '.join(sorted(_physical))})")
    return _physical[logical_id]


def physical_ids() -> dict[str, str]:
    """Every physical id (and ``<LogicalId>.<Attribute>``) of the current local environment."""
    return dict(_physical)


def apply_environment(physical: dict[str, str]) -> None:
    """Set every function's environment in this process (they agree on shared names)."""
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    _physical.clear()
    _physical.update(physical)
    for fn in template.functions().values():
        os.environ.update(resolve_environment(fn, physical))
    if str(LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(LAYER_DIR))


_import_lock = threading.Lock()
# One lock per function: like one warm Lambda container each, a function handles one event at a
# time (Powertools resolvers keep the current event on the module-level app).
_function_locks: dict[str, threading.Lock] = {}


def handler(logical_id: str) -> Callable[[dict[str, Any], Any], Any]:
    with _import_lock:
        return _import_handler(logical_id)


@cache
def _import_handler(logical_id: str) -> Callable[[dict[str, Any], Any], Any]:
    functions = template.functions()
    if logical_id not in functions:
        raise KeyError(f"{logical_id} is not a function of template.yaml (functions: {', '.join(sorted(functions))})")
    fn = functions[logical_id]
    path = fn.code_dir / f"{fn.module}.py"
    spec = importlib.util.spec_from_file_location(f"functions_{logical_id}_{fn.module}", path)
    assert spec and spec.loader, f"cannot import {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return getattr(module, fn.handler)  # type: ignore[no-any-return]


def invoke(logical_id: str, event: dict[str, Any]) -> Any:
    function = handler(logical_id)
    with _function_locks.setdefault(logical_id, threading.Lock()):
        return function(event, LambdaContext(function_name=logical_id))
