"""python -m bench.generate --scale 10k|100k|1m [--sqlite PATH]

Migrates the target database, seeds the demo organisation and adds the scale's customers,
then the scale's loans with their installments, repayments (with allocations), collection
cases (with logs and promises) and approved applications, then applications and flow
instances in the other states (bench/generate/loans.py, repayments.py, collections.py,
applications.py).
Target: DATABASE_URL when set (PostgreSQL: use a database named loandesk_bench_<scale>),
otherwise the SQLite file given by --sqlite (default var/bench/bench-<scale>.sqlite3).
A database that already holds the generated customers only gets the rest (so a data set made
before the loan generator existed is completed); one that holds generated loans is refused —
made before the repayments, cases and applications existed, it cannot be completed in place
(the loans' applications and repayments are made with the loans): generate into a fresh one.
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

    from bench.generate import bulkload, customers, loans

    started = time.perf_counter()
    phases: dict[str, float] = {}  # wall seconds per phase, printed at the end
    call_command("migrate", verbosity=0, interactive=False)
    phases["migrate"] = time.perf_counter() - started
    from loandesk.customers.models import Customer
    from loandesk.lending.models import Loan

    if Loan.objects.filter(contract_no__startswith=loans.CONTRACT_PREFIX).exists():
        from loandesk.lending.models import Repayment

        older = not Repayment.objects.filter(source="bench").exists()
        print(
            "this database already holds generated loans"
            + (
                " (made before the generator wrote repayments, collection cases and"
                " applications: it cannot be completed in place)"
                if older
                else ""
            )
            + "; generate into a fresh database",
            file=sys.stderr,
        )
        return 1
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # This load session only: a crash loses the last commits, which a rerun redoes.
            cursor.execute("SET synchronous_commit TO off")
    else:
        with connection.cursor() as cursor:
            # Sorter threads for this connection's index builds and fact rebuild (1m: the
            # loans' 80 indexes in 158 s with 2, 182 s with none).
            cursor.execute(f"PRAGMA threads = {bulkload.builder_count()}")
    totals: dict[str, int] = {}
    # The demo (its portfolio closes COB up to yesterday) must exist before the generated loans:
    # `python -m bench` seeds it, and a first seed after them would sweep them to today. And
    # before the report-fact triggers are suspended: its close writes a snapshot from the facts.
    from loandesk.demo.services import seed_demo
    from loandesk.reports import facts

    t = time.perf_counter()
    seed_demo()
    phases["demo"] = time.perf_counter() - t
    # The report facts are rebuilt once after each bulk load (when its with ends) instead of a
    # trigger row per write during it; PostgreSQL takes the month ends on two connections.
    if Customer.objects.count() > 100:
        print("customers already generated: adding the loans only", file=sys.stderr)
    else:
        t, cpu = time.perf_counter(), time.process_time()
        with facts.triggers_suspended(bulkload.rebuild_facts):
            totals.update(customers.generate(SCALES[args.scale], seed=args.seed, load_mode=True))
        phases["customers, org"] = time.perf_counter() - t
        phases["customers, org (cpu)"] = time.process_time() - cpu
    loans_started = time.perf_counter()
    seconds: dict[str, float] = {}
    with facts.triggers_suspended(bulkload.rebuild_facts):
        totals.update(
            loans.generate(loans.LOANS[args.scale], seed=args.seed, seconds=seconds, load_mode=True)
        )
        loans_s = time.perf_counter() - loans_started
        phases.update(seconds)
        t, cpu = time.perf_counter(), time.process_time()
    phases["report facts rebuild"] = time.perf_counter() - t
    phases["report facts rebuild (cpu)"] = time.process_time() - cpu
    print(
        f"loans: {totals['loans']:,} loans + {totals['installments']:,} installments"
        f" + {totals['repayments']:,} repayments + {totals['collection_cases']:,} cases"
        f" + applications in {loans_s:.0f} s ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items() if not k.endswith("(cpu)"))
        + ")"
    )
    elapsed = time.perf_counter() - started
    print(
        f"{connection.vendor} {connection.settings_dict['NAME']}: "
        + ", ".join(f"{k} {v:,}" for k, v in totals.items())
        + f" in {elapsed:.0f} s"
    )
    # Wall time and this process's CPU time (the database server's work is in the wall time
    # only): on a shared machine the CPU column shows what the generator itself costs.
    print("seconds per phase:                       wall      cpu")
    for name, value in phases.items():
        if not name.endswith(" (cpu)"):
            cpu_s = phases.get(f"{name} (cpu)")
            print(f"  {name:<36} {value:8.1f} " + (f"{cpu_s:8.1f}" if cpu_s is not None else ""))
    print(
        f"  {'total':<36} {elapsed:8.1f} {time.process_time():8.1f}"
        f"  (load average {os.getloadavg()[0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
