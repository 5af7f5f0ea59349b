"""The scheduler's job for scheduled rules.

``rules.scan`` (every 60 s): fire date-relative and cron occurrences due since each rule's
watermark (catching up after downtime, one committed day at a time). Two schedulers never fire
one slot twice (the scheduler's slot claim), and a rule row is locked while it is scanned.
"""

from datetime import timedelta

from loandesk.core import scheduler


def _scan() -> None:
    from loandesk.rules.services import scan_scheduled

    scan_scheduled()


scheduler.register(scheduler.PeriodicJob("rules.scan", timedelta(seconds=60), _scan))
