"""Customers through the emulated API Gateway: create, read, update, soft delete, list."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from helpers import Api, Tenant, errors_at, ids, make_tenant

from devstack import runtime, template

CUSTOMERS = "/api/v1/customers"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MISSING = "0195f1a0-0000-7000-8000-00000000dead"


def create(api: Api, as_tenant: Tenant | None = None, **fields: Any) -> dict[str, Any]:
    body = {"name": "Northwind Traders", "email": "billing@northwind.example.com", **fields}
    reply = api.post(CUSTOMERS, body, as_tenant=as_tenant)
    assert reply.status == 201, reply.body
    return reply.json()["data"]




# ---------------------------------------------------------------- create and read

def test_create_answers_201_with_the_envelope_and_the_customer(api: Api) -> None:
    # When
    reply = api.post(CUSTOMERS, {"name": "  Northwind Traders ", "email": "billing@northwind.example.com",
                                 "phone": "+1 555 0100", "address": "1 Main St"})
    # Then
    assert reply.status == 201, reply.body
    body = reply.json()
    assert (body["success"], body["code"], body["message"]) == (True, "customer.created", "Customer created")
    customer = body["data"]
    assert UUID.match(customer["id"])
    assert customer["business_id"] == api.tenant.business_id
    assert customer["name"] == "Northwind Traders"  # trimmed
    assert (customer["email"], customer["phone"], customer["address"]) == (
        "billing@northwind.example.com", "+1 555 0100", "1 Main St")
    assert customer["created_at"].endswith("Z") and customer["created_at"] == customer["updated_at"]


def test_a_created_customer_can_be_read_back(api: Api) -> None:
    # Given
    created = create(api, phone="555")
    # When
    reply = api.get(f"{CUSTOMERS}/{created['id']}")
    # Then
    assert reply.status == 200
    assert reply.json()["code"] == "customer.retrieved"
    assert reply.json()["data"] == created


def test_name_and_email_are_required(api: Api) -> None:
    # When
    reply = api.post(CUSTOMERS, {})
    # Then
    errors = errors_at(reply)
    assert set(errors) == {("body", "name"), ("body", "email")}
    assert all(e["type"] == "missing" for e in errors.values())


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@c.de", "@example.com", "jane@", "jane@@x.com"])
def test_an_email_that_is_not_shaped_like_one_is_a_422(api: Api, email: str) -> None:
    # When
    reply = api.post(CUSTOMERS, {"name": "Jane", "email": email})
    # Then
    error = errors_at(reply)[("body", "email")]
    assert error["type"] == "string_pattern_mismatch"
    assert error["input"] == email
    assert "pattern" in error["ctx"]


@pytest.mark.parametrize("body, loc, error_type", [
    ({"name": "   ", "email": "a@b.co"}, ("body", "name"), "string_too_short"),
    ({"name": "x" * 201, "email": "a@b.co"}, ("body", "name"), "string_too_long"),
    ({"name": 42, "email": "a@b.co"}, ("body", "name"), "string_type"),
    ({"name": "Jane", "email": "a@b.co", "vip": True}, ("body", "vip"), "extra_forbidden"),
    ({"name": "Jane", "email": "a@b.co", "phone": "1" * 51}, ("body", "phone"), "string_too_long"),
])
def test_invalid_fields_are_422_at_their_location(api: Api, body: dict[str, Any], loc: tuple[str, ...],
                                                  error_type: str) -> None:
    # When
    reply = api.post(CUSTOMERS, body)
    # Then
    errors = errors_at(reply)
    assert errors[loc]["type"] == error_type


def test_malformed_json_is_a_422_at_the_body(api: Api) -> None:
    # When
    reply = api.request("POST", CUSTOMERS, raw='{"name": "Jane",', headers={**api.headers(),
                                                                          "Content-Type": "application/json"})
    # Then
    assert list(errors_at(reply)) == [("body",)]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_id_that_is_not_a_uuid_is_a_422_at_the_path(api: Api, method: str) -> None:
    # When
    reply = api.request(method, f"{CUSTOMERS}/not-a-uuid", json_body={"name": "x"} if method == "PUT" else None)
    # Then
    error = errors_at(reply)[("path", "customer_id")]
    assert error["type"] == "string_pattern_mismatch" and error["input"] == "not-a-uuid"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_unknown_customer_is_a_404(api: Api, method: str) -> None:
    # When
    reply = api.request(method, f"{CUSTOMERS}/{MISSING}", json_body={"name": "x"} if method == "PUT" else None)
    # Then
    assert reply.status == 404
    assert reply.json() == {"detail": f"Customer {MISSING} not found", "code": "customer_not_found"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_another_business_s_customer_answers_exactly_like_a_missing_one(api: Api, method: str) -> None:
    # Given a customer of another business
    other = make_tenant(name="Other Co")
    theirs = create(api, as_tenant=other)
    body = {"name": "Hijacked"} if method == "PUT" else None
    # When
    reply = api.request(method, f"{CUSTOMERS}/{theirs['id']}", json_body=body)
    missing = api.request(method, f"{CUSTOMERS}/{MISSING}", json_body=body)
    # Then
    assert reply.status == missing.status == 404
    assert reply.json() == {**missing.json(), "detail": missing.json()["detail"].replace(MISSING, theirs["id"])}
    # and their customer is untouched
    still = api.get(f"{CUSTOMERS}/{theirs['id']}", as_tenant=other)
    assert still.status == 200 and still.json()["data"] == theirs
    assert ids(api.get(CUSTOMERS)) == []


def test_ids_are_case_insensitive(api: Api) -> None:
    # Given
    created = create(api)
    # When
    reply = api.get(f"{CUSTOMERS}/{created['id'].upper()}")
    # Then
    assert reply.status == 200 and reply.json()["data"]["id"] == created["id"]


# ---------------------------------------------------------------- update

def test_update_changes_only_the_fields_sent(api: Api) -> None:
    # Given
    created = create(api, phone="555 0100", address="1 Main St")
    # When
    reply = api.put(f"{CUSTOMERS}/{created['id']}", {"email": "ap@northwind.example.com"})
    # Then
    assert reply.status == 200, reply.body
    assert reply.json()["code"] == "customer.updated"
    updated = reply.json()["data"]
    assert updated["email"] == "ap@northwind.example.com"
    assert (updated["name"], updated["phone"], updated["address"]) == ("Northwind Traders", "555 0100", "1 Main St")
    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] >= created["updated_at"]
    assert api.get(f"{CUSTOMERS}/{created['id']}").json()["data"] == updated


def test_update_with_null_clears_phone_and_address(api: Api) -> None:
    # Given
    created = create(api, phone="555 0100", address="1 Main St")
    # When
    reply = api.put(f"{CUSTOMERS}/{created['id']}", {"phone": None, "address": None})
    # Then
    assert reply.status == 200, reply.body
    assert (reply.json()["data"]["phone"], reply.json()["data"]["address"]) == (None, None)


@pytest.mark.parametrize("body, loc, error_type", [
    ({"name": None}, ("body", "name"), "string_type"),
    ({"email": None}, ("body", "email"), "string_type"),
    ({"email": "nope"}, ("body", "email"), "string_pattern_mismatch"),
    ({"id": "0195f1a0-0000-7000-8000-000000000099"}, ("body", "id"), "extra_forbidden"),
])
def test_update_validates_what_it_is_sent(api: Api, body: dict[str, Any], loc: tuple[str, ...],
                                          error_type: str) -> None:
    # Given
    created = create(api)
    # When
    reply = api.put(f"{CUSTOMERS}/{created['id']}", body)
    # Then
    assert errors_at(reply)[loc]["type"] == error_type
    assert api.get(f"{CUSTOMERS}/{created['id']}").json()["data"] == created


def test_concurrent_updates_never_lose_one(api: Api, monkeypatch: Any) -> None:
    # Given another request that changes the phone between this update's read and its write
    from invoicing.storage import customers as store

    created = create(api, phone="555 0100")
    real_read = store._read
    reads: list[int] = []

    def racing_read(business_id: str, customer_id: str) -> dict[str, Any] | None:
        item = real_read(business_id, customer_id)
        reads.append(1)
        if len(reads) == 1:
            monkeypatch.setattr(store, "_read", real_read)
            store.update(business_id, customer_id, {"phone": "999"}, "2030-01-01T00:00:00.000Z")
            monkeypatch.setattr(store, "_read", racing_read)
        return item

    monkeypatch.setattr(store, "_read", racing_read)
    # When
    reply = api.put(f"{CUSTOMERS}/{created['id']}", {"name": "Renamed"})
    # Then the update was retried on the fresh record: both changes are there
    assert reply.status == 200, reply.body
    assert (reply.json()["data"]["name"], reply.json()["data"]["phone"]) == ("Renamed", "999")
    assert len(reads) == 2
    assert api.get(f"{CUSTOMERS}/{created['id']}").json()["data"]["phone"] == "999"


# ---------------------------------------------------------------- soft delete

def test_delete_answers_204_without_a_body_and_the_customer_is_gone(api: Api) -> None:
    # Given
    kept, deleted = create(api, name="Kept"), create(api, name="Deleted")
    # When
    reply = api.delete(f"{CUSTOMERS}/{deleted['id']}")
    # Then
    assert reply.status == 204 and reply.body == ""
    assert api.get(f"{CUSTOMERS}/{deleted['id']}").status == 404
    assert api.put(f"{CUSTOMERS}/{deleted['id']}", {"name": "Back"}).status == 404
    assert api.delete(f"{CUSTOMERS}/{deleted['id']}").status == 404
    listed = api.get(CUSTOMERS, query="include_total_count=true")
    assert ids(listed) == [kept["id"]] and listed.json()["data"]["total"] == 1


def test_a_deleted_customer_stays_in_the_table_marked_deleted(api: Api) -> None:
    # Given
    created = create(api)
    # When
    api.delete(f"{CUSTOMERS}/{created['id']}")
    # Then the record is kept (invoices already written refer to it), flagged deleted
    from invoicing.storage.table import client, table_name

    item = client().get_item(TableName=table_name(),
                        Key={"PK": {"S": f"BIZ#{api.tenant.business_id}"}, "SK": {"S": f"CUSTOMER#{created['id']}"}})
    assert item["Item"]["deleted"] == {"BOOL": True}
    assert item["Item"]["name"] == {"S": created["name"]}


# ---------------------------------------------------------------- list

def test_list_pages_newest_first_in_both_directions(api: Api) -> None:
    # Given five customers, created in order
    made = [create(api, name=f"Customer {i}")["id"] for i in range(5)]
    newest_first = made[::-1]
    # When reading forwards two at a time
    first = api.get(CUSTOMERS, query="limit=2&include_total_count=true").json()["data"]
    second = api.get(CUSTOMERS, query=f"limit=2&cursor={first['next_cursor']}").json()["data"]
    third = api.get(CUSTOMERS, query=f"limit=2&cursor={second['next_cursor']}").json()["data"]
    # Then
    assert [c["id"] for c in first["items"]] == newest_first[0:2]
    assert [c["id"] for c in second["items"]] == newest_first[2:4]
    assert [c["id"] for c in third["items"]] == newest_first[4:5]
    assert (first["has_prev"], first["has_next"], first["prev_cursor"], first["total"]) == (False, True, None, 5)
    assert (second["has_prev"], second["has_next"], second["total"]) == (True, True, None)
    assert (third["has_next"], third["next_cursor"], third["has_prev"]) == (False, None, True)
    # When reading backwards from the last page
    back = api.get(CUSTOMERS, query=f"limit=2&cursor={third['prev_cursor']}&direction=prev").json()["data"]
    start = api.get(CUSTOMERS, query=f"limit=2&cursor={back['prev_cursor']}&direction=prev").json()["data"]
    # Then
    assert [c["id"] for c in back["items"]] == newest_first[2:4]
    assert [c["id"] for c in start["items"]] == newest_first[0:2]
    assert (start["has_prev"], start["prev_cursor"], start["has_next"]) == (False, None, True)


def test_list_oldest_first_when_not_descending(api: Api) -> None:
    # Given
    made = [create(api, name=f"Customer {i}")["id"] for i in range(3)]
    # When
    reply = api.get(CUSTOMERS, query="descending=false")
    # Then
    assert ids(reply) == made


def test_deleted_customers_never_shorten_a_page(api: Api) -> None:
    # Given six customers of which the middle four are deleted
    made = [create(api, name=f"Customer {i}")["id"] for i in range(6)]
    for customer_id in made[1:5]:
        assert api.delete(f"{CUSTOMERS}/{customer_id}").status == 204
    # When
    page = api.get(CUSTOMERS, query="limit=2&include_total_count=true").json()["data"]
    # Then the page is full and skips the deleted ones
    assert [c["id"] for c in page["items"]] == [made[5], made[0]]
    assert (page["has_next"], page["total"]) == (False, 2)


def test_search_matches_name_or_email_case_insensitively(api: Api) -> None:
    # Given
    north = create(api, name="Northwind Traders", email="billing@northwind.example.com")["id"]
    contoso = create(api, name="Contoso", email="ap@NORTH-ledger.example.com")["id"]
    create(api, name="Fabrikam", email="ap@fabrikam.example.com")
    # When
    reply = api.get(CUSTOMERS, query="search=NoRtH&include_total_count=true")
    # Then
    assert ids(reply) == [contoso, north]
    assert reply.json()["data"]["total"] == 2


def test_search_pages_are_full_even_when_matches_are_sparse(api: Api) -> None:
    # Given matches spread among many non-matching customers
    matches = []
    for i in range(9):
        created = create(api, name=f"Acme {i}" if i % 3 == 0 else f"Other {i}")
        if i % 3 == 0:
            matches.append(created["id"])
    # When
    first = api.get(CUSTOMERS, query="search=acme&limit=2").json()["data"]
    second = api.get(CUSTOMERS, query=f"search=acme&limit=2&cursor={first['next_cursor']}").json()["data"]
    # Then
    assert [c["id"] for c in first["items"]] == matches[::-1][0:2] and first["has_next"]
    assert [c["id"] for c in second["items"]] == matches[::-1][2:3] and not second["has_next"]


@pytest.mark.parametrize("query, loc, error_type", [
    ("limit=0", ("query", "limit"), "greater_than_equal"),
    ("limit=1001", ("query", "limit"), "less_than_equal"),
    ("limit=ten", ("query", "limit"), "int_parsing"),
    ("direction=up", ("query", "direction"), "literal_error"),
    ("descending=perhaps", ("query", "descending"), "bool_parsing"),
    ("sort_by=name", ("query", "sort_by"), "literal_error"),
])
def test_list_parameters_are_validated(api: Api, query: str, loc: tuple[str, ...], error_type: str) -> None:
    # When
    reply = api.get(CUSTOMERS, query=query)
    # Then
    assert errors_at(reply)[loc]["type"] == error_type


def test_a_forged_cursor_or_one_from_another_business_is_a_400(api: Api) -> None:
    # Given another business's cursor
    other = make_tenant(name="Other Co")
    for _ in range(2):
        create(api, as_tenant=other)
    theirs = api.get(CUSTOMERS, query="limit=1", as_tenant=other).json()["data"]["next_cursor"]
    # When
    replies = [api.get(CUSTOMERS, query=f"cursor={cursor}") for cursor in (theirs, "bm9wZQ", "%%%")]
    # Then
    for reply in replies:
        assert reply.status == 400, reply.body
        assert reply.json()["code"] == "invalid_cursor"


# ---------------------------------------------------------------- roles

def test_a_viewer_of_the_business_can_read_but_not_write(api: Api) -> None:
    # Given a viewer in the owner's business
    from invoicing.storage import auth

    created = create(api)
    viewer_id = auth.create_user("viewer@example.com")
    auth.add_member(api.tenant.business_id, viewer_id, "viewer")
    viewer = Tenant(api.tenant.business_id, auth.create_token(viewer_id)["token"], viewer_id, "USD", "UTC")
    path = f"{CUSTOMERS}/{created['id']}"
    # When / Then reads work
    assert ids(api.get(CUSTOMERS, as_tenant=viewer)) == [created["id"]]
    assert api.get(path, as_tenant=viewer).status == 200
    # and every write is refused, changing nothing
    for reply in (api.post(CUSTOMERS, {"name": "V", "email": "v@x.io"}, as_tenant=viewer),
                  api.put(path, {"name": "Renamed"}, as_tenant=viewer),
                  api.delete(path, as_tenant=viewer)):
        assert reply.status == 403
        assert reply.json()["detail"] == "Not enough permissions"
    assert api.get(path).json()["data"] == created
    assert len(ids(api.get(CUSTOMERS))) == 1


def test_a_member_of_another_business_is_told_the_business_does_not_exist(api: Api) -> None:
    # Given a viewer of their own business only
    stranger = make_tenant(role="viewer", name="Elsewhere")
    # When they name the owner's business
    reply = api.get(CUSTOMERS, headers={"Authorization": f"Bearer {stranger.token}",
                                        "x-business-id": api.tenant.business_id})
    # Then
    assert reply.status == 404 and reply.json()["detail"] == "Business not found"


# ---------------------------------------------------------------- sample events

@pytest.mark.parametrize("event_file", ["customers-create.json", "customers-list.json"])
def test_the_sample_events_work_against_the_demo_business(aws: None, event_file: str) -> None:
    # Given the demo business (the local stack's seed creates it)
    from invoicing.storage import auth

    auth.create_business("Demo", "USD", business_id="0195f1a0-0000-7000-8000-000000000001")
    event = json.loads((template.ROOT / "events" / event_file).read_text())
    # When
    out = runtime.invoke("CustomersFunction", event)
    # Then
    assert out["statusCode"] == (201 if event["httpMethod"] == "POST" else 200), out["body"]
    assert json.loads(out["body"])["success"] is True
