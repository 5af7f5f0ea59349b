"""Working-day calendars, holiday shift, day counts and rate caps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from loandesk.lending.finance import (
    AprCapExceeded,
    CapLine,
    ChineseWorkingDayCalendar,
    FinanceInputError,
    Frequency,
    Method,
    ScheduleInput,
    SetWorkingDayCalendar,
    build_schedule,
    cap_lines,
    cap_rate,
    check_apr_cap,
    judicial_cap,
    next_working_day,
)
from loandesk.lending.finance.daycount import days_30_360

D = Decimal


def test_chinese_calendar_golden_week_and_makeup_day() -> None:
    cal = ChineseWorkingDayCalendar()
    assert cal.covers(2026) and not cal.covers(2027)
    seen: set[int] = set()
    assert next_working_day(cal, date(2026, 10, 1), seen) == date(2026, 10, 8)
    # 2026-01-04 is a Sunday but a make-up working day (调休): not shifted.
    assert next_working_day(cal, date(2026, 1, 4), seen) == date(2026, 1, 4)
    assert seen == set()


def test_uncovered_year_falls_back_to_weekends_with_warning() -> None:
    # 2027-05-01 is a Saturday; without 2027 data only the weekend is skipped.
    r = build_schedule(
        ScheduleInput(
            D(1000),
            D(6),
            1,
            date(2027, 4, 1),
            method=Method.INTEREST_ONLY,
            holiday_shift=True,
        )
    )
    assert r.rows[0].due_date == date(2027, 5, 3)
    assert len(r.warnings) == 1 and "2027" in r.warnings[0]


def test_schedule_holiday_shift_keeps_grid() -> None:
    # Due on the 1st: 2026-10-01 moves to 10-08, 2026-11-01 (Sunday) to 11-02; the grid
    # stays on the 1st and period interest is unchanged.
    r = build_schedule(
        ScheduleInput(
            D(12000),
            D(6),
            4,
            date(2026, 8, 1),
            method=Method.INTEREST_ONLY,
            holiday_shift=True,
        )
    )
    assert [row.due_date for row in r.rows] == [
        date(2026, 9, 1),
        date(2026, 10, 8),
        date(2026, 11, 2),
        date(2026, 12, 1),
    ]
    assert [row.days for row in r.rows] == [31, 37, 25, 29]
    assert {row.interest for row in r.rows[:-1]} == {D(60)}
    assert r.warnings == ()


def test_set_calendar_from_admin_rows() -> None:
    cal = SetWorkingDayCalendar.from_rows(
        holidays=[date(2030, 1, 1), date(2030, 1, 2)], workdays=[date(2030, 1, 5)]
    )
    assert cal.covers(2030) and not cal.covers(2031)
    seen: set[int] = set()
    assert next_working_day(cal, date(2030, 1, 1), seen) == date(2030, 1, 3)
    assert next_working_day(cal, date(2030, 1, 5), seen) == date(2030, 1, 5)  # Saturday, workday
    assert next_working_day(cal, date(2031, 1, 4), seen) == date(2031, 1, 6)
    assert seen == {2031}
    r = build_schedule(
        ScheduleInput(
            D(1000),
            D(6),
            1,
            date(2029, 12, 1),
            frequency=Frequency.MONTHLY,
            holiday_shift=True,
            calendar=cal,
        )
    )
    assert r.rows[0].due_date == date(2030, 1, 3)
    with pytest.raises(FinanceInputError) as exc:
        SetWorkingDayCalendar.from_rows(holidays=[date(2030, 1, 1)], workdays=[date(2030, 1, 1)])
    assert exc.value.field == "calendar"


def test_30_360_bond_basis() -> None:
    assert days_30_360(date(2026, 1, 31), date(2026, 3, 31)) == 60
    assert days_30_360(date(2026, 1, 15), date(2026, 3, 31)) == 76
    assert days_30_360(date(2026, 1, 31), date(2026, 2, 28)) == 28


def test_cap_lines() -> None:
    assert judicial_cap() == D(12)
    assert judicial_cap(D("3.45")) == D("13.80")
    assert cap_lines() == {CapLine.JUDICIAL: D(12), CapLine.RATE_24: D(24), CapLine.RATE_36: D(36)}
    assert cap_rate("24") == D(24)


def test_check_apr_cap_refuse_and_flag() -> None:
    loan = build_schedule(ScheduleInput(D(12000), D(24), 12, date(2026, 1, 10), upfront_fee=D(0)))
    assert check_apr_cap(loan, D(24)) is None  # a 24 % loan is a 24.00 % loan
    with pytest.raises(AprCapExceeded) as exc:
        check_apr_cap(loan, judicial_cap(), policy="refuse")
    assert (exc.value.apr, exc.value.cap) == (D("24.00"), D(12))
    assert exc.value.code == "finance.apr_above_cap"
    assert isinstance(exc.value, FinanceInputError)
    warning = check_apr_cap(loan, judicial_cap(), policy="flag")
    assert warning is not None and "24.00" in warning and "12.00" in warning
    with_fee = build_schedule(
        ScheduleInput(D(12000), D(23), 12, date(2026, 1, 10), upfront_fee=D(500))
    )
    with pytest.raises(AprCapExceeded):
        check_apr_cap(with_fee, D(24))
