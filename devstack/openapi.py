"""The one OpenAPI document, merged from every function's Powertools resolver.

Each ``functions/<group>/app.py`` that defines a resolver named ``app`` contributes its routes
(Powertools ``OpenAPIMerge``); nothing keeps a second, hand-written route list. The result is
checked in as ``functions/docs/openapi.json``, inside the docs function's CodeUri, which serves
it. ``make openapi`` rewrites it; ``--check`` (CI) fails when the checked-in copy is stale.

    python -m devstack.openapi            # write functions/docs/openapi.json
    python -m devstack.openapi --check    # exit 1 with a diff if it differs from the handlers
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import json
import sys
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

from devstack.template import ROOT
from invoicing.http import idempotency
from invoicing.http.envelope import ErrorBody

FUNCTIONS = ROOT / "functions"
DOCUMENT = FUNCTIONS / "docs" / "openapi.json"
RESOLVER_NAME = "app"
TITLE = "DayZero Invoicing API"
DESCRIPTION = """\
The DayZero invoices API: invoices, customers and inventory of one business.

Every call carries `Authorization: Bearer dz_<secret>` and `x-business-id: <business uuid>`.
A missing, unknown, revoked or expired token answers 401; a business the token's user is not a
member of answers 404 "Business not found"; a `viewer` writing answers 403.

Successes are `{"success": true, "message", "code", "data"}`; errors 400/401/403/404/409 are
`{"detail": "...", "code": "..."}`; 422 is a pydantic-style `{"detail": [{"loc", "msg", "type",
"input", "ctx"}]}`. Money is integer cents, dates `YYYY-MM-DD`, timestamps ISO 8601 UTC."""

SECURITY_SCHEMES = {
    "bearerToken": HTTPBearer(
        bearerFormat="dz_<secret>",
        description="An API token (`dz_...`), created with `invoicing-admin`; revocable, optionally expiring.",
    ),
    "businessId": APIKey.model_validate({
        "in": APIKeyIn.header,
        "name": "x-business-id",
        "description": "The UUID of the business the call acts on; the token's user must be a member of it.",
    }),
}
# Both together on every operation (one requirement object = AND).
SECURITY: list[dict[str, list[str]]] = [{"bearerToken": [], "businessId": []}]


def handler_files() -> list[Path]:
    """``functions/*/app.py`` files that assign a module-level ``app`` (the authorizer has none)."""
    found = []
    for path in sorted(FUNCTIONS.glob("*/app.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AnnAssign) else []
            if any(isinstance(t, ast.Name) and t.id == RESOLVER_NAME for t in targets):
                found.append(path)
                break
    return found


def _api_version() -> str:
    try:
        return version("dayzero-invoicing")
    except PackageNotFoundError:  # running from a tree that is not installed
        return "0.0.0"


def generate() -> str:
    """The merged document as JSON text (stable for the same handlers and library versions)."""
    merge = OpenAPIMerge(
        title=TITLE,
        version=_api_version(),
        description=DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,  # type: ignore[arg-type]  # models of the SecurityScheme union
        security=SECURITY,
        on_conflict="error",  # one route in two functions is a mistake, not a merge choice
    )
    # discover() only recognises Powertools' own resolver classes by name (not InvoicingApi), so it
    # is called for its project root (module names like functions.invoices.app) and every handler
    # file is added explicitly.
    merge.discover(FUNCTIONS, pattern="*/app.py", resolver_name=RESOLVER_NAME, project_root=ROOT)
    for path in handler_files():
        merge.add_file(path)
    with warnings.catch_warnings():
        # Powertools reports a handler it cannot import as a warning and leaves it out; a document
        # missing a function must fail instead.
        warnings.filterwarnings("error", message=r"(?s).*Failed to load")
        warnings.filterwarnings("error", message=r"(?s).*final schema has no paths")
        merge.get_openapi_schema()
    _check_components_agree(merge._schemas)
    document = json.loads(merge.get_openapi_json_schema())
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            # A 204 has no body; Powertools gives it the return annotation's JSON (``null``).
            (operation.get("responses") or {}).get("204", {}).pop("content", None)
    _document_idempotency(document)
    return json.dumps(_json_schema_bounds(document), indent=2, ensure_ascii=False) + "\n"


# ``Idempotency-Key`` is handled once, in ``InvoicingApi.resolve`` (``invoicing.http.idempotency``),
# not by any route, so no handler declares it: every operation with one of the methods that module
# covers gets the header (one shared ``components.parameters`` entry) and its 409 here, from the
# module's own constants.
IDEMPOTENCY_PARAMETER = "IdempotencyKey"
IDEMPOTENCY_CONFLICT = (f"{idempotency.HEADER} already used for a different request (`idempotency_key_reused`) "
                        "or its first request still in progress (`idempotency_request_in_progress`)")


