"""The API's documentation, public (no authorizer): the OpenAPI document and Swagger UI.

``openapi.json`` beside this file is generated from every function's resolver (``make openapi``)
and checked in; CI fails when it is stale. Swagger UI's script and style are the copies bundled
with Powertools (in the layer), inlined, so the page needs nothing from the internet.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.http import snapshot
from invoicing.observability import logger, metrics, tracer

DOCUMENT = Path(__file__).with_name("openapi.json")
SWAGGER_ASSETS = Path(swagger_ui.__file__).parent

app = APIGatewayRestResolver()


@cache
def _stored_document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def _swagger_assets() -> tuple[str, str]:
    return ((SWAGGER_ASSETS / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
            (SWAGGER_ASSETS / "swagger-ui.min.css").read_text(encoding="utf-8"))


def _document() -> dict[str, Any]:
    """The stored document with its server set to where this request came in.

    The document's paths start at /api/v1. On API Gateway's own host the stage comes first
    (``/prod/api/v1/...``); on the local stack (and a custom domain mapped at its root) nothing does.
    """
    event = app.current_event
    host = (event.headers.get("Host") or event.headers.get("host") or "").lower()
    stage = str(event.request_context.stage or "")
    prefix = f"/{stage}" if stage and ".execute-api." in host else ""
    return {**_stored_document(), "servers": [{"url": prefix or "/"}]}


def _json_document() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=json.dumps(_document()))


@app.get("/api/v1/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return _json_document()


@app.get("/api/v1/docs", include_in_schema=False)
def swagger_page() -> Response[str]:
    # Powertools' page points its download link at ?format=json: answer that with the document.
    if app.current_event.get_query_string_value("format") == "json":
        return _json_document()
    script, style = _swagger_assets()
    # The document is inlined in a <script>: "</" must not close it early.
    spec = json.dumps(_document()).replace("</", "<\\/")
    page = generate_swagger_html(spec, script, style, swagger_base_url="", oauth2_config=None,
                                 persist_authorization=True)
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=page)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


if snapshot.taking_snapshot():  # the document and Swagger UI's assets read into the snapshot
    _stored_document(), _swagger_assets()
