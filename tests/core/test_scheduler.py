"""The periodic scheduler: each (job, slot) fires once however many schedulers race for it."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from loandesk.core import scheduler
from loandesk.core.models import ScheduleFire
from loandesk.core.scheduler import PeriodicJob, claim, fire, prune, slot_for

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _job(
    name: str = "test.job", every: timedelta = timedelta(seconds=15)
) -> tuple[PeriodicJob, list[int]]:
    runs: list[int] = []
    return PeriodicJob(name, every, lambda: runs.append(1)), runs


# --- slot arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "now", "slot"),
    [
        (timedelta(seconds=15), datetime(2026, 3, 1, 12, 0, 7, tzinfo=UTC), "12:00:00"),
        (timedelta(seconds=15), datetime(2026, 3, 1, 12, 0, 15, tzinfo=UTC), "12:00:15"),
        (timedelta(seconds=15), datetime(2026, 3, 1, 12, 0, 29, 999999, tzinfo=UTC), "12:00:15"),
        (timedelta(minutes=5), datetime(2026, 3, 1, 12, 4, 59, tzinfo=UTC), "12:00:00"),
        (timedelta(hours=1), datetime(2026, 3, 1, 12, 59, 59, tzinfo=UTC), "12:00:00"),
        (timedelta(hours=6), datetime(2026, 3, 1, 17, 30, tzinfo=UTC), "12:00:00"),
    ],
)
def test_slot_for(every: timedelta, now: datetime, slot: str) -> None:
    job, _ = _job(every=every)
    result = slot_for(job, now)
    assert result.strftime("%H:%M:%S") == slot
    assert result.date() == now.date()
    assert result.microsecond == 0
    assert result <= now < result + every


def test_slots_are_aligned_to_utc_epoch_whatever_the_zone() -> None:
    """Two schedulers with different local zones must agree on the slot instant."""
    job, _ = _job(every=timedelta(hours=6))
    utc_now = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    local_now = utc_now.astimezone(SHANGHAI)  # 09:30 in Shanghai
    assert slot_for(job, utc_now) == slot_for(job, local_now) == datetime(2026, 3, 1, tzinfo=UTC)
    assert slot_for(job, local_now).tzinfo == SHANGHAI
    assert slot_for(job, local_now).hour == 8


def test_daily_slot_boundary() -> None:
    job, _ = _job(every=timedelta(days=1))
    assert slot_for(job, datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)) == datetime(
        2026, 3, 1, tzinfo=UTC
    )
    assert slot_for(job, datetime(2026, 3, 2, 0, 0, 0, tzinfo=UTC)) == datetime(
        2026, 3, 2, tzinfo=UTC
    )


# --- firing -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_same_slot_fires_once() -> None:
    job, runs = _job()
    now = datetime(2026, 3, 1, 12, 0, 3, tzinfo=UTC)
    assert fire(job, now) is True
    assert fire(job, now) is False
    assert fire(job, now + timedelta(seconds=10)) is False  # still the 12:00:00 slot
    assert runs == [1]
    row = ScheduleFire.objects.get()
    assert row.job == "test.job"
    assert row.slot == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_two_schedulers_same_slot_fire_once() -> None:
    """A second scheduler (its own job object, another zone) loses the claim."""
    job_a, runs_a = _job()
    job_b, runs_b = _job()
    now = datetime(2026, 3, 1, 12, 0, 3, tzinfo=UTC)
    assert fire(job_a, now) is True
    assert fire(job_b, now.astimezone(SHANGHAI) + timedelta(seconds=1)) is False
    assert runs_a == [1]
    assert runs_b == []


@pytest.mark.django_db
def test_different_slots_fire_each() -> None:
    job, runs = _job()
    now = datetime(2026, 3, 1, 12, 0, 3, tzinfo=UTC)
    assert fire(job, now) is True
    assert fire(job, now + timedelta(seconds=15)) is True
    assert runs == [1, 1]
    assert ScheduleFire.objects.count() == 2


@pytest.mark.django_db
def test_different_jobs_share_a_slot() -> None:
    job_a, runs_a = _job("test.a")
    job_b, runs_b = _job("test.b")
    now = datetime(2026, 3, 1, 12, 0, 3, tzinfo=UTC)
    assert fire(job_a, now) is True
    assert fire(job_b, now) is True
    assert runs_a == runs_b == [1]


@pytest.mark.django_db
def test_fire_defaults_to_now(monkeypatch: pytest.MonkeyPatch) -> None:
    instant = datetime(2026, 3, 1, 12, 34, 56, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    job, runs = _job(every=timedelta(hours=1))
    assert fire(job) is True
    assert fire(job) is False
    assert runs == [1]
    assert ScheduleFire.objects.get().slot == datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.django_db
def test_failing_job_keeps_its_claim(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def boom() -> None:
        calls.append(1)
        raise RuntimeError("job failed")

    job = PeriodicJob("test.boom", timedelta(minutes=1), boom)
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with caplog.at_level(logging.ERROR, logger="loandesk.core.scheduler"):
        assert fire(job, now) is True  # the error does not escape into the scheduler loop
    assert any("test.boom" in r.getMessage() for r in caplog.records)
    assert fire(job, now) is False
    assert calls == [1]


@pytest.mark.django_db
def test_claim_is_atomic_inside_an_outer_transaction() -> None:
    """A lost claim must not break the surrounding transaction (savepoint)."""
    slot = datetime(2026, 3, 1, tzinfo=UTC)
    assert claim("test.claim", slot) is True
    assert claim("test.claim", slot) is False
    assert ScheduleFire.objects.filter(job="test.claim").count() == 1  # still usable


def _drop_dispatch_tasks() -> None:
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(task_path="loandesk.core.tasks.dispatch_outbox").delete()


def _dispatch_tasks() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path="loandesk.core.tasks.dispatch_outbox").count()


@pytest.fixture
def db_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db
def test_prune_deletes_old_slots_and_finished_task_results(db_tasks: None) -> None:
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from loandesk.core.tasks import dispatch_outbox

    now = timezone.now()
    claim("test.old", now - timedelta(days=3))
    claim("test.recent", now - timedelta(hours=1))
    old_done, old_failed, recent_done, waiting = (dispatch_outbox.enqueue() for _ in range(4))
    DBTaskResult.objects.filter(pk=old_done.id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=now - timedelta(days=3)
    )
    DBTaskResult.objects.filter(pk=old_failed.id).update(
        status=TaskResultStatus.FAILED, finished_at=now - timedelta(days=3)
    )
    DBTaskResult.objects.filter(pk=recent_done.id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=now - timedelta(hours=1)
    )
    assert prune() == 3  # one slot, two finished results
    assert list(ScheduleFire.objects.values_list("job", flat=True)) == ["test.recent"]
    assert {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)} == {
        str(recent_done.id),
        str(waiting.id),  # never finished: a worker still has to run it
    }
    assert prune(older_than=timedelta(minutes=1)) == 2
    assert not ScheduleFire.objects.exists()
    assert str(DBTaskResult.objects.get().pk) == str(waiting.id)


def test_registered_jobs() -> None:
    assert scheduler.JOBS["outbox.sweep"].every == timedelta(seconds=15)
    assert scheduler.JOBS["scheduler.prune"].every == timedelta(hours=6)
    assert scheduler.JOBS["scheduler.prune"].run is prune


@pytest.mark.django_db
def test_outbox_sweep_enqueues_only_when_events_are_due(db_tasks: None) -> None:
    from django.db import transaction

    from loandesk.core import outbox
    from loandesk.core.models import OutboxEvent

    sweep = scheduler.JOBS["outbox.sweep"]
    base = datetime(2026, 3, 1, tzinfo=UTC)

    assert fire(sweep, base) is True
    assert _dispatch_tasks() == 0  # nothing to deliver: no task

    with transaction.atomic():
        event = outbox.publish("test.sweep")
    _drop_dispatch_tasks()  # the publish's own nudge (written with it); the sweep is tested here
    OutboxEvent.objects.filter(pk=event.pk).update(
        attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    assert fire(sweep, base + timedelta(seconds=15)) is True
    assert _dispatch_tasks() == 0  # pending but not due yet

    OutboxEvent.objects.filter(pk=event.pk).update(next_attempt_at=None)
    assert fire(sweep, base + timedelta(seconds=30)) is True
    assert _dispatch_tasks() == 1
    assert fire(sweep, base + timedelta(seconds=30)) is False  # same slot: no second task
    assert _dispatch_tasks() == 1

    for status in (OutboxEvent.Status.DONE, OutboxEvent.Status.DEAD):
        OutboxEvent.objects.filter(pk=event.pk).update(status=status)
        sweep.run()
        assert _dispatch_tasks() == 1
