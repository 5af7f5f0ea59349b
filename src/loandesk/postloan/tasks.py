"""Background task: the on-demand (API) and scheduled COB runs."""

from datetime import date

from django_tasks import task

from loandesk.accounts.models import User
from loandesk.postloan import cob


@task()
def run_cob_task(
    until: str | None = None, workers: int = 1, trigger: str = "api", user_id: int | None = None
) -> int:
    actor = User.objects.filter(pk=user_id).first() if user_id else None
    runs = cob.run_cob(
        until=date.fromisoformat(until) if until else None,
        workers=workers,
        trigger=trigger,
        actor=actor,
    )
    return len(runs)
