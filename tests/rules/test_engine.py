"""The rule engine core (plain Python): triggers, conditions, cron, date windows, keys."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loandesk.core.expression import ConditionError
from loandesk.rules import engine
from loandesk.rules.engine import (
    LOCAL_TZ,
    CronSchedule,
    DateTrigger,
    Event,
    EventTrigger,
    RuleError,
    RuleSpec,
)

FIELDS = {"status": "select", "bucket": "select", "due_date": "date", "amount": "money"}


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LOCAL_TZ)


# ---- trigger parsing -------------------------------------------------------------------------


def test_parse_event_triggers() -> None:
    kw = {"fields": FIELDS, "topics": {"loan.became_overdue"}}
    assert engine.parse_trigger("event", {"kind": "created"}, **kw) == EventTrigger("created")
    t = engine.parse_trigger(
        "event", {"kind": "field_changed", "field": "bucket", "to": "M2"}, **kw
    )
    assert t == EventTrigger("field_changed", field="bucket", to="M2", has_to=True)
    t = engine.parse_trigger("event", {"kind": "field_changed", "field": "bucket"}, **kw)
    assert isinstance(t, EventTrigger) and not t.has_to
    t = engine.parse_trigger("event", {"kind": "event", "topic": "loan.became_overdue"}, **kw)
    assert t == EventTrigger("event", topic="loan.became_overdue")


@pytest.mark.parametrize(
    ("kind", "settings", "code"),
    [
        ("nope", {}, "rules.trigger_type_invalid"),
        ("event", [], "rules.trigger_invalid"),
        ("event", {"kind": "deleted"}, "rules.event_kind_invalid"),
        ("event", {"kind": "field_changed", "field": "ghost"}, "rules.field_unknown"),
        (
            "event",
            {"kind": "field_changed", "field": "bucket", "to": {"a": 1}},
            "rules.trigger_invalid",
        ),
        ("event", {"kind": "event", "topic": "loan.eaten"}, "rules.topic_unknown"),
        ("date", {"field": "status", "days": 1, "at": "09:00"}, "rules.date_field_invalid"),
        ("date", {"field": "due_date", "days": "3", "at": "09:00"}, "rules.days_invalid"),
        ("date", {"field": "due_date", "days": True, "at": "09:00"}, "rules.days_invalid"),
        ("date", {"field": "due_date", "days": 99999, "at": "09:00"}, "rules.days_invalid"),
        ("date", {"field": "due_date", "days": 1, "at": "24:00"}, "rules.time_invalid"),
        ("date", {"field": "due_date", "days": 1, "at": "9:00"}, "rules.time_invalid"),
        ("date", {"field": "due_date", "days": 1}, "rules.time_invalid"),
        ("cron", {"cron": "61 * * * *"}, "rules.cron_invalid"),
        ("cron", {"cron": 5}, "rules.cron_invalid"),
    ],
)
def test_parse_trigger_rejects(kind: str, settings: object, code: str) -> None:
    with pytest.raises(RuleError) as err:
        engine.parse_trigger(
            kind,
            settings,
            fields=FIELDS,
            date_fields={"due_date"},
            topics={"loan.became_overdue"},
        )
    assert err.value.code == code


# ---- events ----------------------------------------------------------------------------------


def loan_event(kind: str = "updated", **kw: object) -> Event:
    return Event("loan", kind, kw.pop("topic", "loan.bucket_changed"), 7, **kw)  # type: ignore[arg-type]


def test_event_kinds() -> None:
    created = EventTrigger("created")
    updated = EventTrigger("updated")
    assert engine.trigger_matches_event(created, loan_event("created"))
    assert not engine.trigger_matches_event(created, loan_event("updated"))
    assert engine.trigger_matches_event(updated, loan_event("updated"))
    assert not engine.trigger_matches_event(updated, loan_event(""))
    named = EventTrigger("event", topic="loan.became_overdue")
    assert engine.trigger_matches_event(named, loan_event("", topic="loan.became_overdue"))
    assert not engine.trigger_matches_event(named, loan_event("", topic="loan.closed"))
    assert not engine.trigger_matches_event(DateTrigger("due_date", 1, time(9)), loan_event())


def test_field_changed_to_a_value() -> None:
    to_m2 = EventTrigger("field_changed", field="bucket", to="M2", has_to=True)
    ev = loan_event(changed=frozenset({"bucket"}), new_values={"bucket": "M2"})
    assert engine.trigger_matches_event(to_m2, ev)
    ev = loan_event(changed=frozenset({"bucket"}), new_values={"bucket": "M3"})
    assert not engine.trigger_matches_event(to_m2, ev)
    # the event does not carry the value: the record's current value decides
    ev = loan_event(changed=frozenset({"bucket"}))
    assert engine.trigger_matches_event(to_m2, ev, {"bucket": "M2"})
    assert not engine.trigger_matches_event(to_m2, ev, {"bucket": "M1"})
    # another field changed
    assert not engine.trigger_matches_event(to_m2, loan_event(changed=frozenset({"status"})))
    any_change = EventTrigger("field_changed", field="bucket")
    assert engine.trigger_matches_event(any_change, loan_event(changed=frozenset({"bucket"})))
    # numbers and booleans as typed in the designer
    n = EventTrigger("field_changed", field="dpd", to="30", has_to=True)
    assert engine.trigger_matches_event(
        n, loan_event(changed=frozenset({"dpd"}), new_values={"dpd": 30})
    )
    b = EventTrigger("field_changed", field="ok", to=True, has_to=True)
    assert engine.trigger_matches_event(
        b, loan_event(changed=frozenset({"ok"}), new_values={"ok": "true"})
    )


def test_rules_for_event_filters_by_type_and_orders_by_id() -> None:
    rules = [
        RuleSpec(3, "loan", EventTrigger("updated")),
        RuleSpec(1, "loan", EventTrigger("field_changed", field="bucket")),
        RuleSpec(2, "customer", EventTrigger("updated")),
        RuleSpec(4, "loan", EventTrigger("created")),
        RuleSpec(5, "loan", DateTrigger("due_date", -3, time(9))),
        RuleSpec(6, "loan", EventTrigger("field_changed", field="status")),
    ]
    got = engine.rules_for_event(rules, loan_event(changed=frozenset({"bucket"})))
    assert [r.id for r in got] == [1, 3]


# ---- conditions (the shared JSON-logic evaluator) --------------------------------------------


def test_conditions() -> None:
    assert engine.condition_holds(None, {})
    assert engine.condition_holds({}, {})
    values = {"amount": Decimal("600000.00"), "status": "due", "due_date": date(2026, 3, 10)}
    assert engine.condition_holds({">": [{"var": "amount"}, 500000]}, values)
    assert engine.condition_holds({"in": [{"var": "status"}, ["pending", "due"]]}, values)
    assert engine.condition_holds({"==": [{"var": "due_date"}, "2026-03-10"]}, values)
    assert not engine.condition_holds({"!": {"var": "status"}}, values)
    with pytest.raises(ConditionError):
        engine.condition_holds({"eval": ["1"]}, values)
    engine.check_rule_condition({"==": [{"var": "status"}, "due"]}, FIELDS)
    with pytest.raises(RuleError) as err:
        engine.check_rule_condition({"==": [{"var": "ghost"}, 1]}, FIELDS)
    assert err.value.where == "condition"
    with pytest.raises(RuleError):
        engine.check_rule_condition({"exec": [1]}, FIELDS)


# ---- date-relative ---------------------------------------------------------------------------

REMIND = DateTrigger("due_date", -3, time(9, 0))


def test_occurrence_is_local_time() -> None:
    occ = engine.occurrence_at(REMIND, date(2026, 3, 10))
    assert occ == at(2026, 3, 7, 9)
    assert occ.astimezone(UTC) == datetime(2026, 3, 7, 1, 0, tzinfo=UTC)
    after = DateTrigger("due_date", 1, time(23, 30))
    assert engine.occurrence_at(after, date(2026, 12, 31)) == at(2027, 1, 1, 23, 30)


def test_field_dates_for_window() -> None:
    # (03-04 08:00, 03-05 10:00]: 09:00 on 03-04 and 03-05 → due 03-07 and 03-08
    assert engine.field_dates_for_window(REMIND, at(2026, 3, 4, 8), at(2026, 3, 5, 10)) == (
        date(2026, 3, 7),
        date(2026, 3, 8),
    )
    # start exactly at 09:00 is excluded, end exactly at 09:00 included
    assert engine.field_dates_for_window(REMIND, at(2026, 3, 4, 9), at(2026, 3, 5, 9)) == (
        date(2026, 3, 8),
        date(2026, 3, 8),
    )
    assert engine.field_dates_for_window(REMIND, at(2026, 3, 4, 9), at(2026, 3, 5, 8, 59)) is None
    assert engine.field_dates_for_window(REMIND, at(2026, 3, 5), at(2026, 3, 4)) is None
    # windows given in UTC work the same
    start = at(2026, 3, 4, 8).astimezone(UTC)
    assert engine.field_dates_for_window(REMIND, start, start + timedelta(hours=2)) == (
        date(2026, 3, 7),
        date(2026, 3, 7),
    )


def test_asia_shanghai_has_no_dst_in_our_era() -> None:
    day = date(2020, 1, 1)
    prev = engine.occurrence_at(REMIND, day)
    for _ in range(366 * 12):
        day += timedelta(days=1)
        occ = engine.occurrence_at(REMIND, day)
        assert occ - prev == timedelta(hours=24)
        assert occ.utcoffset() == timedelta(hours=8)
        prev = occ


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(
    start=moments,
    cuts=st.lists(st.integers(min_value=0, max_value=60 * 24 * 90), max_size=12),
    days=st.integers(min_value=-40, max_value=40),
    hh=st.integers(0, 23),
    mm=st.integers(0, 59),
)
def test_catch_up_over_any_downtime_fires_each_occurrence_once(
    start: datetime, cuts: list[int], days: int, hh: int, mm: int
) -> None:
    """Scans at arbitrary times (any downtime between them): every due date whose occurrence is
    in (first, last] fires exactly once, and nothing else fires."""
    trigger = DateTrigger("due_date", days, time(hh, mm))
    points = [start] + [start + timedelta(minutes=c) for c in sorted(cuts)]
    end = points[-1]
    field_dates = [start.date() + timedelta(days=k) for k in range(-50, 150)]
    fired: list[date] = []
    for a, b in itertools.pairwise(points):
        window = engine.field_dates_for_window(trigger, a, b)
        if window is None:
            continue
        candidates = [d for d in field_dates if window[0] <= d <= window[1]]
        fired += [d for d, _ in engine.date_occurrences(trigger, candidates, a, b)]
        assert len(candidates) == len(list(engine.date_occurrences(trigger, candidates, a, b)))
    expected = [d for d in field_dates if start < engine.occurrence_at(trigger, d) <= end]
    assert sorted(fired) == expected
    assert len(set(fired)) == len(fired)


# ---- cron ------------------------------------------------------------------------------------


def test_cron_parsing() -> None:
    s = CronSchedule.parse("*/15 9-17 * * mon-fri")
    assert s.minutes == {0, 15, 30, 45}
    assert s.hours == set(range(9, 18))
    assert s.weekdays == {1, 2, 3, 4, 5}
    assert CronSchedule.parse("0 0 * * 7").weekdays == {0}  # 7 = Sunday
    assert CronSchedule.parse("0 0 * * 0,7").weekdays == {0}
    assert CronSchedule.parse("5/20 * * * *").minutes == {5, 25, 45}
    assert CronSchedule.parse("0 9 1 JAN,jul *").months == {1, 7}
    assert CronSchedule.parse("@daily") == CronSchedule.parse("0 0 * * *")
    assert CronSchedule.parse("  @HOURLY ") == CronSchedule.parse("0 * * * *")
    assert CronSchedule.parse("0 0 29 2 *").days == {29}  # leap years only, but it fires


@pytest.mark.parametrize(
    "expr",
    [
        "",
        "* * * *",
        "* * * * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * 32 * *",
        "* * * 13 *",
        "* * * * 8",
        "*/0 * * * *",
        "5-1 * * * *",
        "1- * * * *",
        "a b c d e",
        "1,,2 * * * *",
        "* * * foo *",
        "0 0 30 2 *",  # never fires
        "0 0 31 4,6,9,11 *",  # never fires
        "*/ * * * *",
        "999 * * * *",
        "x" * 200,
    ],
)
def test_cron_rejects(expr: str) -> None:
    with pytest.raises(RuleError) as err:
        CronSchedule.parse(expr)
    assert err.value.code == "rules.cron_invalid"


def test_cron_day_of_month_or_day_of_week() -> None:
    # both restricted: the 1st OR any Monday (Vixie cron)
    s = CronSchedule.parse("0 9 1 * mon")
    assert s.day_matches(date(2026, 3, 1))  # a Sunday, the 1st
    assert s.day_matches(date(2026, 3, 2))  # a Monday
    assert not s.day_matches(date(2026, 3, 3))
    # only one restricted: it alone decides
    assert CronSchedule.parse("0 9 * * mon").day_matches(date(2026, 3, 2))
    assert not CronSchedule.parse("0 9 * * mon").day_matches(date(2026, 3, 1))
    assert CronSchedule.parse("0 0 30 2 1").day_matches(date(2026, 2, 2))  # Mondays in Feb


def test_cron_occurrences_in_local_time() -> None:
    s = CronSchedule.parse("0 9 * * 1")  # Mondays 09:00 Shanghai = 01:00 UTC
    got = list(s.occurrences(at(2026, 3, 1), at(2026, 3, 31)))
    assert got == [at(2026, 3, d, 9) for d in (2, 9, 16, 23, 30)]
    assert got[0].astimezone(UTC).hour == 1
    # (start, end]: an occurrence at the start is excluded, at the end included
    assert list(s.occurrences(at(2026, 3, 2, 9), at(2026, 3, 9, 9))) == [at(2026, 3, 9, 9)]
    leap = CronSchedule.parse("0 0 29 2 *")
    assert list(leap.occurrences(at(2025, 1, 1), at(2029, 1, 1))) == [at(2028, 2, 29)]
    assert s.next_after(at(2026, 3, 2, 9), 2) == [at(2026, 3, 9, 9), at(2026, 3, 16, 9)]
    assert s.matches(at(2026, 3, 2, 9)) and not s.matches(at(2026, 3, 2, 9, 1))


cron_exprs = st.sampled_from(
    ["*/7 * * * *", "0 9 * * 1-5", "30 8 1,15 * *", "0 0 1 * mon", "15 */5 * 2,3 *", "@hourly"]
)


@settings(max_examples=60, deadline=None)
@given(
    expr=cron_exprs,
    start=moments,
    cuts=st.lists(st.integers(min_value=1, max_value=60 * 24 * 3), min_size=1, max_size=6),
)
def test_cron_windows_partition_occurrences(expr: str, start: datetime, cuts: list[int]) -> None:
    """Occurrences over consecutive windows = occurrences over their union, each once, and
    they are exactly the minutes a brute-force walk finds."""
    s = CronSchedule.parse(expr)
    points = [start] + [start + timedelta(minutes=c) for c in sorted(set(cuts))]
    pieces = [list(s.occurrences(a, b)) for a, b in itertools.pairwise(points)]
    joined = [t for piece in pieces for t in piece]
    assert joined == list(s.occurrences(points[0], points[-1]))
    assert len(set(joined)) == len(joined)
    minute = (points[0] + timedelta(minutes=1)).replace(second=0, microsecond=0)
    brute = []
    while minute <= points[-1]:
        if s.matches(minute):
            brute.append(minute)
        minute += timedelta(minutes=1)
    assert [t.astimezone(UTC) for t in joined] == brute


# ---- keys and windows ------------------------------------------------------------------------


def test_idempotency_keys() -> None:
    occ = engine.occurrence_token(at(2026, 3, 7, 9))
    assert occ == "2026-03-07T01:00Z"
    assert engine.firing_key(12, "loan", 345, engine.event_token(9876)) == "12|loan:345|ev:9876"
    assert engine.firing_key(12, "", None, occ) == "12|-:-|2026-03-07T01:00Z"
    keys = {
        engine.firing_key(r, t, i, o)
        for r in (1, 2)
        for t in ("loan", "installment")
        for i in (1, 2)
        for o in (occ, "ev:1")
    }
    assert len(keys) == 16
    with pytest.raises(ValueError):
        engine.occurrence_token(datetime(2026, 3, 7, 9))  # naive


def test_windows() -> None:
    a = at(2026, 3, 1)
    pieces = engine.windows(a, a + timedelta(days=2, hours=5), timedelta(days=1))
    assert [(p[1] - p[0]) for p in pieces] == [timedelta(days=1)] * 2 + [timedelta(hours=5)]
    assert engine.windows(a, a, timedelta(days=1)) == []
    with pytest.raises(ValueError):
        engine.windows(a, a + timedelta(days=1), timedelta(0))
