"""The periodic scheduler: one loop that enqueues tasks at their times.

Several schedulers may run (one per machine for availability); each firing first claims its
(job, slot) row, so a slot fires exactly once however many schedulers race for it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from loandesk.core.models import ScheduleFire

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[], object]


JOBS: dict[str, PeriodicJob] = {}


def register(job: PeriodicJob) -> None:
    JOBS[job.name] = job


def slot_for(job: PeriodicJob, now: datetime) -> datetime:
    seconds = int(job.every.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo or UTC)


def claim(job_name: str, slot: datetime) -> bool:
    try:
        with transaction.atomic():
            ScheduleFire.objects.create(job=job_name, slot=slot)
        return True
    except IntegrityError:
        return False


def fire(job: PeriodicJob, now: datetime | None = None) -> bool:
    """Run the job for the current slot unless another scheduler already did."""
    slot = slot_for(job, now or timezone.now())
    if not claim(job.name, slot):
        return False
    try:
        job.run()
    except Exception:
        logger.exception("scheduled job %s failed", job.name)
    return True


def prune(older_than: timedelta = timedelta(days=2)) -> int:
    """Forget old slot claims and finished task results so neither table grows forever."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - older_than
    deleted, _ = ScheduleFire.objects.filter(slot__lt=cutoff).delete()
    finished, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted + finished


def _sweep_outbox() -> None:
    """Safety net for nudges lost in a crash: enqueue a dispatch only when events are due."""
    from loandesk.core.models import OutboxEvent
    from loandesk.core.tasks import dispatch_outbox

    due = OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).exclude(
        next_attempt_at__gt=timezone.now()
    )
    if due.exists():
        dispatch_outbox.enqueue()


register(PeriodicJob("outbox.sweep", timedelta(seconds=15), _sweep_outbox))
register(PeriodicJob("scheduler.prune", timedelta(hours=6), prune))
