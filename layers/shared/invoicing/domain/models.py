"""The records of the service. Each is both what the table stores and what the API returns.

Every model is a ``Record``, built on first use rather than at import (``defer_build``): a
function imports most of these (through storage) but a request uses one or two.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, computed_field

Currency = Literal["USD", "CAD", "AUD", "EUR", "GBP"]
Role = Literal["owner", "admin", "member", "viewer"]
# The one spelling of the frequencies: the stored record and the request body use this type.
Frequency = Literal["daily", "weekly", "biweekly", "monthly", "quarterly", "annually"]
FREQUENCIES: tuple[Frequency, ...] = get_args(Frequency)
EntrySource = Literal["invoice_finalized", "invoice_voided", "payment", "payment_removed", "write_off", "manual"]
InvoiceStatus = Literal["draft", "open", "partially_paid", "manual_paid", "stripe_paid", "void", "uncollectible"]


class Record(BaseModel):
    """The base of every record: validators built on first use (``defer_build``), not at import."""

    model_config = ConfigDict(defer_build=True)


class OwnedRecord(Record):
    """A record of one business: its id and the business's, the first fields of every such record."""

    id: str
    business_id: str


class Business(Record):
    id: str
    name: str
    currency: Currency
    timezone: str = "UTC"
    default_location_id: str | None = None
    created_at: str


class Customer(OwnedRecord):
    name: str
    email: str
    phone: str | None = None
    address: str | None = None
    deleted: bool = False
    created_at: str
    updated_at: str


class Product(OwnedRecord):
    name: str
    description: str | None = None
    created_at: str
    updated_at: str


class Variant(OwnedRecord):
    product_id: str
    name: str
    sku: str
    unit_price: int = Field(description="Catalog price in cents, in the business's default currency")
    created_at: str
    updated_at: str


class Location(OwnedRecord):
    name: str
    code: str
    is_default: bool = False
    created_at: str


class StockLevel(Record):
    variant_id: str
    location_id: str
    quantity: int
    updated_at: str


class Adjustment(Record):
    id: str
    variant_id: str
    location_id: str
    quantity_change: int
    reason: str
    quantity_after: int
    created_at: str


class LineItem(Record):
    id: str
    variant_id: str | None = Field(default=None, description="null for a custom line")
    description: str
    quantity: int
    unit_price: int = Field(description="Cents, copied onto the invoice when the line was written")
    amount: int = Field(description="quantity * unit_price, in cents")
    location_id: str | None = None
    delayed_charge_id: str | None = None


class BankTransaction(OwnedRecord):
    """Money the bank shows received (amount > 0) or paid out (amount < 0)."""

    amount: int = Field(description="Cents; positive = money in")
    currency: Currency
    datetime: str = Field(description="The day the bank booked it, YYYY-MM-DD")
    description: str | None = None
    reconciled: bool = False
    allocated: int = Field(default=0, description="Cents that payments have taken from this transaction")
    created_at: str
    updated_at: str

    @computed_field(description="Cents still free for payments (0 for money paid out)")  # type: ignore[prop-decorator]
    @property
    def unallocated(self) -> int:
        return max(self.amount - self.allocated, 0)


class TransactionSummary(Record):
    id: str
    amount: int
    currency: Currency
    datetime: str
    description: str | None = None


class Payment(OwnedRecord):
    """Part or all of a bank transaction allocated to one invoice."""

    invoice_id: str
    transaction_id: str
    amount: int = Field(description="Cents allocated to the invoice")
    currency: Currency
    paid_on: str = Field(description="Effective payment date, YYYY-MM-DD")
    created_at: str
    updated_at: str
    transaction: TransactionSummary | None = Field(default=None, description="The bank transaction (when listing)")


AccountCode = Literal["1000", "1200", "2300", "4000", "4100", "6100"]


class JournalLine(Record):
    account_code: AccountCode
    account_name: str
    debit: int = 0
    credit: int = 0
    customer_id: str | None = None


