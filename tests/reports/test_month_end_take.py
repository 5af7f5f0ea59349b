"""Taking month ends outside a caller's transaction (reports.month_end.take): nothing is locked
while the states are computed, and a month end that a back-dated write changed meanwhile is
computed again instead of written stale. The bench generator takes them that way on two
connections at once after a bulk load, and writes what the application's rebuild writes."""

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from bench.generate import bulkload
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from loandesk.demo.services import seed_demo
from loandesk.lending.models import Installment, Loan
from loandesk.reports import facts
from loandesk.reports import month_end as me
from loandesk.reports import vintage as v
from loandesk.reports.models import MonthEndClose, MonthEndFact
from tests.reports import conftest as book
from tests.reports.test_month_end import held, restated

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_month_end_changed_while_it_is_computed_is_computed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_demo()
    book._make_book(book._demo_rows())
    ends = me.all_closed_ends(book.TODAY)
    inst = Installment.objects.filter(
        paid_off_on__isnull=True, due_date__lt=date(2026, 6, 1)
    ).first()
    assert inst is not None
    claims: list[list[date]] = []
    real_claim = me._claim

    def claim_then_write(todo: list[date]) -> dict[date, int]:
        versions = real_claim(todo)
        claims.append(list(todo))
        if len(claims) == 1:
            # Another session repays an installment back-dated to 2026-06-10 (committed: this
            # test runs outside a transaction) after the claim, before the rows are written.
            Installment.objects.filter(pk=inst.pk).update(paid_off_on=date(2026, 6, 10))
        return versions

    monkeypatch.setattr(me, "_claim", claim_then_write)
    loans: Any = me.take(ends, v.buckets())
    changed = [e for e in ends if e >= date(2026, 6, 10)]
    assert claims == [ends, changed]  # only the month ends it reached were computed again
    assert not MonthEndClose.objects.filter(stale=True).exists()
    assert held(ends) == restated(ends)
    assert loans == sum(restated(ends).values())


