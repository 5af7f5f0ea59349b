"""Catch-up, crash/resume and partitions all end in exactly the state of one clean run.

Each comparison runs two ways over the identical data set: the book is built once, a savepoint
is taken, the first way runs, the savepoint is rolled back, the second way runs."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction

from loandesk.core.errors import Conflict
from loandesk.core.services import get_business_date
from loandesk.postloan import cob
from loandesk.postloan.models import CobRun, CobStepRun
from tests.postloan.conftest import START, set_date, state

pytestmark = pytest.mark.django_db


class Killed(BaseException):
    """Stands in for kill -9: a BaseException, so no cleanup code runs on the way out."""


@contextmanager
def rolled_back() -> Iterator[None]:
    sid = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(sid)


def outcome(work: Callable[[], Any]) -> dict[str, Any]:
    with rolled_back():
        work()
        return {**state(), "business_date": get_business_date()}


def test_catch_up_over_40_days_equals_40_single_runs(book: dict[str, Any]) -> None:
    until = START + timedelta(days=39)

    def singles() -> None:
        for _ in range(40):
            [run] = cob.run_cob()
            assert run.status == "done"

    clean = outcome(lambda: cob.run_cob(until=until))
    assert clean["business_date"] == until + timedelta(days=1)
    assert outcome(singles) == clean
    assert len(clean["events"]) > 10 and clean["snapshots"]


def test_partitions_three_equal_one(book: dict[str, Any]) -> None:
    until = date(2026, 3, 2)  # crosses a month end (penalty posting)
    one = outcome(lambda: cob.run_cob(start=START, until=until, workers=1))

    def three() -> None:
        runs = cob.run_cob(start=START, until=until, workers=3, in_process=True)
        assert {r.steps.values("partition").distinct().count() for r in runs} == {3}

    assert outcome(three) == one
    assert one["postings"]


def crash_points_for_this_engine(
    points: list[tuple[str, str, int, str]],
) -> list[tuple[str, str, int, str]]:
    """Every point on SQLite. On PostgreSQL each step's two points (before and after its
    commit) once, on the dates and partitions in turn (12 of 96): the rerun logic is the same
    Python on both engines, and PostgreSQL's processes are killed for real in test_cob_kill.py
    and test_cob_task_workers.py. The whole list there cost ~50 s of the CI's PostgreSQL
    pass."""
    if connection.vendor != "postgresql":
        return points
    by_step_and_point: dict[tuple[str, str], list[tuple[str, str, int, str]]] = {}
    for at in points:
        by_step_and_point.setdefault((at[1], at[3]), []).append(at)
    chosen = [same[k % len(same)] for k, same in enumerate(by_step_and_point.values())]
    every_step_twice = {(s, p) for s in cob.STEPS for p in ("before_commit", "after_commit")}
    assert {(at[1], at[3]) for at in chosen} == every_step_twice
    assert {at[0] for at in chosen} == {at[0] for at in points}  # every date too
    return chosen


def test_a_crash_at_any_point_then_rerun_equals_a_clean_run(book: dict[str, Any]) -> None:
    start, until = date(2026, 2, 27), date(2026, 3, 1)

    def setup() -> None:
        set_date(start)  # no earlier runs: the first run catches every state up at once

    with rolled_back():
        setup()
        # The clean run also counts the crash points a run passes through.
        points: list[tuple[str, str, int, str]] = []

        def count(point: str, step: CobStepRun) -> None:
            points.append((str(step.run.business_date), step.step, step.partition, point))

        cob.run_cob(start=start, until=until, workers=3, interrupt=count)
        clean = {**state(), "business_date": get_business_date()}
    assert len(points) == 3 * (len(cob.PARTITIONED_STEPS) * 3 + 1) * 2

    for k, at in enumerate(crash_points_for_this_engine(points)):
        with rolled_back():
            setup()

            def crash(point: str, step: CobStepRun, at: tuple[Any, ...] = at) -> None:
                if (str(step.run.business_date), step.step, step.partition, point) == at:
                    raise Killed

            with pytest.raises(Killed):
                cob.run_cob(start=start, until=until, workers=3, interrupt=crash)
            run = CobRun.objects.get(business_date=date.fromisoformat(at[0]))
            assert run.status == "running", k  # nothing cleaned up, as after kill -9
            # Rerun (a different worker count: the stored partitions are reused).
            cob.run_cob(until=until, workers=1)
            assert {**state(), "business_date": get_business_date()} == clean, at


def test_a_failing_step_marks_the_run_failed_and_a_rerun_finishes(book: dict[str, Any]) -> None:
    clean = outcome(lambda: cob.run_cob(until=date(2026, 2, 20)))
    with rolled_back():

        def boom(point: str, step: CobStepRun) -> None:
            if step.step == "loans" and point == "before_commit":
                raise RuntimeError("disk full")

        with pytest.raises(RuntimeError):
            cob.run_cob(until=date(2026, 2, 20), interrupt=boom)
        run = CobRun.objects.get(business_date=START)
        assert run.status == "failed" and "disk full" in run.error
        assert run.steps.get(step="loans").status == "failed"
        cob.run_cob(until=date(2026, 2, 20))
        assert {**state(), "business_date": get_business_date()} == clean
        assert CobRun.objects.get(business_date=START).attempts == 2


@pytest.mark.postgres(reason="worker processes cannot share SQLite's in-memory test database")
@pytest.mark.django_db(transaction=True)
def test_worker_processes_equal_one_process(book: dict[str, Any]) -> None:
    until = date(2026, 3, 2)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        cob.run_cob(until=until, workers=3, in_process=True)
        clean = {**state(), "business_date": get_business_date()}
        raise Undo
    runs = cob.run_cob(until=until, workers=3)  # three forked processes, committed work
    assert all(r.status == "done" for r in runs) and {r.workers for r in runs} == {3}
    assert CobStepRun.objects.exclude(status="done").count() == 0
    assert {**state(), "business_date": get_business_date()} == clean
    assert clean["events"] and clean["snapshots"]


def test_a_run_left_running_by_a_dead_process_does_not_block_a_rerun(
    book: dict[str, Any],
) -> None:
    """After kill -9 the run stays 'running' with a fresh heartbeat; what tells a live run from
    a dead one is the liveness lock, which the database / kernel drops with the process."""
    with pytest.raises(Killed):

        def crash(point: str, step: CobStepRun) -> None:
            if step.step == "loans" and point == "after_commit":
                raise Killed

        cob.run_cob(until=START, interrupt=crash)
    run = CobRun.objects.get(business_date=START)
    assert run.status == "running" and run.heartbeat_at is not None
    assert not cob.runner_alive()
    assert cob.in_progress() is None  # no 15-minute wait for the heartbeat to go stale
    with cob.liveness_lock():  # a live process runs COB: the run is in progress again
        assert cob.runner_alive()
        assert cob.in_progress() == run
    [again] = cob.run_cob(until=START)
    assert again.status == "done" and again.attempts == 2


def test_a_second_runner_is_refused_while_one_holds_the_lock(book: dict[str, Any]) -> None:
    with cob.liveness_lock():
        with pytest.raises(Conflict) as exc:
            cob.run_day(START)
        assert exc.value.code == "postloan.cob_running"
        with pytest.raises(Conflict), cob.liveness_lock(wait=0.2):
            pass
    assert not cob.runner_alive()
    assert cob.run_day(START).status == "done"


def test_one_partition_needs_no_count_of_the_book(book: dict[str, Any]) -> None:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        run = cob.prepare(START, workers=1)
    loan_counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not [sql for sql in loan_counts if "lending_loan" in sql], loan_counts
    assert set(run.steps.values_list("lo_id", "hi_id")) == {(0, None)}
    # Three workers still cut the book into three ranges.
    other = cob.prepare(START + timedelta(days=1), workers=3)
    assert len(set(other.steps.filter(step="loans").values_list("lo_id", "hi_id"))) == 3
