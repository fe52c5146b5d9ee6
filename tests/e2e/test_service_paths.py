"""The paths every deployment must carry, over HTTP: who may do what (a viewer writing is 403),
an invoice created and finalized; and, on a deployed stack, what only its AWS services do: a
poison batch message going through the dead-letter queue to its item failed. (401 without a
token and 404 for a business one is not a member of: test_local_stack.py; a 25-item batch
through SQS: test_batch_local_stack.py; a recurring schedule firing: test_recurring_schedule.py.)"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import requests
from stack_support import DeployedStack, Stack, caller, new_customer, new_owner, under_test

from invoicing.batches.advance import DEAD_LETTER_REASON
from invoicing.batches.rules import INLINE_LIMIT
from invoicing.batches.schemas import ITEMS_PER_MESSAGE
from invoicing.storage import keys

pytestmark = pytest.mark.e2e

POISON_VISIBILITY_SECONDS = "2"


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack | DeployedStack]:
    with under_test(request, tmp_path_factory.mktemp("paths-stack")) as running:
        yield running


def test_a_viewer_reads_but_writing_is_403(stack: Stack | DeployedStack) -> None:
    business = stack.demo_headers()["x-business-id"]
    viewer = stack.admin("create-token", "--business-id", business, "--role", "viewer")
    headers = {"Authorization": f"Bearer {viewer['token']}", "x-business-id": business}
    assert requests.get(stack.url("/api/v1/customers"), headers=headers, timeout=30).status_code == 200
    reply = requests.post(stack.url("/api/v1/customers"), json={"name": "Nope", "email": "nope@example.com"},
                          headers=headers, timeout=30)
    assert reply.status_code == 403, reply.text
    assert reply.json() == {"detail": "Not enough permissions", "code": "forbidden"}


def test_an_invoice_is_created_then_finalized_with_a_number_once(stack: Stack | DeployedStack) -> None:
    call = caller(stack, stack.demo_headers())
    customer = new_customer(call, "Finalize")
    draft = call("POST", "/api/v1/invoices", {"customer_id": customer, "due_date": "2030-01-31",
                                              "line_items": [{"description": "Consulting", "quantity": 2,
                                                              "unit_price": 5000}]}, 201)
    assert (draft["status"], draft["total"], draft["number"]) == ("draft", 10000, None)

    opened = call("POST", f"/api/v1/invoices/{draft['id']}/finalize")
    assert opened["status"] == "open" and re.fullmatch(r"INV-\d{3,}", opened["number"]), opened
    call("POST", f"/api/v1/invoices/{draft['id']}/finalize", status=409)
    assert call("GET", f"/api/v1/invoices/{draft['id']}")["number"] == opened["number"]


@pytest.mark.deployed_stack("it pauses the worker's SQS event source mapping and writes to the table itself "
                            "(on the local stack: tests/integration/batch/test_batch_exactly_once.py)")
def test_a_poison_message_is_dead_lettered_and_its_item_shows_failed(stack: DeployedStack) -> None:
    """An item whose invoice cannot be written (its id is taken: a record put there while the
    worker's event source mapping was paused) raises at every delivery; after the queue's
    maxReceiveCount (3) its message is in the dead-letter queue, whose function fails the item.
    Its neighbours are finalized. The queue's visibility timeout (360 s) is set to 2 s meanwhile,
    so three deliveries take seconds, not 18 minutes: the test's doing, not the stack's."""
    import boto3

    owner = new_owner(stack, "E2E Poison")  # its own business: the record put below is no invoice
    call = caller(stack, owner)
    customers = [new_customer(call, f"Poison{i}") for i in range(2)]
    resources = stack.resources()
    sqs, functions = boto3.client("sqs"), boto3.client("lambda")
    queue = resources["BatchQueue"]
    [mapping] = functions.list_event_source_mappings(FunctionName=resources["BatchWorkerFunction"])[
        "EventSourceMappings"]
    visibility = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout"])["Attributes"]
    count = INLINE_LIMIT + 1  # more than are done inline: every item goes through the queue
    poison_index = count - 1  # alone in the batch's second message
    assert poison_index % ITEMS_PER_MESSAGE == 0
    due = (date.today() + timedelta(days=14)).isoformat()
    body = {"items": [{"customer_id": customers[i % 2], "due_date": due,
                       "line_items": [{"description": f"Item {i}", "unit_price": 100 + i}]} for i in range(count)],
            "finalize": True}
    try:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": POISON_VISIBILITY_SECONDS})
        functions.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
        try:
            accepted = call("POST", "/api/v1/invoices/batch", body, 201)
            poison = accepted["items"][poison_index]["invoice_id"]
            boto3.client("dynamodb").put_item(TableName=resources["Table"], Item={
                "PK": {"S": keys.business(owner["x-business-id"])}, "SK": {"S": keys.invoice(poison)}})
        finally:
            functions.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
        done = wait_for_batch(call, accepted["batch_id"], seconds=120)
    finally:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes=visibility)
    assert (done["status"], done["finalized"], done["failed"]) == ("completed_with_errors", count - 1, 1), done
    assert done["items"][poison_index]["status"] == "failed"
    assert done["items"][poison_index]["error"] == DEAD_LETTER_REASON
    dead_letters = sqs.get_queue_attributes(QueueUrl=resources["BatchDeadLetterQueue"],
                                            AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert dead_letters["ApproximateNumberOfMessages"] == "0"  # the dead-letter function took it


def wait_for_batch(call: Callable[..., Any], batch_id: str, *, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        current: dict[str, Any] = call("GET", f"/api/v1/invoices/batches/{batch_id}")
        if current["status"] != "processing" or time.monotonic() > deadline:
            return current
        time.sleep(0.5)
