"""The demo portfolio: made through the real services, deterministic, idempotent."""

from collections import Counter
from datetime import date
from typing import Any

import pytest

from loandesk.lending.demo_portfolio import PLANS, seed_portfolio
from loandesk.lending.models import Loan, Repayment
from tests.postloan.conftest import set_date

pytestmark = pytest.mark.django_db


def test_portfolio_mix_and_idempotence(lending: dict[str, Any]) -> None:
    set_date(date(2026, 11, 20))
    assert seed_portfolio(lending) == len(PLANS)
    loans = list(Loan.objects.all())
    statuses = Counter(loan.status for loan in loans)
    buckets = Counter(loan.bucket for loan in loans)
    assert statuses["closed"] >= 3 and statuses["overdue"] >= 6
    assert statuses["active"] >= len(PLANS) // 2
    assert buckets["M3+"] >= 2 and buckets["M1"] >= 2
    assert Repayment.objects.filter(status="reversed").count() == 1
    assert Repayment.objects.filter(kind="partial_prepayment").count() == 1
    counts = (Loan.objects.count(), Repayment.objects.count())
    assert seed_portfolio(lending) == 0
    assert (Loan.objects.count(), Repayment.objects.count()) == counts
