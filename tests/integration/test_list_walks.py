"""Every filtered list walked page by page, forward then back then forward again, against an
oracle, in a business holding more than one 1 MB Query page (API.md, "Lists").

A client sees what it would build a screen from: each page holds ``limit`` matches unless the list
ends there; ``has_next``/``has_prev`` are true exactly when their cursor is set; the pages, walked
either way, give every match once, in order. The filters clients use most (a customer, a status)
are one Query a page whatever else the business holds. Runs on DynamoDB Local too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from helpers import Api, Tenant, make_tenant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.emulated import emulated_aws

INVOICES = "/api/v1/invoices"
CHARGES = "/api/v1/delayed-charges"
CUSTOMERS = "/api/v1/customers"
LONG = "x" * 480  # long descriptions: the bulk makes the business's lists span several 1 MB pages
SEARCH_WORD = "quartz"


def data(reply: Any, status: int = 200) -> dict[str, Any]:
    assert reply.status == status, reply.body
    return dict(reply.json()["data"])


@dataclass
class World:
    api: Api
    tenant: Tenant
    customers: dict[str, str]  # name -> id
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> as last answered
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted_customers: set[str] = field(default_factory=set)


def _invoice_body(customer_id: str, n: int, *, big: bool) -> dict[str, Any]:
    lines = 30 if big else 1
    return {
        "customer_id": customer_id, "issue_date": "2030-01-01",
        "due_date": f"2030-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "description": f"Order {n}" + (f" {SEARCH_WORD}" if n % 5 == 0 else ""),
        "line_items": [{"description": f"{LONG} {i}" if big else "Service", "unit_price": 100 + (n * 37 + i) % 900,
                        "quantity": 1 + i % 3} for i in range(lines)],
    }


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """A business whose few invoices and charges of "ada" are the oldest, buried under a bulk of
    large ones of "bulk" (over 1 MB of each), with "grace"'s interleaved; in every status."""
    from invoicing.storage import delayed_charges, transactions

    with emulated_aws("invoicing-test"):
        tenant = make_tenant()
        api = Api(tenant)
        names = ("ada", "bulk", "grace", "gone")
        customers = {n: data(api.post(CUSTOMERS, {"name": f"{n.title()} {SEARCH_WORD if n == 'grace' else 'Ltd'}",
                                                 "email": f"{n}@example.com"}), 201)["id"] for n in names}
        for n in range(40):  # customers beyond one page, some deleted
            customers[f"c{n:02d}"] = data(api.post(CUSTOMERS, {"name": f"Client {n} {SEARCH_WORD * (n % 3 == 0)}",
                                                               "email": f"c{n}@example.com"}), 201)["id"]
        world = World(api, tenant, customers)
        plan = ["ada"] * 7 + [("grace" if n % 9 == 0 else "bulk") for n in range(110)]
        for n, who in enumerate(plan):
            created = data(api.post(INVOICES, _invoice_body(customers[who], n, big=who == "bulk")), 201)
            world.invoices[created["id"]] = created
        ordered = sorted(world.invoices)
        for n, invoice_id in enumerate(ordered):  # every state, reached through the API
            if n % 3 == 0:
                continue  # stays a draft
            path = f"{INVOICES}/{invoice_id}"
            world.invoices[invoice_id] = data(api.post(f"{path}/finalize"))
            if n % 3 == 2 and n % 2 == 0:
                world.invoices[invoice_id] = data(api.put(f"{path}/void"))
            elif n % 3 == 2:
                world.invoices[invoice_id] = data(api.put(f"{path}/paid"))
        for n in range(4):
            made = data(api.post(CHARGES, {"customer_id": customers["ada"], "amount": 100 + n,
                                           "description": f"Ada charge {n} {SEARCH_WORD}"}), 201)
            world.charges[made["id"]] = made
        for n in range(450):
            who = "grace" if n % 15 == 0 else "bulk"
            made = data(api.post(CHARGES, {"customer_id": customers[who], "amount": 1000 + n,
                                           "type": "credit" if n % 4 == 0 else "charge",
                                           "description": f"{LONG} {n}" + (f" {SEARCH_WORD}" if n % 7 == 0 else ""),
                                           "internal_notes": LONG * 4}), 201)
            world.charges[made["id"]] = made
        for n, charge_id in enumerate(sorted(world.charges)):
            if n % 4 == 1:  # swept onto an invoice, by the action the sweep uses
                charge = delayed_charges.get(tenant.business_id, charge_id)
                transactions.transact([delayed_charges.invoice_action(charge, ordered[0], "2030-01-02T00:00:00Z")])
                world.charges[charge_id] = {**world.charges[charge_id], "status": "invoiced"}
        for name in ("gone", "c03", "c17", "c18"):
            assert api.delete(f"{CUSTOMERS}/{customers[name]}").status in (200, 204)
            world.deleted_customers.add(customers[name])
        yield world


