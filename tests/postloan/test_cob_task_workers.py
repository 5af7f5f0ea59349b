"""COB's partitions spread over real task workers (`loandesk db_worker` processes): a month of
dates closed through two workers ends in exactly the state of an in-process run; a worker
SIGKILLed in the middle of a partition leaves it undone and the coordinator enqueues it again
for a live worker; a scheduled / requested run (the coordinator is itself a task) completes with
one task worker alone.

Same data and comparison as tests/postloan/test_cob_kill.py: a generated 600-loan book copied
into scratch databases (tests/processes.py), `cob_state` read back from each. The task queue is
django-tasks' database backend in the same database (SELECT … FOR UPDATE SKIP LOCKED on
PostgreSQL, SQLite's write lock there).

Several task workers are a PostgreSQL deployment (docs/deployment.md; `scripts/multiworker`
refuses SQLite, whose single writer gains nothing from more processes): the two-worker month and
the script's workers run in the PostgreSQL pass. The SQLite pass runs what a one-machine install
does: its one task worker killed mid-partition and replaced, one task worker coordinating a
queued run, and the script's refusal. The queued run and the script use a 120-loan book.
"""

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from bench.generate import loans as portfolio
from django.db import connection
from django_tasks_db.models import DBTaskResult

from loandesk.core.services import set_business_date
from loandesk.postloan import tasks as postloan_tasks
from loandesk.postloan.models import CobRun, CobStepRun
from tests.postloan.test_cob_kill import cob_state
from tests.processes import (
    Scratch,
    _live_members,
    env_for,
    kill9,
    manage,
    run,
    scratch_copies,
    spawn,
)

pytestmark = pytest.mark.django_db(transaction=True)

LOANS = 600
# A queued run's coordination and the script's workers do not depend on the book's size.
SMALL_LOANS = 120
FIRST = portfolio.AS_OF  # 2026-06-01
UNTIL = date(2026, 6, 30)  # 30 dates, a month end (penalty posting)
PARTITIONS = "4"
SEED = 20261206

TASKS, RUN, STEP = (
    DBTaskResult._meta.db_table,
    CobRun._meta.db_table,
    CobStepRun._meta.db_table,
)
PARTITION_TASK = postloan_tasks.run_cob_partition_task.module_path


def _json(value: Any) -> Any:
    return value if isinstance(value, dict | list) else json.loads(value)


def partition_tasks(db: Scratch) -> list[dict[str, Any]]:
    """Every partition task in `db`: status, worker ids, run id and partition."""
    out = []
    for status, workers, args, exc in db.rows(
        f"SELECT status, worker_ids, args_kwargs, exception_class_path FROM {TASKS}"
        " WHERE task_path = %s",
        [PARTITION_TASK],
    ):
        kwargs = _json(args)["kwargs"]
        out.append(
            {
                "status": status,
                "workers": _json(workers),
                "run_id": kwargs["run_id"],
                "partition": kwargs["partition"],
                "exception": exc,
            }
        )
    return out


def undone_steps(db: Scratch, run_id: int, partition: int) -> int:
    return int(
        db.value(
            f"SELECT COUNT(*) FROM {STEP} WHERE run_id = %s AND partition = %s"
            " AND status <> 'done'",
            [run_id, partition],
        )
    )


class Workers:
    """Task worker processes on one scratch database, each with a known worker id. By default
    they take COB's queue only: a worker that also dispatched the outbox would let the rules
    open collection cases between dates, which the in-process reference run never does."""

    def __init__(self, db: Scratch, tmp: Path, queues: str = "cob", **env: str) -> None:
        self.db, self.tmp, self.env, self.queues = db, tmp, env_for(db, **env), queues
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.started = 0

    def start(self) -> str:
        self.started += 1
        wid = f"w{self.started}"
        cmd = manage(
            "db_worker",
            *("--queue-name", self.queues, "--interval", "0.05", "--no-startup-delay"),
            *("--worker-id", wid),
        )
        self.procs[wid] = spawn(cmd, self.env, self.tmp / f"{wid}.log")
        return wid

    def kill(self, wid: str) -> None:
        kill9(self.procs.pop(wid))

    def stop_all(self) -> None:
        for wid in list(self.procs):
            self.kill(wid)


SEVERAL_WORKERS_NEED_POSTGRES = pytest.mark.postgres(
    reason="several task workers are a PostgreSQL deployment (docs/deployment.md)"
)


def _book(tmp_path: Path, loans: int) -> Iterator[Callable[[str], Scratch]]:
    set_business_date(actor=None, new_date=FIRST, allow_backwards=True)
    made = portfolio.generate(loans, log=False)
    assert made["loans"] == loans
    with scratch_copies(tmp_path) as copy:
        yield copy


@pytest.fixture
def book(tmp_path: Path) -> Iterator[Callable[[str], Scratch]]:
    yield from _book(tmp_path, LOANS)


