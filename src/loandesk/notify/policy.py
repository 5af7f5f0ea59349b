"""Sending policy as plain functions: quiet hours and frequency-cap windows (no Django)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def in_quiet_hours(now: datetime, start: time, end: time, zone: ZoneInfo) -> bool:
    """Whether `now` falls in [start, end) local time; a window may cross midnight."""
    local = now.astimezone(zone).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(now: datetime, start: time, end: time, zone: ZoneInfo) -> datetime | None:
    """When the quiet window around `now` ends (an aware datetime), or None if not quiet."""
    if not in_quiet_hours(now, start, end, zone):
        return None
    local = now.astimezone(zone)
    day: date = local.date()
    if local.time() >= end:  # evening part of an overnight window: it ends tomorrow
        day = day + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone)


def local_day_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the local calendar day containing `now` — the cap's counting window."""
    local = now.astimezone(zone)
    start = datetime.combine(local.date(), time(0, 0), tzinfo=zone)
    return start, start + timedelta(days=1)