def month_end_rows() -> tuple[Counter[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every MonthEndFact row (a multiset: a row written twice counts twice) and every
    MonthEndClose row, without ids and the take's timing."""
    fact_rows: Counter[tuple[Any, ...]] = Counter(
        MonthEndFact.objects.values_list(
            "month_end",
            "cohort",
            "department_id",
            "owner_id",
            "product_id",
            "previous",
            "state",
            "loans",
        )
    )
    close_rows = list(
        MonthEndClose.objects.order_by("month_end").values_list(
            "month_end", "buckets", "loans", "stale", "version"
        )
    )
    return fact_rows, close_rows


@pytest.mark.postgres(reason="the generator's parallel take uses connections of its own")
def test_the_generators_parallel_take_writes_what_the_serial_rebuild_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_demo()
    book._make_book(book._demo_rows())
    ends = me.all_closed_ends(book.TODAY)
    assert len(ends) >= 6
    serial = facts.rebuild()
    expected_facts, expected_closes = month_end_rows()
    assert [row[0] for row in expected_closes] == ends
    assert {row[0] for row in expected_facts} == set(ends)
    # Left over from before the load: a month end nobody closes any more, a half-written one.
    MonthEndClose.objects.create(
        month_end=date(2020, 1, 31), buckets="", loans=1, taken_at=timezone.now(), seconds=0.0
    )
    MonthEndFact.objects.filter(month_end=ends[3]).delete()
    MonthEndClose.objects.filter(month_end=ends[4]).update(stale=True, version=7)

    taken: list[tuple[list[date], int, str]] = []
    real_take = me.take

    def take(run: list[date], buckets: Any) -> int:
        loans = real_take(run, buckets)
        pid = connection.connection.info.backend_pid  # this thread's connection
        taken.append((list(run), pid, threading.current_thread().name))
        return loans

    rebuilt: list[tuple[int, str]] = []
    real_rebuild = facts.rebuild

    def rebuild(**kwargs: Any) -> dict[str, int]:
        rebuilt.append((connection.connection.info.backend_pid, threading.current_thread().name))
        return real_rebuild(**kwargs)

    monkeypatch.setattr(me, "take", take)
    monkeypatch.setattr(facts, "rebuild", rebuild)
    # As the generator ends a load.
    with facts.triggers_suspended(bulkload.rebuild_facts):
        pass
    # Three runs of consecutive month ends, each month end in exactly one, and the other facts
    # (without the month ends), taken in turn by two connections (neither the test's) in two
    # threads.
    assert len(taken) == 3
    runs = sorted(run for run, _, _ in taken)
    assert [e for run in runs for e in run] == ends
    assert len(rebuilt) == 1
    jobs = [(pid, name) for _, pid, name in taken] + rebuilt
    main_pid = connection.connection.info.backend_pid
    assert len({pid for pid, _ in jobs}) == 2 and main_pid not in {pid for pid, _ in jobs}
    assert len({name for _, name in jobs}) == 2
    assert threading.current_thread().name not in {name for _, name in jobs}
    # The same rows as the application's one-transaction rebuild, and the same counts.
    assert month_end_rows() == (expected_facts, expected_closes)
    assert MonthEndClose.objects.filter(stale=False).count() == len(ends)
    assert bulkload.rebuild_facts() == serial


def test_shares_cut_the_month_ends_into_runs_of_about_equal_work() -> None:
    seed_demo()
    book._make_book(book._demo_rows())
    ends = me.all_closed_ends(book.TODAY)
    disbursed = dict(Loan.objects.values_list("start_date").annotate(n=Count("id")))

    def weight(run: list[date]) -> int:
        return sum(1 + sum(n for day, n in disbursed.items() if day <= e) for e in run)

    first, second = bulkload.shares(reversed(ends), 2)
    assert first + second == ends
    # A growing book: the later month ends weigh more, so the first run holds more of them;
    # no month end moved to the other run would make the two closer.
    assert len(first) > len(second) > 0
    gap = abs(weight(first) - weight(second))
    assert gap <= abs(weight(first[:-1]) - weight([first[-1], *second]))
    assert gap <= abs(weight([*first, second[0]]) - weight(second[1:]))
    assert bulkload.shares(ends, 1) == [ends]
    assert bulkload.shares([], 2) == []
    assert bulkload.shares(ends[:1], 2) == [ends[:1]]
    assert [e for run in bulkload.shares(ends, 3) for e in run] == ends
    assert len(bulkload.shares(ends, 3)) == 3
    assert bulkload.shares(ends[:2], 5) == [ends[:1], ends[1:2]]
    with pytest.raises(ValueError, match="at least 1"):
        bulkload.shares(ends, 0)


def test_a_month_end_written_in_many_statements_has_every_row_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_demo()
    book._make_book(book._demo_rows())
    ends = me.all_closed_ends(book.TODAY)
    facts.rebuild()
    expected = month_end_rows()
    per_end = Counter(row[0] for row in expected[0].elements())
    assert max(per_end.values()) > 7  # so 3 rows per statement splits a month end
    monkeypatch.setattr(me, "_ROWS_PER_INSERT", 3)
    facts.rebuild()
    assert month_end_rows() == expected
    assert held(ends) == restated(ends)


_SQLITE_FILE_TAKE = """
import threading

import django

django.setup()
from django.core.management import call_command

call_command("migrate", verbosity=0, interactive=False)
from bench.generate import bulkload
from loandesk.demo.services import seed_demo
from loandesk.reports import facts
from loandesk.reports import month_end as me
from tests.reports import conftest as book
from tests.reports.test_month_end_take import month_end_rows

seed_demo()
book._make_book(book._demo_rows())
assert len(me.all_closed_ends(book.TODAY)) >= 6
serial = facts.rebuild()
expected = month_end_rows()
threads = set()
real_take = me.take


def take(run, buckets):
    threads.add(threading.current_thread().name)
    return real_take(run, buckets)


me.take = take
assert bulkload.rebuild_facts() == serial
assert month_end_rows() == expected
assert len(threads) == 2, threads
print("same rows from two threads")
"""


def test_the_generators_parallel_take_on_a_sqlite_file_writes_what_the_serial_rebuild_writes(
    tmp_path: Path,
) -> None:
    """On a SQLite file the generator takes the month ends on two threads' connections too
    (the suite's own SQLite database is in memory, so this runs in a process of its own)."""
    root = Path(__file__).resolve().parents[2]
    inherited = os.environ.get("PYTHONPATH")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'book.sqlite3'}",
        "LOANDESK_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "loandesk.settings",
        "PYTHONPATH": str(root) + (os.pathsep + inherited if inherited else ""),
    }
    done = subprocess.run(
        [sys.executable, "-c", _SQLITE_FILE_TAKE],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "same rows from two threads" in done.stdout
