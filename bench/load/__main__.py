"""python -m bench.load [--scale 1m] [--users 50] [--duration 300] [--workers 4] [--task-workers 1]

The officer's-day load test (issue #8, docs/performance.md "Load test"): starts LoanDesk on the
kept bench data set (`loandesk serve --no-migrate --no-scheduler`, K gunicorn workers and M task
workers), waits until it answers, runs locust headless with N simulated phones for a fixed
time (bench/load/locustfile.py), then prints per endpoint p50 / p95 / p99 / requests per second
/ failures and writes the table as JSON to bench/results/load-<scale>-<time>.json.

Database: PostgreSQL `loandesk_bench_<scale>` next to DATABASE_URL's database (or
LOANDESK_BENCH_DB), as `python -m bench` picks it; --database-url names another. The data set's
keys are read from its generator's var dir (LOANDESK_BENCH_DATA, default var/bench) and passed
to the server in the environment; the server's own var dir is a fresh folder under var/load/.
--url runs locust against a server that is already running instead.

The scheduler is not started: the bench data set's business date, COB runs and flow timers are
those of the generator, and a scheduler would start catching them up in the middle of the
measurement. The task workers run (the approvals' outbox nudges and automated steps).
"""

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TARGET_P95_MS = 100.0
KEY_FILES = {
    "LOANDESK_SECRET_KEY": "secret_key",
    "LOANDESK_FIELD_KEYS": "field_keys",
    "LOANDESK_BLIND_INDEX_KEY": "blind_index_key",
}


def _seconds(text: str) -> int:
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1:] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def _database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return str(args.database_url)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL (or pass --database-url)")
    base, _, _ = url.rpartition("/")
    name = os.environ.get("LOANDESK_BENCH_DB") or f"loandesk_bench_{args.scale}"
    return f"{base}/{name}"


