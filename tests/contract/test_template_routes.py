"""template.yaml's API events and the functions' Powertools resolvers name the same routes.

A route only in the template reaches a function that answers 404; a route only in a resolver is
unreachable. Both sides are read from the source: the template's Api events, and the routes the
resolver registered when its app.py was imported (``devstack.runtime.handler``, as the local
stack and Lambda import it).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from devstack import runtime, template

API_FUNCTIONS = sorted({route.function for route in template.api_routes()})


def resolver_of(logical_id: str) -> Any | None:
    """The module-level ``app`` resolver of a function's handler module, if it has one."""
    handler = runtime.handler(logical_id)
    return getattr(sys.modules[handler.__module__], "app", None)


def resolver_routes(logical_id: str) -> set[tuple[str, str]]:
    app = resolver_of(logical_id)
    assert app is not None, f"{logical_id}: its handler module defines no `app` resolver"
    # Powertools keeps registered routes (including included Routers') in these two lists; its
    # openapi_path is the rule with <param> written as {param}, as API Gateway writes it.
    return {(route.method, route.openapi_path) for route in app._static_routes + app._dynamic_routes}


def template_routes(logical_id: str) -> set[tuple[str, str]]:
    return {(r.method, r.path) for r in template.api_routes() if r.function == logical_id}


def test_the_template_declares_api_routes() -> None:
    assert template.api_routes(), "template.yaml declares no Api events"


@pytest.mark.parametrize("logical_id", API_FUNCTIONS)
def test_every_template_route_has_a_resolver_route(logical_id: str) -> None:
    missing = template_routes(logical_id) - resolver_routes(logical_id)
    assert not missing, f"{logical_id}: Api events in template.yaml with no route in its resolver: {sorted(missing)}"


@pytest.mark.parametrize("logical_id", API_FUNCTIONS)
def test_every_resolver_route_is_in_the_template(logical_id: str) -> None:
    extra = resolver_routes(logical_id) - template_routes(logical_id)
    assert not extra, (f"{logical_id}: resolver routes API Gateway never sends to it (add Api events to "
                       f"template.yaml): {sorted(extra)}")


def test_functions_without_api_events_have_no_resolver_routes() -> None:
    for logical_id in sorted(set(template.functions()) - set(API_FUNCTIONS)):
        app = resolver_of(logical_id)
        routes = [] if app is None or not hasattr(app, "_static_routes") else app._static_routes + app._dynamic_routes
        assert not routes, f"{logical_id} has resolver routes but no Api events in template.yaml"


def test_no_route_is_served_by_two_functions() -> None:
    seen: dict[tuple[str, str], str] = {}
    for route in template.api_routes():
        key = (route.method, route.path)
        assert key not in seen, f"{key} is an Api event of both {seen[key]} and {route.function}"
        seen[key] = route.function


def test_routes_are_explicit() -> None:
    for route in template.api_routes():
        assert "+}" not in route.path, f"greedy path {route.path} ({route.function}): declare each route"
        assert route.method != "ANY", f"ANY {route.path} ({route.function}): declare each method"
        assert route.path.startswith("/api/v1/"), f"{route.path} ({route.function}) is outside /api/v1"


def test_every_function_folder_is_a_template_function() -> None:
    code_dirs = {fn.code_dir.resolve() for fn in template.functions().values()}
    folders = {path.parent.resolve() for path in (template.ROOT / "functions").glob("*/*.py")}
    orphans = sorted(str(folder.relative_to(template.ROOT)) for folder in folders - code_dirs)
    assert not orphans, f"function folders no template.yaml function deploys: {orphans}"
