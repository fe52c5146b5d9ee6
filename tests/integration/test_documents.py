"""Invoice PDFs and payment receipts (API.md Part 2, "Documents and delivery"), read back as a
customer reads them: the text on each page, after the documents function handled the events
DocumentsQueue receives (sent here as the events feature's rule will send them)."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import pytest
from helpers import Api, deliver_documents, make_tenant, send_document_event
from pypdf import PdfReader

from devstack import runtime
from invoicing.storage import documents

INVOICES = "/api/v1/invoices"


def data(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.body
    return reply.json()["data"]


@pytest.fixture
def customer(api: Api) -> str:
    return str(data(api.post("/api/v1/customers", {"name": "Ada Lovelace", "email": "ada@example.com"}), 201)["id"])


def draft(api: Api, customer_id: str, lines: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    body = {"customer_id": customer_id, "due_date": "2031-01-31",
            "line_items": lines or [{"description": "Consulting, November", "quantity": 3, "unit_price": 123_456},
                                    {"description": "Travel", "unit_price": 4_550}], **fields}
    return dict(data(api.post(INVOICES, body), 201))


def finalized(api: Api, customer_id: str, **fields: Any) -> dict[str, Any]:
    made = draft(api, customer_id, **fields)
    return dict(data(api.post(f"{INVOICES}/{made['id']}/finalize")))


def rendered(api: Api, invoice: dict[str, Any], detail_type: str = "invoice.finalized",
             payment_id: str | None = None) -> dict[str, Any]:
    send_document_event(api.tenant.business_id, invoice["id"], detail_type, payment_id)  # type: ignore[union-attr]
    deliver_documents()
    return dict(data(api.get(f"{INVOICES}/{invoice['id']}")))


def object_of(url: str) -> tuple[str, str]:
    """Bucket and key a presigned URL names (path-style or virtual-hosted)."""
    parsed = urlparse(url)
    path = unquote(parsed.path.lstrip("/"))
    host_bucket = parsed.hostname.split(".s3")[0] if parsed.hostname and ".s3" in parsed.hostname else ""
    if host_bucket:
        return host_bucket, path
    bucket, _, key = path.partition("/")
    return bucket, key


def download(url: str) -> bytes:
    bucket, key = object_of(url)
    assert bucket == documents.bucket()
    assert int(parse_qs(urlparse(url).query)["X-Amz-Expires"][0]) == 900
    return bytes(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def pdf_pages(api: Api, invoice_id: str) -> list[str]:
    answer = data(api.get(f"{INVOICES}/{invoice_id}/pdf"))
    return pages(download(answer["pdf_url"]))


def versions(key_prefix: str) -> int:
    got = boto3.client("s3").list_object_versions(Bucket=documents.bucket(), Prefix=key_prefix)
    return len(got.get("Versions", []))


def pay(api: Api, invoice_id: str, amount: int, paid_on: str = "2030-02-03") -> dict[str, Any]:
    txn = data(api.post("/api/v1/transactions", {"amount": amount, "datetime": paid_on}), 201)["id"]
    return dict(data(api.post(f"{INVOICES}/{invoice_id}/payments",
                              {"transaction_id": txn, "amount": amount, "paid_on": paid_on}), 201))


# ---------------------------------------------------------------- the invoice PDF

def test_a_finalized_invoice_s_pdf_says_what_the_invoice_says(api: Api, customer: str) -> None:
    invoice = finalized(api, customer, issue_date="2025-03-14", description="Project Babbage")
    assert invoice["pdf_url"] is None  # not rendered yet
    invoice = rendered(api, invoice)
    assert invoice["pdf_url"] and invoice["pdf_url"].startswith("http")
    answer = data(api.get(f"{INVOICES}/{invoice['id']}/pdf"))
    assert set(answer) == {"invoice_id", "invoice_number", "pdf_url", "expires_in", "expires_at"}
    assert (answer["invoice_id"], answer["invoice_number"], answer["expires_in"]) == (invoice["id"], "INV-001", 900)
    [text] = pages(download(answer["pdf_url"]))
    for shown in ("Acme Supplies", "Ada Lovelace", "ada@example.com", "INV-001", "Project Babbage",
                  "Consulting, November", "Travel", "$1,234.56", "$3,703.68", "$45.50",
                  "Subtotal", "$3,749.18", "Balance due", "Page 1 of 1", "2031-01-31"):
        assert shown in text, shown
    # The backdated issue date is the one printed, not the day it was finalized.
    assert "Issue date\n2025-03-14" in text
    assert "VOID" not in text and "PAID" not in text and "Payment received" not in text


def test_pdf_url_is_null_and_pdf_409_until_the_current_state_is_rendered(api: Api, customer: str) -> None:
    invoice = finalized(api, customer)
    waiting = api.get(f"{INVOICES}/{invoice['id']}/pdf")
    assert waiting.status == 409 and waiting.json()["code"] == "document_rendering", waiting.body
    assert "still being rendered" in waiting.json()["detail"]
    invoice = rendered(api, invoice)
    assert invoice["pdf_url"]
    # A change makes a new state: its PDF is not there until that change's event is handled.
    changed = data(api.put(f"{INVOICES}/{invoice['id']}", {"id": invoice["id"], "description": "Renamed"}))
    assert changed["pdf_url"] is None
    assert api.get(f"{INVOICES}/{invoice['id']}/pdf").status == 409
    again = rendered(api, invoice, "invoice.updated")
    assert "Renamed" in pdf_pages(api, again["id"])[0]
    listed = data(api.get(INVOICES, query=f"id={invoice['id']}"))["items"]
    assert object_of(listed[0]["pdf_url"]) == object_of(again["pdf_url"])


def test_drafts_have_no_pdf(api: Api, customer: str) -> None:
    made = draft(api, customer)
    reply = api.get(f"{INVOICES}/{made['id']}/pdf")
    assert reply.status == 409 and reply.json()["code"] == "invoice_is_draft", reply.body
    assert rendered(api, made, "invoice.updated")["pdf_url"] is None
    assert versions(f"{api.tenant.business_id}/") == 0  # type: ignore[union-attr]


def test_a_void_invoice_s_pdf_says_void(api: Api, customer: str) -> None:
    invoice = rendered(api, finalized(api, customer))
    data(api.post(f"{INVOICES}/{invoice['id']}/void"))
    text = pdf_pages(api, rendered(api, invoice, "invoice.voided")["id"])[0]
    assert "VOID" in text and "INV-001" in text


def test_a_paid_invoice_s_pdf_says_paid_with_its_payments(api: Api, customer: str) -> None:
    invoice = finalized(api, customer)
    first = pay(api, invoice["id"], 100_000, "2030-02-03")
    after_first = pdf_pages(api, rendered(api, invoice, "payment.created", first["id"])["id"])[0]
    assert "PAID" not in after_first and "Payment received 2030-02-03" in after_first
    assert "Balance due\n$2,749.18" in after_first
    second = pay(api, invoice["id"], 274_918, "2030-02-10")
    text = pdf_pages(api, rendered(api, invoice, "payment.created", second["id"])["id"])[0]
    assert "PAID" in text
    for shown in ("Payment received 2030-02-03", "-$1,000.00", "Payment received 2030-02-10", "-$2,749.18",
                  "Amount paid\n$3,749.18", "Balance due\n$0.00"):
        assert shown in text, shown


def test_money_is_printed_in_the_invoice_s_currency(aws: None) -> None:
    with_euros = make_tenant(currency="EUR", name="Société Générale de Pâtisserie")
    api = Api(with_euros)
    customer_id = data(api.post("/api/v1/customers", {"name": "Zoë", "email": "zoe@example.com"}), 201)["id"]
    invoice = rendered(api, finalized(api, customer_id))
    text = pdf_pages(api, invoice["id"])[0]
    assert "\u20ac1,234.56" in text and "\u20ac3,749.18" in text
    assert "Société Générale de Pâtisserie" in text and "Zoë" in text


def test_250_lines_paginate_with_the_header_on_every_page(api: Api, customer: str) -> None:
    lines = [{"description": f"Line {n:03d} of the big order", "quantity": n, "unit_price": 101} for n in range(1, 251)]
    invoice = rendered(api, finalized(api, customer, lines=lines))
    text = pdf_pages(api, invoice["id"])
    assert len(text) >= 5
    for number, page in enumerate(text, start=1):
        for header in ("Acme Supplies", "INVOICE", "INV-001", "Ada Lovelace", "Description", "Amount"):
            assert header in page, (number, header)
        assert f"Page {number} of {len(text)}" in page
    whole = "\n".join(text)
    assert all(f"Line {n:03d} of the big order" in whole for n in range(1, 251))
    assert [n for n in range(1, 251) if whole.count(f"Line {n:03d} ") != 1] == []  # none repeated or lost
    assert "Balance due" in text[-1] and "Subtotal" in text[-1] and "Subtotal" not in text[0]
    total = sum(n * 101 for n in range(1, 251))
    assert f"${total // 100:,}.{total % 100:02d}" in text[-1]


# ---------------------------------------------------------------- receipts

def test_each_payment_has_a_receipt(api: Api, customer: str) -> None:
    invoice = finalized(api, customer)
    payment = pay(api, invoice["id"], 100_000, "2030-02-03")
    path = f"{INVOICES}/{invoice['id']}/payments/{payment['id']}/receipt"
    waiting = api.get(path)
    assert waiting.status == 409 and waiting.json()["code"] == "document_rendering", waiting.body
    rendered(api, invoice, "payment.created", payment["id"])
    answer = data(api.get(path))
    assert (answer["invoice_id"], answer["payment_id"], answer["expires_in"]) == (invoice["id"], payment["id"], 900)
    [text] = pages(download(answer["receipt_url"]))
    for shown in ("RECEIPT", "Acme Supplies", "Ada Lovelace", "INV-001", "$1,000.00", "2030-02-03", payment["id"],
                  "Invoice total\n$3,749.18", "Balance due after this payment\n$2,749.18"):
        assert shown in text, shown
    missing = api.get(f"{INVOICES}/{invoice['id']}/payments/0195f1a0-0000-7000-8000-00000000dead/receipt")
    assert missing.status == 404 and missing.json()["code"] == "payment_not_found"


def test_a_removed_payment_has_no_receipt(api: Api, customer: str) -> None:
    invoice = finalized(api, customer)
    payment = pay(api, invoice["id"], 100_000)
    data(api.delete(f"{INVOICES}/{invoice['id']}/payments/{payment['id']}"))
    rendered(api, invoice, "payment.created", payment["id"])  # late: the payment is gone already
    assert api.get(f"{INVOICES}/{invoice['id']}/payments/{payment['id']}/receipt").status == 404
    assert versions(f"{api.tenant.business_id}/invoices/{invoice['id']}/receipts/") == 0  # type: ignore[union-attr]


# ---------------------------------------------------------------- redelivery, order, crashes

def test_redelivered_and_repeated_events_render_once(api: Api, customer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    invoice = finalized(api, customer)
    renders: list[str] = []
    original = documents.put_pdf
    monkeypatch.setattr(documents, "put_pdf", lambda key, body: (renders.append(key), original(key, body)))
    business = api.tenant.business_id  # type: ignore[union-attr]
    event = send_document_event(business, invoice["id"])
    send_document_event(business, invoice["id"], event_id=event)  # EventBridge delivers at least once
    send_document_event(business, invoice["id"], "invoice.updated")
    deliver_documents()
    deliver_documents()
    assert len(renders) == 1
    assert versions(f"{business}/invoices/{invoice['id']}/") == 1


def test_a_crash_between_the_put_and_the_record_is_mended_by_the_redelivery(
        api: Api, customer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    invoice = finalized(api, customer)
    crashes = []
    record = documents.record_invoice_pdf

    def crash_once(*args: Any) -> bool:
        if not crashes:
            crashes.append(args)
            raise ConnectionError("Lambda died after the PutObject")
        return record(*args)

    monkeypatch.setattr(documents, "record_invoice_pdf", crash_once)
    renders: list[str] = []
    put = documents.put_pdf
    monkeypatch.setattr(documents, "put_pdf", lambda key, body: (renders.append(key), put(key, body)))
    send_document_event(api.tenant.business_id, invoice["id"])  # type: ignore[union-attr]
    delivered = deliver_documents()  # the failed record comes back (its visibility expired) and succeeds
    assert len(crashes) == 1 and delivered.failed == 1
    assert len(renders) == 1  # the redelivery found the object and only recorded it
    assert data(api.get(f"{INVOICES}/{invoice['id']}"))["pdf_url"]
    assert pdf_pages(api, invoice["id"])[0].count("INV-001") >= 1


def test_a_stale_render_never_replaces_the_newer_state_s(api: Api, customer: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    invoice = finalized(api, customer)
    put = documents.put_pdf
    changed = []

    def change_while_rendering(key: str, body: bytes) -> None:
        put(key, body)
        if not changed:  # the invoice changes between the render's read and its record
            changed.append(data(api.put(f"{INVOICES}/{invoice['id']}", {"id": invoice["id"], "description": "Newer"})))

    monkeypatch.setattr(documents, "put_pdf", change_while_rendering)
    rendered(api, invoice)
    assert data(api.get(f"{INVOICES}/{invoice['id']}"))["pdf_url"] is None  # v-old was not recorded as current
    # The newer change's event (it arrives, perhaps later than a stale one) renders the newer state.
    send_document_event(api.tenant.business_id, invoice["id"], "invoice.updated")  # type: ignore[union-attr]
    send_document_event(api.tenant.business_id, invoice["id"], "invoice.finalized")  # type: ignore[union-attr]
    deliver_documents()
    assert "Newer" in pdf_pages(api, invoice["id"])[0]


def test_an_unreadable_event_is_dead_lettered_and_spares_its_neighbours(api: Api, customer: str) -> None:
    invoice = finalized(api, customer)
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=runtime.physical_id("DocumentsQueue"), MessageBody='{"detail-type": "invoice.paid"}')
    send_document_event(api.tenant.business_id, invoice["id"])  # type: ignore[union-attr]
    deliver_documents()
    assert data(api.get(f"{INVOICES}/{invoice['id']}"))["pdf_url"]
    dead = sqs.receive_message(QueueUrl=runtime.physical_id("DocumentsDeadLetterQueue"), MaxNumberOfMessages=10)
    assert [m["Body"] for m in dead["Messages"]] == ['{"detail-type": "invoice.paid"}']


def test_the_sample_event_renders(api: Api, customer: str) -> None:
    import json

    from devstack.template import ROOT

    event = json.loads((ROOT / "events" / "documents-sqs.json").read_text())
    invoice = finalized(api, customer)
    payment = pay(api, invoice["id"], 500)
    body = json.loads(event["Records"][0]["body"])
    body["detail"].update(business_id=api.tenant.business_id, invoice_id=invoice["id"],  # type: ignore[union-attr]
                          payment_id=payment["id"])
    event["Records"][0]["body"] = json.dumps(body)
    assert runtime.invoke("DocumentsFunction", event) == {"batchItemFailures": []}
    assert data(api.get(f"{INVOICES}/{invoice['id']}"))["pdf_url"]
    assert data(api.get(f"{INVOICES}/{invoice['id']}/payments/{payment['id']}/receipt"))["receipt_url"]
