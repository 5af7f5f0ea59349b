"""Notifications API: the in-app 消息 inbox (mounted at /api/v1/notify)."""

from ninja import Router

notify_router = Router(tags=["notify"])
