"""Requests and answers of receivables: bank transactions, payments, the journal, aging, metrics."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from invoicing.domain.clock import day_of
from invoicing.domain.ledger import MAX_MANUAL_LINES
from invoicing.domain.models import AccountCode, Currency, InvoiceStatus
from invoicing.schemas.types import MAX_CENTS, Cents, DateString, Integer, PositiveCents, RequestBody, Text, Uuid


def _day_of(value: str) -> str:
    day = day_of(value)
    if day is None:
        raise PydanticCustomError("date_from_datetime_parsing", "Input should be YYYY-MM-DD or an ISO 8601 datetime")
    return day


Day = Annotated[str, Field(min_length=10, max_length=40, examples=["2026-12-02"]), AfterValidator(_day_of)]


def _not_zero(amount: int) -> int:
    if amount == 0:
        raise PydanticCustomError("value_error", "A transaction moves money: amount cannot be 0")
    return amount


class TransactionCreate(RequestBody):
    amount: Annotated[Integer, Field(ge=-MAX_CENTS, le=MAX_CENTS, description="Cents; positive = money in"),
                      AfterValidator(_not_zero)]
    currency: Currency | None = Field(default=None, description="Default: the business's currency")
    datetime: DateString | None = Field(default=None, description="The day the bank booked it; default today")
    description: Text | None = None
    reconciled: bool = False


class PaymentCreate(RequestBody):
    transaction_id: Uuid = Field(description="The bank transaction the money came in on")
    amount: PositiveCents = Field(description="Cents allocated to this invoice, at most what the transaction has "
                                  "left unallocated; more than the balance due is an overpayment (a credit)")
    paid_on: Day | None = Field(default=None, description="Effective date (YYYY-MM-DD or ISO 8601); default the "
                                "transaction's date")


class JournalLineCreate(RequestBody):
    account_code: AccountCode = Field(description="1000 Bank, 2300 Customer Credits, 4000 Revenue, "
                                      "4100 Sales Returns, 6100 Bad Debt (1200 AR moves only with invoices)")
    debit: Cents = 0
    credit: Cents = 0


class JournalEntryCreate(RequestBody):
    entry_date: DateString | None = Field(default=None, description="Default: today in the business's time zone")
    description: Annotated[str, Field(min_length=1, max_length=500)]
    currency: Currency | None = Field(default=None, description="Default: the business's currency")
    lines: list[JournalLineCreate] = Field(min_length=2, max_length=MAX_MANUAL_LINES)


class JournalLink(RequestBody):
    journal_entry_id: Uuid


class Answer(BaseModel):
    model_config = ConfigDict(defer_build=True)


class Deleted(Answer):
    id: str


class AgingRow(Answer):
    customer_id: str | None = None
    customer_name: str | None = None
    currency: Currency
    current: int = 0
    days_1_30: int = 0
    days_31_60: int = 0
    days_61_90: int = 0
    days_91_plus: int = 0
    total: int = 0


class AgingInvoice(Answer):
    id: str
    invoice_number: str | None
    customer_id: str
    customer_name: str | None
    status: InvoiceStatus
    currency: Currency
    total: int
    total_paid: int
    balance_due: int
    due_date: str
    days_past_due: int
    bucket: str = Field(description="current, 1_30, 31_60, 61_90 or 91_plus")


class Aging(Answer):
    as_of_date: str
    customers: list[AgingRow] = Field(description="One row per customer and currency")
    invoices: list[AgingInvoice]
    totals: AgingRow = Field(description="Every customer, in the business's currency")
    totals_by_currency: list[AgingRow] = Field(description="Every customer, one row per currency")


class CurrencyMetrics(Answer):
    currency: Currency
    total_outstanding: int
    total_overdue: int


class Metrics(Answer):
    as_of_date: str
    currency: Currency = Field(description="The business's currency, which the two totals are in")
    total_outstanding: int = Field(description="Balance due of open and partially paid invoices, cents")
    total_overdue: int = Field(description="The part of it past its due date (today in the business's time zone)")
    by_currency: list[CurrencyMetrics]
