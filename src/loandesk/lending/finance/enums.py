"""Enumerations of the finance library (string-valued, so they parse from JSON as-is)."""

from __future__ import annotations

from enum import StrEnum


class Method(StrEnum):
    """Repayment method."""

    EQUAL_INSTALLMENT = "equal_installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_ONLY = "interest_only"  # 先息后本
    BULLET = "bullet"  # 一次性还本付息
    FLAT = "flat"  # 等本等息


class Frequency(StrEnum):
    """Installment frequency; `daily` is a short loan of `periods` days repaid in one row."""

    DAILY = "daily"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class InterestPeriod(StrEnum):
    """`period`: annual rate / periods per year; `daily`: actual days x rate / day-count basis."""

    PERIOD = "period"
    DAILY = "daily"


class DayCount(StrEnum):
    ACT_365 = "act/365"
    ACT_360 = "act/360"
    ACT_ACT = "act/act"
    THIRTY_360 = "30/360"


class FeeKind(StrEnum):
    """A per-period fee is a fixed yuan amount, or a percentage of the original principal."""

    FIXED = "fixed"
    PERCENT = "percent"


PERIODS_PER_YEAR: dict[Frequency, int] = {
    Frequency.MONTHLY: 12,
    Frequency.QUARTERLY: 4,
    Frequency.WEEKLY: 52,
    Frequency.BIWEEKLY: 26,
    Frequency.DAILY: 365,
}
