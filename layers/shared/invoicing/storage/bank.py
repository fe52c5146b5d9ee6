"""Bank transactions (``BANKTXN#<id>``) and the payments drawn on them (``PAYMENT#<invoice>#<id>``).

A transaction's ``allocated`` only moves by conditional updates in the transaction that writes
the payment (or its removal): ``allocated <= amount - this payment`` is DynamoDB's check, not
ours, so concurrent payments from one transaction can never take more than it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invoicing.domain.models import BankTransaction, Payment, TransactionSummary
from invoicing.errors import NotFound
from invoicing.storage import keys, lookup, transactions
from invoicing.storage.paging import Filter, PageRequest, Partition, QueryPage, condition, query_page
from invoicing.storage.table import client, get_item, put_item


def not_found(transaction_id: str) -> NotFound:
    return NotFound(f"Transaction {transaction_id} not found", code="transaction_not_found")


def payment_not_found(payment_id: str) -> NotFound:
    return NotFound(f"Payment {payment_id} not found", code="payment_not_found")


def item_of(txn: BankTransaction) -> dict[str, Any]:
    return {keys.PK: keys.business(txn.business_id), keys.SK: keys.bank_transaction(txn.id),
            **txn.model_dump(exclude={"unallocated"})}


def put_new(txn: BankTransaction) -> bool:
    """Write a new transaction; False when one with its id is there already."""
    try:
        put_item(item_of(txn))
    except client().exceptions.ConditionalCheckFailedException:
        return False
    return True


def put_new_action(txn: BankTransaction) -> dict[str, Any]:
    return transactions.put(item_of(txn))


def of_item(item: dict[str, Any]) -> BankTransaction:
    return BankTransaction.model_validate(item)


def get(business_id: str, transaction_id: str) -> BankTransaction:
    item = get_item(keys.business(business_id), keys.bank_transaction(transaction_id))
    if item is None:
        raise not_found(transaction_id)
    return of_item(item)


def allocate_action(txn: BankTransaction, amount: int, now: str) -> dict[str, Any]:
    """Take ``amount`` from the transaction, only if it still has that much unallocated."""
    return transactions.update(
        keys.business(txn.business_id), keys.bank_transaction(txn.id),
        "SET allocated = allocated + :amount, updated_at = :now",
        condition="attribute_exists(PK) AND allocated <= :most", values={
            ":amount": amount, ":now": now, ":most": txn.amount - amount})


def release_action(business_id: str, transaction_id: str, amount: int, now: str) -> dict[str, Any]:
    """Give ``amount`` back to the transaction (a removed payment)."""
    return transactions.update(
        keys.business(business_id), keys.bank_transaction(transaction_id),
        "SET allocated = allocated - :amount, updated_at = :now",
        condition="attribute_exists(PK) AND allocated >= :amount", values={":amount": amount, ":now": now})


def list_page(business_id: str, request: PageRequest, *, reconciled: bool | None = None
              ) -> tuple[QueryPage, list[BankTransaction]]:
    filter_ = Filter.all_of(None if reconciled is None else condition("reconciled", "=", reconciled))
    page = query_page(Partition.of(business_id, keys.BANK_TRANSACTION), request, filter_)
    return page, [of_item(item) for item in page.items]


def payment_item(payment: Payment) -> dict[str, Any]:
    return {keys.PK: keys.business(payment.business_id), keys.SK: keys.payment(payment.invoice_id, payment.id),
            **payment.model_dump(exclude={"transaction"})}


def put_payment_action(payment: Payment) -> dict[str, Any]:
    return transactions.put(payment_item(payment))


def delete_payment_action(payment: Payment) -> dict[str, Any]:
    return transactions.delete(keys.business(payment.business_id), keys.payment(payment.invoice_id, payment.id),
                               "attribute_exists(PK)")


def list_payments(business_id: str, invoice_id: str, request: PageRequest) -> tuple[QueryPage, list[Payment]]:
    """An invoice's payments, each with its bank transaction's summary (one BatchGetItem)."""
    page = query_page(Partition.of(business_id, keys.payments_of_invoice(invoice_id)), request)
    payments = [Payment.model_validate(item) for item in page.items]
    found = lookup.fetch(business_id, also=_transaction_keys(payments), business=False)
    return page, [p.model_copy(update={"transaction": _summary(found.raw(keys.bank_transaction(p.transaction_id)))})
                  for p in payments]


def _transaction_keys(payments: Iterable[Payment]) -> list[str]:
    return [keys.bank_transaction(p.transaction_id) for p in payments]


def _summary(item: dict[str, Any] | None) -> TransactionSummary | None:
    return None if item is None else TransactionSummary.model_validate(item)
