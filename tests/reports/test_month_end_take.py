"""Taking month ends outside a caller's transaction (reports.month_end.take): nothing is locked
while the states are computed, and a month end that a back-dated write changed meanwhile is
computed again instead of written stale."""

from datetime import date
from typing import Any

import pytest

from loandesk.demo.services import seed_demo
from loandesk.lending.models import Installment
from loandesk.reports import month_end as me
from loandesk.reports import vintage as v
from loandesk.reports.models import MonthEndClose
from tests.reports import conftest as book
from tests.reports.test_month_end import held, restated

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_month_end_changed_while_it_is_computed_is_computed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_demo()
    book._make_book(book._demo_rows())
    ends = me.all_closed_ends(book.TODAY)
    inst = Installment.objects.filter(
        paid_off_on__isnull=True, due_date__lt=date(2026, 6, 1)
    ).first()
    assert inst is not None
    claims: list[list[date]] = []
    real_claim = me._claim

    def claim_then_write(todo: list[date]) -> dict[date, int]:
        versions = real_claim(todo)
        claims.append(list(todo))
        if len(claims) == 1:
            # Another session repays an installment back-dated to 2026-06-10 (committed: this
            # test runs outside a transaction) after the claim, before the rows are written.
            Installment.objects.filter(pk=inst.pk).update(paid_off_on=date(2026, 6, 10))
        return versions

    monkeypatch.setattr(me, "_claim", claim_then_write)
    loans: Any = me.take(ends, v.buckets())
    changed = [e for e in ends if e >= date(2026, 6, 10)]
    assert claims == [ends, changed]  # only the month ends it reached were computed again
    assert not MonthEndClose.objects.filter(stale=True).exists()
    assert held(ends) == restated(ends)
    assert loans == sum(restated(ends).values())
