"""Stock locations (``LOCATION#<id>``) and the business's default location.

The default is recorded twice: ``default_location_id`` on the business item (what invoices and
adjustments read) and ``is_default`` on the location item (what the list shows). Both change in
one transaction, conditional on the default the writer read, so two concurrent "make me the
default" requests cannot leave two locations marked default, and two concurrent first locations
cannot both become it (a location that is not the default needs no condition).
"""

from __future__ import annotations

from invoicing.domain.models import Location
from invoicing.errors import Conflict, NotFound
from invoicing.storage import auth, keys, transactions
from invoicing.storage.paging import PageRequest, Partition, QueryPage, query_page
from invoicing.storage.retry import LostRace


def not_found(location_id: str) -> NotFound:
    return NotFound(f"Location {location_id} not found", code="location_not_found")


def item_of(location: Location) -> dict:
    return {keys.PK: keys.business(location.business_id), keys.SK: keys.location(location.id),
            **location.model_dump()}


class PreviousDefaultGone(LostRace):
    """The default location changed since it was read, and its item is gone: try again without
    unmarking it."""


def create(location: Location, *, unmark_previous: bool = True) -> Location:
    """Write a new location. It becomes the default if it asks to, or if the business has none yet;
    the previous default then stops being one (``unmark_previous``: its item is known to exist).
    Returns the location as stored; ``LostRace`` if the default changed since it was read."""
    business_pk = keys.business(location.business_id)
    previous = auth.get_business(location.business_id).default_location_id
    stored = location.model_copy(update={"is_default": location.is_default or previous is None})
    actions = [transactions.put(item_of(stored))]
    if stored.is_default:
        same_default = ("default_location_id = :previous" if previous
                        else "attribute_not_exists(default_location_id)")
        actions.append(transactions.update(
            business_pk, keys.BUSINESS_SK, "SET default_location_id = :new",
            condition=f"attribute_exists(PK) AND {same_default}",
            values={":new": stored.id, **({":previous": previous} if previous else {})},
        ))
        if previous and unmark_previous:
            actions.append(transactions.update(
                business_pk, keys.location(previous), "SET is_default = :false",
                condition="attribute_exists(PK)", values={":false": False},
            ))
    try:
        transactions.transact(actions)
    except transactions.Cancelled as cancelled:
        if cancelled.failed(0):
            raise Conflict(f"Location {location.id} already exists", code="location_exists") from None
        if cancelled.failed(2) and not cancelled.failed(1):
            raise PreviousDefaultGone("The previous default location is gone") from None
        raise LostRace("The default location changed since it was read") from None
    return stored


def list_page(business_id: str, request: PageRequest) -> tuple[QueryPage, list[Location]]:
    page = query_page(Partition.of(business_id, keys.LOCATION), request)
    return page, [Location.model_validate(item) for item in page.items]
