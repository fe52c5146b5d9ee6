"""All configuration, read once from the environment into one model."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    table_name: str = Field(description="The single DynamoDB table (TABLE_NAME)")
    token_cache_seconds: int = Field(
        default=60, description="Authorizer result cache TTL, also how soon a revoked token stops working"
    )
    batch_queue_url: str = Field(default="", description="The SQS queue batch items fan out through (BATCH_QUEUE_URL)")
    recurring_schedule_group: str = Field(
        default="", description="EventBridge Scheduler group of the recurring templates' schedules "
                                "(RECURRING_SCHEDULE_GROUP); empty: templates get no schedule (the catch-up runs them)")
    recurring_run_function_arn: str = Field(default="",
                                            description="What the schedules invoke (RECURRING_RUN_FUNCTION_ARN)")
    recurring_scheduler_role_arn: str = Field(default="", description="The role the scheduler invokes it with "
                                                                      "(RECURRING_SCHEDULER_ROLE_ARN)")
    recurring_dead_letter_arn: str = Field(default="", description="The schedules' dead-letter queue "
                                                                   "(RECURRING_DEAD_LETTER_ARN)")


@cache
def settings() -> Settings:
    return Settings(
        table_name=os.environ.get("TABLE_NAME", "dayzero-invoicing"),
        token_cache_seconds=int(os.environ.get("TOKEN_CACHE_SECONDS", "60")),
        batch_queue_url=os.environ.get("BATCH_QUEUE_URL", ""),
        recurring_schedule_group=os.environ.get("RECURRING_SCHEDULE_GROUP", ""),
        recurring_run_function_arn=os.environ.get("RECURRING_RUN_FUNCTION_ARN", ""),
        recurring_scheduler_role_arn=os.environ.get("RECURRING_SCHEDULER_ROLE_ARN", ""),
        recurring_dead_letter_arn=os.environ.get("RECURRING_DEAD_LETTER_ARN", ""),
    )
