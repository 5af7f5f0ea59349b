"""Background tasks: the on-demand (API) and scheduled COB runs, and COB's partitions when
they are spread over the task workers (LOANDESK_COB_VIA_TASKS, `loandesk cob --via-tasks`)."""

from datetime import date

from django.conf import settings
from django_tasks import task

from loandesk.accounts.models import User
from loandesk.postloan import cob


@task()
def run_cob_task(
    until: str | None = None, workers: int = 1, trigger: str = "api", user_id: int | None = None
) -> int:
    actor = User.objects.filter(pk=user_id).first() if user_id else None
    via_tasks = bool(getattr(settings, "LOANDESK_COB_VIA_TASKS", False))
    runs = cob.run_cob(
        until=date.fromisoformat(until) if until else None,
        workers=workers,
        trigger=trigger,
        actor=actor,
        # This task is the coordinator; it runs partition tasks itself too, so one task
        # worker alone is enough and every further worker takes partitions beside it.
        via_tasks=via_tasks,
        work_here=via_tasks,
    )
    return len(runs)


# On a queue of its own: workers started with `--queue-name cob` work for COB alone, and
# `loandesk serve`'s workers take both queues (`--queue-name default,cob`).
@task(queue_name="cob", priority=50)
def run_cob_partition_task(run_id: int, partition: int) -> int:
    """One partition of a COB date: its chain of partitioned steps, in order (cob.run_partition)."""
    return cob.run_partition(run_id, partition)
