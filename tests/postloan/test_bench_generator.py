"""The bench loan-portfolio generator (bench/generate/loans.py): its rows obey the lending
invariants, reflect COB's state for `loans.CLOSED`, and are the same for the same seed."""

import hashlib
from collections import defaultdict
from datetime import date
from itertools import pairwise
from typing import Any

import pytest
from bench.generate import loans as portfolio
from django.db import connection

from loandesk.core.services import set_business_date
from loandesk.customers.models import Customer
from loandesk.lending.models import Installment, Loan
from loandesk.postloan import cob

COUNT = 1500
CLOSED = portfolio.CLOSED
# sha256 of `_content()` for COUNT loans with the default seed: the same on SQLite and PG.
DIGEST = "152034f639a464bb37a933fe441a1c94b3a5c5a1cd4e2b8da5767020f4ecfc69"


def _content() -> list[tuple[Any, ...]]:
    """Every generated value except surrogate ids (customers as their rank by id)."""
    rank = {
        pk: k for k, pk in enumerate(Customer.objects.order_by("id").values_list("pk", flat=True))
    }
    loans = {}
    for row in Loan.objects.filter(contract_no__startswith="BL").values_list(
        "id", "contract_no", "customer_id", "product__code", "principal_fen", "annual_rate",
        "periods", "method", "start_date", "first_due_date", "maturity_date", "apr",
        "penalty_rate", "grace_days", "status", "outstanding_principal_fen", "overdue_since",
        "days_past_due", "bucket", "classification", "closed_at",
    ):  # fmt: skip
        loans[row[0]] = (row[1], rank[row[2]], *[str(v) for v in row[3:]])
    out: list[tuple[Any, ...]] = []
    for row in Installment.objects.filter(loan_id__in=loans).values_list(
        "loan_id", "seq", "due_date", "days", "opening_principal_fen", "principal_fen",
        "interest_fen", "fee_fen", "paid_principal_fen", "paid_interest_fen", "paid_fee_fen",
        "status", "paid_off_on",
    ):  # fmt: skip
        out.append((loans[row[0]][0], *[str(v) for v in row[1:]]))
    out.sort()
    return sorted(loans.values()) + out


def _digest() -> str:
    return hashlib.sha256(repr(_content()).encode()).hexdigest()


@pytest.fixture
def generated(db: None) -> dict[str, int]:
    return portfolio.generate(COUNT, log=False)


def test_installments_add_up_to_the_principal(generated: dict[str, int]) -> None:
    assert generated["loans"] == COUNT
    assert Loan.objects.filter(contract_no__startswith="BL").count() == COUNT
    by_loan: dict[int, list[Installment]] = defaultdict(list)
    for inst in Installment.objects.order_by("loan_id", "seq"):
        by_loan[inst.loan_id].append(inst)
    assert sum(len(v) for v in by_loan.values()) == generated["installments"]
    for loan in Loan.objects.all():
        rows = by_loan[loan.pk]
        assert [r.seq for r in rows] == list(range(1, loan.periods + 1))
        assert sum(r.principal_fen for r in rows) == loan.principal_fen
        assert rows[0].opening_principal_fen == loan.principal_fen
        for before, after in pairwise(rows):
            assert (
                after.opening_principal_fen == before.opening_principal_fen - before.principal_fen
            )
            assert after.due_date > before.due_date
        assert (loan.first_due_date, loan.maturity_date) == (rows[0].due_date, rows[-1].due_date)
        assert loan.start_date < loan.first_due_date
        assert all(r.interest_fen > 0 for r in rows)


def test_statuses_match_the_paid_columns_and_cob(generated: dict[str, int]) -> None:
    loans = {loan.pk: loan for loan in Loan.objects.all()}
    oldest: dict[int, date] = {}
    paid_principal: dict[int, int] = defaultdict(int)
    unpaid: dict[int, int] = defaultdict(int)
    for inst in Installment.objects.order_by("loan_id", "seq"):
        loan = loans[inst.loan_id]
        settled = (
            inst.paid_principal_fen == inst.principal_fen
            and inst.paid_interest_fen == inst.interest_fen
            and inst.paid_fee_fen == inst.fee_fen
        )
        paid_principal[loan.pk] += inst.paid_principal_fen
        if inst.status == "paid":
            assert settled and inst.paid_off_on is not None and inst.due_date <= CLOSED
            continue
        unpaid[loan.pk] += 1
        assert not settled and inst.paid_off_on is None
        if inst.status == "pending":
            assert inst.due_date > CLOSED
            assert inst.paid_principal_fen == inst.paid_interest_fen == 0
        else:
            late = (CLOSED - inst.due_date).days > loan.grace_days
            assert inst.status == ("overdue" if late else "due")
            if late:
                oldest.setdefault(loan.pk, inst.due_date)
    for loan in loans.values():
        assert loan.outstanding_principal_fen == loan.principal_fen - paid_principal[loan.pk]
        assert (loan.status == "closed") == (unpaid[loan.pk] == 0)
        if loan.status == "closed":
            assert loan.outstanding_principal_fen == 0 and loan.closed_at is not None
            continue
        assert loan.overdue_since == oldest.get(loan.pk)
        assert loan.status == ("overdue" if loan.pk in oldest else "active")
        expected_dpd = (CLOSED - oldest[loan.pk]).days if loan.pk in oldest else 0
        assert loan.days_past_due == expected_dpd
    # Realistic delinquency: mostly current, a few per cent late, ~1-2 % beyond 90 days.
    live = [v for v in loans.values() if v.status != "closed"]
    late = sum(1 for v in live if 0 < v.days_past_due <= 90) / len(live)
    severe = sum(1 for v in live if v.days_past_due > 90) / len(live)
    assert 0.01 < late < 0.10
    assert 0.003 < severe < 0.04
    products = {v.product_id for v in loans.values()}
    methods = {v.method for v in loans.values()}
    assert len(products) == 3 and len(methods) == 3
    starts = [v.start_date for v in loans.values()]
    assert (max(starts) - min(starts)).days > 600


def test_cob_for_the_closed_date_changes_nothing(generated: dict[str, int], settings: Any) -> None:
    settings.LOANDESK_COB_ALLOW_FUTURE = True
    before = _content()
    set_business_date(actor=None, new_date=CLOSED, allow_backwards=True)
    cob.run_cob(until=CLOSED)
    assert _content() == before


def test_same_rows_for_the_same_seed_on_every_engine(generated: dict[str, int]) -> None:
    first = _digest()
    Loan.objects.filter(contract_no__startswith="BL").delete()
    portfolio.generate(COUNT, log=False)
    assert _digest() == first
    # The constant is shared by SQLite and PostgreSQL runs: both engines hold the same rows.
    assert first == DIGEST, (connection.vendor, first)


def test_refuses_a_second_portfolio(generated: dict[str, int]) -> None:
    with pytest.raises(RuntimeError):
        portfolio.generate(10, log=False)
