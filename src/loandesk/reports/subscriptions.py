"""Scheduled report e-mails: a dashboard's KPI numbers, daily or weekly at a local time, to users
and roles — each recipient gets the numbers of their own data scope.

The periodic job `reports.subscriptions` (every 5 minutes) sends every enabled subscription whose
time of day has passed today (and whose weekday is today, for weekly ones) and that has not been
sent today, through `loandesk.notify.services.send(channel="email")` with the dedupe key
`reports.subscription:<id>:<date>:<user>`: a catch-up after downtime sends once. Each e-mail
is multipart/alternative — the KPI cards as text, and an HTML body (inline styles, Chinese
first) with the KPI cards and every chart's data as a table — with the dashboard's data as an
.xlsx attachment (reports.snapshot, written with the formula-injection-safe Excel writer).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from loandesk.accounts.models import Role, User
from loandesk.accounts.scoping import has_perm
from loandesk.core import audit, scheduler
from loandesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from loandesk.notify.channels import Attachment
from loandesk.notify.models import Delivery
from loandesk.reports import query as q
from loandesk.reports import snapshot
from loandesk.reports.models import Dashboard, Subscription
from loandesk.reports.permissions import DESIGN, VIEW

MAX_RECIPIENTS = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _dashboard_for_owner(actor: User, dashboard_id: int) -> Dashboard:
    """The dashboard if the actor may manage its subscriptions (design, or its owner)."""
    dashboard = (
        Dashboard.objects.filter(pk=dashboard_id).first() if 0 < dashboard_id < q.MAX_ID else None
    )
    if dashboard is None:
        raise NotFound()
    if not (has_perm(actor, DESIGN) or dashboard.created_by_id == actor.pk):
        raise PermissionDenied(details={"permission": DESIGN})
    return dashboard


def subscription_out(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.pk,
        "dashboard": sub.dashboard_id,
        "users": [
            {"id": u.pk, "name": u.full_name or u.username} for u in sub.users.order_by("id")
        ],
        "roles": sorted(r.code for r in sub.roles.all()),
        "send_at": sub.send_at.strftime("%H:%M"),
        "weekday": sub.weekday,
        "enabled": sub.enabled,
        "last_sent_on": sub.last_sent_on.isoformat() if sub.last_sent_on else None,
    }


def subscriptions(*, actor: User, dashboard_id: int) -> list[dict[str, Any]]:
    dashboard = _dashboard_for_owner(actor, dashboard_id)
    rows = Subscription.objects.filter(dashboard=dashboard).prefetch_related("users", "roles")
    return [subscription_out(s) for s in rows]


def _clean(data: Mapping[str, Any]) -> tuple[time, int | None, list[User], list[Role]]:
    raw_time = data.get("send_at")
    match = _TIME.match(raw_time) if isinstance(raw_time, str) else None
    if match is None:
        raise ValidationFailed.field("send_at", "reports.bad_time")
    weekday = data.get("weekday")
    if weekday is not None and (
        isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6
    ):
        raise ValidationFailed.field("weekday", "reports.bad_weekday")
    user_ids = data.get("users") or []
    role_codes = data.get("roles") or []
    if not isinstance(user_ids, list) or not isinstance(role_codes, list):
        raise ValidationFailed.field("users", "reports.recipients_required")
    if len(user_ids) + len(role_codes) > MAX_RECIPIENTS:
        raise ValidationFailed.field("users", "reports.too_many_recipients", max=MAX_RECIPIENTS)
    if not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 < i < q.MAX_ID for i in user_ids
    ):
        raise ValidationFailed.field("users", "reports.unknown_user")
    users = list(User.objects.filter(pk__in=user_ids, is_active=True))
    if len(users) != len(set(user_ids)):
        raise ValidationFailed.field("users", "reports.unknown_user")
    if not all(isinstance(c, str) for c in role_codes):
        raise ValidationFailed.field("roles", "reports.unknown_role", code="?")
    roles = list(Role.objects.filter(code__in=role_codes))
    missing = set(role_codes) - {r.code for r in roles}
    if missing:
        raise ValidationFailed.field("roles", "reports.unknown_role", code=sorted(missing)[0][:40])
    if not users and not roles:
        raise ValidationFailed.field("users", "reports.recipients_required")
    hour, minute = int(match.group(1)), int(match.group(2))
    return time(hour, minute), weekday, users, roles


@transaction.atomic
def create_subscription(*, actor: User, dashboard_id: int, data: Mapping[str, Any]) -> Subscription:
    dashboard = _dashboard_for_owner(actor, dashboard_id)
    send_at, weekday, users, roles = _clean(data)
    sub = Subscription.objects.create(
        dashboard=dashboard,
        send_at=send_at,
        weekday=weekday,
        enabled=bool(data.get("enabled", True)),
        created_by=actor,
    )
    sub.users.set(users)
    sub.roles.set(roles)
    audit.record(
        action="reports.subscription_created",
        actor=actor,
        target=dashboard,
        extra={"subscription": sub.pk, "users": len(users), "roles": [r.code for r in roles]},
    )
    return sub


@transaction.atomic
def delete_subscription(*, actor: User, subscription_id: int) -> None:
    sub = (
        Subscription.objects.filter(pk=subscription_id).first()
        if 0 < subscription_id < q.MAX_ID
        else None
    )
    if sub is None:
        raise NotFound()
    _dashboard_for_owner(actor, sub.dashboard_id)
    audit.record(
        action="reports.subscription_deleted",
        actor=actor,
        target=sub.dashboard,
        extra={"subscription": sub.pk},
    )
    sub.delete()


# --- the job -------------------------------------------------------------------------------


def recipients(sub: Subscription) -> list[User]:
    users = {u.pk: u for u in sub.users.filter(is_active=True)}
    for user in User.objects.filter(roles__in=sub.roles.all(), is_active=True).distinct():
        users.setdefault(user.pk, user)
    return [users[k] for k in sorted(users)]


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    html: str
    attachment: Attachment


def render_mail(dashboard: Dashboard, user: User, day: date, at: datetime | None = None) -> Mail:
    """The dashboard as the user's data scope sees it: text, HTML and the .xlsx file."""
    snap = snapshot.take(dashboard=dashboard, actor=user, at=at)
    xlsx = snapshot.workbook(snap)
    try:
        content = xlsx.read()
    finally:
        xlsx.close()
    return Mail(
        subject=f"{snap.name} {day.isoformat()}",
        body=snapshot.plain_text(snap, day),
        html=snapshot.mail_html(snap, day),
        attachment=Attachment(f"{snap.name}-{day.isoformat()}.xlsx", XLSX, content),
    )


