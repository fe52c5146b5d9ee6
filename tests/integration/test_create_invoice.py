"""POST /api/v1/invoices, through the emulated API Gateway (seed 004 and API.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from devstack.emulated import create_tenant as make_tenant

PATH = "/api/v1/invoices"
MISSING = "0195f1a0-0000-7000-8000-00000000dead"


@pytest.fixture
def shop(api) -> dict[str, str]:
    """Given a customer, a product variant priced 12.50, and a location, in the tenant's business."""
    customer = api.post("/api/v1/customers", {"name": "Ada Lovelace", "email": "ada@example.com"}).json()["data"]
    product = api.post("/api/v1/inventory/products", {"name": "Widget"}).json()["data"]
    variant = api.post("/api/v1/inventory/products/variants",
                       {"product_id": product["id"], "name": "Blue widget", "sku": "W-BLUE", "unit_price": 1250}
                       ).json()["data"]
    location = api.post("/api/v1/inventory/locations", {"name": "Main", "code": "MAIN", "is_default": True}
                        ).json()["data"]
    return {"customer": customer["id"], "variant": variant["id"], "location": location["id"]}


def body(shop: dict[str, str], **overrides):
    return {
        "customer_id": shop["customer"],
        "line_items": [{"variant_id": shop["variant"], "quantity": 2}, {"description": "Delivery", "unit_price": 700}],
        "due_date": "2030-01-31",
        **overrides,
    }


def test_creates_a_draft_with_catalog_and_custom_lines(api, shop, tenant):
    reply = api.post(PATH, body(shop, description="January order"))
    assert reply.status == 201, reply.body
    envelope = reply.json()
    assert (envelope["success"], envelope["code"]) == (True, "invoice.created")
    invoice = envelope["data"]
    assert invoice["status"] == "draft" and invoice["number"] is None
    assert invoice["currency"] == tenant.currency
    assert invoice["business_id"] == tenant.business_id
    assert (invoice["customer_name"], invoice["customer_email"]) == ("Ada Lovelace", "ada@example.com")
    widget, delivery = invoice["line_items"]
    assert (widget["description"], widget["unit_price"], widget["quantity"], widget["amount"]) == (
        "Blue widget", 1250, 2, 2500)
    assert (delivery["variant_id"], delivery["quantity"], delivery["amount"]) == (None, 1, 700)
    assert invoice["total"] == invoice["balance_due"] == 3200 and invoice["total_paid"] == 0
    assert invoice["issue_date"] == datetime.now(ZoneInfo(tenant.timezone)).date().isoformat()
    assert invoice["recurring_template_id"] is None and invoice["payments"] == []


def test_catalog_price_is_a_snapshot(api, shop):
    invoice = api.post(PATH, body(shop)).json()["data"]
    assert invoice["line_items"][0]["unit_price"] == 1250  # later catalog changes never reach this line


def test_unit_price_override_and_amount_fallback(api, shop):
    lines = [{"variant_id": shop["variant"], "unit_price": 1000}, {"variant_id": "custom", "description": "Fee",
                                                                    "amount": 300}]
    invoice = api.post(PATH, body(shop, line_items=lines)).json()["data"]
    assert [line["unit_price"] for line in invoice["line_items"]] == [1000, 300]
    assert invoice["total"] == 1300


def test_locations_are_kept_on_variant_lines_and_dropped_on_custom_ones(api, shop):
    lines = [{"variant_id": shop["variant"], "location_id": shop["location"]},
             {"description": "Labour", "unit_price": 100, "location_id": shop["location"]}]
    invoice = api.post(PATH, body(shop, line_items=lines, fulfillment_location_id=shop["location"])).json()["data"]
    assert [line["location_id"] for line in invoice["line_items"]] == [shop["location"], None]
    assert invoice["fulfillment_location_id"] == shop["location"]


def test_backdated_issue_date(api, shop):
    invoice = api.post(PATH, body(shop, issue_date="2020-02-29", due_date="2020-03-30")).json()["data"]
    assert (invoice["issue_date"], invoice["due_date"]) == ("2020-02-29", "2020-03-30")


