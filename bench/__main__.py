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


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", default=os.environ.get("SCALE", "small"), choices=SCALES)
    parser.add_argument("--only", help="run only benchmark modules whose name contains this")
    args = parser.parse_args()

    os.environ.setdefault("LOANDESK_VAR_DIR", tempfile.mkdtemp(prefix="loandesk-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loandesk.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    from bench import bench_api, bench_expression, bench_finance, bench_flows, bench_forms
    from bench.harness import render, save
    from loandesk.demo.services import seed_demo

    settings.DEBUG = False
    if connection.vendor == "sqlite":
        # A real file in WAL mode, as in production, not the in-memory test database.
        connection.settings_dict["TEST"]["NAME"] = str(settings.VAR_DIR / "bench.sqlite3")
    setup_test_environment()
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
        ]
        for name, module in modules:
            if args.only and args.only not in name:
                continue
            started = time.perf_counter()
            rows.extend(module.run(args.scale))
            print(f"  {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(render(rows))
    path = save(rows, args.scale)
    print(f"\nresults written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
