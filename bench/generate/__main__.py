"""python -m bench.generate --scale 10k|100k|1m [--sqlite PATH]

Migrates the target database, seeds the demo organisation and adds the scale's customers.
Target: DATABASE_URL when set (PostgreSQL: use a database named loandesk_bench_<scale>),
otherwise the SQLite file given by --sqlite (default var/bench/bench-<scale>.sqlite3).
Refuses a database that already holds customers beyond the demo's.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from bench.generate import SCALES, SEED


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate")
    parser.add_argument("--scale", default=os.environ.get("SCALE", "10k"), choices=SCALES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--sqlite", help="SQLite file (when DATABASE_URL is not set)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        path = Path(args.sqlite or f"var/bench/bench-{args.scale}.sqlite3").resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    # Field and blind-index keys live in the var dir: `python -m bench` must use the same one.
    os.environ.setdefault("LOANDESK_VAR_DIR", os.environ.get("LOANDESK_BENCH_DATA", "var/bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loandesk.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.generate import customers

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    from loandesk.customers.models import Customer

    if Customer.objects.count() > 100:
        print("this database already holds customers; use a fresh one", file=sys.stderr)
        return 1
    totals = customers.generate(SCALES[args.scale], seed=args.seed)
    elapsed = time.perf_counter() - started
    print(
        f"{connection.vendor} {connection.settings_dict['NAME']}: "
        + ", ".join(f"{k} {v:,}" for k, v in totals.items())
        + f" in {elapsed:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