@pytest.fixture
def small_book(tmp_path: Path) -> Iterator[Callable[[str], Scratch]]:
    yield from _book(tmp_path, SMALL_LOANS)


def _clean_run(clean: Scratch, tmp: Path) -> subprocess.Popen[bytes]:
    """The reference: one in-process `loandesk cob --until …` (one partition, no workers)."""
    return spawn(manage("cob", "--until", UNTIL.isoformat()), env_for(clean), tmp / "clean.log")


def _expect_clean(proc: subprocess.Popen[bytes], clean: Scratch, tmp: Path) -> dict[str, Any]:
    assert proc.wait(timeout=300) == 0, (tmp / "clean.log").read_text()[-4000:]
    expected = cob_state(clean)
    assert len(expected["runs"]) == (UNTIL - FIRST).days + 1
    assert expected["runs"] == [(d, "done") for d, _ in expected["runs"]]
    assert expected["penalty_postings"] and expected["outbox"] and expected["snapshots"]
    return expected


@SEVERAL_WORKERS_NEED_POSTGRES
def test_a_month_through_two_task_workers_equals_an_in_process_run(
    book: Callable[[str], Scratch], tmp_path: Path
) -> None:
    clean, spread = book("cob_clean"), book("cob_tasks")
    clean_proc = _clean_run(clean, tmp_path)
    workers = Workers(spread, tmp_path)
    try:
        workers.start()
        workers.start()
        run(
            manage("cob", "--until", UNTIL.isoformat(), "--workers", PARTITIONS, "--via-tasks"),
            env_for(spread),
            tmp_path / "coordinator.log",
            timeout=300,
        )
        expected = _expect_clean(clean_proc, clean, tmp_path)
    finally:
        workers.stop_all()
        if clean_proc.poll() is None:
            kill9(clean_proc)
    assert cob_state(spread) == expected
    done = partition_tasks(spread)
    dates = (UNTIL - FIRST).days + 1
    assert len(done) == dates * int(PARTITIONS)
    assert {t["status"] for t in done} == {"SUCCESSFUL"}
    # The work really was spread: both workers ran partitions, and none ran in the command.
    by_worker = {t["workers"][-1] for t in done}
    assert by_worker == {"w1", "w2"}
    assert spread.value(f"SELECT MAX(partition) FROM {STEP}") == int(PARTITIONS) - 1


def test_task_worker_killed_mid_partition_is_retried_and_the_run_equals_a_clean_one(
    book: Callable[[str], Scratch], tmp_path: Path
) -> None:
    clean, killed = book("cob_clean"), book("cob_tkill")
    # PostgreSQL: two workers, three kills. SQLite, one machine's setup: its one task worker
    # (whose death the coordinator sees through the partition's file lock), killed once.
    several = killed.vendor == "postgresql"
    kills = 3 if several else 1
    clean_proc = _clean_run(clean, tmp_path)
    workers = Workers(killed, tmp_path)
    rng = random.Random(SEED)
    coordinator = None
    landed: list[dict[str, Any]] = []
    try:
        for _ in range(2 if several else 1):
            workers.start()
        cmd = manage("cob", "--until", UNTIL.isoformat(), "--workers", PARTITIONS, "--via-tasks")
        log = tmp_path / "coordinator.log"
        coordinator = spawn(cmd, env_for(killed), log)
        deadline = time.monotonic() + 240
        # Kill a worker while it runs a partition with steps left; each time a fresh worker
        # takes the dead one's place.
        while len(landed) < kills:
            assert time.monotonic() < deadline, f"no kill landed mid-partition: {landed}"
            assert coordinator.poll() is None, log.read_text()[-3000:]
            busy = [
                t
                for t in partition_tasks(killed)
                if t["status"] == "RUNNING"
                and t["workers"][-1] in workers.procs
                and undone_steps(killed, t["run_id"], t["partition"]) > 0
            ]
            if not busy:
                time.sleep(0.005)
                continue
            victim = busy[0]
            time.sleep(rng.uniform(0, 0.01))
            workers.kill(victim["workers"][-1])
            if undone_steps(killed, victim["run_id"], victim["partition"]) > 0:
                landed.append(victim)
            workers.start()
        code = coordinator.wait(timeout=300)
        assert code == 0, log.read_text()[-4000:]
        expected = _expect_clean(clean_proc, clean, tmp_path)
        # A worker taken for dead while slow to lock its partition (the machine busy) may still
        # hold a duplicate of a partition that is done by now: let the live workers finish
        # what they claimed (they find nothing to do) before they are stopped.
        settle = time.monotonic() + 60
        while time.monotonic() < settle and any(
            t["status"] == "READY"
            or (t["status"] == "RUNNING" and t["workers"][-1] in workers.procs)
            for t in partition_tasks(killed)
        ):
            time.sleep(0.05)
    finally:
        workers.stop_all()
        for proc in (clean_proc, coordinator):
            if proc is not None and proc.poll() is None:
                kill9(proc)
    assert cob_state(killed) == expected
    tasks = partition_tasks(killed)
    # Every landed kill left its task 'RUNNING' with the partition undone: the coordinator
    # marked it failed (its worker died) and enqueued the partition again for a live worker.
    dead = [t for t in tasks if t["exception"] == "loandesk.postloan.cob.TaskWorkerDied"]
    assert len(dead) >= len(landed)
    for victim in landed:
        retried = [
            t
            for t in tasks
            if (t["run_id"], t["partition"]) == (victim["run_id"], victim["partition"])
            and t["status"] == "SUCCESSFUL"
        ]
        assert retried, victim
    assert not [t for t in tasks if t["status"] in ("READY", "RUNNING")]


