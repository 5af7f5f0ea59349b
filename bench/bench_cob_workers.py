"""COB spread over task workers: 1 vs 2 `loandesk db_worker` processes (issue #8, "Growing past
one machine"). PostgreSQL only: on SQLite one write lock serialises every writer, so a second
worker can only wait.

The measured COB must be committed for the worker processes to see it, so this module never
touches the database it was given: it copies it (``CREATE DATABASE … TEMPLATE``, which needs no
other session on the source — a shared kept data set must be idle; use LOANDESK_BENCH_DB to
point at a copy of your own), prepares the copy as bench_cob does (demo loans out of the way,
COB caught up to ``loans.CLOSED``; at small/10k the portfolio is generated into it), then, for
each worker count M, makes a fresh copy of that, starts M task workers on it (queue ``cob``)
and closes dates with ``cob.run_cob(via_tasks=True)`` from this process as the coordinator:

* steady-state days — STEADY_DAYS dates, each after the day's on-time repayments (bench_cob's
  ``pay_on_time``), as in the steady-state row of bench_cob;
* full rebuild — every live loan's COB state cleared, then one date closed again (bench_cob's
  ``_clear_state``): the most work a date can hold, which is where parallel workers can help.

Both worker counts use the same PARTITIONS loan-id partitions, so the only difference is how
many processes take them. Rows: "…, 2 task workers" with "1 task worker" as its baseline (ratio
below 1 = faster). Every copy is dropped afterwards.
"""

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, connections

from bench import bench_cob
from bench.generate import loans as portfolio
from bench.harness import Row, row_from

PARTITIONS = 2
STEADY_DAYS = 3
WORKER_COUNTS = (1, 2)
ROOT = Path(__file__).resolve().parents[1]


def _admin() -> psycopg.Connection[Any]:
    s = connection.settings_dict
    return psycopg.connect(
        dbname="postgres",
        user=s.get("USER") or "postgres",
        host=s.get("HOST") or None,
        port=int(s["PORT"]) if s.get("PORT") else None,
        password=s.get("PASSWORD") or None,
        autocommit=True,
    )


def _copy(source: str, target: str) -> None:
    connections.close_all()
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


def _drop(name: str) -> None:
    connections.close_all()
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _on(name: str) -> Iterator[None]:
    """Point this process's Django connection at database `name` for the block."""
    old = connection.settings_dict["NAME"]
    connections.close_all()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connections.close_all()
        connection.settings_dict["NAME"] = old


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = s.get("USER") or "postgres"
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgresql://{auth}@{s.get('HOST') or 'localhost'}{port}/{name}"


def _start_workers(name: str, count: int, log: Path) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DATABASE_URL": _url(name),
            "LOANDESK_VAR_DIR": str(settings.VAR_DIR),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "loandesk.settings",
            "LOANDESK_LOG_LEVEL": "WARNING",
        }
    )
    procs = []
    for n in range(count):
        cmd = [sys.executable, "-m", "loandesk.manage", "db_worker", "--queue-name", "cob"]
        cmd += ["--interval", "0.02", "--no-startup-delay", "--worker-id", f"bench-{n + 1}"]
        with open(log, "ab") as out:
            procs.append(subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT))
    return procs


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(procs: list[subprocess.Popen[bytes]], seconds: float = 90) -> None:
    """Until every worker has taken a task (a started process takes a few seconds to load):
    no-op partition tasks (run 0 does not exist) until each worker id has run one."""
    from django_tasks_db.models import DBTaskResult

    from loandesk.postloan.tasks import run_cob_partition_task

    want = {f"bench-{n + 1}" for n in range(len(procs))}
    deadline = time.monotonic() + seconds
    seen: set[str] = set()
    ids: list[Any] = []
    while seen != want:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError(f"the task workers did not start (seen {sorted(seen)})")
        if not DBTaskResult.objects.filter(pk__in=ids, status="READY").exists():
            ids.append(run_cob_partition_task.enqueue(run_id=0, partition=0).id)
        for worker_ids in DBTaskResult.objects.filter(pk__in=ids).values_list(
            "worker_ids", flat=True
        ):
            seen.update(worker_ids)
        time.sleep(0.02)
    # Only once every probe has finished: a worker whose running task's row is deleted under
    # it fails to save the result and exits, and the measured COB then waits for ever.
    while DBTaskResult.objects.filter(pk__in=ids, status__in=("READY", "RUNNING")).exists():
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError("the task workers did not finish their probe tasks")
        time.sleep(0.02)
    DBTaskResult.objects.filter(pk__in=ids).delete()


