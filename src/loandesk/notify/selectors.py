"""Notify reads: always the requesting user's own messages."""

from typing import Any

from loandesk.accounts.models import User
from loandesk.core.errors import ValidationFailed
from loandesk.notify.models import Notification

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
