"""Deadlines: working-hour arithmetic, reminders, timeouts (approve/reject/escalate), stale
timers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loandesk.flows.engine import (
    SHANGHAI,
    FlowError,
    Notify,
    add_working_hours,
    due_at,
    weekdays_only,
)

from .helpers import Driver, approval, at, flow


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi)


def cn(day: date) -> bool:
    return bool(chinese_calendar.is_workday(day))


# ---------------------------------------------------------------- add_working_hours


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (local(2026, 3, 2, 9), 8, local(2026, 3, 2, 17)),  # Monday
        (local(2026, 3, 2, 9), 9, local(2026, 3, 2, 18)),  # fills the day: ends at 18:00
        (local(2026, 3, 2, 17), 2, local(2026, 3, 3, 10)),  # crosses the night
        (local(2026, 3, 2, 7, 30), 1, local(2026, 3, 2, 10)),  # before the window
        (local(2026, 3, 2, 19), 1, local(2026, 3, 3, 10)),  # after the window
        (local(2026, 3, 6, 17), 2, local(2026, 3, 9, 10)),  # Friday → Monday
        (local(2026, 3, 7, 12), 1, local(2026, 3, 9, 10)),  # starts on Saturday
        (local(2026, 3, 2, 9), Decimal("1.5"), local(2026, 3, 2, 10, 30)),
        (local(2026, 3, 2, 9), 90, local(2026, 3, 13, 18)),  # ten working days
        (local(2026, 3, 2, 20), 0, local(2026, 3, 2, 20)),  # zero: unchanged
    ],
)
def test_add_working_hours(start: datetime, hours: int, expected: datetime) -> None:
    assert add_working_hours(start, hours, weekdays_only) == expected


def test_chinese_holidays_and_make_up_days() -> None:
    # National Day 2025: 1–8 October off; Sunday 28 September and Saturday 11 October worked.
    assert add_working_hours(local(2025, 9, 30, 17), 2, cn) == local(2025, 10, 9, 10)
    assert add_working_hours(local(2025, 9, 26, 17), 2, cn) == local(2025, 9, 28, 10)
    assert add_working_hours(local(2025, 10, 10, 17), 2, cn) == local(2025, 10, 11, 10)


def test_keeps_tzinfo_and_due_at_converts_to_local() -> None:
    start = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)
    assert add_working_hours(start, 1, weekdays_only) == datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # 17:30 in Shanghai
    due = due_at(now, 1, working_hours=True, is_working_day=weekdays_only)
    assert due == datetime(2026, 3, 3, 1, 30, tzinfo=UTC)  # Tuesday 09:30 Shanghai
    assert due.tzinfo is UTC
    assert due_at(now, 1, working_hours=False, is_working_day=weekdays_only) == now + timedelta(
        hours=1
    )
    naive = due_at(local(2026, 3, 2, 17, 30), 1, working_hours=True, is_working_day=weekdays_only)
    assert naive == local(2026, 3, 3, 9, 30)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_hours(local(2026, 3, 2), -1, weekdays_only)
    with pytest.raises(FlowError) as err:
        add_working_hours(local(2026, 3, 2), 1, lambda d: False)
    assert err.value.code == "flow.no_working_day"


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 1)),
    a=st.integers(min_value=1, max_value=60 * 40),
    b=st.integers(min_value=0, max_value=60 * 40),
)
def test_working_hours_are_additive_and_inside_the_window(start: datetime, a: int, b: int) -> None:
    ha, hb = Decimal(a) / 60, Decimal(b) / 60
    first = add_working_hours(start, ha, cn)
    assert add_working_hours(first, hb, cn) == add_working_hours(start, ha + hb, cn)
    assert (
        cn(first.date())
        and local(2000, 1, 1, 9).time() < first.time() <= local(2000, 1, 1, 18).time()
    )
    assert first > start


# ---------------------------------------------------------------- timers in the engine


def deadline_flow(on_timeout: str, *users: str, **kw: object) -> dict[str, Any]:
    return flow(
        approval(
            "a",
            *(users or ("risk1",)),
            deadline={"hours": 4, "reminder_before": 1, "on_timeout": on_timeout, **kw},
        ),
        approval("b", "zz"),
    )


def test_reminder_then_stale_repeat() -> None:
    d = Driver.start(deadline_flow("none"))
    task = d.task("risk1")
    assert task.due_at == at(hours=4) and task.remind_at == at(hours=3)
    assert list(d.state.timers) == ["a:1:1:remind"], "no timeout timer for on_timeout none"
    d.fire("a:1:1:remind")
    assert [(n.kind, n.user_ids) for n in d.t.of_type(Notify)] == [("reminder", ("risk1",))]
    assert d.fire("a:1:1:remind").ignored
    assert d.fire("no-such-timer").ignored


def test_timeout_auto_approve() -> None:
    d = Driver.start(deadline_flow("auto_approve"))
    d.fire("a:1:1:timeout")
    assert d.users() == ["zz"]
    event = next(e for e in d.history if e.action == "auto_approved")
    assert (event.actor, event.target, event.details) == ("system", "risk1", {"reason": "timeout"})
    assert event.duration_seconds == 4 * 3600
    assert not d.state.acted, "the system is not 'anyone' for withdraw"


def test_timeout_auto_reject() -> None:
    d = Driver.start(deadline_flow("auto_reject"))
    d.fire("a:1:1:timeout")
    assert d.state.status == "rejected"


def test_escalation_to_the_approvers_head_with_fresh_deadline() -> None:
    d = Driver.start(deadline_flow("escalate"))
    d.fire("a:1:1:timeout", now=at(hours=5))
    assert d.users() == ["risk_head"]
    head_task = d.task("risk_head")
    assert head_task.kind == "escalation"
    assert head_task.due_at == at(hours=9), "fresh deadline from the escalation"
    assert set(d.state.timers) == {f"{head_task.id}:remind", f"{head_task.id}:timeout"}
    # risk_head heads risk_dept: the next escalation goes one level up
    d.fire(f"{head_task.id}:timeout")
    assert d.users() == ["ceo"]
    # the stale timeout of the first task is ignored
    assert d.fire("a:1:1:timeout", now=at(hours=20)).ignored


def test_escalation_without_a_head_notifies_admins_and_keeps_the_task() -> None:
    d = Driver.start(deadline_flow("escalate", "loner"))
    d.fire("a:1:1:timeout")
    assert d.users() == ["loner"]
    assert [(n.kind, n.user_ids) for n in d.t.of_type(Notify)] == [
        ("escalation_failed", ("admin",))
    ]
    assert d.history[-1].action == "escalation_failed"


def test_escalation_skips_a_head_who_already_holds_a_task() -> None:
    d = Driver.start(
        flow(
            approval(
                "a",
                "risk1",
                "risk_head",
                mode="all",
                deadline={"hours": 4, "on_timeout": "escalate"},
            )
        )
    )
    d.fire("a:1:1:timeout")
    assert sorted(d.users()) == ["ceo", "risk_head"]


def test_working_hour_deadline_over_the_weekend() -> None:
    friday_4pm = datetime(2026, 3, 6, 8, tzinfo=UTC)
    d = Driver.start(deadline_flow("auto_approve", working_hours=True), now=friday_4pm)
    task = d.task("risk1")
    # 2 h left on Friday, 2 h on Monday: Monday 11:00 Shanghai = 03:00 UTC
    assert task.due_at == datetime(2026, 3, 9, 3, tzinfo=UTC)
    assert task.remind_at == datetime(2026, 3, 9, 2, tzinfo=UTC)


def test_transfer_after_the_reminder_time_gets_no_reminder() -> None:
    d = Driver.start(deadline_flow("auto_reject"))
    d.act("risk1", "transfer", target="risk2", now=at(hours=3, minutes=30))
    task = d.task("risk2")
    assert task.due_at == at(hours=4)
    assert set(d.state.timers) == {f"{task.id}:timeout"}


def test_timer_of_a_finished_instance_is_ignored() -> None:
    d = Driver.start(deadline_flow("auto_approve"))
    timers = dict(d.state.timers)
    d.apply(d.engine.withdraw(d.state, user_id="officer1", now=at(1)))
    assert not d.state.timers
    for timer_id in timers:
        assert d.engine.timer_fired(d.state, timer_id=timer_id, now=at(hours=9)).ignored
