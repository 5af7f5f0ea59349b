"""Notify reads: the requesting user's own messages; the 通知渠道 admin reads (permission
notify.manage_channels); a customer's opt-outs within the caller's data scope."""

from typing import Any

from django.db.models import QuerySet

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core.errors import ValidationFailed
from loandesk.notify.models import Notification
from loandesk.notify.permissions import MANAGE_CHANNELS

PAGE = 20


def _cursor(value: str | None) -> int | None:
    """The cursor is the id of the last message of the previous page (newest first)."""
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 18 or int(value) < 1:
        raise ValidationFailed.field("cursor", "notify.bad_cursor")
    return int(value)


def messages(
    *, actor: User, unread: bool | None = None, cursor: str | None = None, limit: int = PAGE
) -> dict[str, Any]:
    """A page of the caller's messages, newest first: {items, next} (next: cursor or None)."""
    qs = Notification.objects.filter(user=actor)
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    before = _cursor(cursor)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next": str(rows[-1].pk) if more and rows else None}


def unread_count(*, actor: User) -> int:
    return Notification.objects.filter(user=actor, read_at__isnull=True).count()


# --- 通知渠道 (notify.manage_channels) -------------------------------------------------------


def _channel_out(channel: Any) -> dict[str, Any]:
    from loandesk.notify.deliveries import secrets_of
    from loandesk.notify.services import FIELDS

    stored = secrets_of(channel)
    secret_keys = FIELDS.get(channel.provider, ((), ()))[1]
    return {
        "id": channel.pk,
        "kind": channel.kind,
        "code": channel.code,
        "name": channel.name,
        "provider": channel.provider,
        "settings": dict(channel.settings),
        # Never the values: only whether each secret is set.
        "secrets": {key: bool(stored.get(key)) for key in secret_keys},
        "enabled": channel.enabled,
        "updated_at": channel.updated_at,
    }


def channels(*, actor: User) -> dict[str, Any]:
    from loandesk.notify.models import Channel
    from loandesk.notify.services import FIELDS, PROVIDERS, ensure_channels

    require_perm(actor, MANAGE_CHANNELS)
    ensure_channels()
    return {
        "items": [_channel_out(c) for c in Channel.objects.order_by("id")],
        "providers": {
            kind: [
                {"provider": p, "settings": list(FIELDS[p][0]), "secrets": list(FIELDS[p][1])}
                for p in providers
            ]
            for kind, providers in PROVIDERS.items()
        },
    }


def channel_out(channel: Any) -> dict[str, Any]:
    return _channel_out(channel)


def templates(*, actor: User, channel: str | None = None) -> list[Any]:
    from loandesk.notify.models import Template

    require_perm(actor, MANAGE_CHANNELS)
    qs = Template.objects.all()
    if channel:
        qs = qs.filter(channel=channel)
    return list(qs.order_by("channel", "code"))


def settings_out(*, actor: User) -> dict[str, Any]:
    from loandesk.notify.deliveries import notify_settings

    require_perm(actor, MANAGE_CHANNELS)
    row = notify_settings()
    return {
        "quiet_enabled": row.quiet_enabled,
        "quiet_start": row.quiet_start.strftime("%H:%M"),
        "quiet_end": row.quiet_end.strftime("%H:%M"),
        "quiet_timezone": row.quiet_timezone,
        "quiet_categories": list(row.quiet_categories or []),
        "caps": dict(row.caps or {}),
        "max_attempts": row.max_attempts,
        "webhook_secret_set": bool(row.webhook_secret),
    }


def deliveries(
    *, actor: User, status: str | None = None, channel: str | None = None
) -> QuerySet[Any]:
    from loandesk.notify.models import Delivery

    require_perm(actor, MANAGE_CHANNELS)
    qs = Delivery.objects.all()
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    return qs.order_by("-id")


def delivery_counts(*, actor: User) -> dict[str, int]:
    from django.db.models import Count

    from loandesk.notify.models import Delivery

    require_perm(actor, MANAGE_CHANNELS)
    counts = {s: 0 for s in Delivery.Status.values}
    for row in Delivery.objects.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def opt_outs(*, actor: User, customer_id: int) -> list[Any]:
    from loandesk.customers.selectors import customer_for
    from loandesk.notify.models import OptOut

    customer = customer_for(actor, customer_id)
    return list(OptOut.objects.filter(customer=customer).order_by("channel"))
