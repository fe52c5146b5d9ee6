"""The renderer's pure parts: money as printed, pagination, determinism."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from invoicing.documents import render
from invoicing.documents.money import format_money
from invoicing.domain.models import Business, Invoice, LineItem


@pytest.mark.parametrize(("cents", "currency", "shown"), [
    (123_456, "USD", "$1,234.56"), (0, "USD", "$0.00"), (5, "USD", "$0.05"), (-1_250, "USD", "-$12.50"),
    (100_000_000_000, "USD", "$1,000,000,000.00"), (123_456, "CAD", "CA$1,234.56"), (99, "AUD", "A$0.99"),
    (123_456, "EUR", "\u20ac1,234.56"), (-7, "GBP", "-\u00a30.07"), (1_000, "JPY", "10.00 JPY"),
])
def test_money_is_formatted_per_currency(cents: int, currency: str, shown: str) -> None:
    assert format_money(cents, currency) == shown


def invoice(lines: int, status: str = "open") -> Invoice:
    items = [LineItem(id=str(n), description=f"Item {n}", quantity=1, unit_price=100, amount=100)
             for n in range(lines)]
    return Invoice(id="i", business_id="b", created_at="2026-01-01", updated_at="2026-01-01", status=status,  # type: ignore[arg-type]
                   currency="USD", total=100 * lines, balance_due=100 * lines, customer_id="c", customer_name="Ada",
                   customer_email="ada@example.com", issue_date="2026-01-01", due_date="2026-01-31",
                   line_items=items, number="INV-009")


BUSINESS = Business(id="b", name="Acme", currency="USD", created_at="2026-01-01")


def test_the_totals_block_moves_to_a_new_page_rather_than_split() -> None:
    lines, summary = render._line_rows(invoice(1)), render._summary_rows(invoice(1))
    room = sum(r.height for r in lines) + sum(r.height for r in summary) - 1  # one point short
    assert render.paginate(lines, summary, room) == [lines, summary]


def test_the_same_state_renders_the_same_bytes() -> None:
    assert render.invoice_pdf(invoice(30), BUSINESS) == render.invoice_pdf(invoice(30), BUSINESS)


@pytest.mark.parametrize(("status", "mark"), [("void", "VOID"), ("manual_paid", "PAID"), ("draft", "DRAFT")])
def test_status_marks(status: str, mark: str) -> None:
    text = PdfReader(io.BytesIO(render.invoice_pdf(invoice(2, status), BUSINESS))).pages[0].extract_text()
    assert mark in text


def test_characters_the_fonts_lack_print_as_question_marks() -> None:
    assert render.printable("Zoë \u2603 €") == "Zoë ? €"
