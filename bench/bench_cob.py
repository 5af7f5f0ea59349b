"""Close of business for one date over a generated portfolio, and the per-loan loop baseline.

The generator bulk-inserts loans (12 monthly installments each, started over the past year,
paid on time except a deterministic ~8 % that stop paying) straight into the tables. COB is
then caught up to the day before the measured dates (the steady state), and each measured
run closes one more date: the set-based SQL steps over `--workers 1`. The baseline is what a
per-loan core-lending loop does — load each loan's installments, apply the same pure rules in
Python, save what changed — timed over a sample inside a rolled-back transaction and
extrapolated to the portfolio.
"""

import random
import time
from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction

from bench.harness import Row, row_from

SIZES = {"small": 2_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
DAY0 = date(2026, 6, 1)


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, min(d.day, 28))


def generate(n: int) -> None:
    from loandesk.accounts.models import User
    from loandesk.customers.models import Customer
    from loandesk.lending.models import Installment, Loan, Product

    rnd = random.Random(20260601)
    product = Product.objects.get(code="consumer")
    customer = Customer.objects.order_by("id").first()
    owner = User.objects.get(username="officer1")
    assert customer is not None
    batch = 2000
    for start in range(0, n, batch):
        loans = []
        for k in range(start, min(n, start + batch)):
            begin = DAY0 - timedelta(days=rnd.randrange(0, 360))
            loans.append(
                Loan(
                    contract_no=f"BENCH{k:08d}",
                    customer=customer,
                    product=product,
                    owner=owner,
                    department_id=owner.department_id,
                    principal_fen=1_200_000,
                    annual_rate=12,
                    periods=12,
                    method="equal_principal",
                    frequency="monthly",
                    start_date=begin,
                    first_due_date=_add_months(begin, 1),
                    maturity_date=_add_months(begin, 12),
                    apr=12,
                    cap_rate=24,
                    penalty_rate=18,
                    grace_days=3,
                    outstanding_principal_fen=1_200_000,
                    created_by=owner,
                )
            )
        Loan.objects.bulk_create(loans)
        rows = []
        for loan in loans:
            defaults = rnd.random() < 0.08
            stop = rnd.randrange(1, 13) if defaults else 99
            for seq in range(1, 13):
                due = _add_months(loan.start_date, seq)
                paid = due < DAY0 - timedelta(days=1) and seq < stop
                rows.append(
                    Installment(
                        loan=loan,
                        seq=seq,
                        due_date=due,
                        days=30,
                        opening_principal_fen=1_200_000 - (seq - 1) * 100_000,
                        principal_fen=100_000,
                        interest_fen=12_000,
                        paid_principal_fen=100_000 if paid else 0,
                        paid_interest_fen=12_000 if paid else 0,
                        status="paid" if paid else "pending",
                        paid_off_on=due if paid else None,
                    )
                )
        Installment.objects.bulk_create(rows, batch_size=5000)


def naive_loop(loan_ids: list[int], on: date) -> None:
    """The per-loan baseline: every loan, its installments, the pure rules, row saves."""
    from loandesk.lending.models import Installment, Loan
    from loandesk.postloan import rules

    for lid in loan_ids:
        loan = Loan.objects.get(pk=lid)
        oldest = None
        for inst in Installment.objects.filter(loan=loan).order_by("seq"):
            settled = (
                inst.paid_principal_fen >= inst.principal_fen
                and inst.paid_interest_fen >= inst.interest_fen
                and inst.paid_fee_fen >= inst.fee_fen
                and inst.paid_penalty_fen >= inst.penalty_fen
            )
            new = rules.installment_status(
                status=inst.status,
                due_date=inst.due_date,
                grace_days=loan.grace_days,
                on=on,
                settled=settled,
            )
            if new != inst.status:
                inst.status = new
                inst.save(update_fields=["status"])
            if new == "overdue" and oldest is None:
                oldest = inst.due_date
        state = rules.loan_state(
            oldest_overdue_due=oldest,
            on=on,
            buckets=rules.DEFAULT_BUCKETS,
            thresholds=rules.DEFAULT_THRESHOLDS,
        )
        loan.status = state.status
        loan.overdue_since = state.overdue_since
        loan.days_past_due = state.days_past_due
        loan.bucket = state.bucket
        loan.classification = state.classification
        loan.save(
            update_fields=["status", "overdue_since", "days_past_due", "bucket", "classification"]
        )


def run(scale: str) -> list[Row]:
    from loandesk.core.services import set_business_date
    from loandesk.lending.models import Loan
    from loandesk.postloan import cob

    n = SIZES.get(scale, SIZES["small"])
    started = time.perf_counter()
    generate(n)
    gen_s = time.perf_counter() - started
    set_business_date(actor=None, new_date=DAY0 - timedelta(days=1), allow_backwards=True)
    from django.conf import settings

    settings.LOANDESK_COB_ALLOW_FUTURE = True
    warm_start = time.perf_counter()
    cob.run_cob(until=DAY0 - timedelta(days=1))  # first run: brings every state up at once
    warm_s = time.perf_counter() - warm_start
    times: list[float] = []
    for k in range(5):
        t0 = time.perf_counter()
        cob.run_cob(until=DAY0 + timedelta(days=k))
        times.append((time.perf_counter() - t0) * 1000)
    sample = list(Loan.objects.order_by("id").values_list("id", flat=True)[: min(n, 500)])
    base: list[float] = []
    for k in range(3):
        with transaction.atomic():
            t0 = time.perf_counter()
            naive_loop(sample, DAY0 + timedelta(days=5 + k))
            base.append((time.perf_counter() - t0) * 1000 * n / len(sample))
            transaction.set_rollback(True)
    base.sort()
    baseline_ms = base[len(base) // 2]
    row = row_from(
        f"COB one date, {n:,} loans",
        connection.vendor,
        times,
        baseline="per-loan Python loop (sample, extrapolated)",
        baseline_median_ms=baseline_ms,
        target="≥100× faster than the loop",
    )
    extra: dict[str, Any] = {
        "loans_per_s": n / (row.median_ms / 1000),
        "baseline_loans_per_s": n / (baseline_ms / 1000),
        "speedup": baseline_ms / row.median_ms,
        "generate_s": gen_s,
        "first_run_s": warm_s,
    }
    row.extra = extra
    row.throughput = extra["loans_per_s"]
    row.met = extra["speedup"] >= 100
    row.notes = f"{extra['speedup']:.0f}× the per-loan loop; first (full) run {warm_s:.2f}s"
    return [row]
