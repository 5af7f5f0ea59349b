from django.db import models


class CalendarYear(models.Model):
    """A year whose holiday schedule is known (seeded from chinese-calendar or entered by an
    admin once the State Council publishes it). Years without a row fall back to weekends."""

    year = models.PositiveSmallIntegerField(unique=True)
    source = models.CharField(
        max_length=20, choices=[("chinese_calendar", "chinese-calendar"), ("admin", "admin")]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """A day that breaks the weekday rule: a holiday on a weekday or a make-up workday (调休)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "节假日"
        WORKDAY = "workday", "调休上班"

    date = models.DateField(unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"
