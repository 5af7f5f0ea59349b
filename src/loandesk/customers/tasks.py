"""Background work of the customer center (django-tasks) and its periodic watchdog."""

from datetime import timedelta

from django_tasks import task

from loandesk.core import scheduler


@task()
def commit_import_task(import_id: int, actor_id: int, ip: str | None = None) -> None:
    from loandesk.customers.imports import run_commit

    run_commit(import_id=import_id, actor_id=actor_id, ip=ip)


def _watchdog() -> None:
    from loandesk.customers.imports import fail_stalled_imports

    fail_stalled_imports()


scheduler.register(
    scheduler.PeriodicJob("customers.import_watchdog", timedelta(minutes=1), _watchdog)
)
