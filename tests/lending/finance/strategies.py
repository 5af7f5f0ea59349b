"""Hypothesis strategies and invariant checks shared by the finance tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from loandesk.lending.finance import (
    DayCount,
    FeeKind,
    Frequency,
    InterestPeriod,
    Method,
    ScheduleInput,
    ScheduleResult,
    SetWorkingDayCalendar,
    WeekendCalendar,
)

FEN = Decimal("0.01")

# Longest first period the validator accepts, in days, per frequency (kept conservative).
_FIRST_DUE_MAX_DAYS = {
    Frequency.WEEKLY: 14,
    Frequency.BIWEEKLY: 28,
    Frequency.MONTHLY: 59,
    Frequency.QUARTERLY: 180,
}


@st.composite
def set_calendars(draw: st.DrawFn) -> SetWorkingDayCalendar:
    """Random admin-style calendars: some holidays, some make-up workdays, some years."""
    days = st.dates(date(2024, 1, 1), date(2032, 12, 31))
    holidays = draw(st.frozensets(days, max_size=60))
    workdays = draw(st.frozensets(days, max_size=10)) - holidays
    years = draw(st.frozensets(st.integers(2024, 2032), max_size=9))
    return SetWorkingDayCalendar.from_rows(holidays, workdays, years)


calendars = st.one_of(st.none(), st.just(WeekendCalendar()), set_calendars())


@st.composite
def schedule_inputs(
    draw: st.DrawFn,
    methods: tuple[Method, ...] = tuple(Method),
    frequencies: tuple[Frequency, ...] = tuple(Frequency),
    max_periods: int = 600,
    max_rate: Decimal = Decimal(1000),
    min_principal: Decimal = FEN,
    fees: bool = True,
) -> ScheduleInput:
    method = draw(st.sampled_from(methods))
    frequency = draw(st.sampled_from(frequencies))
    periods = draw(st.integers(1, max_periods))
    principal = draw(
        st.decimals(min_value=min_principal, max_value=Decimal(10_000_000_000), places=2)
    )
    rate = draw(st.decimals(min_value=0, max_value=max_rate, places=4))
    start = draw(st.dates(date(2020, 1, 1), date(2031, 12, 31)))
    single = method is Method.BULLET or frequency is Frequency.DAILY
    grace = 0 if single else draw(st.integers(0, periods - 1))
    interest_grace = draw(st.integers(0, grace))
    first_due = None
    due_day = None
    if frequency is not Frequency.DAILY:
        if draw(st.booleans()):
            offset = draw(st.integers(1, _FIRST_DUE_MAX_DAYS[frequency]))
            first_due = start + timedelta(days=offset)
        elif frequency in (Frequency.MONTHLY, Frequency.QUARTERLY) and draw(st.booleans()):
            due_day = draw(st.integers(1, 31))
    upfront = Decimal(0)
    period_fee = Decimal(0)
    fee_kind = FeeKind.FIXED
    if fees and draw(st.booleans()):
        upfront = draw(st.decimals(min_value=0, max_value=principal - FEN, places=2))
        fee_kind = draw(st.sampled_from(list(FeeKind)))
        if fee_kind is FeeKind.PERCENT:
            period_fee = draw(st.decimals(min_value=0, max_value=5, places=4))
        else:
            period_fee = draw(
                st.decimals(min_value=0, max_value=min(principal, Decimal(1000)), places=2)
            )
    holiday_shift = draw(st.booleans())
    return ScheduleInput(
        principal=principal,
        annual_rate=rate,
        periods=periods,
        start=start,
        method=method,
        frequency=frequency,
        first_due=first_due,
        due_day=due_day,
        interest_period=draw(st.sampled_from(list(InterestPeriod))),
        day_count=draw(st.sampled_from(list(DayCount))),
        installment_multiple=draw(st.sampled_from([FEN, Decimal("0.1"), Decimal(1), Decimal(10)])),
        grace_periods=grace,
        interest_grace_periods=interest_grace,
        holiday_shift=holiday_shift,
        calendar=draw(calendars) if holiday_shift else None,
        upfront_fee=upfront,
        period_fee=period_fee,
        period_fee_kind=fee_kind,
    )


def is_fen(value: Decimal) -> bool:
    return value == value.quantize(FEN)


def assert_invariants(result: ScheduleResult) -> None:
    """The invariants every schedule must satisfy."""
    inp = result.input
    rows = result.rows
    assert rows, "a schedule has at least one row"
    assert sum(r.principal for r in rows) == inp.principal
    assert rows[0].opening_balance == inp.principal
    assert rows[-1].closing_balance == 0
    previous_due = inp.start
    previous_closing = inp.principal
    for row in rows:
        for amount in (row.opening_balance, row.principal, row.interest, row.fee, row.total):
            assert amount >= 0, row
            assert is_fen(amount), row
        assert row.accrued_interest >= 0
        assert row.total == row.principal + row.interest + row.fee
        assert row.opening_balance == previous_closing
        assert row.closing_balance == row.opening_balance - row.principal
        assert row.closing_balance <= row.opening_balance
        assert row.closing_balance >= 0
        assert row.due_date > inp.start
        assert row.due_date >= previous_due
        assert row.days == (row.due_date - previous_due).days
        previous_due = row.due_date
        previous_closing = row.closing_balance
    assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + len(rows)))
    assert result.totals.principal == inp.principal
    assert result.totals.interest == sum(r.interest for r in rows)
    assert result.totals.fee == sum(r.fee for r in rows)
    assert result.totals.total == sum(r.total for r in rows)
    # Deferred interest is paid, never lost or invented.
    assert sum(r.interest for r in rows) == sum(r.accrued_interest for r in rows)
