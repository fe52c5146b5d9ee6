"""Request bodies and answers of the recurring templates endpoints (API.md, "Recurring templates")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from invoicing.domain import models
from invoicing.domain.invoices import MAX_LINES
from invoicing.domain.models import RecurringTemplate
from invoicing.schemas.invoices import LineItemRequest
from invoicing.schemas.types import Currency, DateString, Integer, RequestBody, Text, Uuid

Frequency = Annotated[models.Frequency, Field(description="How often an invoice is generated")]
DayOfMonth = Annotated[Integer | None, Field(ge=1, le=31, description="1-31 (monthly, quarterly, annually); "
                                                                      "31 is each month's last day when shorter")]
DayOfWeek = Annotated[Integer | None, Field(ge=0, le=6, description="0=Monday .. 6=Sunday (weekly, biweekly)")]
MaxOccurrences = Annotated[Integer | None, Field(ge=1, le=10_000, description="Stop after this many invoices")]
DaysUntilDue = Annotated[Integer, Field(ge=0, le=3650, description="Due date = issue date + this many days")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class TemplateData(RequestBody):
    line_items: Annotated[list[LineItemRequest], Field(min_length=1, max_length=MAX_LINES,
                                                       description="As in create invoice; variant lines without "
                                                                   "unit_price take the catalog price of the day")]
    description: Text | None = None
    fulfillment_location_id: Uuid | None = None


class RecurringCreate(RequestBody):
    recurrence_type: Annotated[Literal["invoice", "bill"], Field(description="Only 'invoice' is supported")] = "invoice"
    name: Name
    customer_id: Uuid
    currency: Annotated[Currency | None, Field(description="Default: the business's currency")] = None
    frequency: Frequency
    start_date: Annotated[DateString | None, Field(description="The anchor of the series; default today")] = None
    day_of_month: DayOfMonth = None
    day_of_week: DayOfWeek = None
    end_date: Annotated[DateString | None, Field(description="Last possible occurrence (inclusive)")] = None
    max_occurrences: MaxOccurrences = None
    days_until_due: DaysUntilDue = 30
    auto_finalize: Annotated[bool, Field(description="Finalize (number) each generated invoice")] = False
    template_data: TemplateData


class RecurringUpdate(RequestBody):
    """PUT /recurring/{id}: fields left out keep their value; schedule fields null clear them."""

    name: Name = None  # type: ignore[assignment]
    customer_id: Uuid = None  # type: ignore[assignment]
    currency: Currency = None  # type: ignore[assignment]
    frequency: Frequency = None  # type: ignore[assignment]
    start_date: DateString = None  # type: ignore[assignment]
    day_of_month: DayOfMonth = None
    day_of_week: DayOfWeek = None
    end_date: DateString | None = None
    max_occurrences: MaxOccurrences = None
    days_until_due: DaysUntilDue = None  # type: ignore[assignment]
    auto_finalize: bool = None  # type: ignore[assignment]
    template_data: TemplateData = None  # type: ignore[assignment]


class SkipResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    skipped_date: str = Field(description="The occurrence that will generate no invoice")
    next_occurrence: str | None = Field(description="The occurrence after it (null: the series is over)")
    template: RecurringTemplate
