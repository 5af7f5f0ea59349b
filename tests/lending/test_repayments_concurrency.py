"""Repayments under real concurrency on PostgreSQL: threads, each with its own connection,
committed transactions (transaction=True). The end state must equal serial application."""

import random
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from bench.generate import loans as portfolio
from django.db import connections

from loandesk.lending import repayments
from loandesk.lending.models import Loan, Repayment
from loandesk.postloan import cob
from tests.lending.test_repayments import check_invariants, state
from tests.postloan.conftest import START, make_loan, set_date

pytestmark = [
    pytest.mark.postgres(
        reason="SQLite has one database-wide write lock, so concurrent postings never overlap"
    ),
    pytest.mark.django_db(transaction=True),
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


def test_four_payers_while_cob_closes_a_month_end_equal_serial(lending: dict[str, Any]) -> None:
    """Four threads post repayments at random over eight loans for as long as COB closes a
    month end (penalty posting, three partitions) over a 600-loan book in a fifth thread.
    Afterwards no repayment is lost or counted twice (each loan's paid columns are the sum of
    its repayments' allocations, paid + credit is what was posted) and every loan equals a twin
    that got the same payments after the run, one at a time."""
    finance = lending["users"]["finance"]
    set_date(START)
    racing = [make_loan(lending) for _ in range(8)]
    serial = [make_loan(lending) for _ in range(8)]
    portfolio.generate(600, log=False)  # the rest of the book: COB has work to do
    day = date(2026, 5, 31)  # a month end: the penalty step locks and posts
    set_date(day)
    cob.run_day(day - timedelta(days=1))
    cob_done = threading.Event()
    window: dict[str, float] = {}
    posted: list[tuple[int, int, float, float]] = []  # loan index, amount, started, ended
    lock = threading.Lock()

    def payer(i: int) -> int:
        rng = random.Random(1000 + i)
        mine = 0
        while mine < 40 and (not cob_done.is_set() or mine < 5):
            k, amount = rng.randrange(len(racing)), rng.randint(20_000, 90_000)
            started = time.monotonic()
            pay(finance, racing[k], amount, day)
            with lock:
                posted.append((k, amount, started, time.monotonic()))
            mine += 1
        return mine

    def work(i: int) -> Any:
        if i < 4:
            return payer(i)
        window["start"] = time.monotonic()
        try:
            return cob.run_day(day, workers=3, in_process=True)
        finally:
            window["end"] = time.monotonic()
            cob_done.set()

    results = race(5, work)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert results[4].status == "done"
    during = [p for p in posted if window["start"] < p[2] and p[3] < window["end"]]
    assert during, "no repayment was posted while COB ran"
    for k, (a, b) in enumerate(zip(racing, serial, strict=True)):
        amounts = [amount for n, amount, _, _ in posted if n == k]
        assert Repayment.objects.filter(loan=a).count() == len(amounts)  # none lost, none twice
        for amount in amounts:
            pay(finance, b, amount, day)
        check_invariants(a)
        paid = sum(r.paid_fen for r in Loan.objects.get(pk=a.pk).installments.all())
        credit = sum(Repayment.objects.filter(loan=a).values_list("credit_fen", flat=True))
        assert paid + credit == sum(amounts)
        assert state(a) == state(b)
    assert any(row[5] for a in racing for row in state(a)["rows"])  # penalty was posted
