"""SQLite makes the generated installments' repayments from the schedule templates
(bench/generate/schedules.py): row for row, ids included, what `repayments.Payer` writes."""

from typing import Any

import pytest
from bench.generate import SEED, repayments
from bench.generate import loans as portfolio
from django.db import connection

from loandesk.lending.models import Loan

pytestmark = pytest.mark.django_db


_DATES = {"value_date", "created_at", "reversed_at", "reversed_on", "due_date"}


def _stored(columns: tuple[str, ...]) -> str:
    """The columns as SQLite stores them, dates and times as text (as the Payer's tuples have
    them): an expression has no declared type for the driver to convert by."""
    return ", ".join(f"{c} || ''" if c in _DATES else c for c in columns)


def _raw(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def test_sqlite_makes_the_repayments_the_payer_would_across_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL writes the Payer's rows themselves")
    monkeypatch.setattr(portfolio, "BATCH", 25)  # three batches: the channel position carries
    portfolio.generate(70, log=False)
    made = _raw(
        f"SELECT {_stored(repayments.REPAYMENT_COLUMNS)} FROM lending_repayment"
        " WHERE source = %s ORDER BY id",
        [repayments.SOURCE],
    )
    assert len(made) > 100
    first = made[0][0]
    allocations = _raw(
        f"SELECT {_stored(repayments.ALLOCATION_COLUMNS)} FROM lending_repaymentallocation"
        " WHERE repayment_id >= %s ORDER BY id",
        [first],
    )
    # The Payer, fed each loan's payments in loan order: every installment paid in full, and
    # those paid in part, in seq order, dated on their due dates.
    payer = repayments.Payer(SEED, portfolio._poster())
    expected: list[tuple[Any, ...]] = []
    expected_allocations: list[tuple[Any, ...]] = []
    next_id = first
    for loan in Loan.objects.filter(contract_no__startswith="BL").order_by("id"):
        payments = [
            (i.seq, i.due_date, i.due_date.isoformat(), i.paid_principal_fen,
             i.paid_interest_fen, i.paid_fee_fen)
            for i in loan.installments.order_by("seq")
            if i.status == "paid" or i.paid_principal_fen or i.paid_interest_fen
        ]  # fmt: skip
        ids = list(range(next_id, next_id + len(payments)))
        next_id += len(payments)
        reps, allocs = payer.rows(loan.pk, ids, payments)
        expected.extend(reps)
        expected_allocations.extend(allocs)
    assert made == expected
    assert allocations == expected_allocations
    assert payer.k != 0  # the cycle moved on, batch after batch
