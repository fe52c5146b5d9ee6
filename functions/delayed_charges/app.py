"""Delayed charges API: record charges and credits now, sweep them into a customer's next invoice."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from invoicing.domain.delayed_charges import PendingCharges
from invoicing.domain.models import DelayedCharge, DelayedChargeStatus, DelayedChargeType
from invoicing.http.api import InvoicingApi, entry_point
from invoicing.http.envelope import Envelope, Page, counted, documented, ok
from invoicing.http.paging import Cursor, Descending, Direction, IncludeTotal, Limit, SortByCreated, page_request
from invoicing.operations import delayed_charges
from invoicing.schemas.delayed_charges import DelayedChargeCreate, DelayedChargeUpdate
from invoicing.schemas.types import Currency, Uuid

app = InvoicingApi()

ChargeId = Annotated[Uuid, Path(description="The delayed charge's UUID")]
CustomerId = Annotated[Uuid, Path(description="The customer's UUID")]


@app.post("/api/v1/delayed-charges", status_code=201, responses=documented(201, 404),
          summary="Create delayed charge", tags=["delayed-charges"],
          description="A charge or credit, pending until an invoice of its customer (in its currency) sweeps it in. "
                      "404 if the customer is not a customer of this business.")
def create_delayed_charge(body: Annotated[DelayedChargeCreate, Body()]) -> Envelope[DelayedCharge]:
    charge = delayed_charges.create_delayed_charge(app.caller.business_id, body)
    return counted(charge, metric="DelayedChargeCreated", code="delayed_charge.created",
                   message="Delayed charge created")


@app.get("/api/v1/delayed-charges", responses=documented(200), summary="List delayed charges",
         tags=["delayed-charges"], description="The business's delayed charges, newest first by default.")
def list_delayed_charges(
    customer_id: Annotated[Uuid | None, Query(description="Only this customer's")] = None,
    status: Annotated[DelayedChargeStatus | None, Query(description="pending or invoiced")] = None,
    type: Annotated[DelayedChargeType | None, Query(description="charge or credit")] = None,
    search: Annotated[str | None, Query(max_length=200, description="Case-insensitive part of the description")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    direction: Direction = None,
    descending: Descending = True,
    include_total_count: IncludeTotal = False,
    sort_by: SortByCreated = "created_at",
) -> Envelope[Page[DelayedCharge]]:
    request = page_request(limit, cursor, direction, descending, include_total_count)
    page, items = delayed_charges.list_delayed_charges(app.caller.business_id, request, customer_id=customer_id,
                                                       status=status, type=type, search=search)
    return ok(page.as_dict(items), code="delayed_charge.list", message="Delayed charges retrieved")


@app.put("/api/v1/delayed-charges/<charge_id>", responses=documented(200, 404, 409),
         summary="Update delayed charge", tags=["delayed-charges"],
         description="Partial update of a pending charge: fields left out keep their value; service_date or "
                     "internal_notes null clears it. 409 once it is invoiced; 404 for an unknown charge or customer.")
def update_delayed_charge(charge_id: ChargeId, body: Annotated[DelayedChargeUpdate, Body()]
                          ) -> Envelope[DelayedCharge]:
    charge = delayed_charges.update_delayed_charge(app.caller.business_id, charge_id, body)
    return ok(charge, code="delayed_charge.updated", message="Delayed charge updated")


@app.delete("/api/v1/delayed-charges/<charge_id>", status_code=204, responses=documented(204, 404, 409),
            summary="Delete delayed charge", tags=["delayed-charges"],
            description="Deletes a pending charge; 409 once it is invoiced.")
def delete_delayed_charge(charge_id: ChargeId) -> Response[None]:
    delayed_charges.delete_delayed_charge(app.caller.business_id, charge_id)
    return Response(status_code=204, body="")


@app.get("/api/v1/delayed-charges/customers/<customer_id>/pending", responses=documented(200, 404),
         summary="Customer's pending delayed charges", tags=["delayed-charges"],
         description="Every pending charge and credit of the customer, oldest first (the order an invoice takes "
                     "them), with net_amount = total_charges - total_credits in cents. Totals never mix currencies: "
                     "when the pending charges are in several currencies, currency and the top-level totals are "
                     "null and by_currency has each currency's totals; pass currency to get one currency's. "
                     "404 for an unknown customer.")
def pending_delayed_charges(
    customer_id: CustomerId,
    currency: Annotated[Currency | None, Query(description="Only charges in this currency")] = None,
) -> Envelope[PendingCharges]:
    summary = delayed_charges.pending_charges(app.caller.business_id, customer_id, currency)
    return ok(summary, code="delayed_charge.pending", message="Pending delayed charges retrieved")


lambda_handler = entry_point(app, __name__)
