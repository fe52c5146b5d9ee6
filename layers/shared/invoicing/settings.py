"""All configuration, read once from the environment into one record.

A frozen dataclass rather than a pydantic model: every value is an environment string (or the
``int()`` of one), and the authorizer, which reads it, has no other use for pydantic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Settings:
    table_name: str
    """The single DynamoDB table (TABLE_NAME)."""
    token_cache_seconds: int = 60
    """Authorizer result cache TTL, also how soon a revoked token stops working."""
    batch_queue_url: str = ""
    """The SQS queue batch items fan out through (BATCH_QUEUE_URL)."""
    recurring_schedule_group: str = ""
    """EventBridge Scheduler group of the recurring templates' schedules (RECURRING_SCHEDULE_GROUP);
    empty: templates get no schedule (the catch-up runs them)."""
    recurring_run_function_arn: str = ""
    """What the schedules invoke (RECURRING_RUN_FUNCTION_ARN)."""
    recurring_scheduler_role_arn: str = ""
    """The role the scheduler invokes it with (RECURRING_SCHEDULER_ROLE_ARN)."""
    recurring_dead_letter_arn: str = ""
    """The schedules' dead-letter queue (RECURRING_DEAD_LETTER_ARN)."""
    documents_bucket: str = ""
    """The private bucket of the invoice and receipt PDFs (DOCUMENTS_BUCKET); empty: none, and
    ``pdf_url`` stays null."""


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
        documents_bucket=os.environ.get("DOCUMENTS_BUCKET", ""),
    )
