"""storage.lookup: a business and the customers, products, variants and locations a request names,
read in one BatchGetItem (per 100 keys), with unprocessed keys retried."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from helpers import Api, make_tenant

from invoicing.domain.models import Product
from invoicing.errors import NotFound
from invoicing.storage import lookup
from invoicing.storage.table import client

MISSING = "0195f1a0-0000-7000-8000-00000000dead"


def require_product(found: lookup.Lookup, product_id: str) -> Product:
    """What the other ``require_*`` accessors do, for products (only this test needs it)."""
    product = found.product(product_id)
    if product is None:
        raise NotFound(f"Product {product_id} not found", code="product_not_found")
    return product


@pytest.fixture
def calls(monkeypatch: Any) -> list[int]:
    """Spy on BatchGetItem: the number of keys of each call."""
    seen: list[int] = []
    dynamodb = client()
    real = dynamodb.batch_get_item

    def spy(**kwargs: Any) -> Any:
        seen.append(sum(len(table["Keys"]) for table in kwargs["RequestItems"].values()))
        return real(**kwargs)

    monkeypatch.setattr(dynamodb, "batch_get_item", spy)
    return seen


def post(api: Api, path: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    reply = api.post(path, body, **kw)
    assert reply.status == 201, reply.body
    return reply.json()["data"]


@pytest.fixture
def records(api: Api) -> dict[str, Any]:
    """A customer, a product with a variant, and a location of the api's business."""
    customer = post(api, "/api/v1/customers", {"name": "Northwind", "email": "ap@northwind.example.com"})
    product = post(api, "/api/v1/inventory/products", {"name": "Coffee"})
    variant = post(api, "/api/v1/inventory/products/variants",
                   {"product_id": product["id"], "name": "1 kg", "sku": "C-1", "unit_price": 2400})
    location = post(api, "/api/v1/inventory/locations", {"name": "Main", "code": "MAIN"})
    return {"customer": customer, "product": product, "variant": variant, "location": location}


def test_everything_is_read_in_one_batch_get(api: Api, records: dict[str, Any], calls: list[int]) -> None:
    # When
    found = lookup.fetch(api.tenant.business_id, customers=[records["customer"]["id"]],
                         variants=[records["variant"]["id"]], locations=[records["location"]["id"]],
                         products=[records["product"]["id"]])
    # Then
    assert calls == [5]  # business + 4
    assert found.business.id == api.tenant.business_id
    assert found.business.default_location_id == records["location"]["id"]
    assert found.customer(records["customer"]["id"]).model_dump() == records["customer"]
    assert found.product(records["product"]["id"]).model_dump() == records["product"]
    assert found.variant(records["variant"]["id"]).model_dump() == records["variant"]
    assert found.location(records["location"]["id"]).model_dump() == records["location"]


def test_missing_and_foreign_ids_are_not_found_alike(api: Api, records: dict[str, Any]) -> None:
    # Given another business's records
    other = make_tenant(name="Other Co")
    theirs = post(api, "/api/v1/customers", {"name": "Theirs", "email": "t@other.example.com"}, as_tenant=other)
    their_location = post(api, "/api/v1/inventory/locations", {"name": "Main", "code": "MAIN"}, as_tenant=other)
    # When
    found = lookup.fetch(api.tenant.business_id, customers=[theirs["id"], MISSING],
                         locations=[their_location["id"]], variants=[MISSING])
    # Then
    assert found.customer(theirs["id"]) is None and found.customer(MISSING) is None
    assert found.location(their_location["id"]) is None
    assert found.variant(MISSING) is None
    assert found.customer(records["customer"]["id"]) is None  # not asked for
    with pytest.raises(NotFound) as missing:
        found.require_customer(MISSING)
    with pytest.raises(NotFound) as foreign:
        found.require_customer(theirs["id"])
    assert missing.value.code == foreign.value.code == "customer_not_found"
    assert str(foreign.value) == str(missing.value).replace(MISSING, theirs["id"])


def test_a_soft_deleted_customer_is_not_found(api: Api, records: dict[str, Any]) -> None:
    # Given
    customer_id = records["customer"]["id"]
    assert api.delete(f"/api/v1/customers/{customer_id}").status == 204
    # When
    found = lookup.fetch(api.tenant.business_id, customers=[customer_id])
    # Then
    assert found.customer(customer_id) is None
    with pytest.raises(NotFound):
        found.require_customer(customer_id)