class JournalEntry(OwnedRecord):
    """A balanced, immutable double entry: mistakes are reversed by another entry, never edited."""

    entry_date: str = Field(description="YYYY-MM-DD, in the business's time zone")
    description: str
    source: EntrySource
    currency: Currency
    lines: list[JournalLine]
    invoice_id: str | None = None
    customer_id: str | None = None
    payment_id: str | None = None
    reverses: str | None = Field(default=None, description="The entry this one reverses")
    created_at: str

    @computed_field(description="Sum of the debits (= sum of the credits), cents")  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        return sum(line.debit for line in self.lines)


class Invoice(OwnedRecord):
    created_at: str
    updated_at: str
    status: InvoiceStatus
    currency: Currency
    total: int
    total_paid: int = 0
    balance_due: int
    description: str | None = None
    customer_id: str
    customer_name: str
    customer_email: str
    issue_date: str
    due_date: str
    line_items: list[LineItem]
    fulfillment_location_id: str | None = None
    pdf_url: str | None = None
    number: str | None = None
    delivered: bool = False
    delivered_on: str | None = None
    hosted_invoice_url: str | None = None
    paid_on: str | None = None
    journal_entries: list[JournalEntry] = Field(default_factory=list,
                                                description="The invoice's journal entries, oldest first")
    payments: list[Payment] = Field(default_factory=list, description="The invoice's payments, oldest first")
    recurring_template_id: str | None = None


DelayedChargeType = Literal["charge", "credit"]
DelayedChargeStatus = Literal["pending", "invoiced"]


class DelayedCharge(OwnedRecord):
    """A charge (or credit) recorded now and swept into a later invoice of its customer."""

    customer_id: str
    type: DelayedChargeType = Field(description="charge: added to the invoice; credit: a negative line")
    status: DelayedChargeStatus
    currency: Currency
    amount: int = Field(description="Cents, always positive; a credit is subtracted when invoiced")
    description: str
    service_date: str | None = None
    internal_notes: str | None = None
    invoiced_invoice_id: str | None = Field(default=None, description="The invoice that took it; null while pending")
    invoiced_at: str | None = None
    created_at: str
    updated_at: str
    # Every write bumps it and state changes are conditional on it; stored, never shown.
    version: int = Field(default=0, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def can_be_updated(self) -> bool:
        return self.status == "pending"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def can_be_deleted(self) -> bool:
        return self.status == "pending"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def can_be_invoiced(self) -> bool:
        return self.status == "pending"


RecurringStatus = Literal["active", "paused", "canceled", "completed"]


class RecurringTemplateData(Record):
    """What each generated invoice is made of. ``line_items`` are the request's lines, so a
    variant line without an override takes the catalog price of the day it is generated."""

    line_items: list[dict[str, Any]] = Field(description="Line items as in a create-invoice request")
    description: str | None = None
    fulfillment_location_id: str | None = None


class RecurringTemplate(OwnedRecord):
    """A recurring invoice template: generates one invoice per occurrence of its schedule."""

    name: str
    recurrence_type: Literal["invoice"] = "invoice"
    customer_id: str
    currency: Currency
    frequency: Frequency
    start_date: str
    day_of_month: int | None = None
    day_of_week: int | None = Field(default=None, description="0=Monday .. 6=Sunday")
    end_date: str | None = None
    max_occurrences: int | None = None
    days_until_due: int = 30
    auto_finalize: bool = False
    status: RecurringStatus
    template_data: RecurringTemplateData
    occurrences_generated: int = 0
    next_occurrence: str | None = Field(default=None, description="The next date an invoice is generated on; "
                                                                   "null when paused, canceled or completed")
    last_generated_on: str | None = None
    skipped_dates: list[str] = Field(default_factory=list, description="Occurrences skipped (skip, or while paused)")
    source_invoice_id: str | None = Field(default=None, description="The invoice the template was created from")
    created_at: str
    updated_at: str
    # Every write bumps it and every write is conditional on it; stored, never shown.
    version: int = Field(default=0, exclude=True)
