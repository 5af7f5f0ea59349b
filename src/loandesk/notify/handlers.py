"""Outbox handlers of the notify app (registered on import, from NotifyConfig.ready).

Thin: each hands the event to a service. The outbox runs a handler's writes in the delivery's
transaction and dedupes per (event, handler); the messages' own (user, dedupe_key) constraint
keeps a redelivered event from adding a second message even if that dedupe were bypassed.
"""

from loandesk.core import outbox
from loandesk.core.models import OutboxEvent
from loandesk.notify import services


@outbox.handles("flows.task_assigned")
def on_task_assigned(event: OutboxEvent) -> None:
    services.from_task_assigned(event)


@outbox.handles("flows.notify")
def on_flow_notify(event: OutboxEvent) -> None:
    services.from_flow_notify(event)


@outbox.handles("flows.message")
def on_flow_message(event: OutboxEvent) -> None:
    services.from_flow_message(event)


@outbox.handles("notify.sms")
def on_sms(event: OutboxEvent) -> None:
    services.from_sms_event(event)


@outbox.handles("flows.webhook")
def on_flow_webhook(event: OutboxEvent) -> None:
    services.from_webhook_event(event)
