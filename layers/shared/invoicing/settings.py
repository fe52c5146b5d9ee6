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


@cache
def settings() -> Settings:
    return Settings(
        table_name=os.environ.get("TABLE_NAME", "dayzero-invoicing"),
        token_cache_seconds=int(os.environ.get("TOKEN_CACHE_SECONDS", "60")),
    )
