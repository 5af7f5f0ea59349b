"""Accounting fixtures: loans made through the real disbursement service, outbox events
published the way lending publishes them, and journal helpers."""

from datetime import date
from typing import Any

import pytest
from django.db import transaction

from loandesk.accounting.models import Account, JournalEntry, JournalLine
from loandesk.core import outbox
from loandesk.core.models import OutboxEvent
from loandesk.core.services import set_business_date
from loandesk.lending import loans
from loandesk.lending.models import Loan
from tests.lending.conftest import disburse_body, lending, service_kwargs  # noqa: F401

START = date(2026, 1, 10)


def set_date(d: date) -> None:
    set_business_date(actor=None, new_date=d, allow_backwards=True)


def make_loan(
    ctx: dict[str, Any], *, start: date = START, customer: str = "c1", **over: Any
) -> Loan:
    body = disburse_body(ctx[customer], ctx["products"][over.pop("product", "consumer")])
    body.update({"start": start.isoformat(), **over})
    return loans.disburse(actor=ctx["users"]["finance"], **service_kwargs(body))


def publish(topic: str, payload: dict[str, Any]) -> OutboxEvent:
    with transaction.atomic():
        return outbox.publish(topic, payload=payload, aggregate_type="lending.loan")


def dispatch() -> int:
    total = 0
    while True:
        n = outbox.dispatch_pending()
        total += n
        if n == 0:
            return total


def lines_of(entry: JournalEntry) -> list[tuple[str, int, int]]:
    return [
        (line.account.code, line.debit_fen, line.credit_fen)
        for line in entry.lines.select_related("account").order_by("line_no")
    ]


def balance(code: str) -> int:
    """Debit minus credit of an account and its sub-accounts."""
    from django.db.models import Sum

    totals = JournalLine.objects.filter(account__code__startswith=code).aggregate(
        d=Sum("debit_fen"), c=Sum("credit_fen")
    )
    return int(totals["d"] or 0) - int(totals["c"] or 0)


def assert_all_balanced() -> None:
    for entry in JournalEntry.objects.prefetch_related("lines"):
        rows = list(entry.lines.all())
        assert rows, entry
        debit = sum(r.debit_fen for r in rows)
        credit = sum(r.credit_fen for r in rows)
        assert debit == credit == entry.total_debit_fen == entry.total_credit_fen, entry
        for r in rows:
            assert (r.debit_fen > 0) != (r.credit_fen > 0)


@pytest.fixture
def chart(db: None) -> dict[str, Account]:
    return {a.code: a for a in Account.objects.all()}
