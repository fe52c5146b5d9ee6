"""Logs carry the request's correlation id and never a token."""

from __future__ import annotations

import io
import json
import logging

from invoicing.observability import logger


def test_no_token_reaches_the_logs_and_requests_are_correlated(api, tenant, caplog):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)  # the JSON Powertools writes in Lambda
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)  # the most a deployment could be asked to log
    try:
        api.post("/api/v1/customers", {"name": "Ada", "email": "ada@example.com"})
        api.get("/api/v1/customers/0195f1a0-0000-7000-8000-00000000beef")
        api.get("/api/v1/customers", headers={"Authorization": "Bearer dz_wrong_secret_value",
                                              "x-business-id": tenant.business_id})
        api.get("/api/v1/customers", headers={"Authorization": f"Bearer {tenant.token}",
                                              "x-business-id": "0195f1a0-0000-7000-8000-00000000beef"})
    finally:
        logger.setLevel(logging.INFO)
        logger.removeHandler(handler)
    logged = stream.getvalue() + caplog.text
    assert tenant.token not in logged and "dz_wrong_secret_value" not in logged
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    denied = [r for r in records if r["message"] == "Denied: not a member of the business"]
    assert denied, "the authorizer logs its denial"
    refused = [r for r in records if r["message"] == "Request refused"]
    assert [(r["status"], r["code"]) for r in refused] == [(404, "customer_not_found")]
    assert refused[0]["correlation_id"] and refused[0]["function_name"] == "CustomersFunction"
