"""Parallel openings on PostgreSQL: one case per loan however many openers race, and the round
robin cursor stays fair. Committed transactions (transaction=True), real threads."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from loandesk.postloan import collections
from loandesk.postloan.models import CollectionCase, CollectionTeam
from tests.postloan.collections_fixtures import collector, overdue_loans, team

THREADS = 8

pytestmark = [
    pytest.mark.postgres(reason="SQLite's single write lock never lets openings overlap"),
    pytest.mark.django_db(transaction=True),
]


def _race(work: Callable[[int], Any]) -> list[Any]:
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


def test_parallel_openings_of_one_loan_make_one_case(lending: dict[str, Any]) -> None:
    CollectionTeam.objects.all().delete()
    (loan,) = overdue_loans(lending)
    t = team("RR", [collector(f"c{i}") for i in range(3)])
    results = _race(lambda i: collections.open_case(loan=loan.pk))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert len({case.pk for case, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert CollectionCase.objects.filter(loan=loan).count() == 1
    t.refresh_from_db()
    assert t.rr_cursor == 1  # the losers did not move the cursor


def test_parallel_openings_of_many_loans_keep_the_cursor_fair(lending: dict[str, Any]) -> None:
    CollectionTeam.objects.all().delete()
    loans = overdue_loans(lending, THREADS * 2)
    members = [collector(f"m{i}") for i in range(3)]
    t = team("RR", members)
    # Every thread opens two loans, and every loan is opened by two threads.
    results = _race(
        lambda i: [
            collections.open_case(loan=loans[(2 * i + k) % len(loans)].pk)[0].pk for k in range(4)
        ]
    )
    assert [r for r in results if isinstance(r, Exception)] == []
    cases = list(CollectionCase.objects.all())
    assert len(cases) == len(loans) and len({c.loan_id for c in cases}) == len(loans)
    counts = [sum(c.collector_id == m.pk for c in cases) for m in members]
    assert max(counts) - min(counts) <= 1 and sum(counts) == len(loans)
    t.refresh_from_db()
    assert t.rr_cursor == len(loans)