def _number_seq(invoice: dict[str, Any]) -> int:
    return int(invoice["number"].removeprefix("INV-")) if invoice["number"] else 0


INVOICE_SORTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "created_at": lambda i: i["id"],
    "due_date": lambda i: (i["due_date"], i["id"]),
    "total": lambda i: (i["total"], i["id"]),
    "number": lambda i: (_number_seq(i), i["id"]),
}


@dataclass
class Walk:
    pages: list[dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        return [item["id"] for page in self.pages for item in page["items"]]


def _page(api: Api, path: str, params: dict[str, Any], limit: int, cursor: str | None = None,
          direction: str | None = None) -> dict[str, Any]:
    query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {}),
             **({"direction": direction} if direction else {})}
    page = data(api.get(path, query=urlencode(query, doseq=True)))
    assert page["has_next"] is (page["next_cursor"] is not None), page
    assert page["has_prev"] is (page["prev_cursor"] is not None), page
    assert len(page["items"]) <= limit
    return page


def walk_three_ways(api: Api, path: str, params: dict[str, Any], limit: int, expected: list[str],
                    *, full_pages: bool = True, say_prev: bool = False) -> list[dict[str, Any]]:
    """Forward to the end, back to the start, forward again: each way, every expected id once, in
    order. Returns every page read."""
    forward = [_page(api, path, params, limit)]
    assert not forward[0]["has_prev"]
    while forward[-1]["next_cursor"]:
        forward.append(_page(api, path, params, limit, forward[-1]["next_cursor"]))
    assert Walk(forward).ids == expected
    if full_pages:
        assert all(len(p["items"]) == limit for p in forward[:-1]), [len(p["items"]) for p in forward]
    back = [forward[-1]]
    while back[0]["prev_cursor"]:
        back.insert(0, _page(api, path, params, limit, back[0]["prev_cursor"], "prev" if say_prev else None))
    assert Walk(back).ids == expected
    again = [back[0]]
    while again[-1]["next_cursor"]:
        again.append(_page(api, path, params, limit, again[-1]["next_cursor"], "next" if say_prev else None))
    assert Walk(again).ids == expected
    return forward + back + again


def expected_invoices(world: World, params: dict[str, Any]) -> list[str]:
    rows = list(world.invoices.values())
    if "customer_id" in params:
        rows = [r for r in rows if r["customer_id"] == params["customer_id"]]
    if "status" in params:
        rows = [r for r in rows if r["status"] in params["status"]]
    if "search" in params:
        rows = [r for r in rows if params["search"] in (r["description"] or "").lower()
                or params["search"] in r["customer_name"].lower()]
    rows.sort(key=INVOICE_SORTS[params.get("sort_by", "created_at")], reverse=params.get("descending", True))
    return [r["id"] for r in rows]


def expected_charges(world: World, params: dict[str, Any]) -> list[str]:
    rows = [c for c in world.charges.values()
            if all(c[name] == params[name] for name in ("customer_id", "status", "type") if name in params)
            and ("search" not in params or params["search"] in c["description"].lower())]
    return [r["id"] for r in sorted(rows, key=lambda r: r["id"], reverse=params.get("descending", True))]


def _customer(world: World, draw: st.DrawFn) -> str:
    return world.customers[draw(st.sampled_from(["ada", "bulk", "grace"]))]


