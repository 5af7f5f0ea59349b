"""Background tasks of the core app (run by the django-tasks database worker)."""

from django_tasks import task

from loandesk.core import outbox


@task()
def dispatch_outbox() -> int:
    return outbox.dispatch_pending()
