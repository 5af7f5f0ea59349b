"""The journal against the real lending services: disbursement, repayments and reversal
booked from their own events; the loans-principal account equals the book's outstanding
principal after every step."""

from datetime import date
from typing import Any

from django.db.models import Sum

from loandesk.accounting.models import JournalEntry
from loandesk.lending.models import Loan
from loandesk.lending.repayments import post_repayment, reverse_repayment
from tests.accounting.conftest import (
    assert_all_balanced,
    balance,
    dispatch,
    make_loan,
    set_date,
)


def _book_principal() -> int:
    return int(
        Loan.objects.exclude(status="written_off").aggregate(s=Sum("outstanding_principal_fen"))[
            "s"
        ]
        or 0
    )


def test_disburse_repay_reverse_keep_the_books_with_the_loans(lending: dict[str, Any]) -> None:
    finance = lending["users"]["finance"]
    set_date(date(2026, 1, 10))
    loan = make_loan(lending, amount="10000", periods=6)
    other = make_loan(lending, customer="c2", amount="20000", periods=3)
    dispatch()
    assert balance("1303") == _book_principal() == 3_000_000
    set_date(date(2026, 2, 10))
    first = post_repayment(
        actor=finance,
        loan_id=loan.pk,
        amount_fen=180_000,
        value_date=date(2026, 2, 10),
        channel="bank_transfer",
        idempotency_key="test-acct-rep-1",
    )
    post_repayment(
        actor=finance,
        loan_id=other.pk,
        amount_fen=50_000,
        value_date=date(2026, 2, 10),
        channel="cash",
    )
    dispatch()
    assert_all_balanced()
    assert balance("1303") == _book_principal()
    entry = JournalEntry.objects.get(source_topic="loan.repayment_posted", loan=loan)
    assert entry.total_debit_fen == 180_000
    reverse_repayment(actor=finance, repayment_id=first.pk, reason="测试红冲")
    dispatch()
    assert_all_balanced()
    assert balance("1303") == _book_principal()
    assert JournalEntry.objects.filter(source_topic="loan.repayment_reversed").count() == 1
