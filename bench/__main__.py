"""Run every benchmark on a fresh database and print one table.

SQLite by default (a temporary file); PostgreSQL too when DATABASE_URL points at one (a
throw-away test database is created next to it). Results are also written as JSON under
bench/results/. See docs/performance.md for how to read the table.
"""

import argparse
import os
import sys
import tempfile
import time

SCALES = ("small", "10k", "100k", "1m")
# At these scales the data set is generated once (python -m bench.generate, minutes) and kept:
# PostgreSQL database loandesk_bench_<scale> next to DATABASE_URL's, or the SQLite file
# $LOANDESK_BENCH_DATA/bench-<scale>.sqlite3 (default var/bench/).
PERSISTENT = ("100k", "1m")


def _persistent_database(scale: str) -> None:
    """Points DATABASE_URL at the kept data set for `scale`, generating it when missing."""
    import subprocess
    from pathlib import Path

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        base, _, _ = url.rpartition("/")
        # LOANDESK_BENCH_DB: another kept database (e.g. a copy made with CREATE DATABASE …
        # TEMPLATE loandesk_bench_1m, to try a migration without touching the shared one).
        name = os.environ.get("LOANDESK_BENCH_DB") or f"loandesk_bench_{scale}"
        os.environ["DATABASE_URL"] = f"{base}/{name}"
        admin_url = f"{base}/postgres"
        exists = subprocess.run(
            ["psql", admin_url, "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not exists:
            subprocess.run(["psql", admin_url, "-c", f"CREATE DATABASE {name}"], check=True)
            subprocess.run([sys.executable, "-m", "bench.generate", "--scale", scale], check=True)
        return
    folder = Path(os.environ.get("LOANDESK_BENCH_DATA", "var/bench")).resolve()
    path = folder / f"bench-{scale}.sqlite3"
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "bench.generate", "--scale", scale, "--sqlite", str(path)],
            check=True,
            env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        )
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"


def _selected(name: str, only: str, names: list[str]) -> bool:
    """`--only cob` runs the cob module alone, not cob-workers too (at 1m that one copies
    the data set twice); `--only cob-` still selects by substring."""
    for wanted in (w.strip() for w in only.split(",") if w.strip()):
        if wanted == name or (wanted not in names and wanted in name):
            return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", default=os.environ.get("SCALE", "small"), choices=SCALES)
    parser.add_argument(
        "--only",
        help="run only these benchmark modules: comma-separated names (cob, cob-workers, …);"
        " a name that is no module's selects the modules whose name contains it",
    )
    args = parser.parse_args()
    persistent = args.scale in PERSISTENT
    if persistent:
        # The kept data set's PII was encrypted with the keys in its generator's var dir.
        os.environ.setdefault(
            "LOANDESK_VAR_DIR", os.environ.get("LOANDESK_BENCH_DATA", "var/bench")
        )
        _persistent_database(args.scale)

    os.environ.setdefault("LOANDESK_VAR_DIR", tempfile.mkdtemp(prefix="loandesk-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loandesk.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    from bench import (
        bench_api,
        bench_cob,
        bench_cob_workers,
        bench_customers,
        bench_expression,
        bench_finance,
        bench_flows,
        bench_forms,
        bench_reports,
    )
    from bench.harness import render, save
    from loandesk.demo.services import seed_demo

    settings.DEBUG = False
    if connection.vendor == "sqlite" and not persistent:
        # A real file in WAL mode, as in production, not the in-memory test database.
        connection.settings_dict["TEST"]["NAME"] = str(settings.VAR_DIR / "bench.sqlite3")
    setup_test_environment()
    old_name = ""
    if persistent:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    else:
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    rows = []
    try:
        seed_demo()
        modules = [
            ("api", bench_api),
            ("finance", bench_finance),
            ("flows", bench_flows),
            ("expression", bench_expression),
            ("forms", bench_forms),
            ("customers", bench_customers),
            ("cob", bench_cob),
            ("cob-workers", bench_cob_workers),
            ("reports", bench_reports),
        ]
        for name, module in modules:
            if args.only and not _selected(name, args.only, [n for n, _ in modules]):
                continue
            started = time.perf_counter()
            rows.extend(module.run(args.scale))
            print(f"  {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    finally:
        if not persistent:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    print(render(rows))
    path = save(rows, args.scale)
    print(f"\nresults written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
