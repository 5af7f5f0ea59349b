"""Core write use cases."""

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from loandesk.core import audit
from loandesk.core.errors import ValidationFailed
from loandesk.core.models import BusinessDate


def today_local() -> date:
    return timezone.localdate()


def get_business_date() -> date:
    """The lending business date; defaults to today's local date until COB or an admin sets it."""
    row = BusinessDate.objects.filter(pk=1).only("date").first()
    return row.date if row else today_local()


@transaction.atomic
def set_business_date(*, actor: Any, new_date: date, allow_backwards: bool = False) -> date:
    row = BusinessDate.objects.select_for_update().filter(pk=1).first()
    # Before the first set the business date is today: going earlier is going backwards too.
    old = row.date if row else today_local()
    if new_date < old and not allow_backwards:
        raise ValidationFailed.field("date", "business_date.invalid")
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": new_date})
    audit.record(
        action="business_date.set",
        actor=actor,
        target_type="core.businessdate",
        target_id=1,
        target_label=new_date.isoformat(),
        changes={"date": [old.isoformat(), new_date.isoformat()]},
    )
    return new_date
