"""What an invoice PDF costs to render (documents/render.py, reportlab): a 10-line and a 250-line
invoice against an empty page drawn and saved by the same library in the same process (the floor:
what any PDF costs), the median of ``rounds``; and the peak memory the renders add (tracemalloc,
Python allocations only)."""

from __future__ import annotations

import io
import statistics
import time
import tracemalloc
from collections.abc import Callable

from invoicing.documents import render
from invoicing.domain.models import Business, Invoice, LineItem

ROUNDS = 7
BUSINESS = Business(id="b", name="Acme Supplies", currency="USD", created_at="2026-01-01")


def invoice(lines: int) -> Invoice:
    """A finalized invoice of ``lines`` lines, each with a description of a realistic length."""
    items = [LineItem(id=str(n), description=f"Consulting, week {n} - design review and follow-up", quantity=3,
                      unit_price=12_500, amount=37_500) for n in range(lines)]
    total = 37_500 * lines
    return Invoice(id="i", business_id="b", created_at="2026-01-01", updated_at="2026-01-01", status="open",
                   currency="USD", total=total, balance_due=total, customer_id="c", customer_name="Ada Lovelace",
                   customer_email="ada@example.com", issue_date="2026-01-01", due_date="2026-01-31",
                   line_items=items, number="INV-001")


def empty_page() -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _median_seconds(work: Callable[[], bytes], rounds: int) -> float:
    work()  # fonts and modules loaded once, as in a warm function
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _peak_bytes(work: Callable[[], bytes]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def rows(rounds: int = ROUNDS) -> list[tuple[str, str, str, str]]:
    floor = _median_seconds(empty_page, rounds)
    out = []
    for lines in (10, 250):
        subject = invoice(lines)
        seconds = _median_seconds(lambda subject=subject: render.invoice_pdf(subject, BUSINESS), rounds)
        peak = _peak_bytes(lambda subject=subject: render.invoice_pdf(subject, BUSINESS))
        out.append((f"PDF render, {lines} lines", f"{seconds / floor:.1f}x an empty page ({seconds * 1000:.1f} ms vs "
                    f"{floor * 1000:.2f} ms), peak +{peak / 1_048_576:.1f} MB", "report", ""))
    return out
