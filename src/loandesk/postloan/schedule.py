"""The daily scheduled COB: after LOANDESK_COB_TIME (default 00:30, in LOANDESK_COB_TIMEZONE,
default Asia/Shanghai) it enqueues one run that closes every date up to yesterday.

The scheduler loop ticks this job every five minutes; the (job, day) claim in ScheduleFire
makes the enqueue happen once per day however many schedulers run."""

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from loandesk.core import scheduler

logger = logging.getLogger(__name__)
DAILY_JOB = "postloan.cob.daily"


def cob_time() -> time:
    hh, mm = str(getattr(settings, "LOANDESK_COB_TIME", "00:30")).split(":")
    return time(int(hh), int(mm))


def cob_zone() -> ZoneInfo:
    return ZoneInfo(str(getattr(settings, "LOANDESK_COB_TIMEZONE", "Asia/Shanghai")))


def due_slot(now: datetime | None = None) -> datetime | None:
    """Today's firing time if it has passed (else None)."""
    local = (now or timezone.now()).astimezone(cob_zone())
    slot = datetime.combine(local.date(), cob_time(), tzinfo=cob_zone())
    return slot if local >= slot else None


def tick(now: datetime | None = None) -> bool:
    """Enqueue today's COB once; True when this call enqueued it."""
    from loandesk.postloan import cob
    from loandesk.postloan.tasks import run_cob_task

    slot = due_slot(now)
    if slot is None:
        return False
    until = slot.date() - timedelta(days=1)
    if cob.next_date() > until or cob.in_progress() is not None:
        return False
    if not scheduler.claim(DAILY_JOB, slot):
        return False
    workers = int(getattr(settings, "LOANDESK_COB_WORKERS", 1))
    run_cob_task.enqueue(until=until.isoformat(), workers=workers, trigger="schedule")
    logger.info("scheduled COB enqueued up to %s", until)
    return True


scheduler.register(scheduler.PeriodicJob("postloan.cob", timedelta(minutes=5), tick))
