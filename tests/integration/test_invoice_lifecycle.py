"""The invoice lifecycle through the emulated API Gateway: get, update, delete, finalize, void,
paid and delivered (API.md, "The rest of the invoice lifecycle")."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from helpers import Api, Tenant, errors_at, ids, make_tenant

INVOICES = "/api/v1/invoices"
LEVELS = "/api/v1/inventory/levels"
MISSING = "0195f1a0-0000-7000-8000-00000000dead"
NOW = "2030-01-01T00:00:00.000Z"


# ---------------------------------------------------------------- helpers

def data(reply: Any, status: int = 200) -> dict[str, Any]:
    assert reply.status == status, reply.body
    return dict(reply.json()["data"])


def created(reply: Any) -> dict[str, Any]:
    return data(reply, 201)


def conflict(reply: Any, status: str, code: str = "invalid_status") -> str:
    """A 409 that says which state the invoice is in."""
    assert reply.status == 409, reply.body
    body = reply.json()
    assert body["code"] == code, body
    assert f"{status} invoice" in body["detail"], body
    return str(body["detail"])




def levels(api: Api, as_tenant: Tenant | None = None) -> dict[tuple[str, str], int]:
    reply = api.get(LEVELS, as_tenant=as_tenant)
    assert reply.status == 200, reply.body
    return {(lv["variant_id"], lv["location_id"]): lv["quantity"] for lv in reply.json()["data"]["items"]}


def viewer_of(tenant: Tenant) -> Tenant:
    from invoicing.storage import auth

    user_id = auth.create_user(f"viewer@{tenant.business_id}.example")
    auth.add_member(tenant.business_id, user_id, "viewer")
    return Tenant(tenant.business_id, auth.create_token(user_id)["token"], user_id, tenant.currency, tenant.timezone)


@pytest.fixture
def shop(api: Api) -> dict[str, str]:
    """Given two customers, a product with two variants, and three locations (main is the default)."""
    ada = created(api.post("/api/v1/customers", {"name": "Ada Lovelace", "email": "ada@example.com"}))
    bob = created(api.post("/api/v1/customers", {"name": "Bob Babbage", "email": "bob@example.com"}))
    product = created(api.post("/api/v1/inventory/products", {"name": "Widget"}))
    blue = created(api.post("/api/v1/inventory/products/variants",
                            {"product_id": product["id"], "name": "Blue widget", "sku": "W-BLUE",
                             "unit_price": 1250}))
    red = created(api.post("/api/v1/inventory/products/variants",
                           {"product_id": product["id"], "name": "Red widget", "sku": "W-RED", "unit_price": 800}))
    locations = {code: created(api.post("/api/v1/inventory/locations",
                                        {"name": code.title(), "code": code, "is_default": code == "main"}))["id"]
                 for code in ("main", "north", "east")}
    return {"ada": ada["id"], "bob": bob["id"], "product": product["id"], "blue": blue["id"], "red": red["id"],
            **locations}


def new_body(shop: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return {
        "customer_id": shop["ada"],
        "line_items": [{"variant_id": shop["blue"], "quantity": 2}, {"description": "Delivery", "unit_price": 700}],
        "issue_date": "2030-01-01",
        "due_date": "2030-01-31",
        **overrides,
    }


def draft(api: Api, shop: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return created(api.post(INVOICES, new_body(shop, **overrides)))


def invoice_in(api: Api, shop: dict[str, str], status: str, **overrides: Any) -> dict[str, Any]:
    """A new invoice of ``shop``, brought to ``status`` the way a client would."""
    invoice = draft(api, shop, **overrides)
    path = f"{INVOICES}/{invoice['id']}"
    if status == "draft":
        return invoice
    invoice = data(api.post(f"{path}/finalize"))
    if status == "void":
        invoice = data(api.put(f"{path}/void"))
    elif status == "manual_paid":
        invoice = data(api.put(f"{path}/paid"))
    elif status in ("partially_paid", "uncollectible"):  # one cent paid; then written off
        deposit = created(api.post("/api/v1/transactions", {"amount": 1}))
        created(api.post(f"{path}/payments", {"transaction_id": deposit["id"], "amount": 1}))
        invoice = data(api.post(f"{path}/uncollectible")) if status == "uncollectible" else data(api.get(path))
    assert invoice["status"] == status
    return invoice


# ---------------------------------------------------------------- GET one

def test_get_answers_the_invoice_as_created(api: Api, shop: dict[str, str]) -> None:
    # Given
    invoice = draft(api, shop, description="January order")
    # When
    reply = api.get(f"{INVOICES}/{invoice['id']}")
    # Then
    assert reply.status == 200
    envelope = reply.json()
    assert (envelope["success"], envelope["code"]) == (True, "invoice.retrieved")
    assert envelope["data"] == invoice


def test_get_of_a_missing_or_another_business_s_invoice_is_the_same_404(api: Api, shop: dict[str, str]) -> None:
    # Given an invoice of another business, and one of ours
    other = make_tenant(name="Other Co")
    theirs = created(api.post("/api/v1/customers", {"name": "Eve", "email": "eve@example.com"}, as_tenant=other))
    their_invoice = created(api.post(INVOICES, {"customer_id": theirs["id"], "due_date": "2030-01-31",
                                                "line_items": [{"description": "x", "unit_price": 1}]},
                                     as_tenant=other))
    ours = draft(api, shop)
    # When / Then: their id answers exactly like an id that never existed
    missing = api.get(f"{INVOICES}/{MISSING}")
    foreign = api.get(f"{INVOICES}/{their_invoice['id']}")
    assert (missing.status, foreign.status) == (404, 404)
    assert missing.json() == {"detail": f"Invoice {MISSING} not found", "code": "invoice_not_found"}
    assert foreign.json() == {"detail": f"Invoice {their_invoice['id']} not found", "code": "invoice_not_found"}
    # and the other way round
    assert api.get(f"{INVOICES}/{ours['id']}", as_tenant=other).status == 404


def test_an_id_that_is_not_a_uuid_is_a_422_at_the_path(api: Api) -> None:
    assert ("path", "invoice_id") in errors_at(api.get(f"{INVOICES}/not-a-uuid"))


# ---------------------------------------------------------------- PUT

def test_a_draft_can_change_customer_lines_dates_description_and_fulfillment(api: Api, shop: dict[str, str]) -> None:
    # Given a draft of Ada's for 2 blue widgets and delivery (3200)
    invoice = draft(api, shop, fulfillment_location_id=shop["main"])
    assert invoice["total"] == 3200
    # When everything a draft allows changes
    reply = api.put(f"{INVOICES}/{invoice['id']}", {
        "id": invoice["id"], "customer_id": shop["bob"], "due_date": "2030-02-28", "description": "Revised",
        "fulfillment_location_id": shop["north"],
        "line_items": [{"variant_id": shop["red"], "quantity": 3, "location_id": shop["east"]},
                       {"description": "Setup", "unit_price": 150, "quantity": 2}],
    })
    # Then
    assert reply.status == 200, reply.body
    assert reply.json()["code"] == "invoice.updated"
    updated = reply.json()["data"]
    assert (updated["customer_id"], updated["customer_name"], updated["customer_email"]) == (
        shop["bob"], "Bob Babbage", "bob@example.com")
    assert (updated["due_date"], updated["description"], updated["fulfillment_location_id"]) == (
        "2030-02-28", "Revised", shop["north"])
    red, setup = updated["line_items"]
    assert (red["variant_id"], red["description"], red["unit_price"], red["quantity"], red["amount"],
            red["location_id"]) == (shop["red"], "Red widget", 800, 3, 2400, shop["east"])
    assert (setup["variant_id"], setup["amount"]) == (None, 300)
    assert updated["total"] == updated["balance_due"] == 2700  # recomputed
    assert (updated["status"], updated["issue_date"], updated["created_at"]) == (
        "draft", invoice["issue_date"], invoice["created_at"])
    assert updated["updated_at"] >= invoice["updated_at"]
    # and it is what is stored
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == updated


def test_fields_left_out_keep_their_value(api: Api, shop: dict[str, str]) -> None:
    invoice = draft(api, shop, description="Keep me", fulfillment_location_id=shop["east"])
    updated = data(api.put(f"{INVOICES}/{invoice['id']}", {"id": invoice["id"], "due_date": "2030-03-01"}))
    assert updated == {**invoice, "due_date": "2030-03-01", "updated_at": updated["updated_at"]}


def test_new_lines_move_the_invoice_in_the_variant_product_and_total_lists(api: Api, shop: dict[str, str]) -> None:
    # Given a draft selling blue widgets
    invoice = draft(api, shop, line_items=[{"variant_id": shop["blue"]}])
    assert ids(api.get(INVOICES, query=f"variant_id={shop['blue']}")) == [invoice["id"]]
    # When its lines become custom ones
    data(api.put(f"{INVOICES}/{invoice['id']}", {"id": invoice["id"],
                                                 "line_items": [{"description": "Consulting", "unit_price": 99}]}))
    # Then the filters and sort keys follow the new lines
    assert ids(api.get(INVOICES, query=f"variant_id={shop['blue']}")) == []
    assert ids(api.get(INVOICES, query=f"product_id={shop['product']}")) == []
    assert [i["total"] for i in api.get(INVOICES, query="sort_by=total").json()["data"]["items"]] == [99]


def test_an_open_invoice_changes_only_its_terms(api: Api, shop: dict[str, str]) -> None:
    # Given an open invoice
    invoice = invoice_in(api, shop, "open")
    path = f"{INVOICES}/{invoice['id']}"
    # When its terms change
    updated = data(api.put(path, {"id": invoice["id"], "due_date": "2030-06-30", "description": "Net 180",
                                  "customer_id": shop["ada"]}))  # the same customer is no change
    # Then
    assert (updated["due_date"], updated["description"], updated["number"], updated["status"]) == (
        "2030-06-30", "Net 180", "INV-001", "open")
    # But its customer and lines are fixed
    conflict(api.put(path, {"id": invoice["id"], "customer_id": shop["bob"]}), "open")
    conflict(api.put(path, {"id": invoice["id"], "line_items": [{"description": "x", "unit_price": 1}]}), "open")
    assert data(api.get(path)) == updated


@pytest.mark.parametrize("status", ["partially_paid", "uncollectible"])
def test_other_unpaid_states_change_terms_but_not_lines(api: Api, shop: dict[str, str], status: str) -> None:
    invoice = invoice_in(api, shop, status)
    path = f"{INVOICES}/{invoice['id']}"
    assert data(api.put(path, {"id": invoice["id"], "description": "Chased"}))["description"] == "Chased"
    conflict(api.put(path, {"id": invoice["id"], "line_items": [{"description": "x", "unit_price": 1}]}), status)


@pytest.mark.parametrize("status", ["void", "manual_paid"])
@pytest.mark.parametrize("change", [{"description": "Too late"}, {"due_date": "2030-12-31"},
                                    {"line_items": [{"description": "x", "unit_price": 1}]}])
def test_void_and_paid_invoices_cannot_change(api: Api, shop: dict[str, str], status: str,
                                              change: dict[str, Any]) -> None:
    invoice = invoice_in(api, shop, status)
    path = f"{INVOICES}/{invoice['id']}"
    conflict(api.put(path, {"id": invoice["id"], **change}), status)
    assert data(api.get(path)) == invoice


def test_the_body_id_must_be_the_path_id(api: Api, shop: dict[str, str]) -> None:
    invoice = draft(api, shop)
    other = draft(api, shop)
    errors = errors_at(api.put(f"{INVOICES}/{invoice['id']}", {"id": other["id"], "description": "Hijack"}))
    assert errors[("body", "id")]["input"] == other["id"]
    assert ("body", "id") in errors_at(api.put(f"{INVOICES}/{invoice['id']}", {"description": "No id"}))
    # nothing changed, on either
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == invoice
    assert data(api.get(f"{INVOICES}/{other['id']}")) == other


def test_a_due_date_before_the_issue_date_is_422(api: Api, shop: dict[str, str]) -> None:
    invoice = draft(api, shop, issue_date="2030-01-10", due_date="2030-01-31")
    errors = errors_at(api.put(f"{INVOICES}/{invoice['id']}", {"id": invoice["id"], "due_date": "2030-01-09"}))
    assert errors[("body", "due_date")]["ctx"] == {"ge": "2030-01-10"}
    # the issue date itself is fine
    assert data(api.put(f"{INVOICES}/{invoice['id']}", {"id": invoice["id"], "due_date": "2030-01-10"}))


def test_fulfillment_location_is_ignored_once_delivered(api: Api, shop: dict[str, str]) -> None:
    # Given an open invoice shipping from main
    invoice = invoice_in(api, shop, "open", fulfillment_location_id=shop["main"])
    path = f"{INVOICES}/{invoice['id']}"
    # When it changes before delivery, it changes
    assert data(api.put(path, {"id": invoice["id"], "fulfillment_location_id": shop["north"]})
                )["fulfillment_location_id"] == shop["north"]
    # When it changes after delivery, the other fields change and it does not
    data(api.put(f"{path}/delivered", query="delivered_on=2030-01-05"))
    updated = data(api.put(path, {"id": invoice["id"], "fulfillment_location_id": shop["east"],
                                  "description": "Shipped"}))
    assert (updated["fulfillment_location_id"], updated["description"]) == (shop["north"], "Shipped")


@pytest.mark.parametrize("what", ["customer_id", "variant", "line location", "fulfillment"])
def test_update_to_unknown_or_foreign_references_is_404_and_changes_nothing(api: Api, shop: dict[str, str],
                                                                             what: str) -> None:
    # Given a draft, and another business with its own catalog
    invoice = draft(api, shop)
    other = make_tenant(name="Other Co")
    foreign = created(api.post("/api/v1/inventory/locations", {"name": "Theirs", "code": "T"}, as_tenant=other))
    body: dict[str, Any] = {"id": invoice["id"]}
    for unknown in (MISSING, foreign["id"]):
        if what == "customer_id":
            body["customer_id"] = unknown
        elif what == "variant":
            body["line_items"] = [{"variant_id": unknown}]
        elif what == "line location":
            body["line_items"] = [{"variant_id": shop["blue"], "location_id": unknown}]
        else:
            body["fulfillment_location_id"] = unknown
        # When
        reply = api.put(f"{INVOICES}/{invoice['id']}", body)
        # Then
        assert reply.status == 404, reply.body
        assert unknown in reply.json()["detail"]
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == invoice


def test_update_of_a_missing_or_foreign_invoice_is_404(api: Api, shop: dict[str, str]) -> None:
    invoice = draft(api, shop)
    other = make_tenant(name="Other Co")
    assert api.put(f"{INVOICES}/{MISSING}", {"id": MISSING, "description": "x"}).status == 404
    reply = api.put(f"{INVOICES}/{invoice['id']}", {"id": invoice["id"], "description": "x"}, as_tenant=other)
    assert reply.status == 404
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == invoice


def test_recurring_on_update_creates_a_template_not_ignored(api: Api, shop: dict[str, str]) -> None:
    invoice = draft(api, shop)
    reply = api.put(f"{INVOICES}/{invoice['id']}", {"id": invoice["id"], "recurring": {"frequency": "monthly"}})
    assert reply.status == 200, reply.body
    template_id = reply.json()["data"]["recurring_template_id"]
    assert api.get(f"/api/v1/recurring/{template_id}").json()["data"]["source_invoice_id"] == invoice["id"]


# ---------------------------------------------------------------- swept delayed charges

def sweep_into(api: Api, invoice_id: str, customer_id: str, amount: int) -> str:
    """A pending delayed charge, swept into the draft as a line (as a batch sweep does)."""
    from invoicing.domain.models import LineItem
    from invoicing.storage import delayed_charges
    from invoicing.storage import invoices as store

    business_id = api.tenant.business_id
    charge = created(api.post("/api/v1/delayed-charges", {"customer_id": customer_id, "amount": amount,
                                                          "description": "Late fee"}))
    before = store.get(business_id, invoice_id)
    line = LineItem(id=charge["id"], variant_id=None, description="Late fee", quantity=1, unit_price=amount,
                    amount=amount, delayed_charge_id=charge["id"])
    lines = [*before.invoice.line_items, line]
    total = sum(item.amount for item in lines)
    after = before.invoice.model_copy(update={"line_items": lines, "total": total, "balance_due": total})
    store.replace(before, after, also=[
        delayed_charges.invoice_action(delayed_charges.get(business_id, charge["id"]), invoice_id, NOW)])
    return str(charge["id"])


def test_new_lines_keep_the_swept_charges(api: Api, shop: dict[str, str]) -> None:
    # Given a draft with a swept charge of 500
    invoice = draft(api, shop)
    charge_id = sweep_into(api, invoice["id"], shop["ada"], 500)
    # When its own lines are replaced
    updated = data(api.put(f"{INVOICES}/{invoice['id']}", {
        "id": invoice["id"], "line_items": [{"description": "Only this", "unit_price": 1000}]}))
    # Then the swept line stays, and counts
    assert [line["delayed_charge_id"] for line in updated["line_items"]] == [None, charge_id]
    assert updated["total"] == 1500


def test_deleting_a_draft_returns_its_swept_charges_to_pending(api: Api, shop: dict[str, str]) -> None:
    # Given a draft holding a swept charge
    invoice = draft(api, shop)
    charge_id = sweep_into(api, invoice["id"], shop["ada"], 500)
    charge = data(api.get("/api/v1/delayed-charges", query=f"customer_id={shop['ada']}"))["items"][0]
    assert (charge["status"], charge["invoiced_invoice_id"]) == ("invoiced", invoice["id"])
    # When
    assert api.delete(f"{INVOICES}/{invoice['id']}").status == 204
    # Then
    charge = data(api.get("/api/v1/delayed-charges", query=f"customer_id={shop['ada']}"))["items"][0]
    assert (charge["id"], charge["status"], charge["invoiced_invoice_id"]) == (charge_id, "pending", None)


# ---------------------------------------------------------------- DELETE

def test_a_draft_is_deleted_with_a_204_and_is_gone(api: Api, shop: dict[str, str]) -> None:
    # Given
    invoice = draft(api, shop)
    kept = draft(api, shop)
    path = f"{INVOICES}/{invoice['id']}"
    # When
    reply = api.delete(path)
    # Then
    assert (reply.status, reply.body) == (204, "")
    assert api.get(path).status == 404
    assert api.delete(path).status == 404
    assert ids(api.get(INVOICES)) == [kept["id"]]


@pytest.mark.parametrize("status", ["open", "void", "manual_paid"])
def test_only_drafts_can_be_deleted(api: Api, shop: dict[str, str], status: str) -> None:
    invoice = invoice_in(api, shop, status)
    conflict(api.delete(f"{INVOICES}/{invoice['id']}"), status)
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == invoice


def test_another_business_cannot_delete_our_draft(api: Api, shop: dict[str, str]) -> None:
    invoice = draft(api, shop)
    assert api.delete(f"{INVOICES}/{invoice['id']}", as_tenant=make_tenant(name="Other Co")).status == 404
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == invoice


# ---------------------------------------------------------------- finalize

def test_finalize_numbers_each_business_s_invoices_in_its_own_sequence(api: Api, shop: dict[str, str]) -> None:
    # Given two drafts here and one in another business
    first, second = draft(api, shop), draft(api, shop)
    other = make_tenant(name="Other Co")
    customer = created(api.post("/api/v1/customers", {"name": "Eve", "email": "eve@example.com"}, as_tenant=other))
    theirs = created(api.post(INVOICES, {"customer_id": customer["id"], "due_date": "2030-01-31",
                                         "line_items": [{"description": "x", "unit_price": 1}]}, as_tenant=other))
    # When they are finalized, interleaved
    reply = api.post(f"{INVOICES}/{second['id']}/finalize")
    their_number = data(api.post(f"{INVOICES}/{theirs['id']}/finalize", as_tenant=other))["number"]
    later = data(api.post(f"{INVOICES}/{first['id']}/finalize"))
    # Then
    assert reply.status == 200, reply.body
    envelope = reply.json()
    assert (envelope["code"], envelope["data"]["status"], envelope["data"]["number"]) == (
        "invoice.finalized", "open", "INV-001")
    assert "INV-001" in envelope["message"]
    entries = envelope["data"]["journal_entries"]
    assert envelope["data"] == {**second, "status": "open", "number": "INV-001",
                                "updated_at": envelope["data"]["updated_at"], "journal_entries": entries}
    # with its AR entry: Dr Accounts Receivable / Cr Revenue for the total, dated the issue date
    (entry,) = entries
    assert (entry["source"], entry["entry_date"], entry["total"]) == ("invoice_finalized", second["issue_date"],
                                                                      second["total"])
    assert [(ln["account_name"], ln["debit"], ln["credit"]) for ln in entry["lines"]] == [
        ("Accounts Receivable", second["total"], 0), ("Revenue", 0, second["total"])]
    assert (later["number"], their_number) == ("INV-002", "INV-001")
    assert data(api.get(f"{INVOICES}/{second['id']}")) == envelope["data"]


@pytest.mark.parametrize("status", ["open", "void", "manual_paid", "partially_paid", "uncollectible"])
def test_finalize_of_anything_but_a_draft_is_409_naming_its_status(api: Api, shop: dict[str, str],
                                                                   status: str) -> None:
    invoice = invoice_in(api, shop, status)
    conflict(api.post(f"{INVOICES}/{invoice['id']}/finalize"), status)
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == invoice
    # and no number was spent on it
    assert data(api.post(f"{INVOICES}/{draft(api, shop)['id']}/finalize"))["number"] == "INV-002"


def test_finalize_of_a_missing_or_foreign_invoice_is_404_and_spends_no_number(api: Api, shop: dict[str, str]) -> None:
    invoice = draft(api, shop)
    assert api.post(f"{INVOICES}/{MISSING}/finalize").status == 404
    assert api.post(f"{INVOICES}/{invoice['id']}/finalize", as_tenant=make_tenant(name="Other Co")).status == 404
    assert data(api.post(f"{INVOICES}/{invoice['id']}/finalize"))["number"] == "INV-001"


def test_a_finalized_invoice_is_found_by_its_number(api: Api, shop: dict[str, str]) -> None:
    invoice = invoice_in(api, shop, "open")
    assert ids(api.get(INVOICES, query="search=INV-001")) == [invoice["id"]]


# ---------------------------------------------------------------- void

@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_an_open_invoice_is_voided_by_put_or_post(api: Api, shop: dict[str, str], method: str) -> None:
    invoice = invoice_in(api, shop, "open")
    reply = api.request(method, f"{INVOICES}/{invoice['id']}/void")
    assert reply.status == 200, reply.body
    assert reply.json()["code"] == "invoice.voided"
    voided = reply.json()["data"]
    finalized, reversal = voided["journal_entries"]
    assert voided == {**invoice, "status": "void", "updated_at": voided["updated_at"],
                      "journal_entries": [finalized, reversal]}
    # the AR entry is reversed, dated today in the business's time zone
    assert finalized == invoice["journal_entries"][0]
    assert (reversal["source"], reversal["reverses"], reversal["total"]) == ("invoice_voided", finalized["id"],
                                                                             invoice["total"])
    assert reversal["entry_date"] == datetime.now(ZoneInfo(api.tenant.timezone)).date().isoformat()
    assert [(ln["account_name"], ln["debit"], ln["credit"]) for ln in reversal["lines"]] == [
        ("Accounts Receivable", 0, invoice["total"]), ("Revenue", invoice["total"], 0)]
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == voided


@pytest.mark.parametrize("method", ["PUT", "POST"])
@pytest.mark.parametrize("status", ["draft", "void", "manual_paid"])
def test_void_of_anything_but_open_is_409(api: Api, shop: dict[str, str], method: str, status: str) -> None:
    invoice = invoice_in(api, shop, status)
    detail = conflict(api.request(method, f"{INVOICES}/{invoice['id']}/void"), status,
                      "invoice_has_payments" if invoice["payments"] else "invalid_status")
    if invoice["payments"]:  # the sentence says what to do first
        assert "remove them first" in detail
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == invoice


@pytest.mark.parametrize("action", ["void", "paid"])
def test_void_or_paid_of_a_missing_or_foreign_invoice_is_404(api: Api, shop: dict[str, str], action: str) -> None:
    invoice = invoice_in(api, shop, "open")
    missing = api.put(f"{INVOICES}/{MISSING}/{action}")
    assert (missing.status, missing.json()["detail"]) == (404, f"Invoice {MISSING} not found")
    assert api.put(f"{INVOICES}/{invoice['id']}/{action}", as_tenant=make_tenant(name="Other Co")).status == 404
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == invoice


# ---------------------------------------------------------------- paid

def test_paid_sets_paid_on_to_today_in_the_business_time_zone(api: Api) -> None:
    # Given two businesses 25 hours apart: their calendar dates always differ, and at most one is UTC's
    dates = {}
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        business = make_tenant(timezone=zone, name=zone)
        customer = created(api.post("/api/v1/customers", {"name": "Kim", "email": "kim@example.com"},
                                    as_tenant=business))
        invoice = created(api.post(INVOICES, {"customer_id": customer["id"], "due_date": "2099-01-31",
                                              "issue_date": "2020-01-01",
                                              "line_items": [{"description": "x", "unit_price": 100}]},
                                   as_tenant=business))
        data(api.post(f"{INVOICES}/{invoice['id']}/finalize", as_tenant=business))
        # When
        reply = api.put(f"{INVOICES}/{invoice['id']}/paid", as_tenant=business)
        # Then
        assert reply.status == 200, reply.body
        assert reply.json()["code"] == "invoice.paid"
        paid = reply.json()["data"]
        assert paid["status"] == "manual_paid"
        assert paid["paid_on"] == datetime.now(ZoneInfo(zone)).date().isoformat()
        dates[zone] = paid["paid_on"]
    assert len(set(dates.values())) == 2


@pytest.mark.parametrize("status", ["open", "partially_paid"])
def test_open_and_partially_paid_invoices_can_be_marked_paid(api: Api, shop: dict[str, str], status: str) -> None:
    invoice = invoice_in(api, shop, status)
    paid = data(api.put(f"{INVOICES}/{invoice['id']}/paid"))
    # the balance is settled in full, by a payment of the whole balance due, posted Dr Bank / Cr AR
    payment = paid["payments"][-1]
    entry = paid["journal_entries"][-1]
    balance = invoice["balance_due"]
    assert paid == {**invoice, "status": "manual_paid", "paid_on": paid["paid_on"], "updated_at": paid["updated_at"],
                    "total_paid": invoice["total"], "balance_due": 0, "payments": [*invoice["payments"], payment],
                    "journal_entries": [*invoice["journal_entries"], entry]}
    assert (payment["amount"], payment["paid_on"]) == (balance, paid["paid_on"])
    assert [(ln["account_name"], ln["debit"], ln["credit"]) for ln in entry["lines"]] == [
        ("Bank", balance, 0), ("Accounts Receivable", 0, balance)]
    assert paid["paid_on"] == datetime.now(ZoneInfo(api.tenant.timezone)).date().isoformat()
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == paid


@pytest.mark.parametrize("status", ["draft", "void", "manual_paid", "uncollectible"])
def test_paid_from_other_states_is_409(api: Api, shop: dict[str, str], status: str) -> None:
    invoice = invoice_in(api, shop, status)
    conflict(api.put(f"{INVOICES}/{invoice['id']}/paid"), status)
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == invoice


# ---------------------------------------------------------------- delivered

def deliver(api: Api, invoice_id: str, when: str | None, as_tenant: Tenant | None = None) -> Any:
    return api.put(f"{INVOICES}/{invoice_id}/delivered", query="" if when is None else f"delivered_on={when}",
                   as_tenant=as_tenant)


@pytest.mark.parametrize("when", [None, "", "2030-02-30", "tomorrow!!", "2030-13-01T00:00:00", "2030-01-05T25:00:00",
                                  "x" * 41])
def test_delivered_on_is_required_and_must_be_a_date_or_datetime(api: Api, shop: dict[str, str],
                                                                 when: str | None) -> None:
    invoice = invoice_in(api, shop, "open")
    assert ("query", "delivered_on") in errors_at(deliver(api, invoice["id"], when))
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == invoice


@pytest.mark.parametrize(("when", "day"), [
    ("2030-01-15", "2030-01-15"),
    ("2030-01-16T10:30:00Z", "2030-01-16"),
    ("2030-01-17T23:30:00-05:00", "2030-01-17"),
    ("2030-01-18T08:00:00.123456", "2030-01-18"),
])
def test_delivered_on_takes_a_date_or_an_iso_datetime(api: Api, shop: dict[str, str], when: str, day: str) -> None:
    invoice = invoice_in(api, shop, "open")
    reply = deliver(api, invoice["id"], when.replace("+", "%2B").replace(":", "%3A"))
    assert reply.status == 200, reply.body
    assert reply.json()["code"] == "invoice.delivered"
    delivered = reply.json()["data"]
    assert delivered == {**invoice, "delivered": True, "delivered_on": day, "updated_at": delivered["updated_at"]}


def test_first_delivery_deducts_stock_at_line_then_invoice_then_default_location(api: Api,
                                                                                 shop: dict[str, str]) -> None:
    # Given 10 of each variant everywhere
    for variant in ("blue", "red"):
        for where in ("main", "north", "east"):
            assert api.post("/api/v1/inventory/adjustments", {"variant_id": shop[variant], "quantity_change": 10,
                                                              "location_id": shop[where], "reason": "Count"}
                            ).status == 201
    # and an invoice shipping from east: 2 blue from north (the line says so), 3 blue and 1 red from east
    # (the invoice says so), and a custom line that moves nothing
    shipped = invoice_in(api, shop, "open", fulfillment_location_id=shop["east"], line_items=[
        {"variant_id": shop["blue"], "quantity": 2, "location_id": shop["north"]},
        {"variant_id": shop["blue"], "quantity": 3},
        {"variant_id": shop["red"], "quantity": 1},
        {"description": "Handling", "unit_price": 100, "quantity": 7},
    ])
    # and an invoice without any location: 4 red from main (the business default)
    defaulted = invoice_in(api, shop, "open", line_items=[{"variant_id": shop["red"], "quantity": 4}])
    # When both are delivered
    data(deliver(api, shipped["id"], "2030-01-15"))
    data(deliver(api, defaulted["id"], "2030-01-15"))
    # Then
    assert levels(api) == {
        (shop["blue"], shop["main"]): 10, (shop["blue"], shop["north"]): 8, (shop["blue"], shop["east"]): 7,
        (shop["red"], shop["main"]): 6, (shop["red"], shop["north"]): 10, (shop["red"], shop["east"]): 9,
    }


def test_a_repeated_delivery_changes_only_the_date(api: Api, shop: dict[str, str]) -> None:
    # Given a delivered invoice
    invoice = invoice_in(api, shop, "open")
    first = data(deliver(api, invoice["id"], "2030-01-15"))
    stock = levels(api)
    assert stock == {(shop["blue"], shop["main"]): -2}  # goods that left are recorded, even unstocked
    # When it is delivered again
    again = data(deliver(api, invoice["id"], "2030-01-20"))
    # Then only the date moved
    assert again == {**first, "delivered_on": "2030-01-20", "updated_at": again["updated_at"]}
    assert levels(api) == stock


@pytest.mark.parametrize("status", ["manual_paid", "partially_paid", "uncollectible"])
def test_paid_and_other_finalized_invoices_can_be_delivered(api: Api, shop: dict[str, str], status: str) -> None:
    invoice = invoice_in(api, shop, status)
    delivered = data(deliver(api, invoice["id"], "2030-01-15"))
    assert (delivered["status"], delivered["delivered"]) == (status, True)
    assert levels(api) == {(shop["blue"], shop["main"]): -2}


@pytest.mark.parametrize("status", ["draft", "void"])
def test_drafts_and_void_invoices_cannot_be_delivered(api: Api, shop: dict[str, str], status: str) -> None:
    invoice = invoice_in(api, shop, status)
    conflict(deliver(api, invoice["id"], "2030-01-15"), status)
    assert data(api.get(f"{INVOICES}/{invoice['id']}")) == invoice
    assert levels(api) == {}


def test_a_variant_line_with_no_location_anywhere_is_400_and_nothing_moves(api: Api) -> None:
    # Given a business without any location, and an open invoice with a variant line
    tenant = make_tenant(name="No Warehouse")
    customer = created(api.post("/api/v1/customers", {"name": "Kim", "email": "kim@example.com"}, as_tenant=tenant))
    product = created(api.post("/api/v1/inventory/products", {"name": "Gadget"}, as_tenant=tenant))
    variant = created(api.post("/api/v1/inventory/products/variants", {
        "product_id": product["id"], "name": "Gadget", "sku": "G-1", "unit_price": 500}, as_tenant=tenant))
    invoice = created(api.post(INVOICES, {"customer_id": customer["id"], "due_date": "2030-01-31",
                                          "line_items": [{"description": "Fee", "unit_price": 5},
                                                         {"variant_id": variant["id"], "quantity": 1}]},
                               as_tenant=tenant))
    data(api.post(f"{INVOICES}/{invoice['id']}/finalize", as_tenant=tenant))
    # When
    reply = deliver(api, invoice["id"], "2030-01-15", as_tenant=tenant)
    # Then
    assert reply.status == 400, reply.body
    assert reply.json()["code"] == "no_location" and "line_items[1]" in reply.json()["detail"]
    assert data(api.get(f"{INVOICES}/{invoice['id']}", as_tenant=tenant))["delivered"] is False
    assert levels(api, as_tenant=tenant) == {}


def test_delivery_of_a_missing_or_foreign_invoice_is_404(api: Api, shop: dict[str, str]) -> None:
    invoice = invoice_in(api, shop, "open")
    assert deliver(api, MISSING, "2030-01-15").status == 404
    assert deliver(api, invoice["id"], "2030-01-15", as_tenant=make_tenant(name="Other Co")).status == 404
    assert data(api.get(f"{INVOICES}/{invoice['id']}"))["delivered"] is False
    assert levels(api) == {}


# ---------------------------------------------------------------- roles

def test_a_viewer_reads_but_every_write_is_403(api: Api, shop: dict[str, str]) -> None:
    # Given a draft and an open invoice, and a viewer of the business
    assert api.tenant is not None
    viewer = viewer_of(api.tenant)
    draft_invoice = draft(api, shop)
    open_invoice = invoice_in(api, shop, "open")
    d, o = f"{INVOICES}/{draft_invoice['id']}", f"{INVOICES}/{open_invoice['id']}"
    writes = [
        ("PUT", d, {"id": draft_invoice["id"], "description": "x"}, ""),
        ("DELETE", d, None, ""),
        ("POST", f"{d}/finalize", None, ""),
        ("PUT", f"{o}/void", None, ""),
        ("POST", f"{o}/void", None, ""),
        ("PUT", f"{o}/paid", None, ""),
        ("PUT", f"{o}/delivered", None, "delivered_on=2030-01-15"),
        ("POST", INVOICES, new_body(shop), ""),
    ]
    for method, path, body, query in writes:
        # When
        reply = api.request(method, path, json_body=body, query=query, as_tenant=viewer)
        # Then
        assert (reply.status, reply.json()) == (403, {"detail": "Not enough permissions", "code": "forbidden"}), (
            method, path)
    # and nothing changed, while reads work
    assert data(api.get(d, as_tenant=viewer)) == draft_invoice
    assert data(api.get(o, as_tenant=viewer)) == open_invoice
    assert sorted(ids(api.get(INVOICES, as_tenant=viewer))) == sorted([draft_invoice["id"], open_invoice["id"]])
    assert levels(api) == {}
