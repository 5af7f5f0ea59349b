"""Due-date generation: nominal dates on a fixed grid, before any holiday shift.

Monthly and quarterly dates sit on `due_day`, clamped to the month's last day (31 -> Feb 28/29,
Apr 30), and are always derived from the anchor (the first due date), never from the previous
date, so a short February does not drag later months to the 28th.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .enums import Frequency

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
MONTH_STEPS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3}
DAY_STEPS = {Frequency.WEEKLY: 7, Frequency.BIWEEKLY: 14, Frequency.DAILY: 1}


def days_in_month(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def add_months(anchor: date, months: int, due_day: int) -> date:
    """The date `months` after `anchor`'s month, on `due_day` clamped to that month's end."""
    years, month0 = divmod(anchor.month - 1 + months, 12)
    year = anchor.year + years
    month = month0 + 1
    return date(year, month, min(due_day, days_in_month(year, month)))


def _month_grid(anchor: date, step: int, due_day: int, periods: int) -> tuple[date, ...]:
    """`periods` dates every `step` months from `anchor`'s month, each on `due_day` (clamped)."""
    year, month = anchor.year, anchor.month
    dues = []
    for _ in range(periods):
        if due_day <= 28:
            dues.append(date(year, month, due_day))
        else:
            dues.append(date(year, month, min(due_day, days_in_month(year, month))))
        month += step
        if month > 12:
            month -= 12
            year += 1
    return tuple(dues)


@dataclass(frozen=True, slots=True)
class DatePlan:
    """Nominal dates of a schedule: `previous` is the regular-period start before `dues[0]`."""

    first_due: date
    due_day: int | None
    previous: date
    dues: tuple[date, ...]


def default_first_due(start: date, frequency: Frequency, due_day: int | None) -> date:
    """One period after start; for monthly/quarterly on `due_day` (default: start's day)."""
    if frequency in MONTH_STEPS:
        return add_months(start, MONTH_STEPS[frequency], due_day or start.day)
    return start + timedelta(days=DAY_STEPS[frequency])


def plan_dates(
    start: date, first_due: date | None, due_day: int | None, frequency: Frequency, periods: int
) -> DatePlan:
    """Nominal due dates for `periods` periods (for daily frequency: one date, the maturity)."""
    if frequency is Frequency.DAILY:
        maturity = start + timedelta(days=periods)
        return DatePlan(maturity, None, start, (maturity,))
    if frequency in MONTH_STEPS:
        step = MONTH_STEPS[frequency]
        day = due_day or (first_due.day if first_due else start.day)
        anchor = first_due or add_months(start, step, day)
        dues = _month_grid(anchor, step, day, periods)
        return DatePlan(anchor, day, add_months(anchor, -step, day), dues)
    step_days = timedelta(days=DAY_STEPS[frequency])
    anchor = first_due or start + step_days
    dues = tuple(anchor + step_days * k for k in range(periods))
    return DatePlan(anchor, None, anchor - step_days, dues)