@st.composite
def invoice_queries(draw: st.DrawFn, world: World) -> dict[str, Any]:
    params: dict[str, Any] = {"sort_by": draw(st.sampled_from(sorted(INVOICE_SORTS))),
                              "descending": draw(st.booleans())}
    if draw(st.booleans()):
        params["customer_id"] = _customer(world, draw)
    if draw(st.booleans()):
        params["status"] = draw(st.lists(st.sampled_from(["draft", "open", "void", "manual_paid"]),
                                         min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 3)) == 0:
        params["search"] = SEARCH_WORD
    return params


@st.composite
def charge_queries(draw: st.DrawFn, world: World) -> dict[str, Any]:
    params: dict[str, Any] = {"descending": draw(st.booleans())}
    if draw(st.booleans()):
        params["customer_id"] = _customer(world, draw)
    if draw(st.booleans()):
        params["status"] = draw(st.sampled_from(["pending", "invoiced"]))
    if draw(st.integers(0, 2)) == 0:
        params["type"] = draw(st.sampled_from(["charge", "credit"]))
    if draw(st.integers(0, 3)) == 0:
        params["search"] = SEARCH_WORD
    return params


def _as_query(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in params.items()}


WALKS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_business_spans_several_query_pages(world: World) -> None:
    from invoicing.storage import keys
    from invoicing.storage.table import client, table_name

    for prefix, written in ((keys.INVOICE, world.invoices), (keys.DELAYED_CHARGE, world.charges)):
        out = client().query(TableName=table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
                             ExpressionAttributeValues={":pk": {"S": keys.business(world.tenant.business_id)},
                                                        ":p": {"S": prefix}})
        # one 1 MB Query holds well under the whole list: else the walks would prove little
        assert "LastEvaluatedKey" in out and out["Count"] < 0.8 * len(written), (prefix, out["Count"], len(written))


LISTS = {  # path -> (its queries, page sizes to walk with, the oracle)
    INVOICES: (invoice_queries, [3, 10, 40], expected_invoices),
    CHARGES: (charge_queries, [3, 50, 200], expected_charges),
}


@pytest.mark.parametrize("path", sorted(LISTS))
@WALKS
@given(draw=st.data())
def test_filtered_lists_walk_both_ways(world: World, path: str, draw: st.DataObject) -> None:
    queries, limits, oracle = LISTS[path]
    params = draw.draw(queries(world))
    walk_three_ways(world.api, path, _as_query(params), draw.draw(st.sampled_from(limits)), oracle(world, params),
                    say_prev=draw.draw(st.booleans()))


@pytest.mark.parametrize(("descending", "search"), [(True, None), (False, SEARCH_WORD)])
def test_the_customer_list_walks_both_ways_without_the_deleted(world: World, descending: bool,
                                                               search: str | None) -> None:
    listed = {customer_id for customer_id in world.customers.values() if customer_id not in world.deleted_customers}
    found = data(world.api.get(CUSTOMERS, query="limit=1000"))["items"]
    names = {c["id"]: c["name"].lower() for c in found}
    assert set(names) == listed
    expected = sorted((i for i in listed if search is None or search in names[i]), reverse=descending)
    params = {"descending": str(descending).lower(), **({"search": search} if search else {})}
    walk_three_ways(world.api, CUSTOMERS, params, 4, expected)


def test_the_buried_customer_s_first_page_is_full(world: World) -> None:
    # The issue as a client saw it: 7 invoices of ada, older than a bulk of another customer's.
    page = data(world.api.get(INVOICES, query=f"customer_id={world.customers['ada']}&limit=10"))
    assert len(page["items"]) == 7 and not page["has_next"] and page["next_cursor"] is None
    page = data(world.api.get(CHARGES, query=f"customer_id={world.customers['ada']}&limit=50"))
    assert len(page["items"]) == 4 and not page["has_next"]


@contextmanager
def counted_queries() -> Iterator[list[dict[str, Any]]]:
    """Each DynamoDB Query the code under test makes (its parameters), by botocore's event hooks."""
    from invoicing.storage.table import client

    calls: list[dict[str, Any]] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        calls.append(params)

    events = client().meta.events
    events.register("provide-client-params.dynamodb.Query", count)
    try:
        yield calls
    finally:
        events.unregister("provide-client-params.dynamodb.Query", count)


