"""Notifications API (mounted at /api/v1/notify): the in-app 消息 inbox, and the 通知渠道 admin
(channels, templates, settings, deliveries, opt-outs). See docs/api-notify.md.

Thin: parse, call a service or selector, return. Scoping to the caller lives in selectors/services.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from loandesk.core.pagination import Page, PageParams, paginate
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


# --- 通知渠道 (permission notify.manage_channels; docs/api-notify.md) ------------------------


@notify_router.get("/channels", response=out.ChannelList)
def channels(request: HttpRequest) -> dict[str, Any]:
    return selectors.channels(actor=_actor(request))


@notify_router.post("/channels", response={201: out.ChannelOut})
def create_channel(request: HttpRequest, payload: out.ChannelIn) -> Status[dict[str, Any]]:
    row = services.create_channel(actor=_actor(request), data=payload.dict())
    return Status(201, selectors.channel_out(row))


@notify_router.put("/channels/{int:channel_id}", response=out.ChannelOut)
def update_channel(request: HttpRequest, channel_id: int, payload: out.ChannelIn) -> Any:
    data = payload.dict(exclude={"kind", "code"})
    row = services.update_channel(actor=_actor(request), channel_id=channel_id, data=data)
    return selectors.channel_out(row)


@notify_router.delete("/channels/{int:channel_id}", response={204: None})
def delete_channel(request: HttpRequest, channel_id: int) -> Status[None]:
    services.delete_channel(actor=_actor(request), channel_id=channel_id)
    return Status(204, None)


@notify_router.post("/channels/{int:channel_id}/test", response=out.DeliveryOut)
def test_channel(request: HttpRequest, channel_id: int, payload: out.TestIn) -> Any:
    return services.test_send(
        actor=_actor(request), channel_id=channel_id, to=payload.to, text=payload.text
    )


@notify_router.get("/templates", response=list[out.TemplateOut])
def templates(request: HttpRequest, params: Query[out.TemplateFilter]) -> Any:
    return selectors.templates(actor=_actor(request), channel=params.channel)


@notify_router.post("/templates", response={201: out.TemplateOut})
def create_template(request: HttpRequest, payload: out.TemplateIn) -> Status[Any]:
    return Status(201, services.create_template(actor=_actor(request), data=payload.dict()))


@notify_router.put("/templates/{int:template_id}", response=out.TemplateOut)
def update_template(request: HttpRequest, template_id: int, payload: out.TemplateIn) -> Any:
    return services.update_template(
        actor=_actor(request), template_id=template_id, data=payload.dict()
    )


@notify_router.get("/settings", response=out.SettingsOut)
def get_settings(request: HttpRequest) -> dict[str, Any]:
    return selectors.settings_out(actor=_actor(request))


@notify_router.put("/settings", response=out.SettingsOut)
def put_settings(request: HttpRequest, payload: out.SettingsIn) -> dict[str, Any]:
    actor = _actor(request)
    services.update_settings(actor=actor, data=payload.dict())
    return selectors.settings_out(actor=actor)


@notify_router.get("/deliveries", response=Page[out.DeliveryOut])
def deliveries(
    request: HttpRequest, filters: Query[out.DeliveryFilter], page: Query[PageParams]
) -> dict[str, Any]:
    qs = selectors.deliveries(actor=_actor(request), status=filters.status, channel=filters.channel)
    return paginate(qs, page)


@notify_router.get("/deliveries/counts", response=out.DeliveryCounts)
def delivery_counts(request: HttpRequest) -> dict[str, int]:
    return selectors.delivery_counts(actor=_actor(request))


@notify_router.post("/deliveries/{int:delivery_id}/retry", response=out.DeliveryOut)
def retry_delivery(request: HttpRequest, delivery_id: int) -> Any:
    return services.retry_delivery(actor=_actor(request), delivery_id=delivery_id)


@notify_router.get("/opt-outs", response=list[out.OptOutOut])
def opt_outs(request: HttpRequest, params: Query[out.OptOutQuery]) -> Any:
    return selectors.opt_outs(actor=_actor(request), customer_id=params.customer_id)


@notify_router.post("/opt-outs", response={201: out.OptOutOut})
def add_opt_out(request: HttpRequest, payload: out.OptOutIn) -> Status[Any]:
    row = services.add_opt_out(
        actor=_actor(request),
        customer_id=payload.customer_id,
        channel=payload.channel,
        reason=payload.reason,
    )
    return Status(201, row)


@notify_router.delete("/opt-outs/{int:opt_out_id}", response={204: None})
def remove_opt_out(request: HttpRequest, opt_out_id: int) -> Status[None]:
    services.remove_opt_out(actor=_actor(request), opt_out_id=opt_out_id)
    return Status(204, None)
