"""APR: the annualised internal rate of return of the borrower's actual cash flows.

Convention (PBOC 2021 annualised-rate disclosure, IRR method): the borrower receives the
principal net of upfront fees at time 0 and pays each row's total at the end of its period
on the schedule's period grid (row k at k periods; an irregular first period or a holiday
shift is not re-timed). The periodic IRR r is solved exactly in Decimal, then

* APR = r x periods per year (monthly IRR x 12 for monthly schedules; 52, 26, 4 otherwise);
* effective annual rate = (1 + r)^periods per year - 1;
* monthly rate = APR / 12.

A bullet row sits at period n. A daily-frequency loan is one period of `days` days, with
365 / days periods per year. No float is used: the root of the discount polynomial is found
by Newton's method safeguarded by bisection (the polynomial is increasing and convex in the
discount factor, so the iteration cannot diverge).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Context, Decimal, localcontext

from .rounding import HUNDRED, ONE, ZERO
from .types import PERIODS_PER_YEAR, AprResult, Frequency, ScheduleResult

_CTX = Context(prec=50)
_TOLERANCE = Decimal("1e-30")
_MAX_ITERATIONS = 400


def compute_apr(result: ScheduleResult) -> AprResult:
    """APR, effective annual and monthly rates (percent) of a schedule."""
    inp = result.input
    net = inp.principal - inp.upfront_fee
    with localcontext(_CTX):
        if inp.frequency is Frequency.DAILY:
            days = result.rows[0].days
            r = result.rows[0].total / net - ONE
            per_year = Decimal(365) / Decimal(days)
            effective = ((ONE + r).ln() * per_year).exp() - ONE
        else:
            ppy = PERIODS_PER_YEAR[inp.frequency]
            per_year = Decimal(ppy)
            if inp.single_row:
                flows = [ZERO] * (inp.periods - 1) + [result.rows[0].total]
            else:
                flows = [row.total for row in result.rows]
            r = periodic_irr(net, flows, guess=inp.annual_rate / (HUNDRED * ppy))
            effective = (ONE + r) ** ppy - ONE
        apr = r * per_year
        return AprResult(
            periodic_rate=r * HUNDRED,
            apr=apr * HUNDRED,
            effective_annual_rate=effective * HUNDRED,
            monthly_rate=apr * HUNDRED / 12,
            periods_per_year=per_year,
        )


def periodic_irr(net: Decimal, flows: Sequence[Decimal], guess: Decimal = ZERO) -> Decimal:
    """Rate r with sum(flows[k] / (1+r)^(k+1)) == net; flows must be >= 0, net > 0.

    Solves G(v) = sum(flows[k] v^(k+1)) - net = 0 for the discount factor v = 1/(1+r),
    starting from `guess` (a good one, e.g. the nominal periodic rate, saves iterations).
    """
    with localcontext(_CTX):
        if net <= 0 or not any(flows):
            raise ValueError("IRR needs a positive outlay and at least one positive inflow")

        def g_and_slope(v: Decimal) -> tuple[Decimal, Decimal]:
            p = ZERO
            dp = ZERO
            for c in reversed(flows):
                dp = dp * v + p
                p = p * v + c
            return p * v - net, p + v * dp

        low, high = ZERO, ONE
        value, _ = g_and_slope(high)
        while value < 0:  # the flows sum to less than net: a negative rate, v > 1
            low, high = high, high * 2
            value, _ = g_and_slope(high)
        if value == 0:
            return ONE / high - ONE
        v = ONE / (ONE + guess) if guess > -1 else high
        if not low < v < high:
            v = high
        for _ in range(_MAX_ITERATIONS):
            value, slope = g_and_slope(v)
            if value == 0:
                break
            if value > 0:
                high = v
            else:
                low = v
            candidate = v - value / slope if slope > 0 else low
            if not low < candidate < high:
                candidate = (low + high) / 2
            if abs(candidate - v) < _TOLERANCE or high - low < _TOLERANCE:
                v = candidate
                break
            v = candidate
        return ONE / v - ONE
