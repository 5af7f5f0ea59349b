"""Exactly once under real concurrency: many threads, each with its own PostgreSQL connection,
disburse at the same moment. Committed transactions (transaction=True), no test wrapper."""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from loandesk.core.models import OutboxEvent
from loandesk.customers.models import TimelineEvent
from loandesk.lending import loans
from loandesk.lending.models import Disbursement, Installment, Loan
from tests.lending.conftest import disburse_body, new_key, service_kwargs

THREADS = 10

pytestmark = [
    pytest.mark.postgres(
        reason="SQLite has one database-wide write lock, so concurrent disbursements never overlap"
    ),
    pytest.mark.django_db(transaction=True),
]


def _race(work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) in THREADS threads released together; returns results or exceptions."""
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # reported by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_ten_threads_with_one_key_make_one_loan(
    lending: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    finance = lending["users"]["finance"]
    body = service_kwargs(disburse_body(lending["c1"], lending["products"]["consumer"]))
    # Hold every writer inside its transaction for a moment, so that all ten pass the first
    # key lookup before anyone commits: the unique index, not the lookup, has to stop them.
    real_write, real_existing = loans._write, loans._existing
    lookups: list[str] = []

    def slow_write(**kwargs: Any) -> Loan:
        loan = real_write(**kwargs)
        time.sleep(0.3)
        return loan

    def counted_existing(key: str) -> Disbursement | None:
        lookups.append(key)
        return real_existing(key)

    monkeypatch.setattr(loans, "_write", slow_write)
    monkeypatch.setattr(loans, "_existing", counted_existing)

    results = _race(lambda i: loans.disburse_once(actor=finance, **body))

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert len({loan.pk for loan, _ in results}) == 1
    assert sorted(created for _, created in results) == [False] * (THREADS - 1) + [True]
    assert Loan.objects.count() == 1
    assert Disbursement.objects.count() == 1
    assert Installment.objects.count() == 12
    assert OutboxEvent.objects.filter(topic="loan.disbursed").count() == 1
    assert TimelineEvent.objects.filter(kind="loan_disbursed").count() == 1
    # Ten first lookups, then one more for each of the nine that lost on the unique index.
    assert len(lookups) == 2 * THREADS - 1


def test_ten_threads_with_one_key_but_other_terms_conflict(lending: dict[str, Any]) -> None:
    finance = lending["users"]["finance"]
    body = service_kwargs(disburse_body(lending["c1"], lending["products"]["consumer"]))

    results = _race(lambda i: loans.disburse_once(actor=finance, **{**body, "periods": 12 + i}))

    from loandesk.core.errors import Conflict

    wins = [r for r in results if isinstance(r, tuple)]
    assert len(wins) == 1 and wins[0][1] is True
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, tuple))
    assert Loan.objects.count() == 1


def test_ten_threads_with_their_own_keys_get_distinct_contract_numbers(
    lending: dict[str, Any],
) -> None:
    finance = lending["users"]["finance"]
    bodies = [
        service_kwargs(
            disburse_body(lending["c1"], lending["products"]["consumer"], idempotency_key=new_key())
        )
        for _ in range(THREADS)
    ]

    results = _race(lambda i: loans.disburse(actor=finance, **bodies[i]))

    assert [r for r in results if isinstance(r, Exception)] == []
    numbers = sorted(loan.contract_no for loan in results)
    assert len(set(numbers)) == THREADS
    assert [int(n[-4:]) for n in numbers] == list(range(1, THREADS + 1))
    assert Installment.objects.count() == 12 * THREADS
