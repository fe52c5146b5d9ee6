"""What `make local` installs is what the local stack imports, pinned by uv.lock, and `make local`
itself stays a thin call (the environment reaches the stack as it is)."""

# ruff: noqa: S603, S607 - the tests run make, as a user does

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

from devstack.template import ROOT

FIRST_PARTY = {"invoicing", "devstack", "ops"}


def lock() -> dict[str, Any]:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_by_make_local() -> set[str]:
    """The packages `uv sync --no-default-groups --group local` installs: the project's
    dependencies and its local group's, with everything they depend on, as uv.lock has them."""
    packages = {package["name"]: package for package in lock()["package"]}
    project = packages["dayzero-invoicing"]
    todo = [*project["dependencies"], *project["dev-dependencies"]["local"]]
    found: set[str] = set()
    while todo:
        wanted = todo.pop()
        name = wanted["name"]
        if name in found and not wanted.get("extra"):
            continue
        found.add(name)
        package = packages[name]
        todo += package.get("dependencies", [])
        for extra in wanted.get("extra", []):
            todo += package.get("optional-dependencies", {}).get(extra, [])
    return found


def third_party_imports(*folders: str) -> set[str]:
    """Top-level modules the code in ``folders`` imports that are neither stdlib nor ours."""
    modules = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - FIRST_PARTY - {"__future__"}


def test_make_local_installs_what_the_local_stack_and_the_admin_cli_import() -> None:
    distributions = packages_distributions()
    needed = {normalized(distributions[module][0]) for module in third_party_imports("devstack", "ops")}
    assert needed >= {"moto", "pyyaml", "boto3"}  # the reading above finds them
    assert needed <= installed_by_make_local()


def test_make_local_leaves_the_test_toolchain_out() -> None:
    assert not {"pytest", "hypothesis", "schemathesis", "mypy", "ruff"} & installed_by_make_local()


def test_moto_is_pinned_exactly_devstack_patches_its_internals() -> None:
    versions = {package["name"]: package["version"] for package in lock()["package"]}
    assert versions["moto"] == "5.2.5"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    local = pyproject["dependency-groups"]["local"]
    assert any(spec.startswith("moto[") and spec.endswith("==5.2.5") for spec in local)


def test_make_local_passes_the_environment_through(tmp_path: Path) -> None:
    """`make local PORT=3100` and `PORT=3100 make local` reach the stack as its environment (a
    stand-in for the venv's invoicing-local says what it got)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    stand_in = venv / "bin" / "invoicing-local"
    stand_in.write_text('#!/bin/sh\necho "$* PORT=$PORT"\n')
    stand_in.chmod(0o755)
    database = subprocess.run(["make", "-s", "-p", "-n", "local", f"VENV={venv}"], capture_output=True, text=True,
                              cwd=ROOT, check=False).stdout
    stamp = re.search(r"^LOCAL_STAMP := (.+)$", database, flags=re.M)
    assert stamp, "the Makefile names no LOCAL_STAMP"
    Path(stamp[1]).touch()  # as if installed
    for args, env in ((["PORT=3100"], {}), ([], {"PORT": "3100"})):
        done = subprocess.run(["make", "-s", "local", f"VENV={venv}", *args], capture_output=True, text=True,
                              cwd=ROOT, env={**os.environ, **env}, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().splitlines()[-1] == "serve PORT=3100"
