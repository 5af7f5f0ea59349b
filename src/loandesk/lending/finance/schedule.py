"""Repayment schedules for the five methods.

Conventions (each chosen so that every amount is rounded exactly once, half-up to the fen):

* Per-period rate i = annual / (100 x periods per year): /12 monthly, /52 weekly, /26
  biweekly, /4 quarterly. With ``interest_period="daily"`` a row's interest is
  balance x annual x year_fraction(previous due, due) under the day count instead.
* A first period longer or shorter than regular (explicit `first_due`) is charged pro rata:
  i x day_count_days(start, first_due) / day_count_days(regular period ending at first_due).
* equal_installment: installment A = P i (1+i)^n / ((1+i)^n - 1) over the amortising periods,
  rounded to `installment_multiple`. The principal part of each row is A - round(B x i), the
  regular annuity amortisation; the interest part is what actually accrued (pro-rata first
  period, actual days). So rows differ from A only where accrual differs from a regular
  period, and the last row takes the remaining balance.
* equal_principal: P / n rounded half-up (down if half-up would overshoot); remainder last.
* flat: interest = original principal x i every period; principal as equal_principal.
* interest_only: interest every period, all principal in the last row.
* bullet, and any daily-frequency loan: one row at maturity with all principal, interest
  for the whole term (period mode: i x (first-period fraction + n - 1); daily: day count)
  and the per-period fee x periods.
* Holiday shift moves each due date to the next working day; the grid is not moved (later
  dates still follow the anchor), `days` and daily-mode interest follow the shifted dates,
  period-mode interest does not change.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from .calendar import calendar_warning, default_calendar, next_working_day
from .dates import DatePlan, plan_dates
from .daycount import day_count_days, year_fraction
from .rounding import CONTEXT, FEN, HUNDRED, ONE, ZERO, fen, fen_down, round_to_multiple
from .types import (
    PERIODS_PER_YEAR,
    FeeKind,
    Frequency,
    InterestPeriod,
    Method,
    ScheduleInput,
    ScheduleResult,
    ScheduleRow,
    ScheduleTotals,
)


def build_schedule(inp: ScheduleInput) -> ScheduleResult:
    """Compute the schedule for `inp` (APR is solved lazily via ``result.apr``)."""
    with localcontext(CONTEXT):
        return _build(inp, first_seq=1)


def build_schedule_from(
    inp: ScheduleInput, first_seq: int, fixed_amount: Decimal | None = None
) -> ScheduleResult:
    """As `build_schedule`, numbering rows from `first_seq`; for rescheduling after a
    prepayment. `fixed_amount` imposes the installment (equal_installment) or the principal
    part (equal_principal) instead of deriving it, so a shortened term keeps the old one."""
    with localcontext(CONTEXT):
        return _build(inp, first_seq=first_seq, fixed_amount=fixed_amount)


def nominal_plan(inp: ScheduleInput) -> DatePlan:
    """The unshifted date grid of `inp`."""
    return plan_dates(inp.start, inp.first_due, inp.due_day, inp.frequency, inp.periods)


def period_fee_amount(inp: ScheduleInput) -> Decimal:
    """The fee charged per period in yuan (percent fees are of the original principal)."""
    if inp.period_fee_kind is FeeKind.PERCENT:
        return fen(inp.principal * inp.period_fee / HUNDRED)
    return inp.period_fee


def _build(
    inp: ScheduleInput, first_seq: int, fixed_amount: Decimal | None = None
) -> ScheduleResult:
    plan = nominal_plan(inp)
    warnings: list[str] = []
    dues = plan.dues[-1:] if inp.single_row else plan.dues
    if inp.holiday_shift:
        calendar = inp.calendar or default_calendar()
        uncovered: set[int] = set()
        dues = tuple(next_working_day(calendar, d, uncovered) for d in dues)
        warnings.extend(calendar_warning(year) for year in sorted(uncovered))
    if inp.single_row:
        row = _single_row(inp, plan, dues[-1], first_seq)
        rows: tuple[ScheduleRow, ...] = (row,)
        installment = row.total
        totals = ScheduleTotals(row.principal, row.interest, row.fee, row.total)
    else:
        rows, installment, totals = _multi_rows(inp, plan, dues, first_seq, fixed_amount, warnings)
    return ScheduleResult(inp, rows, totals, installment, tuple(warnings))


def _single_row(inp: ScheduleInput, plan: DatePlan, due: date, seq: int) -> ScheduleRow:
    principal = inp.principal
    n = inp.periods
    if inp.frequency is Frequency.DAILY or inp.interest_period is InterestPeriod.DAILY:
        num, den = year_fraction(inp.day_count, inp.start, due)
        interest = fen(principal * inp.annual_rate * num / (HUNDRED * den))
    else:
        first = day_count_days(inp.day_count, inp.start, plan.first_due)
        regular = day_count_days(inp.day_count, plan.previous, plan.first_due)
        ppy = PERIODS_PER_YEAR[inp.frequency]
        interest = fen(
            principal * inp.annual_rate * (first + (n - 1) * regular) / (HUNDRED * ppy * regular)
        )
    if inp.period_fee_kind is FeeKind.PERCENT:
        fee = fen(principal * inp.period_fee * n / HUNDRED)
    else:
        fee = inp.period_fee * n
    return ScheduleRow(
        seq=seq,
        due_date=due,
        days=(due - inp.start).days,
        opening_balance=principal,
        principal=principal,
        interest=interest,
        fee=fee,
        total=principal + interest + fee,
        closing_balance=ZERO,
        accrued_interest=interest,
    )


def _coefficients(
    inp: ScheduleInput, plan: DatePlan, dues: tuple[date, ...]
) -> list[tuple[Decimal, Decimal] | None]:
    """Per row (multiplier, divisor) with interest = round(base x multiplier / divisor);
    None marks a regular period (base x annual / (100 x periods per year))."""
    annual = inp.annual_rate
    if inp.interest_period is InterestPeriod.DAILY:
        coefs: list[tuple[Decimal, Decimal] | None] = []
        previous = inp.start
        for due in dues:
            num, den = year_fraction(inp.day_count, previous, due)
            coefs.append((annual * num, HUNDRED * den))
            previous = due
        return coefs
    coefs = [None] * inp.periods
    first = day_count_days(inp.day_count, inp.start, plan.first_due)
    regular = day_count_days(inp.day_count, plan.previous, plan.first_due)
    if first != regular:
        divisor = Decimal(100 * PERIODS_PER_YEAR[inp.frequency])
        coefs[0] = (annual * first, divisor * regular)
    return coefs


_Parts = tuple[list[Decimal], list[Decimal] | None, Decimal | None]
# How a row's regular interest is found: (annual %, divisor, flat amount or None). Flat loans
# charge a constant amount; the others charge balance x annual / divisor.
_RegularInterest = tuple[Decimal, Decimal, Decimal | None]


def _annuity_principals(
    principal: Decimal,
    installment: Decimal,
    grace: int,
    n: int,
    regular_interest: _RegularInterest,
) -> tuple[list[Decimal], list[Decimal], bool]:
    """Principal parts A - regular interest, clamped to [0, balance], the regular interest of
    every row (reused as its interest when the period is regular), and an early-payoff flag."""
    annual, divisor, flat = regular_interest
    parts = [ZERO] * n
    regular = [ZERO] * n
    balance = principal
    early = False
    for k in range(n):
        interest = (
            flat if flat is not None else (balance * annual / divisor).quantize(FEN, ROUND_HALF_UP)
        )
        regular[k] = interest
        if k < grace:
            continue
        if k == n - 1:
            parts[k] = balance
            break
        part = installment - interest
        if part < 0:
            part = ZERO
        elif part >= balance:
            early = True
            part = balance
        parts[k] = part
        balance -= part
    return parts, regular, early


def _constant_installment(
    inp: ScheduleInput,
    exact: Decimal,
    regular_interest: _RegularInterest,
    warnings: list[str],
    fixed: Decimal | None = None,
) -> _Parts:
    """Round the installment to the multiple half-up, or down if half-up would pay the loan
    off before the last row. A multiple larger than the installment itself (or one that
    cannot avoid an early payoff) falls back to the fen, with a warning."""
    n, grace, multiple = inp.periods, inp.grace_periods, inp.installment_multiple
    if fixed is not None:
        fixed_parts, fixed_regular, _early = _annuity_principals(
            inp.principal, fixed, grace, n, regular_interest
        )
        return fixed_parts, fixed_regular, fixed
    if n - grace == 1:  # the only amortising row is the last: it takes the exact remainder
        multiple = FEN
    candidates = [(multiple, ROUND_HALF_UP), (multiple, ROUND_DOWN)]
    if multiple != FEN:
        candidates += [(FEN, ROUND_HALF_UP), (FEN, ROUND_DOWN)]
    installment = ZERO
    used = multiple
    parts: list[Decimal] = []
    regular: list[Decimal] = []
    for used, rounding in candidates:
        installment = round_to_multiple(exact, used, rounding)
        if installment == 0 and used != FEN:
            continue
        parts, regular, early = _annuity_principals(
            inp.principal, installment, grace, n, regular_interest
        )
        if not early:
            break
    if used != multiple:
        warnings.append(
            f"finance.installment_multiple_ignored: the installment {fen(exact)} cannot be "
            f"rounded to a multiple of {multiple}; it was rounded to the fen"
        )
    return parts, regular, installment


def _principal_parts(
    inp: ScheduleInput, warnings: list[str], fixed: Decimal | None = None
) -> _Parts:
    """Principal per row, regular interest per row if known, and the constant installment."""
    principal, n, grace = inp.principal, inp.periods, inp.grace_periods
    amortising = n - grace
    method = inp.method
    divisor = Decimal(100 * PERIODS_PER_YEAR[inp.frequency])
    annual = inp.annual_rate
    if method is Method.EQUAL_INSTALLMENT:
        if annual == 0:
            exact = principal / amortising
        else:
            i = annual / divisor
            growth = (ONE + i) ** amortising
            exact = principal * i * growth / (growth - ONE)

        return _constant_installment(inp, exact, (annual, divisor, None), warnings, fixed)
    if method is Method.FLAT:
        flat_interest = fen(principal * annual / divisor)
        return _constant_installment(
            inp, principal / amortising + flat_interest, (annual, divisor, flat_interest), warnings
        )
    parts = [ZERO] * n
    if method is Method.EQUAL_PRINCIPAL:
        part = fen(principal / amortising) if fixed is None else fixed
        if part * (amortising - 1) > principal:
            part = fen_down(principal / amortising)
        for k in range(grace, n - 1):
            parts[k] = part
        parts[n - 1] = principal - part * (amortising - 1)
    else:  # interest_only
        parts[n - 1] = principal
    return parts, None, None


def _multi_rows(
    inp: ScheduleInput,
    plan: DatePlan,
    dues: tuple[date, ...],
    first_seq: int,
    fixed_amount: Decimal | None,
    warnings: list[str],
) -> tuple[tuple[ScheduleRow, ...], Decimal, ScheduleTotals]:
    parts, regular, installment = _principal_parts(inp, warnings, fixed_amount)
    coefs = _coefficients(inp, plan, dues)
    fee = period_fee_amount(inp)
    principal = inp.principal
    flat = inp.method is Method.FLAT
    annual = inp.annual_rate
    divisor = Decimal(100 * PERIODS_PER_YEAR[inp.frequency])
    interest_grace = inp.interest_grace_periods
    balance = principal
    deferred = ZERO
    interest_total = ZERO
    previous = inp.start
    rows = []
    for k, due in enumerate(dues):
        coef = coefs[k]
        if coef is None:
            if regular is not None:
                accrued = regular[k]
            else:
                base = principal if flat else balance
                accrued = (base * annual / divisor).quantize(FEN, ROUND_HALF_UP)
        else:
            base = principal if flat else balance
            accrued = (base * coef[0] / coef[1]).quantize(FEN, ROUND_HALF_UP)
        if k < interest_grace:
            interest = ZERO
            deferred += accrued
        elif deferred:
            interest = accrued + deferred
            deferred = ZERO
        else:
            interest = accrued
        interest_total += interest
        part = parts[k]
        closing = balance - part
        rows.append(
            ScheduleRow(
                first_seq + k,
                due,
                (due - previous).days,
                balance,
                part,
                interest,
                fee,
                part + interest + fee,
                closing,
                accrued,
            )
        )
        balance = closing
        previous = due
    fee_total = fee * len(rows)
    totals = ScheduleTotals(
        principal, interest_total, fee_total, principal + interest_total + fee_total
    )
    return tuple(rows), installment if installment is not None else rows[0].total, totals