def _server_env(args: argparse.Namespace, database_url: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOANDESK_")}
    for name in ("LOANDESK_DEMO_PASSWORD", "LOANDESK_WEB_DIST", "LOANDESK_DB_CONN_MAX_AGE"):
        if name in os.environ:
            env[name] = os.environ[name]
    keys = Path(args.keys).resolve()
    for variable, filename in KEY_FILES.items():
        if os.environ.get(variable):
            env[variable] = os.environ[variable]
        elif (keys / filename).exists():
            env[variable] = (keys / filename).read_text().strip()
    env.update(
        DATABASE_URL=database_url,
        LOANDESK_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="loandesk.settings",
        PYTHONPATH=os.pathsep.join(
            [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    )
    return env


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer {url}/api/v1/health within {timeout:.0f} s")


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its live descendants."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _ms(row: dict[str, str], column: str) -> float | None:
    value = row.get(column, "N/A")
    return None if value in ("N/A", "", None) else float(value)


def _db_backends(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving `database` on this machine."""
    found: dict[int, float] = {}
    for p in psutil.process_iter(["cmdline"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if cmd.startswith("postgres:") and f" {database} " in f"{cmd} ":
                t = p.cpu_times()
                found[p.pid] = t.user + t.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def _rows(stats_csv: Path) -> list[dict[str, Any]]:
    """Locust's per-request-name statistics (its `--csv` file), as result rows."""
    rows = []
    with stats_csv.open(newline="") as fh:
        for r in csv.DictReader(fh):
            count = int(r["Request Count"])
            rows.append(
                {
                    "operation": r["Name"],
                    "requests": count,
                    "failures": int(r["Failure Count"]),
                    "median_ms": _ms(r, "50%"),
                    "p95_ms": _ms(r, "95%"),
                    "p99_ms": _ms(r, "99%"),
                    "max_ms": float(r["Max Response Time"]) if count else None,
                    "avg_ms": float(r["Average Response Time"]) if count else None,
                    "throughput": float(r["Requests/s"]),
                }
            )
    return rows


def _met(row: dict[str, Any]) -> bool | None:
    if row["operation"] == "POST /auth/login":
        return None  # argon2id is slow on purpose (its own target: p95 <= 500 ms, bench_api)
    if row["p95_ms"] is None:
        return None
    return row["p95_ms"] <= TARGET_P95_MS and row["failures"] == 0


def render(rows: list[dict[str, Any]]) -> str:
    header = [
        "endpoint",
        "requests",
        "fail",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "req/s",
        "met",
    ]
    table = [header]
    for r in rows:
        met = r.get("met")

        def f(v: float | None, d: int = 0) -> str:
            return "-" if v is None else f"{v:,.{d}f}"

        table.append(
            [
                r["operation"],
                f"{r['requests']:,}",
                str(r["failures"]),
                f(r["median_ms"]),
                f(r["p95_ms"]),
                f(r["p99_ms"]),
                f(r["max_ms"]),
                f(r["throughput"], 2),
                "-" if met is None else ("yes" if met else "NO"),
            ]
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(
    *,
    scale: str,
    users: int,
    duration: int,
    workers: int,
    task_workers: int,
    spawn_rate: float,
    think: str,
    database_url: str,
    keys: str,
    url: str | None = None,
    port: int = 8765,
    business_date: str | None = None,
    save: bool = True,
    quiet: bool = False,
    smoke: bool = False,
    run_dir: Path | None = None,
    analysis: bool = True,
    vacuum: bool = True,
) -> dict[str, Any]:
    """Runs the load test and returns the result (rows and the run's facts). The plan, the
    server's var dir and log and locust's CSV and log go to `run_dir` (default var/load/<time>)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = run_dir or ROOT / "var" / "load" / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    args = argparse.Namespace(keys=keys)
    env = _server_env(args, database_url, run_dir / "server-var")

    def say(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr, flush=True)

    # The plan (which accounts, which customers, which search terms), read from the data set.
    plan_path = run_dir / "plan.json"
    started = time.perf_counter()
    plan_cmd = [sys.executable, "-m", "bench.load.plan", str(plan_path)]
    if business_date:
        plan_cmd += ["--business-date", business_date]
    subprocess.run(plan_cmd, env=env, check=True, cwd=ROOT)
    plan = json.loads(plan_path.read_text())
    say(
        f"plan: {', '.join(a['username'] for a in plan['accounts'])} "
        f"({time.perf_counter() - started:.1f} s)"
    )

    if vacuum and database_url.startswith("postgres"):
        # A data set straight from the generator has no visibility map (it ends with ANALYZE,
        # not VACUUM), so no index-only scan, e.g. of a name's posting list; a running
        # installation has one, kept by autovacuum. The first VACUUM of a 1m data set reads
        # it whole; later ones take seconds.
        started = time.perf_counter()
        with psycopg.connect(database_url, autocommit=True) as db:
            db.execute("VACUUM (ANALYZE)")
        say(f"VACUUM (ANALYZE) of the data set: {time.perf_counter() - started:.0f} s")

    server: subprocess.Popen[bytes] | None = None
    log = (run_dir / "server.log").open("wb")
    try:
        if url is None:
            url = f"http://127.0.0.1:{port}"
            server = subprocess.Popen(
                [
                    *(sys.executable, "-m", "loandesk.manage", "serve"),
                    *("--host", "127.0.0.1", "--port", str(port)),
                    *("--workers", str(workers), "--task-workers", str(task_workers)),
                    "--no-migrate",
                    "--no-scheduler",
                ],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            _wait_ready(url, server)
            say(f"server ready at {url} ({workers} web workers, {task_workers} task workers)")

        locust_env = {**env, "LOANDESK_LOAD_PLAN": str(plan_path), "LOANDESK_LOAD_THINK": think}
        if smoke:
            locust_env["LOANDESK_LOAD_SMOKE"] = "1"
        if not analysis:
            locust_env["LOANDESK_LOAD_ANALYSIS"] = "0"
        prefix = run_dir / "locust"
        cmd = [
            *(sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py")),
            *("--headless", "--host", url, "-u", str(users), "-r", str(spawn_rate)),
            *("-t", f"{duration}s", "--stop-timeout", "15", "--csv", str(prefix)),
            *("--loglevel", "WARNING", "--exit-code-on-error", "0", "--only-summary"),
        ]
        load_before = os.getloadavg()
        cpu_before = psutil.cpu_times()
        server_cpu_before = _tree_cpu(server.pid) if server else 0.0
        database = database_url.rpartition("/")[2].partition("?")[0]
        db_before = _db_backends(database) if "postgres" in database_url else {}
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        say(f"locust: {users} users, spawn {spawn_rate}/s, {duration} s, think {think} s")
        with (run_dir / "locust.log").open("wb") as locust_log:
            subprocess.run(
                cmd, env=locust_env, cwd=ROOT, stdout=locust_log, stderr=subprocess.STDOUT
            )
        wall = time.perf_counter() - t0
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu = (_tree_cpu(server.pid) - server_cpu_before) if server else None
        db_after = _db_backends(database) if "postgres" in database_url else {}
        # Backends that ended during the run are not counted (the server keeps its
        # connections for LOANDESK_DB_CONN_MAX_AGE, 60 s by default): a lower bound.
        db_cpu = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
        cpu_after = psutil.cpu_times()
        load_after = os.getloadavg()
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        log.close()

    locust_cpu = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    busy = sum(
        getattr(cpu_after, f) - getattr(cpu_before, f)
        for f in ("user", "nice", "system", "irq", "softirq", "steal")
    )
    total = busy + (cpu_after.idle - cpu_before.idle) + (cpu_after.iowait - cpu_before.iowait)
    stats_csv = Path(f"{prefix}_stats.csv")
    if not stats_csv.exists():
        raise RuntimeError(f"locust wrote no statistics; see {run_dir / 'locust.log'}")
    rows = _rows(stats_csv)
    for r in rows:
        r["met"] = _met(r) if r["operation"] != "Aggregated" else None
        r["engine"] = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        r["target"] = "" if r["operation"] == "Aggregated" else "p95 <= 100 ms"
    failures_csv = Path(f"{prefix}_failures.csv")
    failures = list(csv.DictReader(failures_csv.open())) if failures_csv.exists() else []
    cores = psutil.cpu_count() or 1
    result = {
        "scale": scale,
        "at": stamp,
        "kind": "load",
        "users": users,
        "duration_s": duration,
        "spawn_rate": spawn_rate,
        "think_s": think,
        "analysis_widgets": analysis,
        # The kept data set stays vacuumed afterwards: a later run with vacuum off is not one
        # on a fresh data set.
        "vacuumed_first": vacuum and database_url.startswith("postgres"),
        "web_workers": workers,
        "task_workers": task_workers,
        "database": database_url.rpartition("/")[2] if "postgres" in database_url else "sqlite",
        "accounts": {a["username"]: a["share"] for a in plan["accounts"]},
        "cores": cores,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "wall_s": round(wall, 1),
        "machine_cpu_busy_pct": round(100 * busy / total, 1) if total else None,
        "locust_cpu_s": round(locust_cpu, 1),
        "locust_cpu_pct_of_one_core": round(100 * locust_cpu / wall, 1) if wall else None,
        "server_cpu_s": round(server_cpu, 1) if server_cpu is not None else None,
        "server_cpu_pct_of_one_core": round(100 * server_cpu / wall, 1)
        if server_cpu is not None and wall
        else None,
        "db_cpu_s": round(db_cpu, 1) if db_after else None,
        "db_cpu_pct_of_one_core": round(100 * db_cpu / wall, 1) if db_after and wall else None,
        # What one request costs the server side (web processes + database backends), whatever
        # else the machine is doing: the figure to compare across busy and quiet runs.
        "server_cpu_ms_per_request": round(
            1000
            * ((server_cpu or 0.0) + db_cpu)
            / max(1, next((r["requests"] for r in rows if r["operation"] == "Aggregated"), 1)),
            2,
        )
        if server_cpu is not None
        else None,
        "rows": rows,
        "failures": failures,
        "run_dir": str(run_dir),
    }
    if save:
        out = HERE.parent / "results"
        out.mkdir(exist_ok=True)
        path = out / f"load-{scale}-{stamp}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
        result["path"] = str(path)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--scale", default=os.environ.get("SCALE", "1m"))
    parser.add_argument("--users", type=int, default=int(os.environ.get("USERS", "50")))
    parser.add_argument("--duration", default=os.environ.get("DURATION", "300"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "4")))
    parser.add_argument(
        "--task-workers", type=int, default=int(os.environ.get("TASK_WORKERS", "1"))
    )
    parser.add_argument("--spawn-rate", type=float, default=2.0)
    parser.add_argument("--think", default=os.environ.get("THINK", "3,10"))
    parser.add_argument("--database-url")
    parser.add_argument(
        "--keys",
        default=os.environ.get("LOANDESK_BENCH_DATA", "var/bench"),
        help="the data set's var dir (secret_key, field_keys, blind_index_key)",
    )
    parser.add_argument("--url", help="a running server (no server is started)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--business-date",
        default=os.environ.get("BUSINESS_DATE"),
        help="set the business date first (through the app's service), e.g. 2026-06-01",
    )
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="do not VACUUM (ANALYZE) the data set before the run",
    )
    parser.add_argument(
        "--no-analysis",
        action="store_true",
        default=os.environ.get("ANALYSIS") == "0",
        help="leave out the dashboards' vintage and roll-rate widgets",
    )
    args = parser.parse_args()
    result = run(
        scale=args.scale,
        users=args.users,
        duration=_seconds(args.duration),
        workers=args.workers,
        task_workers=args.task_workers,
        spawn_rate=args.spawn_rate,
        think=args.think,
        database_url=_database_url(args),
        keys=args.keys,
        url=args.url,
        port=args.port,
        business_date=args.business_date,
        analysis=not args.no_analysis,
        vacuum=not args.no_vacuum,
    )
    print(render(result["rows"]))
    print(
        f"\n{result['users']} users, {result['duration_s']} s, {result['web_workers']} web + "
        f"{result['task_workers']} task workers on {result['cores']} cores; load average "
        f"{result['load_average_before'][0]} -> {result['load_average_after'][0]}; machine CPU "
        f"busy {result['machine_cpu_busy_pct']} %; locust {result['locust_cpu_pct_of_one_core']} "
        f"% of one core; server {result['server_cpu_pct_of_one_core']} % of one core; "
        f"PostgreSQL backends of the database {result['db_cpu_pct_of_one_core']} % of one core; "
        f"server-side CPU per request {result['server_cpu_ms_per_request']} ms"
    )
    for f in result["failures"][:20]:
        print(f"failure: {f['Method']} {f['Name']}: {f['Occurrences']}x {f['Error'][:200]}")
    if "path" in result:
        print(f"written to {result['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
