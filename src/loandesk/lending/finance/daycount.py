"""Day-count conventions as exact integer fractions.

`year_fraction` returns ``(numerator, denominator)`` integers so interest can be computed as
one exact product divided once; act/act splits the period at year ends (ISDA).
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from .enums import DayCount


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_30_360(start: date, end: date) -> int:
    """30/360 Bond Basis (ISDA 2006 4.16(f)): day 31 counts as 30 (end only if start is 30+)."""
    d1 = min(start.day, 30)
    d2 = end.day
    if d2 == 31 and d1 == 30:
        d2 = 30
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def day_count_days(convention: DayCount, start: date, end: date) -> int:
    """Days between the dates as the convention counts them (actual, or 30/360)."""
    if convention is DayCount.THIRTY_360:
        return days_30_360(start, end)
    return (end - start).days


def year_fraction(convention: DayCount, start: date, end: date) -> tuple[int, int]:
    """The period length in years as an exact fraction ``(num, den)``."""
    if convention is DayCount.ACT_365:
        return (end - start).days, 365
    if convention is DayCount.ACT_360:
        return (end - start).days, 360
    if convention is DayCount.THIRTY_360:
        return days_30_360(start, end), 360
    # act/act ISDA: days in each calendar year over that year's length.
    total = Fraction(0)
    cursor = start
    while cursor < end:
        year_end = date(cursor.year + 1, 1, 1)
        stop = min(end, year_end)
        total += Fraction((stop - cursor).days, 366 if _is_leap(cursor.year) else 365)
        cursor = stop
    return total.numerator, total.denominator
