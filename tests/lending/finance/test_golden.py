"""Golden vectors that must hold to the fen.

Where a vector is not from the spec, the comment says how it was derived independently of
the library: numpy_financial (pmt/ipmt/ppmt/irr, float, used only as a test oracle) for
annuities and IRR, or hand computation written out in the comment.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy_financial as npf
import pytest

from loandesk.lending.finance import (
    DayCount,
    FeeKind,
    Frequency,
    InterestPeriod,
    Method,
    ScheduleInput,
    build_schedule,
    schedule_to_dict,
)

D = Decimal


def fen_of(value: float | Fraction) -> Decimal:
    if isinstance(value, Fraction):
        return (D(value.numerator) / D(value.denominator)).quantize(D("0.01"), ROUND_HALF_UP)
    return D(repr(float(value))).quantize(D("0.01"), ROUND_HALF_UP)


def test_mortgage_equal_installment_spec_vector() -> None:
    r = build_schedule(ScheduleInput(D(1_000_000), D("4.9"), 360, date(2026, 1, 10)))
    assert r.installment == D("5307.27")
    assert r.rows[0].interest == D("4083.33")
    assert r.rows[0].principal == D("1223.94")


def test_mortgage_equal_principal_spec_vector() -> None:
    r = build_schedule(
        ScheduleInput(D(1_000_000), D("4.9"), 360, date(2026, 1, 10), method=Method.EQUAL_PRINCIPAL)
    )
    assert r.rows[0].total == D("6861.11")
    assert r.rows[1].total == D("6849.77")
    # Hand: 1,000,000 / 360 = 2777.78 per row; the last row takes 1,000,000 - 359 x 2777.78.
    assert r.rows[-1].principal == D("2776.98")


def test_cli_example_and_json_shape() -> None:
    r = build_schedule(ScheduleInput(D(12000), D(6), 12, date(2026, 1, 10)))
    data = schedule_to_dict(r)
    assert data["installment"] == "1032.80"
    assert data["rows"][0] == {
        "seq": 1,
        "due_date": "2026-02-10",
        "days": 31,
        "opening_balance": "12000.00",
        "principal": "972.80",
        "interest": "60.00",
        "fee": "0.00",
        "total": "1032.80",
        "balance": "11027.20",
    }
    assert data["apr"] == "6.00"
    assert data["monthly_rate"] == "0.50"
    assert data["effective_annual_rate"] == "6.17"
    assert data["warnings"] == []
    assert set(data) == {
        "installment",
        "rows",
        "totals",
        "apr",
        "monthly_rate",
        "effective_annual_rate",
        "warnings",
    }
    assert data["totals"]["principal"] == "12000.00"


@pytest.mark.parametrize(
    ("principal", "rate", "periods", "frequency", "per_year"),
    [
        (300_000, "3.85", 240, Frequency.MONTHLY, 12),
        (50_000, "14.4", 36, Frequency.MONTHLY, 12),
        (8_888.88, "23.99", 24, Frequency.MONTHLY, 12),
        (5_200, "5.2", 52, Frequency.WEEKLY, 52),
        (26_000, "7.8", 26, Frequency.BIWEEKLY, 26),
        (400_000, "6", 20, Frequency.QUARTERLY, 4),
    ],
)
def test_equal_installment_matches_numpy_financial(
    principal: float, rate: str, periods: int, frequency: Frequency, per_year: int
) -> None:
    """Installment = npf.pmt, first-row interest/principal = npf.ipmt/ppmt, each to the fen."""
    i = float(rate) / 100 / per_year
    r = build_schedule(
        ScheduleInput(D(str(principal)), D(rate), periods, date(2026, 3, 15), frequency=frequency)
    )
    assert r.installment == fen_of(-npf.pmt(i, periods, principal))
    assert r.rows[0].interest == fen_of(-npf.ipmt(i, 1, periods, principal))
    assert abs(r.rows[0].principal - fen_of(-npf.ppmt(i, 1, periods, principal))) <= D("0.01")


def test_equal_principal_hand_vector() -> None:
    # Hand: 12,000 over 12 months -> 1,000 a month; interest = balance x 0.5 %:
    # 60, 55, 50, ..., 5; total 6 x 65 = 390.
    r = build_schedule(
        ScheduleInput(D(12000), D(6), 12, date(2026, 1, 10), method=Method.EQUAL_PRINCIPAL)
    )
    assert [row.interest for row in r.rows] == [D(60 - 5 * k) for k in range(12)]
    assert {row.principal for row in r.rows} == {D(1000)}
    assert r.totals.interest == D(390)


def test_interest_only_hand_vector() -> None:
    # Hand: 60 interest a month (12,000 x 0.5 %), 12,000 principal in month 12.
    r = build_schedule(
        ScheduleInput(D(12000), D(6), 12, date(2026, 1, 10), method=Method.INTEREST_ONLY)
    )
    assert [row.total for row in r.rows] == [D(60)] * 11 + [D(12060)]
    assert r.installment == D(60)


def test_bullet_hand_vector() -> None:
    # Hand: 12 months x 0.5 % x 12,000 = 720, one row on 2027-01-10, 365 days.
    r = build_schedule(ScheduleInput(D(12000), D(6), 12, date(2026, 1, 10), method=Method.BULLET))
    (row,) = r.rows
    assert (row.due_date, row.days, row.interest, row.total) == (
        date(2027, 1, 10),
        365,
        D(720),
        D(12720),
    )
    # APR of a 12-period bullet: (12720/12000)^(1/12) - 1 per month, x 12 (npf.rate).
    expected = npf.rate(12, 0, -12000, 12720) * 12 * 100
    assert abs(float(r.apr.apr) - expected) < 1e-9


def test_flat_hand_vector_and_apr() -> None:
    # Hand: 1,000 principal + 60 interest (on the original 12,000) every month = 1,060.
    r = build_schedule(ScheduleInput(D(12000), D(6), 12, date(2026, 1, 10), method=Method.FLAT))
    assert {row.total for row in r.rows} == {D(1060)}
    assert r.totals.interest == D(720)
    # The real cost of 等本等息 is far above 6 %: npf.rate(12, -1060, 12000) x 12 = 10.90 %.
    expected = npf.rate(12, -1060, 12000, 0) * 12 * 100
    assert abs(float(r.apr.apr) - expected) < 1e-9
    assert schedule_to_dict(r)["apr"] == "10.90"


def test_upfront_fee_apr_matches_npf_irr() -> None:
    r = build_schedule(
        ScheduleInput(D(12000), D(6), 12, date(2026, 1, 10), upfront_fee=D(200), period_fee=D(5))
    )
    flows = [-11800.0] + [float(row.total) for row in r.rows]
    monthly = npf.irr(flows)
    assert abs(float(r.apr.apr) - monthly * 12 * 100) < 1e-7
    assert abs(float(r.apr.effective_annual_rate) - ((1 + monthly) ** 12 - 1) * 100) < 1e-7
    assert {row.fee for row in r.rows} == {D(5)}
    assert r.apr.apr > D("9")  # 200 upfront + 60 fees on 12,000 for a year


def test_percent_period_fee() -> None:
    # 0.3 % of the original 12,000 per month = 36.00 a row.
    r = build_schedule(
        ScheduleInput(
            D(12000),
            D(6),
            12,
            date(2026, 1, 10),
            period_fee=D("0.3"),
            period_fee_kind=FeeKind.PERCENT,
        )
    )
    assert {row.fee for row in r.rows} == {D(36)}
    assert r.totals.fee == D(432)


def test_first_period_pro_rata() -> None:
    # Long first period 2026-01-10 -> 2026-02-25 (46 days; regular period 01-25 -> 02-25 is
    # 31 days): interest 12,000 x 0.5 % x 46 / 31 = 89.032 -> 89.03; the principal part
    # follows the annuity (1032.80 - 60.00), so the row total is 1061.83.
    r = build_schedule(
        ScheduleInput(D(12000), D(6), 12, date(2026, 1, 10), first_due=date(2026, 2, 25))
    )
    assert r.rows[0].days == 46
    assert r.rows[0].interest == D("89.03")
    assert r.rows[0].principal == D("972.80")
    assert r.rows[0].total == D("1061.83")
    assert r.rows[1].due_date == date(2026, 3, 25)
    # Short first period of 10 days (01-10 -> 01-20, regular 12-20 -> 01-20 = 31 days):
    # 60 x 10 / 31 = 19.35.
    short = build_schedule(
        ScheduleInput(D(12000), D(6), 12, date(2026, 1, 10), first_due=date(2026, 1, 20))
    )
    assert short.rows[0].interest == D("19.35")


def test_due_day_31_clamps_to_month_end() -> None:
    r = build_schedule(ScheduleInput(D(12000), D(6), 12, date(2026, 1, 31)))
    assert [row.due_date for row in r.rows[:4]] == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
    leap = build_schedule(
        ScheduleInput(D(12000), D(6), 3, date(2028, 1, 5), due_day=31, first_due=date(2028, 1, 31))
    )
    assert [row.due_date for row in leap.rows] == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
    ]


@pytest.mark.parametrize(
    ("day_count", "start", "days", "expected"),
    [
        # 10,000 x 18 % x 30/365 = 147.945 -> 147.95
        (DayCount.ACT_365, date(2026, 3, 1), 30, Fraction(10000 * 18 * 30, 100 * 365)),
        # 10,000 x 18 % x 30/360 = 150.00
        (DayCount.ACT_360, date(2026, 3, 1), 30, Fraction(10000 * 18 * 30, 100 * 360)),
        # act/act over a year end: 15 days of 2027 (/365) + 15 days of 2028 (/366)
        (
            DayCount.ACT_ACT,
            date(2027, 12, 17),
            30,
            Fraction(10000 * 18, 100) * (Fraction(15, 365) + Fraction(15, 366)),
        ),
    ],
)
def test_daily_loan_day_counts(
    day_count: DayCount, start: date, days: int, expected: Fraction
) -> None:
    r = build_schedule(
        ScheduleInput(D(10000), D(18), days, start, frequency=Frequency.DAILY, day_count=day_count)
    )
    (row,) = r.rows
    assert row.days == days
    assert row.interest == fen_of(expected)


def test_daily_interest_30_360_month_end() -> None:
    # 30/360 bond basis: 01-31 -> 02-28 counts 30 x 1 + (28 - 30) = 28 days;
    # 12,000 x 6 % x 28/360 = 56.00. Then 02-28 -> 03-31 counts 30 + (31 - 28) = 33.
    r = build_schedule(
        ScheduleInput(
            D(12000),
            D(6),
            3,
            date(2026, 1, 31),
            method=Method.INTEREST_ONLY,
            interest_period=InterestPeriod.DAILY,
            day_count=DayCount.THIRTY_360,
        )
    )
    assert r.rows[0].interest == D("56.00")
    assert r.rows[1].interest == D("66.00")


def test_daily_interest_actual_days() -> None:
    # Interest-only, act/365: Feb (28 days) 12,000 x 6 % x 28/365 = 55.23; Mar (31) = 61.15.
    r = build_schedule(
        ScheduleInput(
            D(12000),
            D(6),
            3,
            date(2026, 1, 31),
            method=Method.INTEREST_ONLY,
            interest_period=InterestPeriod.DAILY,
        )
    )
    assert [row.interest for row in r.rows[:2]] == [D("55.23"), D("61.15")]


def test_half_up_tie_is_exact() -> None:
    # 6.00 x 7 % / 12 = 0.035 exactly -> 0.04 (an inexact 7/1200 would give 0.03).
    r = build_schedule(ScheduleInput(D(6), D(7), 2, date(2026, 1, 10), method=Method.INTEREST_ONLY))
    assert r.rows[0].interest == D("0.04")


def test_installment_multiple_one_yuan() -> None:
    # 1032.80 rounds to 1033; rows 1-11 pay 1033, the last takes the remainder.
    r = build_schedule(
        ScheduleInput(D(12000), D(6), 12, date(2026, 1, 10), installment_multiple=D(1))
    )
    assert r.installment == D(1033)
    assert {row.total for row in r.rows[:-1]} == {D(1033)}
    assert r.rows[-1].total < D(1033)


def test_grace_periods_deferred_interest() -> None:
    # 2 grace periods, the first also interest-free: row 1 pays nothing, row 2 pays both
    # months' interest (60 + 60), amortisation over the remaining 10 periods.
    r = build_schedule(
        ScheduleInput(
            D(12000), D(6), 12, date(2026, 1, 10), grace_periods=2, interest_grace_periods=1
        )
    )
    assert (r.rows[0].total, r.rows[0].accrued_interest) == (D(0), D(60))
    assert (r.rows[1].principal, r.rows[1].interest) == (D(0), D(120))
    assert r.installment == fen_of(-npf.pmt(0.005, 10, 12000))
    assert r.rows[2].total == r.installment