def test_a_queued_run_coordinated_by_the_only_task_worker_completes(
    small_book: Callable[[str], Scratch], tmp_path: Path
) -> None:
    """A scheduled / requested run is itself a task: with LOANDESK_COB_VIA_TASKS its worker
    coordinates and takes its partition tasks, so one task worker alone never waits on itself."""
    postloan_tasks.run_cob_task.enqueue(until="2026-06-05", workers=3, trigger="schedule")
    clean, queued = small_book("cob_clean"), small_book("cob_queued")
    run(
        manage("cob", "--until", "2026-06-05"),
        env_for(clean),
        tmp_path / "clean.log",
        timeout=300,
    )
    workers = Workers(queued, tmp_path, queues="default,cob", LOANDESK_COB_VIA_TASKS="1")
    try:
        workers.start()
        deadline = time.monotonic() + 240
        while queued.value(f"SELECT COUNT(*) FROM {RUN} WHERE status = 'done'") < 5:
            assert time.monotonic() < deadline, (tmp_path / "w1.log").read_text()[-3000:]
            time.sleep(0.05)
    finally:
        workers.stop_all()
    # This worker also dispatches the outbox once the run is over (and the rules act on the
    # events): compare COB's events without their delivery status, everything else exactly.
    got, expected = cob_state(queued), cob_state(clean)
    topics = {row[0] for row in expected["outbox"]}
    assert [r[:3] + r[4:] for r in got.pop("outbox") if r[0] in topics] == [
        r[:3] + r[4:] for r in expected.pop("outbox")
    ]
    assert got == expected
    tasks = partition_tasks(queued)
    assert len(tasks) == 5 * 3
    assert {t["status"] for t in tasks} == {"SUCCESSFUL"}


SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "multiworker"


def _script_env(db: Scratch, **extra: str) -> dict[str, str]:
    from django.conf import settings

    return env_for(
        db,
        LOANDESK=f"{sys.executable} -m loandesk.manage",
        LOANDESK_SECRET_KEY=settings.SECRET_KEY,
        LOANDESK_FIELD_KEYS=settings.LOANDESK_FIELD_KEYS,
        LOANDESK_BLIND_INDEX_KEY=settings.LOANDESK_BLIND_INDEX_KEY,
        **extra,
    )


def _db_workers(pgid: int) -> int:
    return sum(
        b"db_worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
        for pid in _live_members(pgid)
        if Path(f"/proc/{pid}/cmdline").exists()
    )


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="on PostgreSQL the script starts the workers (below)"
)
def test_multiworker_script_refuses_sqlite(tmp_path: Path) -> None:
    with scratch_copies(tmp_path) as copy:
        db = copy("cob_script")
        proc = subprocess.run(
            [str(SCRIPT), "tasks"], env=_script_env(db), capture_output=True, timeout=30
        )
    assert proc.returncode == 2
    assert b"DATABASE_URL must point at PostgreSQL" in proc.stderr


@SEVERAL_WORKERS_NEED_POSTGRES
def test_multiworker_script_starts_m_task_workers_that_close_cob_dates(
    small_book: Callable[[str], Scratch], tmp_path: Path
) -> None:
    db = small_book("cob_script")
    log = tmp_path / "multiworker.log"
    script = spawn([str(SCRIPT), "tasks"], _script_env(db, TASK_WORKERS="2"), log)
    try:
        deadline = time.monotonic() + 60
        while _db_workers(script.pid) < 2:
            assert script.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert _db_workers(script.pid) == 2
        run(
            manage("cob", "--until", "2026-06-03", "--workers", "2", "--via-tasks"),
            env_for(db),
            tmp_path / "coordinator.log",
            timeout=240,
        )
        script.send_signal(signal.SIGTERM)  # the supervisor stops its workers and exits
        script.wait(timeout=60)
        assert not _live_members(script.pid)
    finally:
        if script.poll() is None:
            kill9(script)
    assert db.rows(f"SELECT business_date, status FROM {RUN} ORDER BY 1") == [
        (date(2026, 6, d), "done") for d in (1, 2, 3)
    ]
    tasks = partition_tasks(db)
    assert len(tasks) == 3 * 2
    assert {t["status"] for t in tasks} == {"SUCCESSFUL"}
