"""Loan math: schedules per second (12 and 360 periods) and APR solving per second.

Baseline: numpy-financial computing the same equal-installment table (pmt, ipmt, ppmt over all
periods, in binary floating point) in the same process. The ratio shows what exactness to the
fen in Decimal costs against float vector math. The APR solve's baseline is numpy-financial's
`irr` of the same cash flows (floats, through the roots of the polynomial).
"""

from datetime import date
from decimal import Decimal

import numpy as np
import numpy_financial as npf

from bench.harness import Row, measure, row_from
from loandesk.lending.finance import ScheduleInput, build_schedule, compute_apr


def _input(periods: int) -> ScheduleInput:
    return ScheduleInput(
        principal=Decimal("1000000"),
        annual_rate=Decimal("4.9"),
        periods=periods,
        start=date(2026, 1, 10),
    )


def _numpy_table(periods: int) -> None:
    rate = 0.049 / 12
    per = np.arange(1, periods + 1)
    npf.pmt(rate, periods, -1_000_000)
    npf.ipmt(rate, per, periods, -1_000_000)
    npf.ppmt(rate, per, periods, -1_000_000)


def run(scale: str) -> list[Row]:
    rows: list[Row] = []
    repeat = {"small": 2000, "10k": 5000}.get(scale, 10000)
    for periods, target in ((12, 20000), (360, None)):
        n = repeat if periods == 12 else max(200, repeat // 20)
        base = row_from(
            f"numpy-financial table {periods}p (baseline)",
            "python",
            measure(lambda p=periods: _numpy_table(p), repeat=n),  # type: ignore[misc]
        )
        ours = row_from(
            f"schedule {periods} periods",
            "python",
            measure(lambda p=periods: build_schedule(_input(p)), repeat=n),  # type: ignore[misc]
            baseline="numpy-financial",
            baseline_median_ms=base.median_ms,
        )
        if target:
            ours.target = f">= {target:,}/s"
            ours.met = ours.throughput >= target
        rows += [base, ours]
    schedule = build_schedule(_input(12))
    net = float(schedule.input.principal - schedule.input.upfront_fee)
    flows = [-net, *(float(row.total) for row in schedule.rows)]
    apr_repeat = max(200, repeat // 4)
    # The same APR from numpy-financial's IRR (floats, polynomial roots) to compare with.
    assert abs(npf.irr(flows) * 12 * 100 - float(compute_apr(schedule).apr)) < 1e-6
    base_apr = row_from(
        "numpy-financial IRR 12 periods (baseline)",
        "python",
        measure(lambda: npf.irr(flows), repeat=apr_repeat),
    )
    rows += [
        base_apr,
        row_from(
            "APR solve (IRR, 12 periods)",
            "python",
            measure(lambda: compute_apr(schedule), repeat=apr_repeat),
            baseline="numpy-financial irr",
            baseline_median_ms=base_apr.median_ms,
        ),
    ]
    return rows
