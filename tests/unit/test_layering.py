"""The layer's import drawing (``invoicing/__init__.py``) holds: every import of every module,
read with ``ast`` (lazy imports inside functions too), points down or sideways, never back up."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "shared" / "invoicing"

# Highest first: a module may import its own level and the levels below it.
LEVELS = {
    "http": 4,
    "operations": 3, "batches": 3, "recurring": 3,  # the use cases and the two asynchronous engines
    "documents": 3,  # the PDF renderer and its publisher (the documents function)
    "storage": 2,
    "schemas": 1,
    "domain": 0,
    "errors": -1, "settings": -1, "observability": -1,  # shared utilities every level may use
}

def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, ast.parse(path.read_text(), filename=str(path))


def _imports(tree: ast.Module) -> Iterator[str]:
    """Every ``invoicing`` module imported, as dotted names (``from invoicing.http import proxy``
    is ``invoicing.http.proxy``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.split(".")[0] == "invoicing")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "invoicing":
            if (PACKAGE.parent / node.module.replace(".", "/") / "__init__.py").exists():
                yield from (f"{node.module}.{alias.name}" for alias in node.names)
            else:
                yield node.module


def _level(module: str) -> int | None:
    parts = module.split(".")
    return LEVELS[parts[1]] if len(parts) > 1 else None


def _arrows() -> set[tuple[str, str]]:
    return {(name, target) for name, tree in _modules() for target in _imports(tree)}


def test_every_top_level_package_of_the_layer_has_a_level() -> None:
    tops = {path.stem if path.is_file() else path.name for path in PACKAGE.iterdir()
            if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()}
    assert tops <= set(LEVELS), f"give these a level in LEVELS: {sorted(tops - set(LEVELS))}"


def test_no_import_points_back_up() -> None:
    back = sorted(f"{name} imports {target}" for name, target in _arrows()
                  if (here := _level(name)) is not None and (there := _level(target)) is not None and there > here)
    assert back == []


def test_schemas_sit_above_domain_and_below_storage() -> None:
    # Level numbers say it already; spelled out because it is the rule newcomers ask about.
    wrong = sorted(f"{name} imports {target}" for name, target in _arrows()
                   if (name.startswith("invoicing.domain") and target.startswith("invoicing.schemas"))
                   or (name.startswith("invoicing.schemas")
                       and target.split(".")[1] in ("storage", "operations", "batches", "recurring", "http")))
    assert wrong == []