@pytest.mark.parametrize("which", ["invoices by customer", "invoices by status", "charges by customer",
                                   "charges by status", "charges by customer and status"])
def test_the_filters_clients_use_most_are_one_query_a_page(world: World, which: str) -> None:
    ada, bulk = world.customers["ada"], world.customers["bulk"]
    path, params, oracle = {
        "invoices by customer": (INVOICES, {"customer_id": ada}, expected_invoices),
        "invoices by status": (INVOICES, {"status": ["void"]}, expected_invoices),
        "charges by customer": (CHARGES, {"customer_id": bulk}, expected_charges),
        "charges by status": (CHARGES, {"status": "invoiced"}, expected_charges),
        "charges by customer and status": (CHARGES, {"customer_id": bulk, "status": "pending"}, expected_charges),
    }[which]
    with counted_queries() as calls:
        page = data(world.api.get(path, query=urlencode({**params, "limit": 20}, doseq=True)))
    assert [item["id"] for item in page["items"]] == oracle(world, params)[:20]
    assert len(calls) == 1 and "IndexName" in calls[0] and "FilterExpression" not in calls[0]


def test_a_page_cut_short_by_the_read_budget_still_leads_on(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a budget of one Query a page, and DynamoDB stopping each filtered Query after 5 items
    # (as it stops at 1 MB; DynamoDB Local measures the 1 MB after the filter, so it is forced here)
    from invoicing.storage import paging
    from invoicing.storage.table import client

    monkeypatch.setattr(paging, "READ_BUDGET", 1)

    def stop_early(params: dict[str, Any], **_: Any) -> None:
        if "FilterExpression" in params:
            params["Limit"] = 5

    client().meta.events.register("provide-client-params.dynamodb.Query", stop_early)
    try:
        params = {"search": SEARCH_WORD, "descending": False}
        expected = expected_invoices(world, params)
        with counted_queries() as calls:
            first = data(world.api.get(INVOICES, query=urlencode({**_as_query(params), "limit": len(expected)})))
        # Then the page is short, one Query, and yet carries the cursor that reads on ...
        assert len(calls) == 1 and len(first["items"]) < len(expected) and first["next_cursor"]
        # ... and the walks still give every match once, in order, through pages short and empty
        pages = walk_three_ways(world.api, INVOICES, _as_query(params), 3, expected, full_pages=False)
        assert any(not page["items"] for page in pages)
    finally:
        client().meta.events.unregister("provide-client-params.dynamodb.Query", stop_early)


def test_a_status_change_moves_the_invoice_between_status_lists(world: World) -> None:
    api = world.api
    invoice = data(api.post(INVOICES, _invoice_body(world.customers["ada"], 1, big=False)), 201)

    def in_status(status: str) -> bool:
        query = f"status={status}&limit=1000"
        return invoice["id"] in {i["id"] for i in data(api.get(INVOICES, query=query))["items"]}

    assert in_status("draft") and not in_status("open")
    data(api.post(f"{INVOICES}/{invoice['id']}/finalize"))
    assert in_status("open") and not in_status("draft")
    world.invoices[invoice["id"]] = data(api.put(f"{INVOICES}/{invoice['id']}/paid"))  # the walks' oracle too
    assert in_status("manual_paid") and not in_status("open")


def test_another_business_s_cursor_is_refused(world: World) -> None:
    other = make_tenant(name="Other Co")
    page = data(world.api.get(INVOICES, query=f"customer_id={world.customers['bulk']}&limit=2"))
    reply = world.api.get(INVOICES, query=f"customer_id={world.customers['bulk']}&cursor={page['next_cursor']}",
                          as_tenant=other)
    assert reply.status == 400 and reply.json()["code"] == "invalid_cursor"
    # nor can a cursor of one customer's list read another customer's
    reply = world.api.get(INVOICES, query=f"customer_id={world.customers['ada']}&cursor={page['next_cursor']}")
    assert reply.status == 400