def _idempotency_parameter() -> dict[str, Any]:
    return {
        "name": idempotency.HEADER,
        "in": "header",
        "required": False,
        "description": (
            f"Optional, on every {' and '.join(sorted(idempotency.METHODS))}; the name in any case. Any text "
            f"of at most {idempotency.MAX_KEY_LENGTH} characters once surrounding whitespace is trimmed (longer "
            "is a 422 on this header); empty or blank means no idempotency. The same key with the same request "
            "(method, path, query, body; JSON compared parsed) within 24 h replays the first 2xx answer's status "
            f"and body, with `{idempotency.REPLAYED_HEADER}: true`, without doing the work again. The same key "
            "with a different request is a 409 `idempotency_key_reused`; while the first request is still in "
            "progress, a 409 `idempotency_request_in_progress`. Keys belong to the business. An error answer "
            "is not kept, so a fixed retry may reuse the key."),
        "schema": {"type": "string", "maxLength": idempotency.MAX_KEY_LENGTH, "title": idempotency.HEADER},
    }


def _document_idempotency(document: dict[str, Any]) -> None:
    """The header and its 409 on every operation whose method ``invoicing.http.idempotency`` covers."""
    components = document.setdefault("components", {})
    if ErrorBody.__name__ not in components.get("schemas", {}):
        raise ValueError(f"components.schemas.{ErrorBody.__name__} is missing: no route documents an error")
    error_content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorBody.__name__}"}}}
    components.setdefault("parameters", {})[IDEMPOTENCY_PARAMETER] = _idempotency_parameter()
    reference = {"$ref": f"#/components/parameters/{IDEMPOTENCY_PARAMETER}"}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method.upper() not in idempotency.METHODS:
                continue
            parameters = operation.setdefault("parameters", [])
            if any(p.get("in") == "header" and p.get("name", "").lower() == idempotency.HEADER.lower()
                   for p in parameters):
                raise ValueError(f"{method.upper()} {path} declares {idempotency.HEADER} itself: "
                                 "it is documented once, in devstack/openapi.py")
            parameters.append(dict(reference))
            responses = operation.setdefault("responses", {})
            conflict = responses.get("409")
            if conflict is None:
                added = {"description": f"Conflict - {IDEMPOTENCY_CONFLICT}", "content": copy.deepcopy(error_content)}
                operation["responses"] = _insert_after_lower(responses, "409", added)
            elif conflict.get("content") == error_content:
                conflict["description"] = f"{conflict['description']}; or {IDEMPOTENCY_CONFLICT}"
            else:
                raise ValueError(f"{method.upper()} {path}: its 409 is not the {ErrorBody.__name__} that "
                                 f"{idempotency.HEADER} conflicts answer")


def _insert_after_lower(responses: dict[str, Any], status: str, response: Any) -> dict[str, Any]:
    """``responses`` with ``status`` after the last status below it, the rest in its order."""
    items = list(responses.items())
    at = max((i + 1 for i, (key, _) in enumerate(items) if key < status), default=0)
    return dict([*items[:at], (status, response), *items[at:]])


# pydantic writes a bound set on an annotated type with a validator of its own (our strict
# ``Integer``) as its Python name (``ge``), which JSON Schema ignores: clients and fuzzers then
# think any integer is valid. Rename them to JSON Schema's keywords.
_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _json_schema_bounds(node: Any) -> Any:
    if isinstance(node, list):
        return [_json_schema_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    numeric = node.get("type") in ("integer", "number")
    return {(_BOUNDS[key] if numeric and key in _BOUNDS else key): _json_schema_bounds(value)
            for key, value in node.items()}


def _check_components_agree(schemas: list[dict[str, Any]]) -> None:
    """OpenAPIMerge keeps the last of two same-named components; two functions defining one name
    differently would silently document one of them wrong."""
    seen: dict[tuple[str, str], Any] = {}
    for schema in schemas:
        for kind, components in schema.get("components", {}).items():
            for name, definition in components.items():
                first = seen.setdefault((kind, name), definition)
                if first != definition:
                    raise ValueError(f"components.{kind}.{name} is defined differently by two functions: "
                                     "rename one of the models")


def check() -> int:
    current = generate()
    stored = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
    if current == stored:
        print(f"{DOCUMENT.relative_to(ROOT)} is up to date")
        return 0
    diff = list(difflib.unified_diff(stored.splitlines(), current.splitlines(), "checked in", "from the handlers",
                                     lineterm="", n=2))
    print("\n".join(diff[:200]) + ("\n... (diff truncated)" if len(diff) > 200 else ""))
    print(f"\n{DOCUMENT.relative_to(ROOT)} is stale: the handlers changed the API. Run `make openapi` and commit it.",
          file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the checked-in copy instead of writing it")
    args = parser.parse_args(argv)
    if args.check:
        return check()
    DOCUMENT.write_text(generate(), encoding="utf-8")
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
