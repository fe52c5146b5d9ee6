"""The catalog, locations and stock through the emulated API Gateway."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import Api, Tenant, errors_at, make_tenant

from devstack import runtime, template

PRODUCTS = "/api/v1/inventory/products"
VARIANTS = "/api/v1/inventory/products/variants"
LOCATIONS = "/api/v1/inventory/locations"
LEVELS = "/api/v1/inventory/levels"
ADJUSTMENTS = "/api/v1/inventory/adjustments"
MISSING = "0195f1a0-0000-7000-8000-00000000dead"


def created(reply: Any) -> dict[str, Any]:
    assert reply.status == 201, reply.body
    return reply.json()["data"]


def product(api: Api, as_tenant: Tenant | None = None, name: str = "Coffee") -> dict[str, Any]:
    return created(api.post(PRODUCTS, {"name": name}, as_tenant=as_tenant))


def variant(api: Api, product_id: str, sku: str, as_tenant: Tenant | None = None, unit_price: int = 2400,
            name: str = "1 kg") -> dict[str, Any]:
    return created(api.post(VARIANTS, {"product_id": product_id, "name": name, "sku": sku, "unit_price": unit_price},
                            as_tenant=as_tenant))


def location(api: Api, code: str, is_default: bool = False, as_tenant: Tenant | None = None) -> dict[str, Any]:
    return created(api.post(LOCATIONS, {"name": f"Warehouse {code}", "code": code, "is_default": is_default},
                            as_tenant=as_tenant))


def adjust(api: Api, variant_id: str, change: int, location_id: str | None = None,
           as_tenant: Tenant | None = None) -> Any:
    body: dict[str, Any] = {"variant_id": variant_id, "quantity_change": change, "reason": "Count"}
    if location_id:
        body["location_id"] = location_id
    return api.post(ADJUSTMENTS, body, as_tenant=as_tenant)


def items(reply: Any) -> list[dict[str, Any]]:
    assert reply.status == 200, reply.body
    return list(reply.json()["data"]["items"])



def levels(api: Api, query: str = "") -> dict[tuple[str, str], int]:
    return {(level["variant_id"], level["location_id"]): level["quantity"] for level in items(api.get(LEVELS,
                                                                                                     query=query))}


def viewer_of(tenant: Tenant) -> Tenant:
    from invoicing.storage import auth

    user_id = auth.create_user("viewer@example.com")
    auth.add_member(tenant.business_id, user_id, "viewer")
    return Tenant(tenant.business_id, auth.create_token(user_id)["token"], user_id, tenant.currency, tenant.timezone)


# ---------------------------------------------------------------- products

def test_create_and_list_products(api: Api) -> None:
    # When
    reply = api.post(PRODUCTS, {"name": "Coffee", "description": "Beans"})
    # Then
    assert reply.status == 201
    assert (reply.json()["code"], reply.json()["message"]) == ("product.created", "Product created")
    made = reply.json()["data"]
    assert (made["name"], made["description"], made["business_id"]) == ("Coffee", "Beans", api.tenant.business_id)
    listed = api.get(PRODUCTS)
    assert listed.json()["code"] == "product.list"
    assert items(listed) == [made]


def test_products_page_both_ways(api: Api) -> None:
    # Given
    made = [product(api, name=f"P{i}")["id"] for i in range(3)]
    # When
    first = api.get(PRODUCTS, query="limit=2&descending=false").json()["data"]
    second = api.get(PRODUCTS, query=f"limit=2&descending=false&cursor={first['next_cursor']}").json()["data"]
    back = api.get(PRODUCTS, query=f"limit=2&descending=false&direction=prev&cursor={second['prev_cursor']}"
                   ).json()["data"]
    # Then
    assert [p["id"] for p in first["items"]] == made[:2] and first["has_next"]
    assert [p["id"] for p in second["items"]] == made[2:] and not second["has_next"]
    assert [p["id"] for p in back["items"]] == made[:2] and not back["has_prev"]


def test_a_product_needs_a_name(api: Api) -> None:
    # When
    errors = errors_at(api.post(PRODUCTS, {"description": "no name"}))
    # Then
    assert errors[("body", "name")]["type"] == "missing"


def test_products_of_another_business_are_not_listed(api: Api) -> None:
    # Given
    product(api, as_tenant=make_tenant(name="Other Co"))
    # When / Then
    assert items(api.get(PRODUCTS)) == []


# ---------------------------------------------------------------- variants

def test_create_a_variant_of_a_product(api: Api) -> None:
    # Given
    coffee = product(api)
    # When
    reply = api.post(VARIANTS, {"product_id": coffee["id"], "name": "Whole bean 1 kg", "sku": " COF-1KG ",
                                "unit_price": 2400})
    # Then
    made = created(reply)
    assert reply.json()["code"] == "variant.created"
    assert (made["product_id"], made["sku"], made["unit_price"]) == (coffee["id"], "COF-1KG", 2400)
    assert items(api.get(VARIANTS)) == [made]


@pytest.mark.parametrize("sku", ["COF-1KG", "cof-1kg", "  Cof-1Kg  "])
def test_a_sku_already_used_in_the_business_is_a_409(api: Api, sku: str) -> None:
    # Given
    coffee = product(api)
    first = variant(api, coffee["id"], "COF-1KG")
    # When
    reply = api.post(VARIANTS, {"product_id": coffee["id"], "name": "Other", "sku": sku, "unit_price": 1})
    # Then
    assert reply.status == 409
    assert reply.json()["code"] == "sku_taken" and "already used" in reply.json()["detail"]
    assert items(api.get(VARIANTS)) == [first]  # nothing was written


def test_the_same_sku_in_another_business_is_fine(api: Api) -> None:
    # Given
    other = make_tenant(name="Other Co")
    variant(api, product(api, as_tenant=other)["id"], "COF-1KG", as_tenant=other)
    # When / Then
    assert variant(api, product(api)["id"], "COF-1KG")["sku"] == "COF-1KG"


def test_a_variant_of_an_unknown_or_foreign_product_is_a_404(api: Api) -> None:
    # Given
    theirs = product(api, as_tenant=make_tenant(name="Other Co"))
    body = {"name": "1 kg", "sku": "X-1", "unit_price": 100}
    # When
    missing = api.post(VARIANTS, {"product_id": MISSING, **body})
    foreign = api.post(VARIANTS, {"product_id": theirs["id"], **body})
    # Then
    assert missing.status == foreign.status == 404
    assert missing.json() == {"detail": f"Product {MISSING} not found", "code": "product_not_found"}
    assert foreign.json()["detail"] == f"Product {theirs['id']} not found"
    # and the SKU was not claimed by the failed attempts
    assert variant(api, product(api)["id"], "X-1")["sku"] == "X-1"


@pytest.mark.parametrize("field, bad, error_type", [
    ("unit_price", -1, "greater_than_equal"),
    ("unit_price", 12.5, "int_from_float"),
    ("unit_price", "12", "int_type"),
    ("unit_price", True, "int_type"),
    ("sku", "two words", "string_pattern_mismatch"),
    ("sku", "", "string_too_short"),
    ("product_id", "not-a-uuid", "string_pattern_mismatch"),
])
def test_variant_fields_are_validated(api: Api, field: str, bad: Any, error_type: str) -> None:
    # Given
    body = {"product_id": product(api)["id"], "name": "1 kg", "sku": "A-1", "unit_price": 100, field: bad}
    # When
    error = errors_at(api.post(VARIANTS, body))[("body", field)]
    # Then
    assert error["type"] == error_type
    assert error["input"] == bad


def test_an_integral_float_price_is_accepted_as_cents(api: Api) -> None:
    # When
    made = created(api.post(VARIANTS, {"product_id": product(api)["id"], "name": "1 kg", "sku": "A-1",
                                       "unit_price": 126.0}))
    # Then
    assert made["unit_price"] == 126 and isinstance(made["unit_price"], int)


def test_variants_can_be_listed_by_product(api: Api) -> None:
    # Given
    coffee, tea = product(api, name="Coffee"), product(api, name="Tea")
    c1, c2 = variant(api, coffee["id"], "C-1"), variant(api, coffee["id"], "C-2")
    t1 = variant(api, tea["id"], "T-1")
    # When
    of_coffee = items(api.get(VARIANTS, query=f"product_id={coffee['id']}&descending=false"))
    of_tea = items(api.get(VARIANTS, query=f"product_id={tea['id']}"))
    everything = items(api.get(VARIANTS, query="include_total_count=true"))
    # Then
    assert [v["id"] for v in of_coffee] == [c1["id"], c2["id"]]
    assert [v["id"] for v in of_tea] == [t1["id"]]
    assert {v["id"] for v in everything} == {c1["id"], c2["id"], t1["id"]}


def test_variants_by_product_page_with_cursors(api: Api) -> None:
    # Given
    coffee = product(api)
    made = [variant(api, coffee["id"], f"C-{i}")["id"] for i in range(3)]
    # When
    first = api.get(VARIANTS, query=f"product_id={coffee['id']}&limit=2").json()["data"]
    second = api.get(VARIANTS, query=f"product_id={coffee['id']}&limit=2&cursor={first['next_cursor']}").json()["data"]
    # Then
    assert [v["id"] for v in first["items"]] == made[::-1][:2]
    assert [v["id"] for v in second["items"]] == made[::-1][2:]
    # and that cursor belongs to that product's list only
    assert api.get(VARIANTS, query=f"cursor={first['next_cursor']}").status == 400


def test_listing_variants_of_an_unknown_or_foreign_product_is_a_404(api: Api) -> None:
    # Given
    theirs = product(api, as_tenant=make_tenant(name="Other Co"))
    # When / Then
    for product_id in (MISSING, theirs["id"]):
        reply = api.get(VARIANTS, query=f"product_id={product_id}")
        assert reply.status == 404 and reply.json()["code"] == "product_not_found"
    assert errors_at(api.get(VARIANTS, query="product_id=nope"))[("query", "product_id")]


# ---------------------------------------------------------------- locations

def test_the_first_location_becomes_the_default(api: Api) -> None:
    # When
    first = location(api, "MAIN", is_default=False)
    # Then
    from invoicing.storage import auth

    assert first["is_default"] is True
    assert auth.get_business(api.tenant.business_id).default_location_id == first["id"]


def test_a_new_default_location_takes_over_from_the_previous_one(api: Api) -> None:
    # Given
    main = location(api, "MAIN")
    store = location(api, "STORE")
    # When
    depot = location(api, "DEPOT", is_default=True)
    # Then
    from invoicing.storage import auth

    assert (store["is_default"], depot["is_default"]) == (False, True)
    assert auth.get_business(api.tenant.business_id).default_location_id == depot["id"]
    listed = {loc["code"]: loc["is_default"] for loc in items(api.get(LOCATIONS))}
    assert listed == {"MAIN": False, "STORE": False, "DEPOT": True}
    assert main["is_default"] is True  # it was, until DEPOT took over


def test_a_default_changed_concurrently_is_read_again(api: Api, monkeypatch: Any) -> None:
    # Given a first read of the business from before another location became the default
    from invoicing.storage import auth, locations

    real_get = auth.get_business
    stale = real_get(api.tenant.business_id)  # no default yet
    main = location(api, "MAIN")
    reads: list[str] = []

    def stale_once(business_id: str) -> Any:
        reads.append(business_id)
        return stale if len(reads) == 1 else real_get(business_id)

    monkeypatch.setattr(locations.auth, "get_business", stale_once)
    # When
    store = location(api, "STORE")
    # Then the write conditional on "no default yet" failed, and the retry saw MAIN as the default
    monkeypatch.undo()
    assert len(reads) == 2
    assert store["is_default"] is False
    assert auth.get_business(api.tenant.business_id).default_location_id == main["id"]
    assert {loc["code"]: loc["is_default"] for loc in items(api.get(LOCATIONS))} == {"MAIN": True, "STORE": False}


def test_a_default_pointing_at_a_missing_location_is_replaced(api: Api) -> None:
    # Given a business whose recorded default location has no item (e.g. written by hand)
    from invoicing.storage import auth
    from invoicing.storage.table import client, key, table_name

    client().update_item(TableName=table_name(), Key=key(f"BIZ#{api.tenant.business_id}", "BUSINESS"),
                         UpdateExpression="SET default_location_id = :gone",
                         ExpressionAttributeValues={":gone": {"S": MISSING}})
    # When
    main = location(api, "MAIN", is_default=True)
    # Then
    assert main["is_default"] is True
    assert auth.get_business(api.tenant.business_id).default_location_id == main["id"]
    assert [loc["code"] for loc in items(api.get(LOCATIONS))] == ["MAIN"]  # no stub item for the missing one


def test_locations_are_validated_and_listed_per_business(api: Api) -> None:
    # Given
    location(api, "THEIRS", as_tenant=make_tenant(name="Other Co"))
    mine = location(api, "MINE")
    # When
    errors = errors_at(api.post(LOCATIONS, {"name": "", "is_default": "sometimes"}))
    # Then
    assert errors[("body", "name")]["type"] == "string_too_short"
    assert errors[("body", "code")]["type"] == "missing"
    assert errors[("body", "is_default")]["type"] == "bool_parsing"
    listed = api.get(LOCATIONS)
    assert listed.json()["code"] == "location.list"
    assert items(listed) == [mine]


# ---------------------------------------------------------------- stock

@pytest.fixture
def stocked(api: Api) -> dict[str, str]:
    """A variant, a default location and a second location, with nothing on hand."""
    coffee = product(api)
    return {"variant": variant(api, coffee["id"], "C-1")["id"],
            "other_variant": variant(api, coffee["id"], "C-2")["id"],
            "main": location(api, "MAIN", is_default=True)["id"], "store": location(api, "STORE")["id"]}


def test_an_adjustment_adds_stock_at_the_default_location(api: Api, stocked: dict[str, str]) -> None:
    # When
    reply = adjust(api, stocked["variant"], 10)
    # Then
    made = created(reply)
    assert (reply.json()["code"], reply.json()["message"]) == ("stock.adjusted", "Stock adjusted")
    assert (made["location_id"], made["quantity_change"], made["quantity_after"], made["reason"]) == (
        stocked["main"], 10, 10, "Count")
    assert levels(api) == {(stocked["variant"], stocked["main"]): 10}


def test_adjustments_accumulate_and_report_the_quantity_after(api: Api, stocked: dict[str, str]) -> None:
    # When
    afters = [created(adjust(api, stocked["variant"], change, stocked["store"]))["quantity_after"]
              for change in (5, 7, -4, -8)]
    # Then
    assert afters == [5, 12, 8, 0]
    assert levels(api) == {(stocked["variant"], stocked["store"]): 0}


def test_removing_more_than_is_on_hand_is_a_409_saying_how_many_are(api: Api, stocked: dict[str, str]) -> None:
    # Given
    created(adjust(api, stocked["variant"], 3))
    # When
    reply = adjust(api, stocked["variant"], -5)
    # Then
    assert reply.status == 409
    assert reply.json()["code"] == "insufficient_stock"
    assert "3 on hand" in reply.json()["detail"]
    assert levels(api) == {(stocked["variant"], stocked["main"]): 3}  # unchanged


def test_removing_stock_that_was_never_there_is_a_409(api: Api, stocked: dict[str, str]) -> None:
    # When
    reply = adjust(api, stocked["variant"], -1, stocked["store"])
    # Then
    assert reply.status == 409 and "0 on hand" in reply.json()["detail"]
    assert levels(api) == {}


def test_without_a_default_location_an_adjustment_needs_a_location(api: Api) -> None:
    # Given a variant but no location at all
    variant_id = variant(api, product(api)["id"], "C-1")["id"]
    # When
    reply = adjust(api, variant_id, 1)
    # Then
    assert reply.status == 400
    assert reply.json()["code"] == "no_default_location"
    assert "location" in reply.json()["detail"]


@pytest.mark.parametrize("body, loc, error_type", [
    ({"quantity_change": 0}, ("body", "quantity_change"), "value_error"),
    ({"quantity_change": 1.5}, ("body", "quantity_change"), "int_from_float"),
    ({"quantity_change": None}, ("body", "quantity_change"), "int_type"),
    ({"reason": "  "}, ("body", "reason"), "string_too_short"),
    ({"variant_id": "v1"}, ("body", "variant_id"), "string_pattern_mismatch"),
    ({"location_id": "main"}, ("body", "location_id"), "string_pattern_mismatch"),
])
def test_adjustments_are_validated(api: Api, stocked: dict[str, str], body: dict[str, Any], loc: tuple[str, ...],
                                   error_type: str) -> None:
    # When
    reply = api.post(ADJUSTMENTS, {"variant_id": stocked["variant"], "quantity_change": 1, "reason": "Count", **body})
    # Then
    assert errors_at(reply)[loc]["type"] == error_type
    assert levels(api) == {}


def test_a_zero_change_is_a_422_that_says_why(api: Api, stocked: dict[str, str]) -> None:
    # When
    error = errors_at(adjust(api, stocked["variant"], 0))[("body", "quantity_change")]
    # Then
    assert error["input"] == 0
    assert "must not be 0" in error["msg"] and "must not be 0" in error["ctx"]["error"]


def test_a_reason_is_required(api: Api, stocked: dict[str, str]) -> None:
    # When
    reply = api.post(ADJUSTMENTS, {"variant_id": stocked["variant"], "quantity_change": 1})
    # Then
    assert errors_at(reply)[("body", "reason")]["type"] == "missing"


def test_unknown_or_foreign_variants_and_locations_are_404(api: Api, stocked: dict[str, str]) -> None:
    # Given another business's variant and location
    other = make_tenant(name="Other Co")
    their_variant = variant(api, product(api, as_tenant=other)["id"], "C-1", as_tenant=other)["id"]
    their_location = location(api, "MAIN", as_tenant=other)["id"]
    # When
    replies = {
        "missing variant": adjust(api, MISSING, 1),
        "foreign variant": adjust(api, their_variant, 1),
        "missing location": adjust(api, stocked["variant"], 1, MISSING),
        "foreign location": adjust(api, stocked["variant"], 1, their_location),
    }
    # Then
    codes = {name: (r.status, r.json()["code"]) for name, r in replies.items()}
    assert codes == {
        "missing variant": (404, "variant_not_found"), "foreign variant": (404, "variant_not_found"),
        "missing location": (404, "location_not_found"), "foreign location": (404, "location_not_found"),
    }
    assert replies["foreign variant"].json()["detail"] == replies["missing variant"].json()["detail"].replace(
        MISSING, their_variant)
    assert levels(api) == {}
    assert items(api.get(LEVELS, as_tenant=other)) == []


def test_levels_filter_by_variant_location_or_both(api: Api, stocked: dict[str, str]) -> None:
    # Given stock of two variants at two locations
    v1, v2, main, store = stocked["variant"], stocked["other_variant"], stocked["main"], stocked["store"]
    for variant_id, location_id, quantity in ((v1, main, 10), (v1, store, 2), (v2, main, 5), (v2, store, 1)):
        created(adjust(api, variant_id, quantity, location_id))
    # When / Then
    assert levels(api) == {(v1, main): 10, (v1, store): 2, (v2, main): 5, (v2, store): 1}
    assert levels(api, f"variant_id={v1}") == {(v1, main): 10, (v1, store): 2}
    assert levels(api, f"location_id={store}") == {(v1, store): 2, (v2, store): 1}
    assert levels(api, f"variant_id={v2}&location_id={main}") == {(v2, main): 5}
    reply = api.get(LEVELS, query=f"variant_id={v2}&location_id={main}")
    assert reply.json()["code"] == "stock_level.list"
    level = items(reply)[0]
    assert set(level) == {"variant_id", "location_id", "quantity", "updated_at"}


def test_levels_at_a_location_page_with_cursors(api: Api, stocked: dict[str, str]) -> None:
    # Given
    coffee = product(api, name="More")
    variants = [variant(api, coffee["id"], f"M-{i}")["id"] for i in range(3)]
    for variant_id in variants:
        created(adjust(api, variant_id, 1, stocked["store"]))
    # When
    first = api.get(LEVELS, query=f"location_id={stocked['store']}&limit=2&include_total_count=true").json()["data"]
    second = api.get(LEVELS, query=f"location_id={stocked['store']}&limit=2&cursor={first['next_cursor']}"
                     ).json()["data"]
    # Then
    seen = [level["variant_id"] for level in first["items"] + second["items"]]
    assert sorted(seen) == sorted(variants) and len(set(seen)) == 3
    assert (first["total"], first["has_next"], second["has_next"], second["has_prev"]) == (3, True, False, True)


def test_levels_of_unknown_or_foreign_filters_are_404(api: Api, stocked: dict[str, str]) -> None:
    # Given
    other = make_tenant(name="Other Co")
    their_location = location(api, "MAIN", as_tenant=other)["id"]
    # When / Then
    assert api.get(LEVELS, query=f"variant_id={MISSING}").json()["code"] == "variant_not_found"
    assert api.get(LEVELS, query=f"location_id={their_location}").status == 404
    assert api.get(LEVELS, query=f"variant_id={stocked['variant']}&location_id={MISSING}").status == 404
    assert errors_at(api.get(LEVELS, query="variant_id=nope"))[("query", "variant_id")]["type"] == (
        "string_pattern_mismatch")


def test_a_lost_race_reads_the_level_again_and_records_the_true_quantity_after(api: Api, stocked: dict[str, str],
                                                                               monkeypatch: Any) -> None:
    # Given a first read that is already stale when the write happens
    from invoicing.storage import stock

    created(adjust(api, stocked["variant"], 10))
    real = stock.get_quantity
    reads: list[int | None] = []

    def stale_once(*args: Any) -> int | None:
        value = real(*args)
        reads.append(value)
        return 4 if len(reads) == 1 else value  # somebody else changed 4 -> 10 after this read

    monkeypatch.setattr(stock, "get_quantity", stale_once)
    # When
    reply = adjust(api, stocked["variant"], -3)
    # Then the conditional write failed once, was retried, and the result is exact
    assert created(reply)["quantity_after"] == 7
    assert len(reads) == 2
    assert levels(api) == {(stocked["variant"], stocked["main"]): 7}


# ---------------------------------------------------------------- roles

def test_a_viewer_can_read_the_inventory_but_not_change_it(api: Api, stocked: dict[str, str]) -> None:
    # Given
    viewer = viewer_of(api.tenant)
    created(adjust(api, stocked["variant"], 2))
    # When
    writes = [
        api.post(PRODUCTS, {"name": "Tea"}, as_tenant=viewer),
        api.post(VARIANTS, {"product_id": MISSING, "name": "x", "sku": "Z-1", "unit_price": 1}, as_tenant=viewer),
        api.post(LOCATIONS, {"name": "Shop", "code": "SHOP"}, as_tenant=viewer),
        adjust(api, stocked["variant"], 5, as_tenant=viewer),
    ]
    reads = [api.get(path, as_tenant=viewer) for path in (PRODUCTS, VARIANTS, LOCATIONS, LEVELS)]
    # Then
    assert [r.status for r in writes] == [403, 403, 403, 403]
    assert all(r.json() == {"detail": "Not enough permissions", "code": "forbidden"} for r in writes)
    assert [r.status for r in reads] == [200, 200, 200, 200]
    assert len(items(api.get(PRODUCTS))) == 1 and len(items(api.get(LOCATIONS))) == 2
    assert levels(api) == {(stocked["variant"], stocked["main"]): 2}


# ---------------------------------------------------------------- sample events

def test_the_sample_events_work_against_the_demo_data(aws: None) -> None:
    # Given the records the sample events name (the local stack's seed creates them)
    from invoicing.storage import auth, inventory

    business = "0195f1a0-0000-7000-8000-000000000001"
    auth.create_business("Demo", "USD", business_id=business)
    inventory.put_product(business, "0195f1a0-0000-7000-8000-0000000000d1", name="Coffee")
    inventory.put_variant(business, "0195f1a0-0000-7000-8000-0000000000e1",
                          product_id="0195f1a0-0000-7000-8000-0000000000d1", name="1 kg", sku="C-1", unit_price=1)
    inventory.put_location(business, "0195f1a0-0000-7000-8000-0000000000f1", name="Main", code="MAIN")
    events = {name: json.loads((template.ROOT / "events" / name).read_text())
              for name in ("inventory-create-product.json", "inventory-list-levels.json")}
    # When
    made = runtime.invoke("InventoryFunction", events["inventory-create-product.json"])
    listed = runtime.invoke("InventoryFunction", events["inventory-list-levels.json"])
    # Then
    assert made["statusCode"] == 201, made["body"]
    assert listed["statusCode"] == 200, listed["body"]
    assert json.loads(listed["body"])["data"]["items"] == []  # nothing stocked yet


def test_a_product_and_a_variant_are_read_by_id(api: Api) -> None:
    coffee, tea = product(api), product(api, name="Tea")
    made = [variant(api, coffee["id"], f"C-{n}", name=f"{n} kg") for n in (1, 2)]
    variant(api, tea["id"], "T-1")
    reply = api.get(f"{PRODUCTS}/{coffee['id']}")
    assert reply.status == 200, reply.body
    assert reply.json()["data"] == {**coffee, "variant_count": 2, "variants": None}
    with_variants = api.get(f"{PRODUCTS}/{coffee['id']}", query="include_variants=true").json()["data"]
    assert with_variants["variants"] == made  # oldest first, only this product's
    got = api.get(f"{VARIANTS}/{made[1]['id']}")
    assert (got.status, got.json()["data"]) == (200, made[1])
    # the literal route still lists (API Gateway and the local front prefer a literal segment)
    assert api.get(VARIANTS).status == 200


def test_a_missing_or_foreign_product_or_variant_is_404(api: Api) -> None:
    other = make_tenant(name="Other")
    theirs = product(api, as_tenant=other)
    their_variant = variant(api, theirs["id"], "X-1", as_tenant=other)
    for path, code in ((f"{PRODUCTS}/{MISSING}", "product_not_found"),
                       (f"{PRODUCTS}/{theirs['id']}", "product_not_found"),
                       (f"{VARIANTS}/{MISSING}", "variant_not_found"),
                       (f"{VARIANTS}/{their_variant['id']}", "variant_not_found")):
        reply = api.get(path)
        assert (reply.status, reply.json()["code"]) == (404, code), (path, reply.body)
    assert ("path", "product_id") in errors_at(api.get(f"{PRODUCTS}/not-a-uuid"))
