"""Seed the holiday table from chinese-calendar for the years it knows (reversible)."""

from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    import chinese_calendar

    year_model = apps.get_model("lending", "CalendarYear")
    day_model = apps.get_model("lending", "CalendarDay")
    years = sorted({d.year for d in chinese_calendar.holidays})
    rows = []
    for day, name in chinese_calendar.holidays.items():
        rows.append(day_model(date=day, kind="holiday", name=str(name or "")[:50]))
    for day, name in chinese_calendar.workdays.items():
        if day.weekday() >= 5:  # only make-up workdays on weekends break the weekday rule
            rows.append(day_model(date=day, kind="workday", name=str(name or "")[:50]))
    day_model.objects.bulk_create(rows, ignore_conflicts=True)
    year_model.objects.bulk_create(
        [year_model(year=y, source="chinese_calendar") for y in years], ignore_conflicts=True
    )


def unseed(apps: Any, schema_editor: Any) -> None:
    year_model = apps.get_model("lending", "CalendarYear")
    day_model = apps.get_model("lending", "CalendarDay")
    years = list(year_model.objects.filter(source="chinese_calendar").values_list("year", flat=True))
    day_model.objects.filter(date__year__in=years).delete()
    year_model.objects.filter(year__in=years).delete()


class Migration(migrations.Migration):
    dependencies = [("lending", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
