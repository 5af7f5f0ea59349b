"""Deadline arithmetic: plain hours and working hours (工作时间).

Working hours count only the time inside a daily window (09:00–18:00 local by default, nine hours
a day, no lunch break) on days the injected `is_working_day(date)` accepts — the Django layer
passes the chinese-calendar backed holiday table, so 调休 Saturdays count and National Day does
not. Everything here is pure: no clock, no time-zone database (Asia/Shanghai has had no DST since
1991, so the engine's default local zone is the fixed offset UTC+08:00).

``add_working_hours(start, hours, is_working_day)`` takes `start` as a local wall-clock time:
  - a start before the window begins counts from the window's start that day,
  - a start after the window, or on a non-working day, counts from the next working morning,
  - a deadline that exactly fills a day ends at 18:00 that day (not 09:00 the next).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal

from .errors import FlowError

IsWorkingDay = Callable[[date], bool]

DAY_START = time(9, 0)
DAY_END = time(18, 0)
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
# A run of non-working days longer than this means the calendar data is broken.
MAX_NON_WORKING_RUN = 60
_ONE_DAY = timedelta(days=1)
_US_PER_HOUR = Decimal(3_600_000_000)


def hours_delta(hours: Decimal | int) -> timedelta:
    """`hours` as a timedelta, exact to the microsecond (Decimal in, never float)."""
    value = Decimal(hours)
    if not value.is_finite():
        raise ValueError(f"hours must be finite, not {hours!r}")
    return timedelta(microseconds=int((value * _US_PER_HOUR).to_integral_value()))


def weekdays_only(day: date) -> bool:
    """The fallback calendar: Monday to Friday."""
    return day.weekday() < 5


def add_working_hours(
    start: datetime,
    hours: Decimal | int,
    is_working_day: IsWorkingDay,
    *,
    day_start: time = DAY_START,
    day_end: time = DAY_END,
) -> datetime:
    """The moment `hours` working hours after `start` (local wall clock; tzinfo is kept)."""
    if day_end <= day_start:
        raise ValueError("the working-day window must end after it starts")
    remaining = hours_delta(hours)
    if remaining < timedelta(0):
        raise ValueError("hours must not be negative")
    if not remaining:
        return start
    tz = start.tzinfo
    cursor = start.replace(tzinfo=None)
    idle_days = 0
    while True:
        day = cursor.date()
        if not is_working_day(day):
            idle_days += 1
            if idle_days > MAX_NON_WORKING_RUN:
                raise FlowError("flow.no_working_day", {"after": day.isoformat()})
            cursor = datetime.combine(day + _ONE_DAY, day_start)
            continue
        idle_days = 0
        if cursor.time() >= day_end:
            cursor = datetime.combine(day + _ONE_DAY, day_start)
            continue
        if cursor.time() < day_start:
            cursor = datetime.combine(day, day_start)
        available = datetime.combine(day, day_end) - cursor
        if remaining <= available:
            return (cursor + remaining).replace(tzinfo=tz)
        remaining -= available
        cursor = datetime.combine(day + _ONE_DAY, day_start)


def due_at(
    now: datetime,
    hours: Decimal | int,
    *,
    working_hours: bool,
    is_working_day: IsWorkingDay,
    local_tz: tzinfo = SHANGHAI,
) -> datetime:
    """A deadline `hours` (wall or working) after `now`, in `now`'s own time zone.

    An aware `now` is converted to `local_tz` for the working-day window and back; a naive `now`
    is taken as local time already.
    """
    if not working_hours:
        return now + hours_delta(hours)
    if now.tzinfo is None:
        return add_working_hours(now, hours, is_working_day)
    local = add_working_hours(now.astimezone(local_tz), hours, is_working_day)
    return local.astimezone(now.tzinfo)
