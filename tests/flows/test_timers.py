"""Deadlines: reminders, timeouts (auto-approve, escalate), catching up after downtime, and a
timer never firing twice."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from loandesk.core.models import OutboxEvent
from loandesk.flows import services
from loandesk.flows.models import FlowHistory, FlowTimer
from loandesk.settings import _env_int
from tests.flows.conftest import Flows, approval, custom_flow


def test_reminder_then_escalation_catch_up_after_downtime(flows: Flows) -> None:
    inst = flows.submit()
    timers = FlowTimer.objects.filter(instance=inst).order_by("fire_at")
    assert [t.kind for t in timers] == ["reminder", "timeout"]
    assert all(t.status == "pending" for t in timers)
    # nothing is due yet
    assert services.fire_due_timers() == 0
    # the scheduler was down for a month: both fire, in order
    later = timezone.now() + timedelta(days=30)
    assert services.fire_due_timers(at=later) == 2
    actions = list(FlowHistory.objects.filter(instance=inst).values_list("action", flat=True))
    assert actions[-2:] == ["reminded", "escalated"]
    assert OutboxEvent.objects.filter(topic="flows.notify", payload__kind="reminder").count() == 1
    # the manager heads his own branch: escalation goes one level up, to the GM
    assert flows.open_users(inst) == ["gm"]
    assert set(
        FlowTimer.objects.filter(instance=inst, kind="reminder").values_list("status", flat=True)
    ) >= {"fired"}
    # the escalated task has fresh timers
    assert FlowTimer.objects.filter(instance=inst, status="pending").count() == 2


def test_a_timer_fires_once_even_when_two_schedulers_race(flows: Flows) -> None:
    inst = flows.submit()
    timer = FlowTimer.objects.get(instance=inst, kind="timeout")
    later = timezone.now() + timedelta(days=30)
    assert services.fire_timer(timer.pk, at=later) is True
    assert services.fire_timer(timer.pk, at=later) is False
    assert FlowHistory.objects.filter(instance=inst, action="escalated").count() == 1
    assert flows.open_users(inst) == ["gm"]


def test_timeout_auto_approves(flows: Flows) -> None:
    manager, risk = flows.user("manager"), flows.user("risk")
    custom_flow(
        [
            approval(
                "a1",
                [manager.pk],
                deadline={"hours": 2, "on_timeout": "auto_approve"},
            ),
            approval("a2", [risk.pk]),
        ]
    )
    inst = flows.submit()
    assert flows.open_users(inst) == ["manager"]
    assert services.fire_due_timers(at=timezone.now() + timedelta(hours=1)) == 0
    assert services.fire_due_timers(at=timezone.now() + timedelta(hours=3)) == 1
    assert flows.open_users(inst) == ["risk"]
    auto = FlowHistory.objects.get(instance=inst, action="auto_approved")
    assert auto.actor is None and auto.details == {"reason": "timeout"}


def test_acting_cancels_the_timers(flows: Flows) -> None:
    inst = flows.submit()
    flows.act(inst, "manager")
    assert set(
        FlowTimer.objects.filter(
            instance=inst, engine_task_id__startswith="manager_review"
        ).values_list("status", flat=True)
    ) == {"cancelled"}
    manager_timers = FlowTimer.objects.filter(instance=inst, engine_task_id__startswith="manager")
    assert not manager_timers.filter(status="pending").exists()


def test_the_timer_job_runs_as_often_as_configured(tmp_path: Path) -> None:
    """The scheduler registers its jobs at import: a fresh interpreter per setting."""
    probe = (
        "import django; django.setup(); from loandesk.core import scheduler; "
        "print(int(scheduler.JOBS['flows.timers'].every.total_seconds()))"
    )

    def period(**env: str) -> int:
        full = {k: v for k, v in os.environ.items() if k != "LOANDESK_FLOW_TIMERS_SECONDS"}
        full |= {"LOANDESK_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "loandesk.settings"}
        full |= env
        out = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=full, check=True
        )
        return int(out.stdout.strip().splitlines()[-1])

    assert period() == 30
    assert period(LOANDESK_FLOW_TIMERS_SECONDS="2") == 2


@pytest.mark.parametrize("value", ["0", "-5", "2.5", "abc"])
def test_a_wrong_timer_period_stops_the_start_naming_the_setting(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOANDESK_FLOW_TIMERS_SECONDS", value)
    with pytest.raises(ImproperlyConfigured, match="LOANDESK_FLOW_TIMERS_SECONDS"):
        _env_int("LOANDESK_FLOW_TIMERS_SECONDS", 30, minimum=1)
