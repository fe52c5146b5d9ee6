"""The two commands are the ones the README names and CI runs."""

from __future__ import annotations

import re

from devstack.template import ROOT


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), flags=re.M))


def test_the_makefile_has_the_commands() -> None:
    assert {"local", "test", "openapi", "bench", "clean"} <= make_targets()


def test_the_readme_names_both_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("make local", "make test"):
        assert command in readme, f"README.md must tell how to run `{command}`"


def test_ci_runs_make_test() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script
    assert re.search(r"^exec make test$", script, flags=re.M), ".ci/run must run `make test`"
