import signal
from types import FrameType
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from django.core.management.base import BaseCommand

from loandesk.core import scheduler


class Command(BaseCommand):
    help = "Run the periodic scheduler (enqueues background tasks at their times)."

    def handle(self, *args: Any, **options: Any) -> None:
        sched = BlockingScheduler(timezone="UTC")
        for job in scheduler.JOBS.values():
            sched.add_job(
                scheduler.fire,
                "interval",
                args=[job],
                seconds=int(job.every.total_seconds()),
                id=job.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(job.every.total_seconds()),
            )

        def stop(signum: int, frame: FrameType | None) -> None:
            sched.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(
            f"Scheduler running {len(scheduler.JOBS)} jobs: {', '.join(scheduler.JOBS)}"
        )
        sched.start()
