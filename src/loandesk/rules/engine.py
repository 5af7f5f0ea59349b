"""Rule matching: triggers, conditions, occurrences and idempotency keys. Plain Python, no Django.

A rule is a trigger + a JSON-logic condition + ordered actions. This module answers, without a
database:

* which rules an event fires (`trigger_matches_event`, `rules_for_event`);
* when a date-relative trigger ("3 days before due_date at 09:00") fires, and which field dates
  fall in a scan window (`field_dates_for_window`, `occurrence_at`);
* when a cron trigger fires (`CronSchedule.parse(...).occurrences(start, end)`);
* whether a condition holds (`condition_holds`, the same JSON-logic evaluator the phone mirrors,
  docs/adr/0004);
* the idempotency key of a firing (`firing_key`): (rule, record, occurrence) as a stable string.

Windows are half-open (start, end]: a scan from watermark W to now N fires the occurrences after
W up to and including N, and the next scan starts at N — so consecutive windows never overlap
and never leave a gap, whatever their lengths (catch-up after downtime is one longer window).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from loandesk.core.expression import ConditionError, check_condition, evaluate_condition

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
TRIGGER_TYPES = ("event", "date", "cron")
EVENT_KINDS = ("created", "updated", "field_changed", "event")
MAX_OFFSET_DAYS = 3660
MAX_CRON_LENGTH = 120


class RuleError(ValueError):
    """A rule setting that cannot work; `code` is an i18n message code, `where` the setting."""

    def __init__(self, code: str, where: str = "trigger", **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.where = where
        self.params = params


# ---- triggers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventTrigger:
    """created / updated / field_changed (optionally to a value) / a named domain event."""

    kind: str
    field: str = ""
    to: Any = None
    has_to: bool = False
    topic: str = ""


@dataclass(frozen=True)
class DateTrigger:
    """Fires `days` after the record's date `field` (negative: before) at `at` local time."""

    field: str
    days: int
    at: time


@dataclass(frozen=True)
class CronTrigger:
    expr: str
    schedule: CronSchedule


Trigger = EventTrigger | DateTrigger | CronTrigger


def parse_trigger(
    trigger_type: str,
    settings: Any,
    *,
    fields: Collection[str] = (),
    date_fields: Collection[str] = (),
    topics: Collection[str] = (),
) -> Trigger:
    """Validate a rule's trigger settings (as stored / sent by the designer)."""
    if trigger_type not in TRIGGER_TYPES:
        raise RuleError("rules.trigger_type_invalid", "trigger_type")
    if not isinstance(settings, Mapping):
        raise RuleError("rules.trigger_invalid")
    if trigger_type == "event":
        kind = settings.get("kind")
        if kind not in EVENT_KINDS:
            raise RuleError("rules.event_kind_invalid")
        if kind == "field_changed":
            name = settings.get("field")
            if not isinstance(name, str) or name not in fields:
                raise RuleError("rules.field_unknown", field=str(name)[:40])
            has_to = "to" in settings and settings["to"] not in (None, "")
            to = settings.get("to") if has_to else None
            if has_to and not isinstance(to, str | int | float | bool):
                raise RuleError("rules.trigger_invalid")
            return EventTrigger("field_changed", field=name, to=to, has_to=has_to)
        if kind == "event":
            topic = settings.get("topic")
            if not isinstance(topic, str) or topic not in topics:
                raise RuleError("rules.topic_unknown", topic=str(topic)[:60])
            return EventTrigger("event", topic=topic)
        return EventTrigger(str(kind))
    if trigger_type == "date":
        name = settings.get("field")
        if not isinstance(name, str) or name not in date_fields:
            raise RuleError("rules.date_field_invalid", field=str(name)[:40])
        days = settings.get("days")
        if isinstance(days, bool) or not isinstance(days, int) or abs(days) > MAX_OFFSET_DAYS:
            raise RuleError("rules.days_invalid", max=MAX_OFFSET_DAYS)
        return DateTrigger(name, days, parse_hhmm(settings.get("at")))
    expr = settings.get("cron")
    if not isinstance(expr, str):
        raise RuleError("rules.cron_invalid", detail="")
    return CronTrigger(expr.strip(), CronSchedule.parse(expr))


def parse_hhmm(value: Any) -> time:
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
        raise RuleError("rules.time_invalid")
    hour, minute = int(value[:2]), int(value[3:])
    if hour > 23 or minute > 59:
        raise RuleError("rules.time_invalid")
    return time(hour, minute)


