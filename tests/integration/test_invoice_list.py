"""GET /api/v1/invoices through the emulated API Gateway: filters, search, sort orders, cursor
paging in both directions, totals, and cursors that must not work (API.md, "Lists" and "The
rest of the invoice lifecycle").

The tests only read, so they share one business of twelve invoices (built once per module)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from helpers import Api, Tenant, make_tenant

from devstack.emulated import emulated_aws

INVOICES = "/api/v1/invoices"
MISSING = "0195f1a0-0000-7000-8000-00000000dead"
VALIDATION_KEYS = {"loc", "msg", "type", "input", "ctx"}
SORTS = ["created_at", "due_date", "total", "number"]


def created(reply: Any) -> dict[str, Any]:
    assert reply.status == 201, reply.body
    return dict(reply.json()["data"])


def ok(reply: Any) -> dict[str, Any]:
    assert reply.status == 200, reply.body
    return dict(reply.json()["data"])


@dataclass
class Ledger:
    api: Api
    tenant: Tenant
    rows: list[dict[str, Any]]  # every invoice, in creation order, as GET /invoices/{id} answers
    products: dict[str, str]  # variant -> product
    ids: dict[str, str]  # names of customers, variants, products -> ids
    other: Tenant  # a second business, with invoices of its own
    other_ids: list[str]

    def get(self, query: str = "", as_tenant: Tenant | None = None) -> Any:
        return self.api.get(INVOICES, query=query, as_tenant=as_tenant)

    def listed(self, query: str = "") -> list[str]:
        return [item["id"] for item in ok(self.get(query))["items"]]

    def where(self, keep: Callable[[dict[str, Any]], bool]) -> list[str]:
        """Ids of the matching invoices, newest first (the default order)."""
        return [row["id"] for row in sorted(self.rows, key=lambda r: r["id"], reverse=True) if keep(row)]


# (customer, lines, due date, description); lines are (variant name or price of a custom line, quantity)
PLAN: list[tuple[str, list[tuple[str | int, int]], str, str | None]] = [
    ("ada", [("blue", 1)], "2030-03-01", "Spring order"),
    ("bob", [(500, 1)], "2030-01-15", "Consulting"),
    ("grace", [("green", 2)], "2030-02-10", "Gizmo restock"),
    ("ada", [("red", 3)], "2030-01-15", None),
    ("bob", [("blue", 1), ("green", 1)], "2030-05-01", "Mixed CRATE"),
    ("grace", [(99999, 1)], "2030-04-01", "Big job"),
    ("ada", [(500, 1)], "2030-02-28", "misc"),
    ("bob", [("red", 1)], "2030-06-30", "Red one"),
    ("grace", [(1, 1)], "2030-01-01", "Penny"),
    ("ada", [("blue", 4)], "2030-03-15", "Quarterly crate"),
    ("bob", [(7000, 1)], "2030-12-31", "Year end"),
    ("grace", [("green", 1)], "2030-07-07", "Gizmo single"),
]
# Finalized out of creation order, so numbers sort differently from creation time; then the end state.
FINALIZE_ORDER = [11, 5, 0, 8, 3, 2, 9, 6]
END_STATE = {2: "void", 3: "manual_paid", 5: "partially_paid", 8: "uncollectible"}


@pytest.fixture(scope="module")
def ledger() -> Iterator[Ledger]:
    """Given a business of twelve invoices of three customers: drafts, open, void, paid, partially paid and
    uncollectible, over two products; and a second business with three invoices."""
    from invoicing.storage import invoices as store

    with emulated_aws("invoicing-test"):
        tenant = make_tenant()
        api = Api(tenant)
        ids: dict[str, str] = {}
        for name in ("ada", "bob", "grace"):
            full = {"ada": "Ada Lovelace", "bob": "Bob Babbage", "grace": "Grace Hopper"}[name]
            ids[name] = created(api.post("/api/v1/customers", {"name": full, "email": f"{name}@example.com"}))["id"]
        products: dict[str, str] = {}
        for product, variants in (("widget", ("blue", "red")), ("gizmo", ("green",))):
            ids[product] = created(api.post("/api/v1/inventory/products", {"name": product.title()}))["id"]
            for price, variant in enumerate(variants, start=3):
                ids[variant] = created(api.post("/api/v1/inventory/products/variants", {
                    "product_id": ids[product], "name": f"{variant.title()} {product}", "sku": variant,
                    "unit_price": price * 100}))["id"]
                products[ids[variant]] = ids[product]
        created(api.post("/api/v1/inventory/locations", {"name": "Main", "code": "MAIN"}))
        invoice_ids = []
        for customer, lines, due, description in PLAN:
            body: dict[str, Any] = {
                "customer_id": ids[customer], "issue_date": "2030-01-01", "due_date": due,
                "line_items": [{"variant_id": ids[what], "quantity": qty} if isinstance(what, str)
                               else {"description": "Service", "unit_price": what, "quantity": qty}
                               for what, qty in lines],
            }
            if description:
                body["description"] = description
            invoice_ids.append(created(api.post(INVOICES, body))["id"])
        for index in FINALIZE_ORDER:
            ok(api.post(f"{INVOICES}/{invoice_ids[index]}/finalize"))
        for index, status in END_STATE.items():
            path = f"{INVOICES}/{invoice_ids[index]}"
            if status == "void":
                ok(api.put(f"{path}/void"))
            elif status == "manual_paid":
                ok(api.put(f"{path}/paid"))
            else:
                before = store.get(tenant.business_id, invoice_ids[index])
                store.replace(before, before.invoice.model_copy(update={"status": status}))
        rows = [ok(api.get(f"{INVOICES}/{i}")) for i in invoice_ids]

        other = make_tenant(name="Other Co")
        theirs = created(api.post("/api/v1/customers", {"name": "Ada Lovelace", "email": "a@example.com"},
                                  as_tenant=other))
        other_ids = [created(api.post(INVOICES, {"customer_id": theirs["id"], "due_date": "2030-01-31",
                                                 "description": "Spring order",
                                                 "line_items": [{"description": "x", "unit_price": 10 * n}]},
                                      as_tenant=other))["id"] for n in range(1, 4)]
        ok(api.post(f"{INVOICES}/{other_ids[0]}/finalize", as_tenant=other))
        yield Ledger(api, tenant, rows, products, ids, other, other_ids)


def test_the_ledger_is_as_planned(ledger: Ledger) -> None:
    # the invoices' ids sort in creation order (UUIDv7), which "created_at" relies on
    assert [r["id"] for r in ledger.rows] == sorted(r["id"] for r in ledger.rows)
    statuses = [r["status"] for r in ledger.rows]
    assert statuses == ["open", "draft", "void", "manual_paid", "draft", "partially_paid", "open", "draft",
                        "uncollectible", "open", "draft", "open"]
    numbers = {i: ledger.rows[i]["number"] for i in FINALIZE_ORDER}
    assert numbers == {index: f"INV-{n:03d}" for n, index in enumerate(FINALIZE_ORDER, start=1)}


def test_the_default_is_everything_newest_first(ledger: Ledger) -> None:
    reply = ledger.get()
    assert reply.status == 200
    envelope = reply.json()
    assert (envelope["success"], envelope["code"]) == (True, "invoice.list")
    page = envelope["data"]
    assert page["items"] == sorted(ledger.rows, key=lambda r: r["id"], reverse=True)
    assert (page["total"], page["limit"], page["next_cursor"], page["prev_cursor"], page["has_next"],
            page["has_prev"]) == (None, 50, None, None, False, False)


# ---------------------------------------------------------------- filters

@pytest.mark.parametrize("sort_by", SORTS)
def test_filter_by_id(ledger: Ledger, sort_by: str) -> None:
    wanted = ledger.rows[5]["id"]
    assert ledger.listed(f"id={wanted}&sort_by={sort_by}") == [wanted]
    assert ledger.listed(f"id={wanted.upper()}&sort_by={sort_by}") == [wanted]
    assert ledger.listed(f"id={MISSING}&sort_by={sort_by}") == []
    # another business's id is just not there
    assert ledger.listed(f"id={ledger.other_ids[0]}&sort_by={sort_by}") == []
    # and it combines with the other filters
    assert ledger.listed(f"id={wanted}&customer_id={ledger.ids['ada']}&sort_by={sort_by}") == []


def test_filter_by_customer(ledger: Ledger) -> None:
    for name in ("ada", "bob", "grace"):
        assert ledger.listed(f"customer_id={ledger.ids[name]}") == ledger.where(
            lambda r, n=name: r["customer_id"] == ledger.ids[n])
    assert ledger.listed(f"customer_id={MISSING}") == []


def test_filter_by_variant_and_product(ledger: Ledger) -> None:
    def variants(row: dict[str, Any]) -> set[str]:
        return {line["variant_id"] for line in row["line_items"] if line["variant_id"]}

    for variant in ("blue", "red", "green"):
        expected = ledger.where(lambda r, v=variant: ledger.ids[v] in variants(r))
        assert expected and ledger.listed(f"variant_id={ledger.ids[variant]}") == expected
    for product in ("widget", "gizmo"):
        expected = ledger.where(lambda r, p=product: ledger.ids[p] in {ledger.products[v] for v in variants(r)})
        assert expected and ledger.listed(f"product_id={ledger.ids[product]}") == expected
    assert ledger.listed(f"product_id={ledger.ids['gizmo']}&variant_id={ledger.ids['blue']}") == ledger.where(
        lambda r: {ledger.ids["green"], ledger.ids["blue"]} <= variants(r))
    assert ledger.listed(f"variant_id={MISSING}") == ledger.listed(f"product_id={MISSING}") == []


@pytest.mark.parametrize(("query", "statuses"), [
    ("status=open", {"open"}),
    ("status=draft", {"draft"}),
    ("status=open&status=void", {"open", "void"}),
    ("status[]=void&status[]=manual_paid", {"void", "manual_paid"}),
    (f"{quote('status[]')}=uncollectible", {"uncollectible"}),
    ("status=partially-paid", {"partially_paid"}),
    ("status=partially_paid", {"partially_paid"}),
    ("status=Partially-Paid&status[]=DRAFT", {"partially_paid", "draft"}),
    ("status=manual-paid&status=manual_paid", {"manual_paid"}),
    ("status=stripe_paid", set()),
])
def test_filter_by_status_in_every_spelling(ledger: Ledger, query: str, statuses: set[str]) -> None:
    assert ledger.listed(query) == ledger.where(lambda r: r["status"] in statuses)


def test_filters_combine(ledger: Ledger) -> None:
    query = f"customer_id={ledger.ids['ada']}&status=open&product_id={ledger.ids['widget']}"
    assert ledger.listed(query) == ledger.where(
        lambda r: r["customer_id"] == ledger.ids["ada"] and r["status"] == "open"
        and any(ledger.products.get(line["variant_id"]) == ledger.ids["widget"] for line in r["line_items"]))


@pytest.mark.parametrize("query", ["status=paid", "status[]=bogus", "status=open&status=closed", "status=open,nope"])
def test_an_unknown_status_is_a_422_at_query_status(ledger: Ledger, query: str) -> None:
    reply = ledger.get(query)
    assert reply.status == 422, reply.body
    (error,) = reply.json()["detail"]
    assert set(error) == VALIDATION_KEYS
    assert error["loc"] == ["query", "status"]


@pytest.mark.parametrize(("search", "keep"), [
    ("crate", lambda r: "crate" in (r["description"] or "").lower()),
    ("CRATE", lambda r: "crate" in (r["description"] or "").lower()),
    ("gizmo", lambda r: "gizmo" in (r["description"] or "").lower()),
    ("inv-00", lambda r: r["number"] is not None),
    ("INV-003", lambda r: r["number"] == "INV-003"),
    ("hopper", lambda r: r["customer_name"] == "Grace Hopper"),
    ("Ada L", lambda r: r["customer_name"] == "Ada Lovelace"),
    ("o", lambda r: True),  # every customer name has an o
    ("nothing like it", lambda r: False),
])
def test_search_is_a_case_insensitive_part_of_number_description_or_customer(ledger: Ledger, search: str,
                                                                              keep: Any) -> None:
    expected = ledger.where(keep)
    assert ledger.listed(f"search={quote(search)}") == expected
    # the other business has "Ada Lovelace" and "Spring order" too: never listed here
    assert not set(ledger.listed(f"search={quote(search)}")) & set(ledger.other_ids)


def test_search_length_is_validated(ledger: Ledger) -> None:
    for query in ("search=", f"search={'x' * 201}"):
        reply = ledger.get(query)
        assert reply.status == 422 and reply.json()["detail"][0]["loc"] == ["query", "search"], reply.body


# ---------------------------------------------------------------- sorting

def sort_key(sort_by: str) -> Callable[[dict[str, Any]], tuple[Any, str]]:
    def key(row: dict[str, Any]) -> tuple[Any, str]:
        if sort_by == "created_at":
            return (row["created_at"], row["id"])
        if sort_by == "number":
            return (int(row["number"][4:]) if row["number"] else 0, row["id"])
        return (row[sort_by], row["id"])
    return key


@pytest.mark.parametrize("sort_by", SORTS)
@pytest.mark.parametrize("descending", ["true", "false"])
def test_sort_orders(ledger: Ledger, sort_by: str, descending: str) -> None:
    expected = sorted(ledger.rows, key=sort_key(sort_by), reverse=descending == "true")
    items = ok(ledger.get(f"sort_by={sort_by}&descending={descending}"))["items"]
    assert [i["id"] for i in items] == [r["id"] for r in expected]
    assert items == expected


def test_sorting_by_number_puts_drafts_last_when_descending(ledger: Ledger) -> None:
    numbers = [i["number"] for i in ok(ledger.get("sort_by=number"))["items"]]
    assert numbers == [f"INV-{n:03d}" for n in range(8, 0, -1)] + [None] * 4


# ---------------------------------------------------------------- paging

def walk(ledger: Ledger, query: str, limit: int) -> tuple[list[list[str]], list[dict[str, Any]]]:
    """Every page forward from the first, then back from the last with direction=prev."""
    forward, pages = [], []
    page = ok(ledger.get(f"{query}&limit={limit}"))
    assert (page["has_prev"], page["prev_cursor"]) == (False, None)
    while True:
        pages.append(page)
        forward.append([i["id"] for i in page["items"]])
        assert page["limit"] == limit and len(page["items"]) <= limit
        if not page["has_next"]:
            assert page["next_cursor"] is None
            break
        assert len(pages) < 20, "paging does not end"
        page = ok(ledger.get(f"{query}&limit={limit}&cursor={page['next_cursor']}"))
        assert page["has_prev"] is True and page["prev_cursor"]
    backward = [forward[-1]]
    page = pages[-1]
    while page["has_prev"]:
        assert len(backward) < 20, "paging back does not end"
        page = ok(ledger.get(f"{query}&limit={limit}&cursor={page['prev_cursor']}&direction=prev"))
        assert page["has_next"] is True and page["next_cursor"]
        backward.insert(0, [i["id"] for i in page["items"]])
    assert page["prev_cursor"] is None
    assert backward == forward, "paging back gave other pages than paging forward"
    return forward, pages


@pytest.mark.parametrize("sort_by", SORTS)
@pytest.mark.parametrize("descending", ["true", "false"])
def test_walking_every_page_forward_and_back_sees_each_invoice_once_in_order(ledger: Ledger, sort_by: str,
                                                                             descending: str) -> None:
    expected = [r["id"] for r in sorted(ledger.rows, key=sort_key(sort_by), reverse=descending == "true")]
    forward, _ = walk(ledger, f"sort_by={sort_by}&descending={descending}", limit=5)
    assert [len(p) for p in forward] == [5, 5, 2]
    assert [i for p in forward for i in p] == expected


@pytest.mark.parametrize("sort_by", SORTS)
def test_walking_a_filtered_list_sees_each_match_once_in_order(ledger: Ledger, sort_by: str) -> None:
    keep = {"open", "draft", "void"}
    expected = [r["id"] for r in sorted(ledger.rows, key=sort_key(sort_by), reverse=True) if r["status"] in keep]
    forward, pages = walk(ledger, f"sort_by={sort_by}&status=open&status=draft&status=void"
                                  "&include_total_count=true", limit=3)
    assert [i for p in forward for i in p] == expected
    assert {p["total"] for p in pages} == {len(expected)}


def test_the_next_cursor_read_with_direction_prev_pages_back_from_its_edge(ledger: Ledger) -> None:
    everything = ledger.listed("limit=1000")
    first = ok(ledger.get("limit=5"))
    # the next cursor points after the page's last item; read backwards it gives the items before that one
    back = ok(ledger.get(f"limit=5&cursor={first['next_cursor']}&direction=prev"))
    assert [i["id"] for i in back["items"]] == everything[:4]
    assert (back["has_prev"], back["has_next"]) == (False, True)


def test_include_total_count(ledger: Ledger) -> None:
    assert ok(ledger.get("limit=2"))["total"] is None
    assert ok(ledger.get("limit=2&include_total_count=false"))["total"] is None
    assert ok(ledger.get("limit=2&include_total_count=true"))["total"] == 12
    assert ok(ledger.get("include_total_count=true&status=draft&sort_by=total"))["total"] == 4
    assert ok(ledger.get(f"include_total_count=true&customer_id={ledger.ids['grace']}"))["total"] == 4
    assert ok(ledger.get("include_total_count=true&search=nothing"))["total"] == 0
    assert ok(ledger.get("include_total_count=true", as_tenant=ledger.other))["total"] == 3


@pytest.mark.parametrize(("query", "loc"), [
    ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=-5", "limit"), ("limit=ten", "limit"),
    ("limit=2.5", "limit"), ("sort_by=customer", "sort_by"), ("direction=sideways", "direction"),
    ("descending=maybe", "descending"), ("include_total_count=perhaps", "include_total_count"),
    ("id=not-a-uuid", "id"), ("customer_id=nope", "customer_id"), ("product_id=1", "product_id"),
    ("variant_id=x", "variant_id"), (f"cursor={'a' * 2049}", "cursor"), ("cursor=", "cursor"),
])
def test_list_parameters_are_validated(ledger: Ledger, query: str, loc: str) -> None:
    reply = ledger.get(query)
    assert reply.status == 422, reply.body
    details = reply.json()["detail"]
    assert all(set(d) == VALIDATION_KEYS for d in details)
    assert ["query", loc] in [d["loc"] for d in details], details


@pytest.mark.parametrize("limit", [1, 1000])
def test_limit_bounds_are_inclusive(ledger: Ledger, limit: int) -> None:
    page = ok(ledger.get(f"limit={limit}"))
    assert len(page["items"]) == min(limit, 12) and page["has_next"] is (limit == 1)


# ---------------------------------------------------------------- cursors that must not work

def encode(payload: Any, ascii: bool = True) -> str:
    raw = json.dumps(payload, ensure_ascii=ascii).encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def refused(ledger: Ledger, query: str, as_tenant: Tenant | None = None) -> None:
    reply = ledger.get(query, as_tenant=as_tenant)
    assert reply.status == 400, reply.body
    assert reply.json()["code"] == "invalid_cursor", reply.body


@pytest.mark.parametrize("sort_by", SORTS)
def test_a_cursor_of_another_business_is_a_400(ledger: Ledger, sort_by: str) -> None:
    # Given a genuine cursor of the other business's list
    theirs = ok(ledger.get(f"sort_by={sort_by}&limit=1", as_tenant=ledger.other))["next_cursor"]
    ours = ok(ledger.get(f"sort_by={sort_by}&limit=1"))["next_cursor"]
    # When / Then: each business's cursor only works in its own list
    refused(ledger, f"sort_by={sort_by}&cursor={theirs}")
    refused(ledger, f"sort_by={sort_by}&cursor={ours}", as_tenant=ledger.other)
    # even rewritten to name our partition but keep their index partition (or the other way round)
    edge = decode(theirs)["k"]
    for name in edge:
        if edge[name].startswith(f"BIZ#{ledger.other.business_id}"):
            forged = {**edge, name: edge[name].replace(ledger.other.business_id, ledger.tenant.business_id)}
            for key in forged:
                if key != name and forged[key].startswith("BIZ#"):
                    refused(ledger, f"sort_by={sort_by}&cursor={encode({'k': forged, 'd': 'next'})}")


@pytest.mark.parametrize(("issued_by", "used_with"), [
    ("sort_by=created_at", "sort_by=total"),
    ("sort_by=total", "sort_by=due_date"),
    ("sort_by=due_date", "sort_by=number"),
    ("sort_by=number", "sort_by=created_at"),
    ("sort_by=created_at", f"sort_by=created_at&id={MISSING}"),
])
def test_a_cursor_of_another_sort_order_is_a_400(ledger: Ledger, issued_by: str, used_with: str) -> None:
    cursor = ok(ledger.get(f"{issued_by}&limit=2"))["next_cursor"]
    refused(ledger, f"{used_with}&cursor={cursor}")


def test_a_cursor_of_another_list_is_a_400(ledger: Ledger) -> None:
    for path in ("/api/v1/customers", "/api/v1/inventory/products/variants", "/api/v1/inventory/products"):
        cursor = ok(ledger.api.get(path, query="limit=1"))["next_cursor"]
        assert cursor, path
        refused(ledger, f"cursor={cursor}")


def forged_cursors(ledger: Ledger) -> list[tuple[str, str]]:
    """(sort_by, cursor) pairs a client could make up."""
    biz = f"BIZ#{ledger.tenant.business_id}"
    index = f"{biz}#INVOICES"
    real = decode(ok(ledger.get("sort_by=total&limit=1"))["next_cursor"])["k"]
    return [
        ("created_at", "abc"),
        ("created_at", "!!!!"),
        ("created_at", "%%%"),
        ("created_at", base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode()),
        ("created_at", encode([])),
        ("created_at", encode(None)),
        ("created_at", encode({"k": {}, "d": "next"})),
        ("created_at", encode({"k": {"PK": biz, "SK": "INVOICE#x"}, "d": "sideways"})),
        ("created_at", encode({"k": {"PK": biz, "SK": "INVOICE#x"}})),
        ("created_at", encode({"k": {"PK": biz, "SK": 5}, "d": "next"})),
        ("created_at", encode({"k": {"PK": biz, "SK": {"S": "INVOICE#x"}}, "d": "next"})),
        ("created_at", encode({"k": {"PK": biz, "SK": "CUSTOMER#x"}, "d": "next"})),
        ("created_at", encode({"k": {"PK": biz, "SK": "BUSINESS"}, "d": "prev"})),
        ("created_at", encode({"k": {"PK": "BIZ#" + MISSING, "SK": "INVOICE#x"}, "d": "next"})),
        ("created_at", encode({"k": {"PK": biz, "SK": "INVOICE#x", "extra": "y"}, "d": "next"})),
        ("created_at", encode({"k": {"PK": biz, "SK": "INVOICE#" + "x" * 1100}, "d": "next"})),
        ("created_at", encode({"k": {"PK": biz, "SK": "INVOICE#" + "\u20ac" * 350}, "d": "next"}, ascii=False)),
        ("created_at", encode({"k": {"PK": biz, "SK": "INVOICE#" + "\U0001f600" * 260}, "d": "next"}, ascii=False)),
        ("created_at", encode({"k": {"PK": biz, "SK": "INVOICE#\ud800"}, "d": "next"})),
        ("total", encode({"k": {"PK": biz, "SK": "INVOICE#x"}, "d": "next"})),
        ("total", encode({"k": {**real, "GSI2PK": f"{biz}#CUSTOMERS"}, "d": "next"})),
        ("total", encode({"k": {**real, "PK": "BIZ#" + MISSING}, "d": "next"})),
        ("total", encode({"k": {**real, "GSI2SK": ""}, "d": "next"})),
        ("total", encode({"k": {**real, "SK": ""}, "d": "next"})),
        ("due_date", encode({"k": {"PK": biz, "SK": "", "GSI1PK": index, "GSI1SK": ""}, "d": "next"})),
        ("number", encode({"k": {"PK": biz, "SK": "INVOICE#x", "GSI3PK": index, "GSI3SK": ""}, "d": "prev"})),
    ]


def test_forged_cursors_are_400_never_500(ledger: Ledger) -> None:
    answers = []
    for sort_by, cursor in forged_cursors(ledger):
        try:
            reply = ledger.get(f"sort_by={sort_by}&cursor={quote(cursor)}")
            status, code = reply.status, (reply.json() or {}).get("code")
        except Exception as error:  # noqa: BLE001 - a function that raises is API Gateway's 502
            status, code = 502, repr(error)[:200]
        answers.append((sort_by, decode_or_raw(cursor), status, code))
    wrong = [answer for answer in answers if answer[2:] != (400, "invalid_cursor")]
    assert not wrong, "\n".join(map(str, wrong))


def decode_or_raw(cursor: str) -> Any:
    try:
        return decode(cursor)
    except ValueError:
        return cursor


def test_a_made_up_cursor_inside_our_own_list_only_reads_our_own_invoices(ledger: Ledger) -> None:
    # A cursor that names a key of our own list that is no invoice is allowed: it is a position, not data
    biz = f"BIZ#{ledger.tenant.business_id}"
    page = ok(ledger.get(f"cursor={encode({'k': {'PK': biz, 'SK': 'INVOICE#~'}, 'd': 'next'})}&limit=1000"))
    assert [i["id"] for i in page["items"]] == ledger.listed("limit=1000")
    assert all(i["business_id"] == ledger.tenant.business_id for i in page["items"])


def test_another_business_never_sees_our_invoices(ledger: Ledger) -> None:
    theirs = [i["id"] for i in ok(ledger.get("limit=1000", as_tenant=ledger.other))["items"]]
    assert sorted(theirs) == sorted(ledger.other_ids)
    for sort_by in SORTS:
        assert sorted(ledger.listed(f"sort_by={sort_by}&limit=1000")) == sorted(r["id"] for r in ledger.rows)
