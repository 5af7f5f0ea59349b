"""Core reads: audit log and outbox, for admins."""

from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core.i18n import message
from loandesk.core.models import AuditEntry, OutboxEvent


def database_vendor() -> str:
    return "postgresql" if connection.vendor == "postgresql" else connection.vendor


def audit_entries(
    *,
    actor: User,
    actor_id: int | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: Any = None,
    until: Any = None,
    q: str | None = None,
) -> QuerySet[AuditEntry]:
    require_perm(actor, "audit.view")
    qs = AuditEntry.objects.select_related("actor")
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    if action:
        qs = qs.filter(action=action)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if target_id:
        qs = qs.filter(target_id=target_id)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    if q:
        qs = qs.filter(
            Q(actor_username__icontains=q) | Q(target_label__icontains=q) | Q(action__icontains=q)
        )
    return qs.order_by("-at", "-id")


def audit_rows(entries: list[AuditEntry]) -> list[dict[str, Any]]:
    return [
        {
            "id": e.pk,
            "at": e.at,
            "actor": (
                {"id": e.actor.pk, "username": e.actor.username, "full_name": e.actor.full_name}
                if e.actor
                else None
            ),
            "actor_username": e.actor_username,
            "action": e.action,
            "action_label": message(f"audit.{e.action}") if _known(e.action) else e.action,
            "target_type": e.target_type,
            "target_id": e.target_id,
            "target_label": e.target_label,
            "ip": e.ip,
            "changes": e.changes,
            "extra": e.extra,
        }
        for e in entries
    ]


def _known(action: str) -> bool:
    return message(f"audit.{action}") != f"audit.{action}"


def outbox_events(*, actor: User, status: str | None) -> QuerySet[OutboxEvent]:
    require_perm(actor, "core.view_outbox")
    qs = OutboxEvent.objects.order_by("-created_at")
    return qs.filter(status=status) if status else qs