def run_due(now: datetime | None = None) -> int:
    """Sends what is due; returns the number of e-mails queued."""
    from loandesk.notify.services import send

    at = now or timezone.now()
    local = timezone.localtime(at, q._tz())
    today = local.date()
    sent = 0
    due = Subscription.objects.filter(enabled=True, send_at__lte=local.time()).exclude(
        last_sent_on__gte=today
    )
    for sub_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            sub = (
                Subscription.objects.select_for_update()
                .select_related("dashboard")
                .filter(pk=sub_id)
                .first()
            )
            if sub is None or (sub.last_sent_on is not None and sub.last_sent_on >= today):
                continue
            if sub.weekday is None or sub.weekday == today.weekday():
                for user in recipients(sub):
                    if not has_perm(user, VIEW) or not user.email:
                        continue  # nothing to send them, or nowhere to send it
                    key = f"reports.subscription:{sub.pk}:{today.isoformat()}:{user.pk}"
                    if Delivery.objects.filter(dedupe_key=key).exists():
                        continue  # sent before a crash (the key would return it anyway)
                    mail = render_mail(sub.dashboard, user, today, at)
                    send(
                        channel="email",
                        to={"user_id": user.pk},
                        category="transactional",
                        dedupe_key=key,
                        subject=mail.subject,
                        body=mail.body,
                        html=mail.html,
                        attachments=[mail.attachment],
                        source=f"reports.subscription:{sub.pk}",
                        now=at,
                    )
                    sent += 1
            sub.last_sent_on = today
            sub.save(update_fields=["last_sent_on"])
    return sent


scheduler.register(scheduler.PeriodicJob("reports.subscriptions", timedelta(minutes=5), run_due))
