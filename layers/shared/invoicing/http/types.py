"""Re-export for ``http/recurring.py`` until the recurring engine imports ``invoicing.schemas.types``."""

from invoicing.schemas.types import Currency, DateString, Integer, RequestBody, Text, Uuid

__all__ = ["Currency", "DateString", "Integer", "RequestBody", "Text", "Uuid"]
