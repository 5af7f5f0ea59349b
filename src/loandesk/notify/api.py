"""Notifications API: the in-app 消息 inbox (mounted at /api/v1/notify). See docs/api-notify.md.

Thin: parse, call a service or selector, return. Scoping to the caller lives in selectors/services.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from loandesk.notify import schemas as out
from loandesk.notify import selectors, services

notify_router = Router(tags=["notify"])


def _actor(request: HttpRequest) -> Any:
    return request.user


class ListParams(Schema):
    unread: bool | None = None
    cursor: str | None = Field(None, max_length=32)


@notify_router.get("/messages", response=out.MessagePage)
def messages(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    return selectors.messages(actor=_actor(request), unread=params.unread, cursor=params.cursor)


@notify_router.get("/unread-count", response=out.UnreadCount)
def unread_count(request: HttpRequest) -> dict[str, int]:
    return {"unread": selectors.unread_count(actor=_actor(request))}


@notify_router.post("/messages/{int:message_id}/read", response=out.MessageOut)
def read(request: HttpRequest, message_id: int) -> Any:
    return services.mark_read(actor=_actor(request), message_id=message_id)


@notify_router.post("/messages/read-all", response=out.ReadAllOut)
def read_all(request: HttpRequest) -> dict[str, int]:
    actor = _actor(request)
    updated = services.mark_all_read(actor=actor)
    return {"updated": updated, "unread": selectors.unread_count(actor=actor)}
