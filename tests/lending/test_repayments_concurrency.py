"""Repayments under real concurrency on PostgreSQL: threads, each with its own connection,
committed transactions (transaction=True). The end state must equal serial application."""

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, connections

from loandesk.lending import repayments
from loandesk.lending.models import Loan, Repayment
from loandesk.postloan import cob
from tests.lending.test_repayments import check_invariants, state
from tests.postloan.conftest import START, make_loan, set_date

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "needs PostgreSQL: SQLite has one database-wide write lock, so concurrent "
            "postings never overlap there (DATABASE_URL=postgresql://… to run it)"
        ),
    ),
]


def race(n: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # reported by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def pay(finance: Any, loan: Loan, amount: int, on: date, **kw: Any) -> Repayment:
    return repayments.post_repayment(
        actor=finance, loan_id=loan.pk, amount_fen=amount, value_date=on, channel="cash", **kw
    )


def test_fifty_concurrent_posts_on_one_loan_end_exact(lending: dict[str, Any]) -> None:
    finance = lending["users"]["finance"]
    set_date(START)
    loan, twin = make_loan(lending), make_loan(lending)
    on = date(2026, 5, 20)  # four installments due, three of them overdue: penalty too
    set_date(on)
    amounts = [37_000 + 1_313 * i for i in range(50)]

    results = race(50, lambda i: pay(finance, loan, amounts[i], on))

    assert [r for r in results if isinstance(r, Exception)] == []
    assert Repayment.objects.filter(loan=loan).count() == 50
    for amount in amounts:
        pay(finance, twin, amount, on)
    assert state(loan)["rows"] == state(twin)["rows"]
    assert state(loan)["loan"] == state(twin)["loan"]
    check_invariants(loan)
    total_paid = sum(r.paid_fen for r in Loan.objects.get(pk=loan.pk).installments.all())
    credit = sum(Repayment.objects.filter(loan=loan).values_list("credit_fen", flat=True))
    assert total_paid + credit == sum(amounts)


def test_one_key_posted_concurrently_makes_one_repayment(lending: dict[str, Any]) -> None:
    finance = lending["users"]["finance"]
    set_date(START)
    loan = make_loan(lending)
    set_date(date(2026, 3, 1))

    results = race(
        10, lambda i: pay(finance, loan, 50_000, date(2026, 3, 1), idempotency_key="same-key-42")
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    assert len({r.pk for r in results}) == 1
    assert sum(1 for r in results if not r.replayed) == 1
    assert Repayment.objects.filter(loan=loan).count() == 1


def test_repayments_posted_while_cob_runs_equal_serial(lending: dict[str, Any]) -> None:
    """COB closes D in one thread while another posts on D; the loans end as twins that were
    paid after the run — nothing lost, nothing counted twice."""
    finance = lending["users"]["finance"]
    set_date(START)
    racing = [make_loan(lending) for _ in range(6)]
    serial = [make_loan(lending) for _ in range(6)]
    day = date(2026, 5, 18)  # not a month end; several installments overdue
    set_date(day)
    cob.run_day(day - timedelta(days=1))
    amounts = [150_000 * (k + 1) for k in range(6)]

    def work(i: int) -> Any:
        if i == 0:
            return cob.run_day(day, workers=1)
        return [pay(finance, loan, amounts[k], day) for k, loan in enumerate(racing)]

    results = race(2, work)
    assert [r for r in results if isinstance(r, Exception)] == []
    for k, loan in enumerate(serial):
        pay(finance, loan, amounts[k], day)
    for a, b in zip(racing, serial, strict=True):
        assert state(a) == state(b)
        check_invariants(a)
