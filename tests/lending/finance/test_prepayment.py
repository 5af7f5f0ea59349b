"""Payoff quotes and partial prepayment."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loandesk.lending.finance import (
    DueInstallment,
    FinanceInputError,
    Method,
    PrepaymentMode,
    ScheduleInput,
    build_schedule,
    partial_prepayment,
    payoff_quote,
)

from .strategies import assert_invariants, schedule_inputs

D = Decimal
LOAN = build_schedule(ScheduleInput(D(12000), D(6), 12, date(2026, 1, 10)))


def test_payoff_mid_period_accrues_daily() -> None:
    # 2026-01-25 is 15 of 31 days into period 1: 60.00 x 15 / 31 = 29.03.
    quote = payoff_quote(LOAN, date(2026, 1, 25), prepayment_fee_percent=D(1))
    assert (quote.principal, quote.interest) == (D(12000), D("29.03"))
    assert quote.prepayment_fee == D(120)  # 1 % of the 12,000 prepaid
    assert quote.total == D("12149.03")


def test_payoff_with_overdue_installment() -> None:
    # Installment 1 (due 02-10) unpaid, with 3.00 penalty; quote on 02-24 (14 of 28 days).
    overdue = DueInstallment(
        1, date(2026, 2, 10), principal=D("972.80"), interest=D(60), penalty=D(3)
    )
    quote = payoff_quote(LOAN, date(2026, 2, 24), overdue=[overdue])
    row2 = LOAN.rows[1]
    assert quote.principal == D("972.80") + row2.opening_balance == D(12000)
    assert quote.interest == D(60) + (row2.interest * 14 / 28).quantize(D("0.01"))
    assert quote.penalty == D(3)


def test_payoff_rejects_overdue_not_past_due() -> None:
    with pytest.raises(FinanceInputError) as exc:
        payoff_quote(LOAN, date(2026, 2, 1), overdue=[DueInstallment(2, date(2026, 3, 10))])
    assert exc.value.field == "overdue"


def test_partial_prepayment_keep_term() -> None:
    # On 03-01 (19 of 28 days into period 2) prepay 5,000: interest on it to date is
    # 55.14 x 5000/11027.20 x 19/28 = 16.97; 6,027.20 is re-amortised over 11 months.
    result = partial_prepayment(LOAN, date(2026, 3, 1), D(5000))
    assert result.interest_due == D("16.97")
    new = result.new_schedule
    assert [r.seq for r in new.rows] == list(range(2, 13))
    assert [r.due_date for r in new.rows] == [r.due_date for r in LOAN.rows[1:]]
    assert new.installment == D(repr(float(-npf.pmt(0.005, 11, 6027.20)))).quantize(D("0.01"))
    assert_invariants(new)


def test_partial_prepayment_keep_installment() -> None:
    result = partial_prepayment(LOAN, date(2026, 3, 1), D(5000), mode="keep_installment")
    new = result.new_schedule
    assert new.installment == LOAN.installment
    assert len(new.rows) == 6  # -> npf.nper(0.005, -1032.80, 6027.20) = 5.94 -> 6 rows
    assert new.rows[-1].total <= LOAN.installment
    assert_invariants(new)


def test_keep_installment_refused_for_bullet() -> None:
    bullet = build_schedule(
        ScheduleInput(D(12000), D(6), 12, date(2026, 1, 10), method=Method.BULLET)
    )
    with pytest.raises(FinanceInputError) as exc:
        partial_prepayment(bullet, date(2026, 3, 1), D(100), mode=PrepaymentMode.KEEP_INSTALLMENT)
    assert exc.value.field == "mode"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inp=schedule_inputs(max_periods=60, max_rate=D(100)),
    offset=st.integers(0, 2000),
    fraction=st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2),
    mode=st.sampled_from(list(PrepaymentMode)),
)
def test_partial_prepayment_properties(
    inp: ScheduleInput, offset: int, fraction: Decimal, mode: PrepaymentMode
) -> None:
    try:
        schedule = build_schedule(inp)
    except FinanceInputError:
        assume(False)
        raise
    as_of = inp.start + timedelta(days=offset)
    remaining = [r for r in schedule.rows if r.due_date > as_of]
    assume(remaining)
    balance = remaining[0].opening_balance
    amount = (balance * fraction).quantize(D("0.01"))
    assume(0 < amount < balance)
    keep_installment = mode is PrepaymentMode.KEEP_INSTALLMENT
    assume(
        not keep_installment
        or (not inp.single_row and inp.method in (Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL))
    )
    result = partial_prepayment(schedule, as_of, amount, mode=mode)
    new = result.new_schedule
    assert_invariants(new)
    assert new.input.principal == balance - amount
    assert new.rows[0].seq == remaining[0].seq
    assert new.rows[0].due_date == remaining[0].due_date
    if keep_installment:
        assert len(new.rows) <= len(remaining)
    else:
        assert len(new.rows) == len(remaining)
        assert [r.due_date for r in new.rows] == [r.due_date for r in remaining]
    assert result.total_paid == amount + result.interest_due + result.prepayment_fee
    assert result.interest_due >= 0
