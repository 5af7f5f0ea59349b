"""Property tests: schedule invariants for every method, APR, payoff and holiday shift."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loandesk.lending.finance import (
    Frequency,
    InterestPeriod,
    Method,
    ScheduleInput,
    WorkingDayCalendar,
    build_schedule,
    parse_schedule_input,
    payoff_quote,
    schedule_to_dict,
)
from loandesk.lending.finance.calendar import default_calendar, weekday_is_working
from loandesk.lending.finance.schedule import nominal_plan

from .strategies import assert_invariants, schedule_inputs

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("method", list(Method))
@PROPERTY
@given(data=st.data())
def test_invariants_for_every_method(method: Method, data: st.DataObject) -> None:
    inp = data.draw(schedule_inputs(methods=(method,)))
    result = build_schedule(inp)
    assert_invariants(result)
    assert len(result.rows) == (1 if inp.single_row else inp.periods)
    for k, row in enumerate(result.rows):
        if k < inp.grace_periods:
            assert row.principal == 0
        if k < inp.interest_grace_periods:
            assert row.interest == 0
    if method is Method.INTEREST_ONLY:
        assert all(row.principal == 0 for row in result.rows[:-1])


@PROPERTY
@given(schedule_inputs(methods=(Method.EQUAL_INSTALLMENT, Method.FLAT), fees=False))
def test_constant_installment_rows(inp: ScheduleInput) -> None:
    """Regular amortising rows (not the first, not the last) pay exactly the installment."""
    assume(inp.interest_period is InterestPeriod.PERIOD and not inp.single_row)
    result = build_schedule(inp)
    for k, row in enumerate(result.rows[:-1]):
        if k == 0 or k < inp.grace_periods or k == inp.interest_grace_periods:
            continue  # first (maybe irregular), grace, or carrying deferred interest
        if row.principal > 0 and row.closing_balance > 0:
            assert row.total == result.installment


@PROPERTY
@given(
    principal=st.decimals(min_value=10_000, max_value=10_000_000, places=2),
    rate=st.decimals(min_value=Decimal("0.5"), max_value=36, places=2),
    periods=st.integers(1, 360),
    start=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    method=st.sampled_from([Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL]),
    grace=st.integers(0, 3),
    multiple=st.sampled_from([Decimal("0.01"), Decimal(1)]),
)
def test_apr_equals_nominal_rate_without_fees(
    principal: Decimal,
    rate: Decimal,
    periods: int,
    start: date,
    method: Method,
    grace: int,
    multiple: Decimal,
) -> None:
    """Interest = balance x monthly rate every month, so IRR x 12 is the nominal rate."""
    inp = ScheduleInput(
        principal,
        rate,
        periods,
        start,
        method=method,
        grace_periods=min(grace, periods - 1),
        installment_multiple=multiple,
    )
    result = build_schedule(inp)
    assert abs(result.apr.apr - rate) <= Decimal("0.01")
    assert abs(result.apr.monthly_rate - rate / 12) <= Decimal("0.001")
    effective = ((1 + result.apr.periodic_rate / 100) ** 12 - 1) * 100
    assert abs(result.apr.effective_annual_rate - effective) < Decimal("1e-20")


@PROPERTY
@given(schedule_inputs(max_periods=120, max_rate=Decimal(100)))
def test_apr_is_the_irr_of_the_cash_flows(inp: ScheduleInput) -> None:
    """Discounting the totals at the solved rate gives back the net disbursement."""
    assume(inp.frequency is not Frequency.DAILY)
    result = build_schedule(inp)
    r = result.apr.periodic_rate / 100
    flows = (
        [Decimal(0)] * (inp.periods - 1) + [result.rows[0].total]
        if inp.single_row
        else [row.total for row in result.rows]
    )
    present = sum(c / (1 + r) ** (k + 1) for k, c in enumerate(flows))
    assert abs(present - (inp.principal - inp.upfront_fee)) <= Decimal("1e-15") * inp.principal
    if inp.upfront_fee == 0 and inp.period_fee == 0 and inp.interest_grace_periods == 0:
        assert result.apr.apr >= 0


@PROPERTY
@given(schedule_inputs())
def test_payoff_on_first_due_date(inp: ScheduleInput) -> None:
    """On the first due date the payoff is the remaining principal plus that period's
    interest (and fee); nothing is prepaid early, so there is no prepayment fee basis."""
    result = build_schedule(inp)
    first = result.rows[0]
    quote = payoff_quote(result, first.due_date)
    assert quote.principal == inp.principal
    assert quote.interest == first.accrued_interest
    assert quote.fee == first.fee
    assert quote.total == inp.principal + first.accrued_interest + first.fee
    if inp.upfront_fee == 0 and inp.period_fee == 0 and inp.interest_grace_periods == 0:
        assert quote.total == first.opening_balance + first.interest


def _is_working(calendar: WorkingDayCalendar, day: date) -> bool:
    return calendar.is_working_day(day) if calendar.covers(day.year) else weekday_is_working(day)


@PROPERTY
@given(schedule_inputs(max_periods=120))
def test_holiday_shift_lands_on_working_days(inp: ScheduleInput) -> None:
    assume(inp.holiday_shift)
    result = build_schedule(inp)
    calendar = inp.calendar or default_calendar()
    nominal = nominal_plan(inp).dues
    if inp.single_row:
        nominal = nominal[-1:]
    expected_years = set()
    for row, unshifted in zip(result.rows, nominal, strict=True):
        assert _is_working(calendar, row.due_date)
        assert unshifted <= row.due_date < unshifted + timedelta(days=60)
        day = unshifted
        while day <= row.due_date:
            if not calendar.covers(day.year):
                expected_years.add(day.year)
            # every day skipped was a non-working day
            assert day == row.due_date or not _is_working(calendar, day)
            day += timedelta(days=1)
    calendar_warnings = [w for w in result.warnings if "calendar_year_not_covered" in w]
    assert len(calendar_warnings) == len(expected_years)
    for year in expected_years:
        assert any(str(year) in warning for warning in calendar_warnings)


@PROPERTY
@given(schedule_inputs(max_periods=60))
def test_json_round_trip(inp: ScheduleInput) -> None:
    """schedule_to_dict amounts add up; parse() of the stringified input rebuilds it."""
    assume(inp.calendar is None)
    result = build_schedule(inp)
    data = schedule_to_dict(result)
    assert sum(Decimal(r["principal"]) for r in data["rows"]) == inp.principal
    assert sum(Decimal(r["total"]) for r in data["rows"]) == Decimal(data["totals"]["total"])
    params = {
        "principal": str(inp.principal),
        "annual_rate": str(inp.annual_rate),
        "periods": str(inp.periods),
        "method": inp.method.value,
        "start": inp.start.isoformat(),
        "first_due": inp.first_due.isoformat() if inp.first_due else None,
        "interest_period": inp.interest_period.value,
        "day_count": inp.day_count.value,
        "installment_multiple": str(inp.installment_multiple),
        "frequency": inp.frequency.value,
        "grace_periods": str(inp.grace_periods),
        "interest_grace_periods": inp.interest_grace_periods,
        "holiday_shift": "true" if inp.holiday_shift else "false",
        "due_day": str(inp.due_day) if inp.due_day else "",
        "upfront_fee": str(inp.upfront_fee),
        "period_fee": str(inp.period_fee),
        "period_fee_kind": inp.period_fee_kind.value,
    }
    assert parse_schedule_input(params) == inp
