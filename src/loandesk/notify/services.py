"""Notify writes: turning the flows app's outbox events into in-app messages, marking them read.

Handlers (handlers.py) call `from_flow_event`; a message is rendered once, in the recipient's
language, and keyed by (user, "event:<id>") so a redelivered event never adds a second one.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from loandesk.accounts.models import User
from loandesk.core.errors import NotFound
from loandesk.core.i18n import message, normalize_language
from loandesk.core.models import OutboxEvent
from loandesk.notify.models import Notification

Kind = Notification.Kind
FINISHED_RESULTS = ("approved", "rejected", "cancelled")


def _name(user_id: Any) -> str:
    if not str(user_id or "").isdigit():
        return ""
    user = User.objects.filter(pk=int(user_id)).only("full_name", "username").first()
    return str(user) if user is not None else ""


def _user_ids(values: Iterable[Any]) -> list[int]:
    out: list[int] = []
    for v in values:
        if str(v).isdigit() and int(v) not in out:
            out.append(int(v))
    return out


def notify_users(
    *,
    user_ids: Iterable[int],
    kind: str,
    title_code: str,
    body_code: str,
    params: Mapping[str, Any],
    link: str = "",
    event: OutboxEvent | None = None,
    dedupe_key: str | None = None,
) -> int:
    """Create one message per active user, each in that user's language; returns how many were
    created (existing keys are skipped, so calling twice for one event adds nothing)."""
    key = dedupe_key or (f"event:{event.pk}" if event is not None else "")
    if not key:
        raise ValueError("a dedupe key or an event is required")
    users = list(User.objects.filter(pk__in=list(user_ids), is_active=True))
    if not users:
        return 0
    at = timezone.now()
    rows = []
    for user in users:
        lang = normalize_language(user.language)
        rows.append(
            Notification(
                user=user,
                kind=kind,
                title=message(title_code, params, lang)[:200],
                body=message(body_code, params, lang)[:1000],
                link=link[:300],
                params=dict(params),
                event_id=event.pk if event is not None else None,
                dedupe_key=key[:100],
                created_at=at,
            )
        )
    existing = set(
        Notification.objects.filter(
            user__in=[u.pk for u in users], dedupe_key=key[:100]
        ).values_list("user_id", flat=True)
    )
    fresh = [r for r in rows if r.user_id not in existing]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def _task_row(instance_id: Any, task_id: Any) -> Any:
    from loandesk.flows.models import FlowTask

    if not instance_id or not task_id:
        return None
    return (
        FlowTask.objects.filter(instance_id=instance_id, engine_task_id=str(task_id))
        .order_by("-id")
        .first()
    )


def from_task_assigned(event: OutboxEvent) -> int:
    """flows.task_assigned → 待办 for the assignee (升级 when the task came from an escalation)."""
    p = event.payload
    task = _task_row(p.get("instance_id"), p.get("task_id"))
    escalated = task is not None and task.kind == "escalation"
    params = {
        "title": p.get("title") or "",
        "initiator": _name(p.get("initiator_id")),
        "node": task.node_name if task is not None else p.get("node_id") or "",
        "instance_id": p.get("instance_id"),
    }
    kind = Kind.ESCALATION if escalated else Kind.TASK
    return notify_users(
        user_ids=_user_ids([p.get("user_id")]),
        kind=kind,
        title_code=f"notify.{kind}.title",
        body_code=f"notify.{kind}.body",
        params=params,
        link=_link(p),
        event=event,
    )


def _link(payload: Mapping[str, Any]) -> str:
    instance_id = payload.get("instance_id")
    return f"/approvals/{instance_id}" if str(instance_id or "").isdigit() else ""


def from_flow_notify(event: OutboxEvent) -> int:
    """flows.notify (reminder, urge, returned, finished, cc, escalation_failed, automated_failed,
    no_assignee) → one message per recipient; unknown kinds are ignored."""
    p = event.payload
    kind = str(p.get("kind") or "")
    extra = p.get("params") if isinstance(p.get("params"), dict) else {}
    params: dict[str, Any] = {
        "title": p.get("title") or "",
        "initiator": _name(p.get("initiator_id")),
        "instance_id": p.get("instance_id"),
        "message": str(extra.get("message") or "")[:300],
    }
    title_code, body_code = f"notify.{kind}.title", f"notify.{kind}.body"
    if kind == "reminder":
        task = _task_row(p.get("instance_id"), p.get("task_id"))
        if task is not None and task.due_at is not None:
            params["due"] = timezone.localtime(task.due_at).strftime("%m-%d %H:%M")
        else:
            body_code = "notify.reminder.body_nodue"
    elif kind == "finished":
        result = str(extra.get("result") or "")
        params["result"] = result
        label = result if result in FINISHED_RESULTS else "other"
        title_code = f"notify.finished.{label}.title"
    elif kind not in (
        Kind.URGE,
        Kind.RETURNED,
        Kind.CC,
        Kind.ESCALATION_FAILED,
        Kind.AUTOMATED_FAILED,
        Kind.NO_ASSIGNEE,
    ):
        return 0
    return notify_users(
        user_ids=_user_ids(p.get("user_ids") or []),
        kind=kind,
        title_code=title_code,
        body_code=body_code,
        params=params,
        link=_link(p),
        event=event,
    )


def from_flow_message(event: OutboxEvent) -> int:
    """flows.message (the send_message automated step) → the step's text as a message."""
    from loandesk.flows.models import FlowInstance

    p = event.payload
    title = (
        FlowInstance.objects.filter(pk=p.get("instance_id") or 0)
        .values_list("title", flat=True)
        .first()
    )
    params = {
        "title": title or "",
        "text": str(p.get("text") or "")[:1000],
        "instance_id": p.get("instance_id"),
    }
    return notify_users(
        user_ids=_user_ids(p.get("user_ids") or []),
        kind=Kind.MESSAGE,
        title_code="notify.message.title",
        body_code="notify.message.body",
        params=params,
        link=_link(p),
        event=event,
    )


# --- the inbox -------------------------------------------------------------------------------


@transaction.atomic
def mark_read(*, actor: User, message_id: int) -> Notification:
    """Mark one of the caller's messages read (idempotent); others' ids are 404."""
    if not 0 < message_id < 2**62:
        raise NotFound()
    row = Notification.objects.select_for_update().filter(pk=message_id, user=actor).first()
    if row is None:
        raise NotFound()
    if row.read_at is None:
        row.read_at = timezone.now()
        row.save(update_fields=["read_at"])
    return row


@transaction.atomic
def mark_all_read(*, actor: User) -> int:
    """Mark every unread message of the caller read; returns how many changed."""
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )
