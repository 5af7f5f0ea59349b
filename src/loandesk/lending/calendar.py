"""The working-day calendar the loan math uses, built from the admin-editable holiday table."""

import threading
from datetime import MAXYEAR, MINYEAR, date
from typing import Any

from django.db import transaction
from django.db.models import Count, Max

from loandesk.core import audit
from loandesk.core.errors import ValidationFailed
from loandesk.lending.finance import SetWorkingDayCalendar
from loandesk.lending.models import CalendarDay, CalendarYear

_cache_lock = threading.Lock()
_cache: dict[str, Any] = {"key": None, "calendar": None}


def working_day_calendar() -> SetWorkingDayCalendar:
    """The current calendar; rebuilt only when the table changed (cheap version check)."""
    stamp = CalendarYear.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    key = (stamp["n"], stamp["at"], CalendarDay.objects.count())
    with _cache_lock:
        if _cache["key"] == key:
            cached: SetWorkingDayCalendar = _cache["calendar"]
            return cached
    years = list(CalendarYear.objects.values_list("year", flat=True))
    holidays: list[date] = []
    workdays: list[date] = []
    for day, kind in CalendarDay.objects.values_list("date", "kind"):
        (holidays if kind == CalendarDay.Kind.HOLIDAY else workdays).append(day)
    calendar = SetWorkingDayCalendar.from_rows(holidays=holidays, workdays=workdays, years=years)
    with _cache_lock:
        _cache.update(key=key, calendar=calendar)
    return calendar


def years_overview() -> list[dict[str, Any]]:
    days_by_year: dict[int, dict[str, list[dict[str, str]]]] = {}
    for row in CalendarDay.objects.order_by("date"):
        bucket = days_by_year.setdefault(row.date.year, {"holidays": [], "workdays": []})
        key = "holidays" if row.kind == CalendarDay.Kind.HOLIDAY else "workdays"
        bucket[key].append({"date": row.date.isoformat(), "name": row.name})
    return [
        {
            "year": y.year,
            "source": y.source,
            "updated_at": y.updated_at,
            **days_by_year.get(y.year, {"holidays": [], "workdays": []}),
        }
        for y in CalendarYear.objects.order_by("year")
    ]


def _check_year(year: int) -> None:
    """A calendar year is one a date can have (the path takes any integer)."""
    if year < MINYEAR:
        raise ValidationFailed.field("year", "field.too_small", min=MINYEAR)
    if year > MAXYEAR:
        raise ValidationFailed.field("year", "field.too_large", max=MAXYEAR)


@transaction.atomic
def set_year(
    *,
    actor: Any,
    year: int,
    holidays: list[tuple[date, str]],
    workdays: list[tuple[date, str]],
) -> None:
    """Replace one year's holidays and make-up workdays (as published by the State Council)."""
    _check_year(year)
    fields: dict[str, str] = {}
    for name, rows in (("holidays", holidays), ("workdays", workdays)):
        wrong = [d for d, _ in rows if d.year != year]
        if wrong:
            fields[name] = f"{wrong[0].isoformat()} ∉ {year}"
    clash = {d for d, _ in holidays} & {d for d, _ in workdays}
    if clash:
        fields["workdays"] = ", ".join(sorted(d.isoformat() for d in clash))
    if fields:
        raise ValidationFailed(fields)
    before = CalendarDay.objects.filter(date__year=year).count()
    CalendarDay.objects.filter(date__year=year).delete()
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=d, kind=CalendarDay.Kind.HOLIDAY, name=n[:50]) for d, n in holidays]
        + [CalendarDay(date=d, kind=CalendarDay.Kind.WORKDAY, name=n[:50]) for d, n in workdays]
    )
    CalendarYear.objects.update_or_create(year=year, defaults={"source": "admin"})
    audit.record(
        action="record.update",
        actor=actor,
        target_type="lending.calendaryear",
        target_id=year,
        target_label=f"{year} 节假日",
        changes={"days": [before, len(holidays) + len(workdays)]},
    )


@transaction.atomic
def delete_year(*, actor: Any, year: int) -> None:
    _check_year(year)
    CalendarDay.objects.filter(date__year=year).delete()
    deleted, _ = CalendarYear.objects.filter(year=year).delete()
    if deleted:
        audit.record(
            action="record.delete",
            actor=actor,
            target_type="lending.calendaryear",
            target_id=year,
            target_label=f"{year} 节假日",
        )
