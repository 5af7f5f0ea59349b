"""Background work of the flows app: automated steps (django-tasks) and the scheduler's jobs.

- ``flows.timers`` (every 30 s, ``LOANDESK_FLOW_TIMERS_SECONDS``): fire every due timer —
  reminders, timeouts — catching up after downtime; each timer is claimed by a status update
  inside the instance lock, so it fires once even with two schedulers.
- ``flows.steps`` (every 60 s): run automated steps still pending a minute after they were
  queued (an enqueue lost in a crash); `run_step` skips runs that are no longer pending.
"""

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from loandesk.core import scheduler


@task()
def run_step_task(run_id: int) -> str:
    from loandesk.flows.services import run_step

    return run_step(run_id)


def _fire_timers() -> None:
    from loandesk.flows.services import fire_due_timers

    fire_due_timers()


def _sweep_steps() -> None:
    from loandesk.flows.services import STEP_RETRY_AFTER, run_pending_steps

    run_pending_steps(older_than=STEP_RETRY_AFTER)


scheduler.register(
    scheduler.PeriodicJob(
        "flows.timers", timedelta(seconds=settings.LOANDESK_FLOW_TIMERS_SECONDS), _fire_timers
    )
)
scheduler.register(scheduler.PeriodicJob("flows.steps", timedelta(seconds=60), _sweep_steps))