def _prepare_base(scale: str, n: int) -> None:
    """On the base copy (committed): the portfolio (small/10k), demo loans out of the way, COB
    caught up to the generated date."""
    from loandesk.core.services import set_business_date
    from loandesk.lending.models import Loan
    from loandesk.postloan import cob
    from loandesk.postloan.models import CobRun

    if scale not in bench_cob.PERSISTENT:
        set_business_date(actor=None, new_date=portfolio.AS_OF, allow_backwards=True)
        portfolio.generate(n, log=False)
    CobRun.objects.all().delete()
    Loan.objects.exclude(contract_no__startswith=portfolio.CONTRACT_PREFIX).update(
        status="written_off"
    )
    set_business_date(actor=None, new_date=portfolio.CLOSED, allow_backwards=True)
    cob.run_cob(until=portfolio.CLOSED)


def _measure(name: str, workers: int, log: Path) -> dict[str, Any]:
    from loandesk.postloan import cob

    first = portfolio.AS_OF
    out: dict[str, Any] = {"days": [], "rebuild": [], "load": bench_cob._load()}
    with _on(name):
        procs = _start_workers(name, workers, log)
        try:
            _wait_ready(procs)
            for k in range(STEADY_DAYS):
                day = first + timedelta(days=k)
                bench_cob.pay_on_time(day)
                t0 = time.perf_counter()
                cob.run_cob(until=day, workers=PARTITIONS, via_tasks=True)
                out["days"].append((time.perf_counter() - t0) * 1000)
                bench_cob._progress(
                    f"{workers} task worker(s): day {day} {out['days'][-1]:.0f} ms"
                    f" ({bench_cob._fmt(bench_cob._step_seconds(day))})"
                )
            target: date = first + timedelta(days=STEADY_DAYS)
            bench_cob._clear_state(target)
            t0 = time.perf_counter()
            cob.run_cob(start=target, until=target, workers=PARTITIONS, via_tasks=True)
            out["rebuild"].append((time.perf_counter() - t0) * 1000)
            out["rebuild_steps"] = bench_cob._step_seconds(target)
            out["fingerprint"] = bench_cob._fingerprint()
            bench_cob._progress(
                f"{workers} task worker(s): full rebuild {out['rebuild'][-1]:.0f} ms"
                f" ({bench_cob._fmt(out['rebuild_steps'])})"
            )
        finally:
            _stop(procs)
    return out


def run(scale: str) -> list[Row]:
    if connection.vendor != "postgresql":
        print("  cob-workers: PostgreSQL only (SQLite has one writer)", file=sys.stderr)
        return []
    n = bench_cob.SIZES.get(scale, bench_cob.SIZES["small"])
    source = str(connection.settings_dict["NAME"])
    base = f"{source}_cobw"[:60]
    settings.LOANDESK_COB_ALLOW_FUTURE = True
    made: list[str] = []
    results: dict[int, dict[str, Any]] = {}
    log = Path(settings.VAR_DIR) / "bench-cob-workers.log"
    try:
        _copy(source, base)
        made.append(base)
        t0 = time.perf_counter()
        with _on(base):
            _prepare_base(scale, n)
        bench_cob._progress(f"task-worker base copy ready in {time.perf_counter() - t0:.1f}s")
        for workers in WORKER_COUNTS:
            name = f"{base}_{workers}"
            _copy(base, name)
            made.append(name)
            results[workers] = _measure(name, workers, log)
            _drop(name)
    finally:
        for name in made:
            with suppress(Exception):
                _drop(name)
    one, two = results[1], results[2]
    agree = one["fingerprint"] == two["fingerprint"]
    rows = []
    for what, key, target in (
        ("COB steady-state day", "days", "report the speed-up (2 cores)"),
        ("COB full rebuild", "rebuild", "report the speed-up (2 cores)"),
    ):
        single = row_from(
            f"{what}, {n:,} loans, 1 task worker", "postgresql", one[key], target="reference"
        )
        single.throughput = n / (single.median_ms / 1000)
        single.notes = f"{PARTITIONS} partitions as tasks; {one['load']}"
        double = row_from(
            f"{what}, {n:,} loans, 2 task workers",
            "postgresql",
            two[key],
            baseline="1 task worker, same partitions",
            baseline_median_ms=statistics.median(one[key]),
            target=target,
        )
        double.throughput = n / (double.median_ms / 1000)
        speedup = statistics.median(one[key]) / double.median_ms
        double.met = agree
        double.notes = (
            f"speed-up {speedup:.2f}×; end state {'equals' if agree else 'DIFFERS FROM'} the"
            f" 1-worker run's; {PARTITIONS} partitions; {two['load']}"
        )
        double.extra = {"speedup": speedup, "loans": n, "load_1m": os.getloadavg()[0]}
        if key == "rebuild":
            single.notes += f"; steps {bench_cob._fmt(one['rebuild_steps'])}"
            double.notes += f"; steps {bench_cob._fmt(two['rebuild_steps'])}"
        rows += [single, double]
    return rows
