"""Post-loan writes: delinquency settings, and requesting a COB run."""

from datetime import date, timedelta
from typing import Any

from django.db import transaction

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core import audit
from loandesk.core.errors import ValidationFailed
from loandesk.core.i18n import message
from loandesk.postloan import cob, rules
from loandesk.postloan.models import ClassificationThreshold, CobRun, DelinquencyBucket
from loandesk.postloan.permissions import MANAGE_SETTINGS, RUN_COB


def _invalid(field: str, exc: rules.RuleError) -> ValidationFailed:
    return ValidationFailed({field: message(exc.code, exc.params)})


@transaction.atomic
def set_buckets(*, actor: User, buckets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    require_perm(actor, MANAGE_SETTINGS)
    try:
        ordered = rules.validate_buckets(
            [
                rules.Bucket(str(b["code"]).strip(), int(b["min_dpd"]), b.get("max_dpd"))
                for b in buckets
            ]
        )
    except rules.RuleError as exc:
        raise _invalid("buckets", exc) from exc
    before = cob.current_config()["buckets"]
    DelinquencyBucket.objects.all().delete()
    DelinquencyBucket.objects.bulk_create(
        [DelinquencyBucket(code=b.code, min_dpd=b.min_dpd, max_dpd=b.max_dpd) for b in ordered]
    )
    after = cob.current_config()["buckets"]
    audit.record(
        action="postloan.buckets.set",
        actor=actor,
        target_type="postloan.delinquencybucket",
        changes={"buckets": [before, after]},
    )
    return after


@transaction.atomic
def set_thresholds(*, actor: User, thresholds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    require_perm(actor, MANAGE_SETTINGS)
    try:
        ordered = rules.validate_thresholds(
            [rules.Threshold(str(t["classification"]), int(t["min_dpd"])) for t in thresholds]
        )
    except rules.RuleError as exc:
        raise _invalid("thresholds", exc) from exc
    before = cob.current_config()["thresholds"]
    ClassificationThreshold.objects.all().delete()
    ClassificationThreshold.objects.bulk_create(
        [
            ClassificationThreshold(classification=t.classification, min_dpd=t.min_dpd)
            for t in ordered
        ]
    )
    after = cob.current_config()["thresholds"]
    audit.record(
        action="postloan.thresholds.set",
        actor=actor,
        target_type="postloan.classificationthreshold",
        changes={"thresholds": [before, after]},
    )
    return after


def request_run(*, actor: User, until: date | None = None, workers: int = 1) -> CobRun:
    """Queue a COB run up to `until` (default: the next open date) for the task worker.

    409 when a run is queued or running; 422 when there is nothing to run or the dates are
    invalid (checked now, so the user hears about it, not the worker log)."""
    from loandesk.postloan.tasks import run_cob_task

    require_perm(actor, RUN_COB)
    with transaction.atomic():
        cob.ensure_not_running()
        first = cob.next_date()
        days = cob.dates_to_run(start=None, until=until or first)
        if not days:
            raise ValidationFailed.field(
                "until", "postloan.nothing_to_run", date=(first - timedelta(days=1)).isoformat()
            )
        run, _ = CobRun.objects.get_or_create(
            business_date=days[0],
            defaults={"trigger": "api", "requested_by": actor, "workers": workers},
        )
        CobRun.objects.filter(pk=run.pk).update(
            status=CobRun.Status.QUEUED, trigger="api", requested_by=actor, error=""
        )
        audit.record(
            action="postloan.cob.request",
            actor=actor,
            target=run,
            target_label=days[0].isoformat(),
            extra={"until": days[-1].isoformat(), "workers": workers},
        )
        last = days[-1].isoformat()
        transaction.on_commit(
            lambda: run_cob_task.enqueue(
                until=last, workers=workers, trigger="api", user_id=actor.pk
            )
        )
    run.refresh_from_db()
    return run
