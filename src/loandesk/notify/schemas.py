"""API shapes of the notify app (docs/api-notify.md)."""

from datetime import datetime

from ninja import Schema


class MessageOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None
    unread: bool

    @staticmethod
    def resolve_unread(obj: object) -> bool:
        return getattr(obj, "read_at", None) is None


class MessagePage(Schema):
    items: list[MessageOut]
    next: str | None


class UnreadCount(Schema):
    unread: int


class ReadAllOut(Schema):
    updated: int
    unread: int