def test_due_before_issue_is_422_at_due_date(api, shop):
    reply = api.post(PATH, body(shop, issue_date="2030-02-01", due_date="2030-01-31"))
    assert reply.status == 422
    (error,) = reply.json()["detail"]
    assert error["loc"] == ["body", "due_date"] and "before issue_date" in error["msg"]


def test_other_currency_needs_a_price_for_catalog_lines(api, shop):
    reply = api.post(PATH, body(shop, currency="EUR"))
    assert reply.status == 400 and "EUR" in reply.json()["detail"]
    lines = [{"variant_id": shop["variant"], "unit_price": 1100}]
    assert api.post(PATH, body(shop, currency="EUR", line_items=lines)).json()["data"]["currency"] == "EUR"


def test_total_beyond_ten_to_the_fifteen_cents_is_422(api, shop):
    lines = [{"description": "Big", "unit_price": 10**15}, {"description": "One more", "unit_price": 1}]
    reply = api.post(PATH, body(shop, line_items=lines))
    assert reply.status == 422 and reply.json()["detail"][0]["loc"] == ["body", "line_items"]


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        ({"line_items": []}, ["body", "line_items"], "too_short"),
        ({"line_items": [{"description": "x", "unit_price": 1}] * 251}, ["body", "line_items"], "too_long"),
        ({"due_date": "2030-02-30"}, ["body", "due_date"], "date_from_datetime_parsing"),
        ({"due_date": 0}, ["body", "due_date"], "string_type"),
        ({"currency": "JPY"}, ["body", "currency"], "literal_error"),
        ({"line_items": [{"description": "x", "unit_price": 1.5}]}, ["body", "line_items", 0, "unit_price"],
         "int_from_float"),
        ({"line_items": [{"description": "x", "unit_price": -1}]}, ["body", "line_items", 0, "unit_price"],
         "greater_than_equal"),
        ({"line_items": [{"description": "x", "unit_price": 1, "quantity": 0}]},
         ["body", "line_items", 0, "quantity"], "greater_than_equal"),
        ({"line_items": [{"unit_price": 1}]}, ["body", "line_items", 0, "description"], "missing"),
        ({"customer_id": "not-a-uuid"}, ["body", "customer_id"], "string_pattern_mismatch"),
        # a misspelt field must not silently bill the catalog price
        ({"line_items": [{"description": "x", "unitprice": 500}]}, ["body", "line_items", 0, "unitprice"],
         "extra_forbidden"),
        ({"custmer_id": "x"}, ["body", "custmer_id"], "extra_forbidden"),
    ],
)
def test_invalid_bodies_are_fastapi_shaped_422s(api, shop, change, loc, kind):
    reply = api.post(PATH, body(shop, **change))
    assert reply.status == 422, reply.body
    errors = reply.json()["detail"]
    assert any(e["loc"] == loc and e["type"] == kind for e in errors), errors
    assert all({"loc", "msg", "type", "input", "ctx"} <= set(e) for e in errors)


def test_recurring_creates_a_template_covering_the_invoice(api, shop):
    reply = api.post(PATH, body(shop, issue_date="2031-01-31", due_date="2031-02-14",
                                recurring={"frequency": "monthly", "day_of_month": 31}))
    assert reply.status == 201, reply.body
    invoice = reply.json()["data"]
    template = api.get(f"/api/v1/recurring/{invoice['recurring_template_id']}").json()["data"]
    assert (template["source_invoice_id"], template["occurrences_generated"]) == (invoice["id"], 1)
    assert (template["start_date"], template["days_until_due"]) == ("2031-01-31", 14)
    assert template["next_occurrence"] == "2031-02-28"  # the invoice covers its own issue date


def test_invalid_recurring_is_a_422_at_its_field(api, shop):
    reply = api.post(PATH, body(shop, recurring={"frequency": "weekly", "day_of_month": 3}))
    assert reply.status == 422 and reply.json()["detail"][0]["loc"] == ["body", "recurring", "day_of_month"]


