"""Re-export for the recurring and batch engine modules until they import ``invoicing.schemas``."""

from invoicing.domain.invoices import MAX_LINES
from invoicing.schemas.invoices import InvoiceRecurringConfig, LineItemRequest

__all__ = ["MAX_LINES", "InvoiceRecurringConfig", "LineItemRequest"]
