"""Request bodies of the customers endpoints."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from invoicing.schemas.types import RequestBody

CustomerName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                         Field(description="Customer's name", examples=["Jane Doe"])]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                      # one @, something on each side, a dot in the domain, no spaces
                      pattern=r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"),
    Field(description="Billing email address", examples=["jane@example.com"]),
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
                  Field(examples=["+1 555 0100"])]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
                    Field(examples=["1 Main St, Springfield"])]


class CustomerCreate(RequestBody):
    name: CustomerName
    email: Email
    phone: Phone | None = None
    address: Address | None = None


class CustomerUpdate(RequestBody):
    """Only the fields sent change. ``phone``/``address`` may be null to clear them; ``name`` and
    ``email`` may be left out but not cleared."""

    # Typed without None on purpose: an explicit null is a 422, leaving the field out keeps it.
    name: CustomerName = None  # type: ignore[assignment]
    email: Email = None  # type: ignore[assignment]
    phone: Phone | None = None
    address: Address | None = None