@pytest.mark.parametrize("what", ["customer_id", "variant", "location", "fulfillment"])
def test_unknown_references_are_404(api, shop, what):
    request = body(shop)
    if what == "customer_id":
        request["customer_id"] = MISSING
    elif what == "variant":
        request["line_items"] = [{"variant_id": MISSING}]
    elif what == "location":
        request["line_items"] = [{"variant_id": shop["variant"], "location_id": MISSING}]
    else:
        request["fulfillment_location_id"] = MISSING
    reply = api.post(PATH, request)
    assert reply.status == 404 and MISSING in reply.json()["detail"]


def test_another_business_ids_answer_like_missing_ones(api, shop, aws):
    other = make_tenant(name="Other Co")
    reply = api.post(PATH, body(shop), as_tenant=other)
    assert reply.status == 404 and shop["customer"] in reply.json()["detail"]


def test_viewer_may_not_create_and_non_member_gets_business_not_found(api, shop, tenant, aws):
    from invoicing.storage import auth

    viewer = auth.create_user("viewer@example.com")
    auth.add_member(tenant.business_id, viewer, "viewer")
    token = auth.create_token(viewer)["token"]
    headers = {"Authorization": f"Bearer {token}", "x-business-id": tenant.business_id}
    assert api.post(PATH, body(shop), headers=headers).json() == {"detail": "Not enough permissions",
                                                                  "code": "forbidden"}
    stranger = make_tenant(name="Stranger")
    headers = {"Authorization": f"Bearer {stranger.token}", "x-business-id": tenant.business_id}
    reply = api.post(PATH, body(shop), headers=headers)
    assert (reply.status, reply.json()["detail"]) == (404, "Business not found")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer dz_nope"}, {"Authorization": "Basic abc"}])
def test_missing_or_unknown_token_is_401(api, shop, tenant, headers):
    reply = api.post(PATH, body(shop), headers={"x-business-id": tenant.business_id, **headers})
    assert (reply.status, reply.json()["detail"]) == (401, "Not authenticated")


def test_expired_and_revoked_tokens_are_401(api, shop, tenant, aws):
    from invoicing.storage import auth

    issued = auth.create_token(tenant.user_id, expires_in_days=1)
    headers = {"Authorization": f"Bearer {issued['token']}", "x-business-id": tenant.business_id}
    assert api.post(PATH, body(shop), headers=headers).status == 201
    auth.revoke_token(token_id=issued["token_id"])
    assert api.post(PATH, body(shop), headers=headers).status == 401


@pytest.mark.parametrize(
    ("raw", "headers", "is_base64", "status"),
    [
        ("{not json", {"Content-Type": "application/json"}, False, 422),
        ("a=b", {"Content-Type": "application/x-www-form-urlencoded"}, False, 415),
        ("--x\r\n", {"Content-Type": "multipart/form-data"}, False, 415),
        ("//79/A==", {"Content-Type": "application/json"}, True, 400),
        ("[]", {"Content-Type": "application/json"}, False, 422),
        ("null", {}, False, 422),
    ],
)
def test_unreadable_bodies_are_4xx_never_5xx(api, tenant, raw, headers, is_base64, status):
    reply = api.request("POST", PATH, raw=raw, headers={**api.headers(), **headers}, is_base64=is_base64)
    assert reply.status == status, reply.body
    assert "detail" in reply.json()


def test_due_date_far_future_and_today_default(api, shop, tenant):
    today = datetime.now(ZoneInfo(tenant.timezone)).date()
    reply = api.post(PATH, body(shop, due_date=(today + timedelta(days=3650)).isoformat()))
    assert reply.status == 201
    reply = api.post(PATH, body(shop, due_date=(today - timedelta(days=1)).isoformat()))
    assert reply.status == 422 and date.fromisoformat(reply.json()["detail"][0]["ctx"]["ge"]) == today
