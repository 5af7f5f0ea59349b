"""Payoff quotes and partial prepayment (提前还款).

Accrual within a period is linear in days: interest accrued by `as_of` in the current period
is that row's accrued interest x elapsed days / the row's days, rounded half-up once (for
daily-interest schedules this is the daily accrual itself; for period interest it spreads
the period's interest evenly over its days). Per-period fees accrue the same way.
Interest deferred by an interest grace and not yet payable is owed in full.

Payoff (`payoff_quote`): rows due before `as_of` are settled except those listed in
`overdue` (their outstanding amounts and penalties are owed as given); the current row is
the first due on or after `as_of`, so on a due date that installment's full interest is
included. The prepayment fee is a percentage of the principal not yet due.

Partial prepayment (`partial_prepayment`): rows due on or before `as_of` are assumed paid.
The borrower pays the prepaid principal, the interest accrued to date on that principal (its
share of the current period), any deferred interest, and the fee. The remaining balance
keeps accruing for the whole current period, so the new schedule starts at the current row
(same seq, same due date) with:

* ``keep_term``: the same remaining periods, installment recomputed by the method;
* ``keep_installment``: the same installment (equal_installment) or principal part
  (equal_principal), fewer periods; the last row takes the remainder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from . import validation as v
from .allocation import DueInstallment
from .enums import PERIODS_PER_YEAR, FeeKind, Method
from .errors import FinanceInputError
from .rounding import HUNDRED, ZERO, fen, in_context
from .schedule import build_schedule_from, nominal_plan, period_fee_amount
from .types import ScheduleInput, ScheduleResult, ScheduleRow


class PrepaymentMode(StrEnum):
    KEEP_TERM = "keep_term"
    KEEP_INSTALLMENT = "keep_installment"


@dataclass(frozen=True)
class PayoffQuote:
    """Everything needed to close the loan on `as_of`."""

    as_of: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    penalty: Decimal
    prepayment_fee: Decimal
    total: Decimal
    prepaid_principal: Decimal


@dataclass(frozen=True)
class PrepaymentResult:
    """What the borrower pays on `as_of` and the schedule from the current row on."""

    as_of: date
    principal_prepaid: Decimal
    interest_due: Decimal
    prepayment_fee: Decimal
    total_paid: Decimal
    new_schedule: ScheduleResult


def _fee_percent(value: Decimal) -> Decimal:
    return v.rate("prepayment_fee_percent", value, maximum=HUNDRED)


def _check_as_of(schedule: ScheduleResult, as_of: date) -> date:
    as_of = v.day("as_of", as_of)
    if as_of < schedule.input.start:
        raise FinanceInputError(
            "as_of", "finance.as_of_before_start", {"as_of": as_of, "start": schedule.input.start}
        )
    return as_of


def _deferred_interest(rows: Sequence[ScheduleRow]) -> Decimal:
    """Interest accrued in these rows but payable only later (interest grace)."""
    return sum((r.accrued_interest - r.interest for r in rows), ZERO)


def _pro_rata(amount: Decimal, elapsed: int, days: int) -> Decimal:
    if days <= 0 or elapsed >= days:
        return amount
    return fen(amount * elapsed / days)


@in_context
def payoff_quote(
    schedule: ScheduleResult,
    as_of: date,
    *,
    overdue: Sequence[DueInstallment] = (),
    prepayment_fee_percent: Decimal = ZERO,
) -> PayoffQuote:
    """The amount that settles the loan on `as_of` (see module docstring)."""
    as_of = _check_as_of(schedule, as_of)
    fee_percent = _fee_percent(prepayment_fee_percent)
    rows = schedule.rows
    by_seq = {r.seq: r for r in rows}
    for item in overdue:
        row = by_seq.get(item.seq)
        if row is None or row.due_date >= as_of:
            raise FinanceInputError(
                "overdue", "finance.overdue_not_past_due", {"seq": item.seq, "as_of": as_of}
            )
    principal = sum((i.principal for i in overdue), ZERO)
    interest = sum((i.interest for i in overdue), ZERO)
    fee = sum((i.fee for i in overdue), ZERO)
    penalty = sum((i.penalty for i in overdue), ZERO)
    prepaid = ZERO
    current = next((k for k, r in enumerate(rows) if r.due_date >= as_of), None)
    if current is not None:
        row = rows[current]
        previous = rows[current - 1].due_date if current else schedule.input.start
        elapsed = (as_of - previous).days
        principal += row.opening_balance
        interest += _deferred_interest(rows[:current])
        interest += _pro_rata(row.accrued_interest, elapsed, row.days)
        fee += _pro_rata(row.fee, elapsed, row.days)
        prepaid = row.closing_balance if as_of == row.due_date else row.opening_balance
    prepayment_fee = fen(prepaid * fee_percent / HUNDRED)
    return PayoffQuote(
        as_of=as_of,
        principal=principal,
        interest=interest,
        fee=fee,
        penalty=penalty,
        prepayment_fee=prepayment_fee,
        total=principal + interest + fee + penalty + prepayment_fee,
        prepaid_principal=prepaid,
    )


def _remaining_input(inp: ScheduleInput, current: int, balance: Decimal) -> ScheduleInput:
    """The input describing the loan from row index `current` on, with `balance` left.

    Fees become the fixed per-period amount of the original loan (a percent fee was of the
    original principal); the upfront fee was paid at disbursement.
    """
    fee = period_fee_amount(inp)
    if inp.single_row or current == 0:
        return replace(
            inp, principal=balance, upfront_fee=ZERO, period_fee=fee, period_fee_kind=FeeKind.FIXED
        )
    plan = nominal_plan(inp)
    return replace(
        inp,
        principal=balance,
        upfront_fee=ZERO,
        period_fee=fee,
        period_fee_kind=FeeKind.FIXED,
        start=plan.dues[current - 1],
        first_due=plan.dues[current],
        due_day=plan.due_day,
        periods=inp.periods - current,
        grace_periods=max(0, inp.grace_periods - current),
        interest_grace_periods=max(0, inp.interest_grace_periods - current),
    )


def _shortened_term(remaining: ScheduleInput, schedule: ScheduleResult) -> tuple[int, Decimal]:
    """Periods needed to repay `remaining.principal` at the old installment (equal
    installment) or old principal part (equal principal), and that amount."""
    grace = remaining.grace_periods
    balance = remaining.principal
    if remaining.method is Method.EQUAL_PRINCIPAL:
        part = schedule.rows[schedule.input.grace_periods].principal
        balance_fen, part_fen = int(balance * 100), int(part * 100)
        if part_fen == 0:
            return remaining.periods, part
        count = -(-balance_fen // part_fen)
        return min(grace + count, remaining.periods), part
    installment = schedule.installment
    divisor = Decimal(100 * PERIODS_PER_YEAR[remaining.frequency])
    count = 0
    while grace + count < remaining.periods:
        count += 1
        part = installment - fen(balance * remaining.annual_rate / divisor)
        if part <= 0:  # the installment only covers interest: nothing to shorten
            return remaining.periods, installment
        if part >= balance:
            break
        balance -= part
    return grace + count, installment


@in_context
def partial_prepayment(
    schedule: ScheduleResult,
    as_of: date,
    amount: Decimal,
    *,
    mode: PrepaymentMode | str = PrepaymentMode.KEEP_TERM,
    prepayment_fee_percent: Decimal = ZERO,
) -> PrepaymentResult:
    """Prepay `amount` of principal on `as_of` and reschedule (see module docstring)."""
    as_of = _check_as_of(schedule, as_of)
    mode = v.choice("mode", PrepaymentMode, mode)
    fee_percent = _fee_percent(prepayment_fee_percent)
    inp = schedule.input
    rows = schedule.rows
    current = next((k for k, r in enumerate(rows) if r.due_date > as_of), None)
    if current is None:
        raise FinanceInputError("as_of", "finance.no_remaining_installments", {"as_of": as_of})
    row = rows[current]
    amount = v.money("amount", amount)
    if amount <= 0 or amount >= row.opening_balance:
        raise FinanceInputError(
            "amount",
            "finance.prepayment_out_of_range",
            {"value": amount, "min": "0.01", "max": row.opening_balance - Decimal("0.01")},
        )
    keep_installment = mode is PrepaymentMode.KEEP_INSTALLMENT
    if keep_installment and (
        inp.single_row or inp.method not in (Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL)
    ):
        raise FinanceInputError(
            "mode", "finance.prepayment_mode_not_supported", {"method": inp.method.value}
        )
    previous = rows[current - 1].due_date if current else inp.start
    elapsed = (as_of - previous).days
    share = _pro_rata(row.accrued_interest * amount / row.opening_balance, elapsed, row.days)
    interest_due = fen(share) + _deferred_interest(rows[:current])
    prepayment_fee = fen(amount * fee_percent / HUNDRED)
    remaining = _remaining_input(inp, current, row.opening_balance - amount)
    fixed: Decimal | None = None
    if keep_installment:
        periods, fixed = _shortened_term(remaining, schedule)
        remaining = replace(remaining, periods=periods)
    new_schedule = build_schedule_from(remaining, first_seq=row.seq, fixed_amount=fixed)
    return PrepaymentResult(
        as_of=as_of,
        principal_prepaid=amount,
        interest_due=interest_due,
        prepayment_fee=prepayment_fee,
        total_paid=amount + interest_due + prepayment_fee,
        new_schedule=new_schedule,
    )
