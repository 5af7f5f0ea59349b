"""Outbox handlers of the rule engine (registered on import, from RulesConfig.ready).

One handler for every topic a record type listens to. Its writes (firings and their actions)
commit with the outbox delivery row, and firings are unique per (rule, record, event), so a
redelivered event fires nothing twice. A failing action does not fail the handler: the firing
is recorded as failed, for the retry button, and the event is done.
"""

from loandesk.core import outbox
from loandesk.core.models import OutboxEvent
from loandesk.rules import records, services


@outbox.handles(*records.topics())
def on_record_event(event: OutboxEvent) -> None:
    services.handle_event(event)
