"""Request field types shared by every endpoint's models, and their base model.

Why not pydantic's own ``date``/``int``: under Powertools validation strict ``date`` rejects
every value and lax ``date`` accepts ``0`` and datetimes; lax ``int`` accepts ``"12"`` and
``True``. Cents are integers; an integral float such as ``126.0`` is accepted as ``126``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from invoicing.domain.ids import UUID_PATTERN
from invoicing.domain.models import Currency

MAX_CENTS = 10**15


class RequestBody(BaseModel):
    """The base of every request body model: an unknown field is a 422 (a misspelt ``unit_price``
    must not be dropped silently), and validators are built on first use, not at import."""

    model_config = ConfigDict(defer_build=True, extra="forbid")


def _strict_integer(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        raise PydanticCustomError(
            "int_from_float", "Input should be a valid integer, got a number with a fractional part"
        )
    raise PydanticCustomError("int_type", "Input should be a valid integer")


def _calendar_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "date_from_datetime_parsing", "Input should be a valid date in YYYY-MM-DD format"
        ) from None
    return value


Integer = Annotated[int, BeforeValidator(_strict_integer)]
Cents = Annotated[Integer, Field(ge=0, le=MAX_CENTS, description="Amount in integer cents")]
PositiveCents = Annotated[Integer, Field(gt=0, le=MAX_CENTS, description="Amount in integer cents, above zero")]
Quantity = Annotated[Integer, Field(ge=1, le=MAX_CENTS)]
DateString = Annotated[
    str,
    # format: date tells a schema-driven client it is a calendar date (the pattern alone lets
    # generators send 0000-00-00, which the validator below rejects).
    Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-12-31"], description="Calendar date, YYYY-MM-DD",
          json_schema_extra={"format": "date"}),
    AfterValidator(_calendar_date),
]
Uuid = Annotated[
    str,
    Field(
        pattern=UUID_PATTERN,
        examples=["0192f0c1-7a9e-7c43-9d1a-3f1f6b8a2c10"],
    ),
    AfterValidator(str.lower),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=2000)]

__all__ = ["MAX_CENTS", "Cents", "Currency", "DateString", "Integer", "Name", "PositiveCents", "Quantity",
           "RequestBody", "Text", "Uuid"]
