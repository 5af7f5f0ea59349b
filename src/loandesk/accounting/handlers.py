"""Outbox consumers: every lending event that moves money books its journal entry.

The outbox delivers at least once; `ledger.write` keys each entry by the event id (UNIQUE), so
a redelivery, a retry after a crash or a concurrent dispatcher never books twice.
"""

from loandesk.accounting import ledger
from loandesk.core import outbox
from loandesk.core.models import OutboxEvent


@outbox.handles(*ledger.BOOKED_TOPICS)
def book_journal_entry(event: OutboxEvent) -> None:
    ledger.book(event.pk, event.topic, event.payload)
