"""Repayments and their allocations, accounting exactly for the installments' paid amounts.

The loan generator (bench/generate/loans.py) pays installments on their due dates in full, and
for a share of the late borrowers pays the interest and half the principal of the first unpaid
installment, also on its due date (before any penalty accrues). Here every fully paid
installment gets one Repayment dated on its due date whose single allocation row is exactly the
installment's paid principal / interest / fee (no penalty: nothing was late, no credit), and the
partial payment gets its own repayment and allocation. So, per installment, the allocations sum
to the paid columns to the fen, and per repayment the allocations sum to the amount — the
invariant `lending.repayments` keeps (its replay rebuilds the same split from these rows).

Channels are drawn from their own random stream (the loans' stream and digest do not change):
mostly bank deduction (代扣), then transfers, WeChat, Alipay and a little cash.
"""

import random
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any

from django.db import connection

REPAYMENT_COLUMNS = (
    "id", "loan_id", "kind", "prepayment_mode", "prepay_principal_fen", "amount_fen",
    "value_date", "channel", "reference", "source", "principal_fen", "interest_fen", "fee_fen",
    "penalty_fen", "credit_fen", "status", "idempotency_key", "request_hash", "created_by_id",
    "created_at", "reversed_by_id", "reversed_at", "reversed_on", "reversal_reason",
)  # fmt: skip
ALLOCATION_COLUMNS = (
    "repayment_id", "seq", "due_date", "principal_fen", "interest_fen", "fee_fen", "penalty_fen",
)  # fmt: skip
CHANNELS = ("deduction", "bank_transfer", "wechat", "alipay", "cash")
CHANNEL_WEIGHTS = (55, 20, 10, 10, 5)
CHANNEL_CYCLE = 4096  # channels drawn once, then taken every 7th around the cycle
SOURCE = "bench"


class Payer:
    """Repayment and allocation tuples for one loan at a time (ids given by the caller)."""

    def __init__(self, seed: int, posted_by: int) -> None:
        self.rng = random.Random(seed + 11)
        self.posted_by = posted_by
        self.channels = self.rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS, k=CHANNEL_CYCLE)
        self.k = 0
        self.at_cache: dict[date, Any] = {}

    def at(self, d: date) -> Any:
        """Posted at 17:00 China time on the value date."""
        if d not in self.at_cache:
            moment = datetime.combine(d, dtime(9, 0), tzinfo=UTC)
            self.at_cache[d] = connection.ops.adapt_datetimefield_value(moment)
        return self.at_cache[d]

    def rows(
        self,
        loan_id: int,
        ids: list[int],
        payments: list[tuple[int, date, str, int, int, int]],
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        reps: list[tuple[Any, ...]] = []
        allocs: list[tuple[Any, ...]] = []
        for rid, (seq, due, due_text, p, i, f) in zip(ids, payments, strict=True):
            self.k = (self.k + 7) % CHANNEL_CYCLE
            reps.append(
                (rid, loan_id, "repayment", "", 0, p + i + f, due_text, self.channels[self.k],
                 "", SOURCE, p, i, f, 0, 0, "posted", None, "", self.posted_by, self.at(due),
                 None, None, None, "")
            )  # fmt: skip
            allocs.append((rid, seq, due_text, p, i, f, 0))
        return reps, allocs
