"""Background work of the form engine (django-tasks) and its periodic housekeeping."""

from datetime import timedelta

from django_tasks import task

from loandesk.core import scheduler


@task()
def reindex_records(form_id: int, keys: list[str]) -> int:
    from loandesk.forms.services import reindex

    return reindex(form_id, keys)


def _cleanup() -> None:
    from loandesk.forms.services import cleanup

    cleanup()


scheduler.register(scheduler.PeriodicJob("forms.cleanup", timedelta(hours=1), _cleanup))
