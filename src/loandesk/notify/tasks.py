"""Background work of the notify app.

- ``deliver_due`` (django-tasks): nudged on commit after each `send`, sends what is due;
- ``notify.deliveries`` (scheduler, every 15 s): the same sweep — retries after backoff,
  messages deferred past quiet hours, and rows whose worker died (expired lease).
"""

from datetime import timedelta

from django_tasks import task

from loandesk.core import scheduler


@task()
def deliver_due() -> int:
    from loandesk.notify.deliveries import process_due

    return process_due()


def _sweep() -> None:
    """Enqueue a delivery run only when something is due (network calls stay off this loop)."""
    from django.utils import timezone

    from loandesk.notify.deliveries import due_q
    from loandesk.notify.models import Delivery

    if Delivery.objects.filter(due_q(timezone.now())).exists():
        deliver_due.enqueue()


scheduler.register(scheduler.PeriodicJob("notify.deliveries", timedelta(seconds=15), _sweep))
