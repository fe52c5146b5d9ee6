"""The invoice and receipt PDFs, drawn with reportlab's canvas: pure (models in, bytes out).

reportlab because its canvas imports in a fraction of fpdf2's time (bench/documents.py) and is
pure Python with no native libraries. Output is ``invariant`` (no timestamp, a fixed document
id): the same state renders the same bytes, so a redelivered render changes nothing.

Every page repeats the header (business, bill-to, number, dates, the status mark) and says
"Page x of y"; the lines flow over as many pages as they need and the totals block is never split
from a page's lines unless it is itself taller than a page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from invoicing.documents.money import format_money
from invoicing.domain.models import Business, Invoice, Payment

WIDTH, HEIGHT = LETTER
MARGIN = 54
LINE = 13  # one text line of a table row
TABLE_TOP = HEIGHT - 200  # the column headings' baseline; the rows start below
FOOTER = 64  # rows stop above this
FONT, BOLD = "Helvetica", "Helvetica-Bold"
# Columns: description, quantity, unit price, amount (right edges for the numbers).
DESCRIPTION_WIDTH = 270
QTY_RIGHT, PRICE_RIGHT, AMOUNT_RIGHT = MARGIN + 330, MARGIN + 420, WIDTH - MARGIN

PAID_STATUSES = ("manual_paid", "stripe_paid")
MARKS = {"void": ("VOID", Color(0.8, 0.1, 0.1, alpha=0.28)), "draft": ("DRAFT", Color(0.4, 0.4, 0.4, alpha=0.25)),
         **{status: ("PAID", Color(0.1, 0.55, 0.2, alpha=0.28)) for status in PAID_STATUSES}}


def applied_credits(invoice: Invoice) -> int:
    """Cents of credit memos applied to the invoice. Hook for the credit memos feature: it adds
    ``total_credits`` to the invoice record; until then there is none and no credits row."""
    return int(getattr(invoice, "total_credits", 0) or 0)


def printable(text: str) -> str:
    """The standard PDF fonts cover Windows-1252; anything else shows as ``?``, not as garbage."""
    return text.encode("cp1252", "replace").decode("cp1252")


@dataclass(frozen=True)
class Row:
    """One row of the table: a line item (wrapped description) or a totals row."""

    cells: tuple[str, str, str, str]
    lines: tuple[str, ...]
    bold: bool = False
    gap: float = 0  # space above the row

    @property
    def height(self) -> float:
        return self.gap + LINE * max(len(self.lines), 1) + 3


def _line_rows(invoice: Invoice) -> list[Row]:
    rows = []
    for item in invoice.line_items:
        wrapped = simpleSplit(printable(item.description), FONT, 9, DESCRIPTION_WIDTH) or [""]
        rows.append(Row(("", f"{item.quantity:,}", format_money(item.unit_price, invoice.currency),
                         format_money(item.amount, invoice.currency)), tuple(wrapped)))
    return rows


def _total_row(label: str, cents: int, currency: str, *, bold: bool = False, gap: float = 0) -> Row:
    return Row((label, "", "", format_money(cents, currency)), (label,), bold=bold, gap=gap)


def _summary_rows(invoice: Invoice) -> list[Row]:
    currency = invoice.currency
    subtotal = sum(item.amount for item in invoice.line_items)
    rows = [_total_row("Subtotal", subtotal, currency, gap=10)]
    if credits := applied_credits(invoice):
        rows.append(_total_row("Credits applied", -credits, currency))
    rows.append(_total_row("Total", invoice.total, currency, bold=True))
    for payment in invoice.payments:
        rows.append(_total_row(f"Payment received {payment.paid_on}", -payment.amount, currency))
    if invoice.payments:
        rows.append(_total_row("Amount paid", invoice.total_paid, currency))
    rows.append(_total_row("Balance due", invoice.balance_due, currency, bold=True, gap=4))
    return rows


def paginate(lines: Sequence[Row], summary: Sequence[Row], room: float = TABLE_TOP - LINE - FOOTER) -> list[list[Row]]:
    """Rows per page: lines in order, then the summary kept together on one page when it fits."""
    pages: list[list[Row]] = [[]]
    used = 0.0

    def place(row: Row) -> None:
        nonlocal used
        if pages[-1] and used + row.height > room:
            pages.append([])
            used = 0.0
        pages[-1].append(row)
        used += row.height

    for row in lines:
        place(row)
    block = sum(row.height for row in summary)
    if pages[-1] and used + block > room and block <= room:
        pages.append([])
        used = 0.0
    for row in summary:
        place(row)
    return pages


class _Document:
    """A canvas with the page furniture both documents share."""

    def __init__(self, title: str, business: Business) -> None:
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=LETTER, invariant=1, pageCompression=1)
        self.canvas.setTitle(printable(title))
        self.canvas.setAuthor(printable(business.name))
        self.canvas.setCreator("DayZero invoicing")
        self.business = business

    def text(self, x: float, y: float, text: str, *, size: float = 9, bold: bool = False,
             right: bool = False) -> None:
        self.canvas.setFont(BOLD if bold else FONT, size)
        shown = printable(text)
        if right:
            self.canvas.drawRightString(x, y, shown)
        else:
            self.canvas.drawString(x, y, shown)

    def heading(self, kind: str, facts: Sequence[tuple[str, str]], bill_to: Sequence[str], status: str) -> None:
        top = HEIGHT - MARGIN - 12
        self.text(MARGIN, top, self.business.name, size=18, bold=True)
        self.text(WIDTH - MARGIN, top, kind, size=20, bold=True, right=True)
        y = top - 26
        for label, value in facts:
            self.text(WIDTH - MARGIN - 110, y, label, right=True)
            self.text(WIDTH - MARGIN, y, value, bold=True, right=True)
            y -= LINE
        y = top - 26
        self.text(MARGIN, y, "Bill to", bold=True)
        for line in bill_to:
            y -= LINE
            self.text(MARGIN, y, line)
        if status in MARKS:
            self.mark(*MARKS[status])

    def mark(self, word: str, color: Color) -> None:
        canvas = self.canvas
        canvas.saveState()
        canvas.setFillColor(color)
        canvas.setFont(BOLD, 110)
        canvas.translate(WIDTH / 2, HEIGHT / 2 - 40)
        canvas.rotate(35)
        canvas.drawCentredString(0, 0, word)
        canvas.restoreState()

    def footer(self, page: int, pages: int, reference: str) -> None:
        self.text(MARGIN, 36, f"{self.business.name} \u00b7 {reference}", size=8)
        self.text(WIDTH - MARGIN, 36, f"Page {page} of {pages}", size=8, right=True)

    def rule(self, y: float) -> None:
        self.canvas.setLineWidth(0.5)
        self.canvas.line(MARGIN, y, WIDTH - MARGIN, y)

    def finish(self) -> bytes:
        self.canvas.save()
        return self.buffer.getvalue()


def _bill_to(invoice: Invoice) -> list[str]:
    return [invoice.customer_name, invoice.customer_email]


def invoice_pdf(invoice: Invoice, business: Business) -> bytes:
    """The invoice as its customer reads it: the issue date printed is the invoice's own (a
    backdated one included), the lines, totals, payments and balance due, and VOID / PAID."""
    reference = invoice.number or "Draft"
    doc = _Document(f"Invoice {reference}", business)
    facts = [("Invoice number", reference), ("Issue date", invoice.issue_date), ("Due date", invoice.due_date),
             ("Balance due", format_money(invoice.balance_due, invoice.currency))]
    pages = paginate(_line_rows(invoice), _summary_rows(invoice))
    for number, rows in enumerate(pages, start=1):
        doc.heading("INVOICE", facts, _bill_to(invoice), invoice.status)
        if invoice.description and number == 1:
            doc.text(MARGIN, TABLE_TOP + 24, invoice.description[:120])
        doc.text(MARGIN, TABLE_TOP, "Description", bold=True)
        doc.text(QTY_RIGHT, TABLE_TOP, "Qty", bold=True, right=True)
        doc.text(PRICE_RIGHT, TABLE_TOP, "Unit price", bold=True, right=True)
        doc.text(AMOUNT_RIGHT, TABLE_TOP, "Amount", bold=True, right=True)
        doc.rule(TABLE_TOP - 4)
        y = TABLE_TOP - 4
        for row in rows:
            y -= row.gap + LINE
            _draw_row(doc, row, y)
            y -= LINE * (max(len(row.lines), 1) - 1) + 3
        doc.footer(number, len(pages), f"Invoice {reference}")
        doc.canvas.showPage()
    return doc.finish()


def _draw_row(doc: _Document, row: Row, y: float) -> None:
    label, qty, price, amount = row.cells
    if label:  # a totals row: label beside the amounts
        doc.text(PRICE_RIGHT, y, label, bold=row.bold, right=True)
    else:
        for n, line in enumerate(row.lines):
            doc.text(MARGIN, y - n * LINE, line)
        doc.text(QTY_RIGHT, y, qty, right=True)
        doc.text(PRICE_RIGHT, y, price, right=True)
    doc.text(AMOUNT_RIGHT, y, amount, bold=row.bold, right=True)


def balance_after(invoice: Invoice, payment: Payment) -> int:
    """The balance due once this payment and the ones before it (oldest first) were received."""
    paid = 0
    for earlier in invoice.payments:
        paid += earlier.amount
        if earlier.id == payment.id:
            break
    return invoice.total - applied_credits(invoice) - paid


def receipt_pdf(invoice: Invoice, payment: Payment, business: Business) -> bytes:
    """A payment's receipt: who paid what, when, against which invoice, and what remains due."""
    reference = invoice.number or "Draft"
    doc = _Document(f"Receipt for invoice {reference}", business)
    money = invoice.currency
    facts = [("Receipt for", reference), ("Payment date", payment.paid_on), ("Payment", payment.id[:8])]
    doc.heading("RECEIPT", facts, _bill_to(invoice), "")
    y = TABLE_TOP + 20
    doc.text(MARGIN, y, "Amount received", size=12, bold=True)
    doc.text(AMOUNT_RIGHT, y, format_money(payment.amount, money), size=16, bold=True, right=True)
    doc.rule(y - 10)
    rows = [("Payment id", payment.id), ("Received on", payment.paid_on),
            ("Bank transaction", payment.transaction_id),
            ("Invoice", f"{reference}, issued {invoice.issue_date}, due {invoice.due_date}"),
            ("Invoice total", format_money(invoice.total, money)),
            ("Balance due after this payment", format_money(balance_after(invoice, payment), money))]
    y -= 34
    for label, value in rows:
        doc.text(MARGIN, y, label)
        doc.text(AMOUNT_RIGHT, y, value, bold=True, right=True)
        y -= LINE + 5
    doc.text(MARGIN, y - 20, f"Thank you for your payment to {business.name}.", size=10)
    doc.footer(1, 1, f"Receipt for invoice {reference}")
    doc.canvas.showPage()
    return doc.finish()