def test_require_accessors_return_what_exists(api: Api, records: dict[str, Any]) -> None:
    # When
    found = lookup.fetch(api.tenant.business_id, customers=[records["customer"]["id"]],
                         variants=[records["variant"]["id"]], locations=[records["location"]["id"]],
                         products=[records["product"]["id"]])
    # Then
    assert found.require_customer(records["customer"]["id"]).name == "Northwind"
    assert found.require_variant(records["variant"]["id"]).unit_price == 2400
    assert found.require_location(records["location"]["id"]).code == "MAIN"
    assert require_product(found, records["product"]["id"]).name == "Coffee"
    for require in (found.require_variant, found.require_location, partial(require_product, found)):
        with pytest.raises(NotFound):
            require(MISSING)


def test_ids_are_matched_case_insensitively_and_duplicates_read_once(api: Api, records: dict[str, Any],
                                                                     calls: list[int]) -> None:
    # Given
    customer_id = records["customer"]["id"]
    # When
    found = lookup.fetch(api.tenant.business_id, customers=[customer_id, customer_id.upper(), customer_id])
    # Then (DynamoDB rejects a BatchGetItem that names one key twice)
    assert calls == [2]
    assert found.customer(customer_id.upper()) is not None


def test_an_unknown_business_raises_not_found_when_asked_for(aws: None) -> None:
    # When
    found = lookup.fetch(MISSING, customers=[MISSING])
    # Then
    with pytest.raises(NotFound) as error:
        _ = found.business
    assert error.value.detail == "Business not found"
    assert found.customer(MISSING) is None


def test_more_than_100_keys_are_read_in_chunks_of_100(api: Api, calls: list[int]) -> None:
    # Given 150 customers (written directly: this is about the read)
    from invoicing.storage import customers

    made = [customers.put_customer(api.tenant.business_id, f"0195f1a0-0000-7000-8000-{i:012x}", name=f"C{i}",
                                   email=f"c{i}@example.com").id for i in range(150)]
    # When
    found = lookup.fetch(api.tenant.business_id, customers=made)
    # Then
    assert calls == [100, 51]
    assert all(found.customer(customer_id) is not None for customer_id in made)


def test_unprocessed_keys_are_retried_until_read(api: Api, records: dict[str, Any], monkeypatch: Any) -> None:
    # Given DynamoDB leaves all but the first key unprocessed on the first call (as under throttling)
    dynamodb = client()
    real = dynamodb.batch_get_item
    requests: list[int] = []

    def throttled_once(**kwargs: Any) -> Any:
        ((table, request),) = kwargs["RequestItems"].items()
        requests.append(len(request["Keys"]))
        if len(requests) > 1:
            return real(**kwargs)
        answered = real(RequestItems={table: {**request, "Keys": request["Keys"][:1]}})
        answered["UnprocessedKeys"] = {table: {**request, "Keys": request["Keys"][1:]}}
        return answered

    monkeypatch.setattr(dynamodb, "batch_get_item", throttled_once)
    monkeypatch.setattr(lookup.time, "sleep", lambda _: None)
    # When
    found = lookup.fetch(api.tenant.business_id, customers=[records["customer"]["id"]],
                         variants=[records["variant"]["id"]], locations=[records["location"]["id"]])
    # Then
    assert requests == [4, 3]
    assert found.business.id == api.tenant.business_id
    assert found.customer(records["customer"]["id"]) is not None
    assert found.variant(records["variant"]["id"]) is not None
    assert found.location(records["location"]["id"]) is not None


def test_keys_unprocessed_after_every_retry_raise(api: Api, monkeypatch: Any) -> None:
    # Given DynamoDB never processes anything
    dynamodb = client()
    pauses: list[float] = []
    monkeypatch.setattr(dynamodb, "batch_get_item",
                        lambda **kwargs: {"Responses": {}, "UnprocessedKeys": kwargs["RequestItems"]})
    monkeypatch.setattr(lookup.time, "sleep", pauses.append)
    # When / Then
    with pytest.raises(lookup.Throttled):
        lookup.fetch(api.tenant.business_id, customers=[MISSING])
    assert pauses == sorted(pauses) and pauses[-1] <= 1.0  # backing off, within a bound
