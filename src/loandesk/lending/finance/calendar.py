"""Working-day calendars for the holiday shift (节假日顺延).

The library only needs `WorkingDayCalendar`: ``is_working_day`` and ``covers(year)``. A year
a calendar does not cover falls back to "Saturday and Sunday are the only non-working days",
and the caller gets the uncovered years back so the schedule can carry a warning: shipping a
schedule computed on a guessed calendar silently would be worse than saying so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol, runtime_checkable

from .errors import FinanceInputError

# A chain of non-working days longer than this means the calendar data is broken.
MAX_SHIFT_DAYS = 60
_ONE_DAY = timedelta(days=1)


@runtime_checkable
class WorkingDayCalendar(Protocol):
    """Which days are working days, and for which years the data is authoritative."""

    def is_working_day(self, day: date) -> bool: ...

    def covers(self, year: int) -> bool: ...


def weekday_is_working(day: date) -> bool:
    """The fallback rule: Monday to Friday work, weekends do not."""
    return day.weekday() < 5


class WeekendCalendar:
    """Weekends only, every year; useful in tests and as an explicit 'no holidays' choice."""

    def is_working_day(self, day: date) -> bool:
        return weekday_is_working(day)

    def covers(self, year: int) -> bool:
        return True


class ChineseWorkingDayCalendar:
    """Mainland China statutory holidays and make-up workdays (调休) via `chinese_calendar`.

    The package ships data for a fixed range of years (2004-2026 in 1.11) and raises
    NotImplementedError outside it; `covers` reports that range instead.
    """

    def __init__(self) -> None:
        import chinese_calendar  # deferred: only needed when a holiday shift is requested

        self._cc = chinese_calendar
        years: set[int] = {d.year for d in chinese_calendar.holidays}
        self.first_year: int = min(years)
        self.last_year: int = max(years)

    def covers(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year

    def is_working_day(self, day: date) -> bool:
        if not self.covers(day.year):
            return weekday_is_working(day)
        return bool(self._cc.is_workday(day))


@dataclass(frozen=True)
class SetWorkingDayCalendar:
    """A calendar from explicit rows (the admin-edited holiday table on the Django side).

    `holidays` are non-working days, `workdays` are make-up working days on weekends; both
    win over the weekday rule. `years` lists the years the rows are complete for; by default
    every year that has at least one row.
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    years: frozenset[int] = field(default=frozenset())

    @classmethod
    def from_rows(
        cls,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        years: Iterable[int] | None = None,
    ) -> SetWorkingDayCalendar:
        hol = frozenset(holidays)
        work = frozenset(workdays)
        if hol & work:
            raise FinanceInputError(
                "calendar",
                "finance.calendar_conflict",
                {"dates": ", ".join(sorted(d.isoformat() for d in hol & work))},
            )
        known = frozenset(years) if years is not None else frozenset(d.year for d in hol | work)
        return cls(holidays=hol, workdays=work, years=known)

    def covers(self, year: int) -> bool:
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return weekday_is_working(day)


_default_calendar: ChineseWorkingDayCalendar | None = None


def default_calendar() -> ChineseWorkingDayCalendar:
    """The shared `chinese_calendar` instance (built on first use)."""
    global _default_calendar
    if _default_calendar is None:
        _default_calendar = ChineseWorkingDayCalendar()
    return _default_calendar


def next_working_day(calendar: WorkingDayCalendar, day: date, uncovered: set[int]) -> date:
    """`day` itself if it is a working day, else the next one; adds fallback years to `uncovered`.

    Years the calendar does not cover use the weekend rule and are recorded, so the caller
    can warn.
    """
    current = day
    for _ in range(MAX_SHIFT_DAYS):
        if calendar.covers(current.year):
            working = calendar.is_working_day(current)
        else:
            uncovered.add(current.year)
            working = weekday_is_working(current)
        if working:
            return current
        current += _ONE_DAY
    raise FinanceInputError(
        "calendar", "finance.calendar_no_working_day", {"from": day, "days": MAX_SHIFT_DAYS}
    )


def calendar_warning(year: int) -> str:
    """The warning string a schedule carries when `year` fell back to weekends only."""
    return (
        f"finance.calendar_year_not_covered: no holiday data for {year}; "
        "only weekends were treated as non-working days"
    )