# ---- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """A domain event seen as a record event.

    `kind` is created / updated; `changes` maps changed field keys to their new values where
    the event says them (absent: the caller checks the record's current value instead)."""

    record_type: str
    kind: str
    topic: str
    record_id: int | None
    changed: frozenset[str] = frozenset()
    new_values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleSpec:
    id: int
    record_type: str
    trigger: Trigger
    condition: Any = None


def _same(a: Any, b: Any) -> bool:
    """Values compare as the designer typed them: 'M2' == 'M2', 1 == '1'."""
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    return str(a) == str(b)


def trigger_matches_event(
    trigger: Trigger, event: Event, current: Mapping[str, Any] | None = None
) -> bool:
    """Whether an event trigger fires for `event`. For "field changed to X" the new value is the
    event's own (e.g. a bucket change's `to`), else the record's `current` value."""
    if not isinstance(trigger, EventTrigger):
        return False
    if trigger.kind == "event":
        return trigger.topic == event.topic
    if trigger.kind == "created":
        return event.kind == "created"
    if trigger.kind == "updated":
        return event.kind == "updated"
    # field_changed
    if event.kind != "updated" or trigger.field not in event.changed:
        return False
    if not trigger.has_to:
        return True
    if trigger.field in event.new_values:
        new = event.new_values[trigger.field]
    else:
        new = (current or {}).get(trigger.field)
    return _same(new, trigger.to)


def rules_for_event(rules: Iterable[RuleSpec], event: Event) -> list[RuleSpec]:
    """The rules whose trigger (not yet condition) fires for the event, in id order."""
    return sorted(
        (
            r
            for r in rules
            if r.record_type == event.record_type
            and isinstance(r.trigger, EventTrigger)
            and (r.trigger.kind != "field_changed" or r.trigger.field in event.changed)
            and (r.trigger.kind != "event" or r.trigger.topic == event.topic)
            and (r.trigger.kind not in ("created", "updated") or r.trigger.kind == event.kind)
        ),
        key=lambda r: r.id,
    )


# ---- conditions ------------------------------------------------------------------------------


def check_rule_condition(logic: Any, fields: Collection[str]) -> None:
    """Design-time check of a condition against the record type's field keys."""
    try:
        check_condition(logic, fields)
    except ConditionError as exc:
        raise RuleError(exc.code, "condition", **exc.params) from None


def condition_holds(logic: Any, values: Mapping[str, Any]) -> bool:
    """No condition (None / {}) holds. Raises ConditionError for a condition that cannot run."""
    return evaluate_condition(logic, values)


# ---- date-relative ---------------------------------------------------------------------------


def local_datetime(day: date, at: time, tz: tzinfo = LOCAL_TZ) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def occurrence_at(trigger: DateTrigger, field_date: date, tz: tzinfo = LOCAL_TZ) -> datetime:
    """When the trigger fires for a record whose date field is `field_date`."""
    return local_datetime(field_date + timedelta(days=trigger.days), trigger.at, tz)


def field_dates_for_window(
    trigger: DateTrigger, start: datetime, end: datetime, tz: tzinfo = LOCAL_TZ
) -> tuple[date, date] | None:
    """The inclusive range of field dates whose occurrence lies in (start, end], or None.

    Occurrence days form a contiguous range (one occurrence per local day), so the query for
    records is one indexed range scan on the date field."""
    if end <= start:
        return None
    start_l, end_l = start.astimezone(tz), end.astimezone(tz)
    first = start_l.date()
    if local_datetime(first, trigger.at, tz) <= start:
        first += timedelta(days=1)
    last = end_l.date()
    if local_datetime(last, trigger.at, tz) > end:
        last -= timedelta(days=1)
    if first > last:
        return None
    shift = timedelta(days=trigger.days)
    return first - shift, last - shift


def date_occurrences(
    trigger: DateTrigger, field_dates: Iterable[date], start: datetime, end: datetime
) -> Iterator[tuple[date, datetime]]:
    """(field date, occurrence) for the given dates whose occurrence lies in (start, end]."""
    for d in field_dates:
        at = occurrence_at(trigger, d)
        if start < at <= end:
            yield d, at


# ---- cron ------------------------------------------------------------------------------------

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELDS: tuple[tuple[str, int, int, Mapping[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("weekday", 0, 7, _DAYS),
)
_DAYS_IN_MONTH = {m: 29 if m == 2 else calendar.monthrange(2001, m)[1] for m in range(1, 13)}


def _cron_error(detail: str) -> RuleError:
    return RuleError("rules.cron_invalid", detail=detail[:60])


def _cron_value(text: str, name: str, lo: int, hi: int, names: Mapping[str, int]) -> int:
    key = text.lower()
    if key in names:
        return names[key]
    if not text.isdigit() or len(text) > 2:
        raise _cron_error(f"{name}: {text}")
    value = int(text)
    if not lo <= value <= hi:
        raise _cron_error(f"{name}: {text}")
    return value


def _cron_field(text: str, name: str, lo: int, hi: int, names: Mapping[str, int]) -> set[int]:
    out: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _cron_error(f"{name}: {text}")
        base, _, step_text = item.partition("/")
        step = 1
        if step_text or item.endswith("/"):
            if not step_text.isdigit() or len(step_text) > 2 or int(step_text) == 0:
                raise _cron_error(f"{name}: {item}")
            step = int(step_text)
        if base == "*":
            first, last = lo, hi
        elif "-" in base:
            a, _, b = base.partition("-")
            first = _cron_value(a, name, lo, hi, names)
            last = _cron_value(b, name, lo, hi, names)
            if first > last:
                raise _cron_error(f"{name}: {item}")
        else:
            first = _cron_value(base, name, lo, hi, names)
            # "5/15" means from 5 to the end, every 15 (as Vixie cron reads it)
            last = hi if step_text else first
        out.update(range(first, last + 1, step))
    return out


@dataclass(frozen=True)
class CronSchedule:
    """A 5-field cron schedule (minute hour day-of-month month day-of-week), Vixie semantics:
    lists, ranges, steps, month/day names, 0 or 7 = Sunday, @daily-style macros; when both
    day-of-month and day-of-week are restricted, a day matching either fires. Evaluated in
    local time (Asia/Shanghai)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday .. 6 = Saturday
    day_any: bool
    weekday_any: bool

    @classmethod
    def parse(cls, expr: str) -> CronSchedule:
        if not isinstance(expr, str) or len(expr) > MAX_CRON_LENGTH:
            raise _cron_error("")
        text = expr.strip()
        text = _MACROS.get(text.lower(), text)
        parts = text.split()
        if len(parts) != 5:
            raise _cron_error(f"{len(parts)} fields")
        sets = [
            _cron_field(part, name, lo, hi, names)
            for part, (name, lo, hi, names) in zip(parts, _FIELDS, strict=True)
        ]
        weekdays = frozenset(d % 7 for d in sets[4])
        schedule = cls(
            minutes=frozenset(sets[0]),
            hours=frozenset(sets[1]),
            days=frozenset(sets[2]),
            months=frozenset(sets[3]),
            weekdays=weekdays,
            day_any=parts[2].startswith("*"),
            weekday_any=parts[4].startswith("*"),
        )
        if not schedule._can_fire():
            raise _cron_error("never fires")
        return schedule

    def _can_fire(self) -> bool:
        if not self.weekday_any:
            return True  # some weekday falls in every month
        return any(d <= _DAYS_IN_MONTH[m] for m in self.months for d in self.days)

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = (day.isoweekday() % 7) in self.weekdays
        if self.day_any or self.weekday_any:
            return in_days and in_weekdays
        return in_days or in_weekdays

    def matches(self, moment: datetime, tz: tzinfo = LOCAL_TZ) -> bool:
        local = moment.astimezone(tz)
        return (
            local.second == 0
            and local.minute in self.minutes
            and local.hour in self.hours
            and self.day_matches(local.date())
        )

    def occurrences(
        self, start: datetime, end: datetime, tz: tzinfo = LOCAL_TZ
    ) -> Iterator[datetime]:
        """Aware datetimes in (start, end], in order. Walks days, not minutes."""
        if end <= start:
            return
        day = start.astimezone(tz).date()
        last = end.astimezone(tz).date()
        hours = sorted(self.hours)
        minutes = sorted(self.minutes)
        while day <= last:
            if self.day_matches(day):
                for h in hours:
                    for m in minutes:
                        at = datetime(day.year, day.month, day.day, h, m, tzinfo=tz)
                        if start < at <= end:
                            yield at
            day += timedelta(days=1)

    def next_after(
        self, moment: datetime, count: int = 1, horizon_days: int = 800
    ) -> list[datetime]:
        out: list[datetime] = []
        for at in self.occurrences(moment, moment + timedelta(days=horizon_days)):
            out.append(at)
            if len(out) >= count:
                break
        return out


# ---- idempotency keys and windows ------------------------------------------------------------


def occurrence_token(moment: datetime) -> str:
    """A stable text for a scheduled occurrence: UTC to the minute, e.g. 2026-03-07T01:00Z."""
    if moment.tzinfo is None:
        raise ValueError("occurrence times must be aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def event_token(event_id: Any) -> str:
    return f"ev:{event_id}"


def firing_key(rule_id: int, record_type: str, record_id: int | None, occurrence: str) -> str:
    """(rule, record, occurrence) → one string, unique per firing: `12|loans:345|ev:9876`."""
    record = f"{record_type}:{record_id}" if record_id is not None else f"{record_type or '-'}:-"
    return f"{rule_id}|{record}|{occurrence}"


def windows(start: datetime, end: datetime, span: timedelta) -> list[tuple[datetime, datetime]]:
    """(start, end] cut into consecutive (a, b] pieces of at most `span` (catch-up in chunks,
    each committed with its watermark)."""
    if span <= timedelta(0):
        raise ValueError("span must be positive")
    out: list[tuple[datetime, datetime]] = []
    a = start
    while a < end:
        b = min(a + span, end)
        out.append((a, b))
        a = b
    return out


def next_date_occurrences(
    trigger: DateTrigger, field_dates: Sequence[date], after: datetime
) -> list[datetime]:
    """Occurrences of the given field dates after `after` (the designer's preview)."""
    return sorted(at for at in (occurrence_at(trigger, d) for d in field_dates) if at > after)
