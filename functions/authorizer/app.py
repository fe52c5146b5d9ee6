"""API Gateway REQUEST authorizer: a live ``dz_`` token whose user is a member of ``x-business-id``.

- no token, or an unknown, revoked or expired one: ``Unauthorized`` (the gateway answers 401);
- a valid token without membership in that business: Deny (the gateway answers 404
  "Business not found", so another tenant's business is never confirmed to exist);
- otherwise Allow on every route (the answer is cached per token and business header, and a
  cached policy is reused for all routes), with business, user and role as context.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from invoicing.domain.ids import UUID_PATTERN
from invoicing.http import proxy, snapshot
from invoicing.observability import logger, metrics, tracer
from invoicing.storage.auth import authenticate

_UUID = re.compile(UUID_PATTERN)
snapshot.prepare()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict[str, Any]:
    scheme, _, secret = proxy.header(event.raw_event, "authorization").strip().partition(" ")
    business_id = proxy.header(event.raw_event, "x-business-id").strip().lower()
    if scheme.lower() != "bearer" or not secret:
        metrics.add_metric(name="AuthRejected", unit=MetricUnit.Count, value=1)
        raise Exception("Unauthorized")
    # A malformed business id is looked up as one no token is a member of: Deny, not an error.
    token, role = authenticate(secret.strip(), business_id if _UUID.match(business_id) else "-")
    if token is None:
        metrics.add_metric(name="AuthRejected", unit=MetricUnit.Count, value=1)
        raise Exception("Unauthorized")  # the exact message API Gateway turns into a 401
    arn = event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=str(token["user_id"]),
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={"business_id": business_id, "user_id": str(token["user_id"]), "role": role or "",
                 "token_id": str(token["token_id"])},
    )
    if role is None:
        logger.info("Denied: not a member of the business", extra={"user_id": token["user_id"]})
        policy.deny_all_routes()
    else:
        logger.append_keys(business_id=business_id, user_id=token["user_id"], role=role)
        policy.allow_all_routes()
    return policy.asdict()
