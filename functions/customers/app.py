"""Customers API: create, list (paged, searchable), read, update, soft-delete."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from invoicing.domain.models import Customer
from invoicing.http.api import InvoicingApi, entry_point
from invoicing.http.envelope import Envelope, Page, counted, documented, ok
from invoicing.http.paging import Cursor, Descending, Direction, IncludeTotal, Limit, SortByCreated, page_request
from invoicing.operations import customers
from invoicing.schemas.customers import CustomerCreate, CustomerUpdate
from invoicing.schemas.types import Uuid

app = InvoicingApi()

CustomerId = Annotated[Uuid, Path(description="The customer's UUID")]


@app.post("/api/v1/customers", status_code=201, responses=documented(201), summary="Create customer",
          tags=["customers"])
def create_customer(body: Annotated[CustomerCreate, Body()]) -> Envelope[Customer]:
    customer = customers.create_customer(app.caller.business_id, body)
    return counted(customer, metric="CustomerCreated", code="customer.created", message="Customer created")


@app.get("/api/v1/customers", responses=documented(200), summary="List customers", tags=["customers"],
         description="Customers of the business that are not deleted, newest first by default.")
def list_customers(
    search: Annotated[str | None, Query(max_length=200, description="Case-insensitive part of name or email")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    direction: Direction = None,
    descending: Descending = True,
    include_total_count: IncludeTotal = False,
    sort_by: SortByCreated = "created_at",
) -> Envelope[Page[Customer]]:
    request = page_request(limit, cursor, direction, descending, include_total_count)
    page, items = customers.list_customers(app.caller.business_id, request, search=search)
    return ok(page.as_dict(items), code="customer.list", message="Customers retrieved")


@app.get("/api/v1/customers/<customer_id>", responses=documented(200, 404), summary="Get customer",
         tags=["customers"])
def get_customer(customer_id: CustomerId) -> Envelope[Customer]:
    customer = customers.get_customer(app.caller.business_id, customer_id)
    return ok(customer, code="customer.retrieved", message="Customer retrieved")


@app.put("/api/v1/customers/<customer_id>", responses=documented(200, 404, 409), summary="Update customer",
         tags=["customers"],
         description="Partial update: fields left out keep their value; phone or address null clears it. A deleted "
                     "customer is a 404.")
def update_customer(customer_id: CustomerId, body: Annotated[CustomerUpdate, Body()]) -> Envelope[Customer]:
    customer = customers.update_customer(app.caller.business_id, customer_id, body)
    return ok(customer, code="customer.updated", message="Customer updated")


@app.delete("/api/v1/customers/<customer_id>", status_code=204, responses=documented(204, 404),
            summary="Delete customer", tags=["customers"],
            description="Soft delete: the customer disappears from reads, lists and new invoices; invoices already "
                        "written keep its name and email.")
def delete_customer(customer_id: CustomerId) -> Response[None]:
    customers.delete_customer(app.caller.business_id, customer_id)
    return Response(status_code=204, body="")


lambda_handler = entry_point(app, __name__)
