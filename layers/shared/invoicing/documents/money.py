"""Money as a customer reads it on a document: ``$1,234.56``, ``CA$1,234.56``, ``-€12.00``."""

from __future__ import annotations

# The symbols the service's currencies are printed with; the dollars other than the US one say
# whose they are, as invoices to international customers usually do.
SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "\u20ac", "GBP": "\u00a3"}


def format_money(cents: int, currency: str) -> str:
    """Integer cents as ``<sign><symbol><thousands-grouped units>.<two digits>``, exact (no float)."""
    symbol = SYMBOLS.get(currency)
    units, rest = divmod(abs(cents), 100)
    text = f"{units:,}.{rest:02d}"
    shown = f"{symbol}{text}" if symbol else f"{text} {currency}"
    return f"-{shown}" if cents < 0 else shown
