"""Import every function's handler from the `sam build` output the way Lambda would.

For each function in ``<build-dir>/template.yaml`` a fresh ``python3.12 -S`` process (no
site-packages, so nothing of this machine leaks in) gets exactly Lambda's search path: the
function's build folder, its layers' ``python/`` folders, and a folder holding only what the
python3.12 runtime provides (boto3, botocore, s3transfer, jmespath, dateutil, six, urllib3). It
imports the handler module, resolves the handler and builds a DynamoDB client (so a layer
shadowing the runtime's botocore with an incompatible one fails too). A missing dependency or a
packaging mistake fails here instead of in a deploy.

    python tests/deploy/import_handlers.py --build-dir .aws-sam/build --runtime-dir .lambda-runtime \
        --python python3.12
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from devstack import template

# Run inside the target interpreter: argv = [module, attribute]; environment from the template.
_PROBE = """
import importlib, sys
module_name, attribute = sys.argv[1], sys.argv[2]
module = importlib.import_module(module_name)
handler = getattr(module, attribute)
assert callable(handler), f"{module_name}.{attribute} is not callable"
import boto3, botocore
# boto3 x.y.* only works with botocore x.y.*: a layer that ships one without the other breaks it.
assert boto3.__version__.split(".")[:2] == botocore.__version__.split(".")[:2], (boto3.__version__,
                                                                                botocore.__version__)
boto3.client("dynamodb", region_name="us-east-1")
print(f"{module_name}.{attribute} from {module.__file__}; boto3 {boto3.__version__}, botocore {botocore.__version__}")
"""

# What the python3.12 runtime provides besides the standard library.
RUNTIME_MODULES = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3"}


def _environment(variables: dict[str, Any]) -> dict[str, str]:
    """Template variables as strings; references to stack resources become placeholders."""
    env = {name: value if isinstance(value, str) else str(value) if isinstance(value, int | float)
           else f"placeholder-{name.lower()}" for name, value in variables.items()}
    env.update({"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_LAMBDA_FUNCTION_NAME": "import-check",
                "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"})
    return env


def check(build_dir: Path, runtime_dir: Path, python: str) -> list[str]:
    build_dir, runtime_dir = build_dir.resolve(), runtime_dir.resolve()
    built = template.parse((build_dir / "template.yaml").read_text())
    resources: dict[str, Any] = built["Resources"]
    globals_fn = (built.get("Globals") or {}).get("Function") or {}
    extra = sorted(p.name for p in runtime_dir.iterdir()
                   if p.name.split(".")[0].split("-")[0] not in RUNTIME_MODULES
                   and not p.name.endswith(".dist-info") and not p.name.startswith(".")
                   and p.name not in {"bin", "__pycache__"})
    if extra:
        return [f"{runtime_dir} must hold only the runtime's modules, found also: {', '.join(extra)}"]
    failures: list[str] = []
    functions = {name: r for name, r in resources.items() if r.get("Type") == "AWS::Serverless::Function"}
    if not functions:
        return [f"no AWS::Serverless::Function in {build_dir / 'template.yaml'}"]
    for name, resource in sorted(functions.items()):
        props = resource.get("Properties") or {}
        handler = props.get("Handler", globals_fn.get("Handler"))
        module, _, attribute = str(handler).rpartition(".")
        layers = []
        for layer in props.get("Layers", globals_fn.get("Layers", [])):
            logical_id = layer.get("Ref") if isinstance(layer, dict) else None
            if logical_id not in resources:
                failures.append(f"{name}: layer {layer!r} is not a layer of this template")
                continue
            layers.append(str(build_dir / resources[logical_id]["Properties"]["ContentUri"] / "python"))
        path = [str(build_dir / props["CodeUri"]), *layers, str(runtime_dir)]
        variables = {**((globals_fn.get("Environment") or {}).get("Variables") or {}),
                     **((props.get("Environment") or {}).get("Variables") or {})}
        command = [python, "-S", "-c", f"import sys; sys.path[:0] = {json.dumps(path)}\n{_PROBE}", module, attribute]
        done = subprocess.run(command, capture_output=True, text=True, env=_environment(variables),  # noqa: S603
                              cwd=build_dir / props["CodeUri"], timeout=120, check=False)
        if done.returncode == 0:
            print(f"ok   {name}: {done.stdout.strip()}")
        else:
            failures.append(f"{name} ({handler}):\n{done.stderr.strip()[-3000:]}")
            print(f"FAIL {name}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--runtime-dir", type=Path, default=Path(".lambda-runtime"))
    parser.add_argument("--python", default="python3.12")
    args = parser.parse_args()
    failures = check(args.build_dir, args.runtime_dir, args.python)
    for failure in failures:
        print(f"\n{failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
