"""Each COB step on hand-built scenarios (loans made by the real disbursement service)."""

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from loandesk.core.models import OutboxEvent
from loandesk.core.services import get_business_date
from loandesk.lending.models import Installment, Loan
from loandesk.postloan import cob
from loandesk.postloan.models import CobRun, PenaltyPosting, PortfolioSnapshot
from loandesk.postloan.selectors import amount_owed_today
from tests.postloan.conftest import START, make_loan, set_date, state

pytestmark = pytest.mark.django_db


def close(until: date, **kw: Any) -> list[CobRun]:
    return cob.run_cob(until=until, **kw)


def reload(loan: Loan) -> Loan:
    return Loan.objects.get(pk=loan.pk)


def inst(loan: Loan, seq: int) -> Installment:
    return Installment.objects.get(loan=loan, seq=seq)


def events(topic: str, loan: Loan) -> list[dict[str, Any]]:
    return [
        e.payload
        for e in OutboxEvent.objects.filter(topic=topic, aggregate_id=str(loan.pk)).order_by(
            "created_at"
        )
    ]


def pay_off(i: Installment) -> None:
    """What a repayment will do: fill the paid columns (repayments are not built yet)."""
    Installment.objects.filter(pk=i.pk).update(
        paid_principal_fen=i.principal_fen,
        paid_interest_fen=i.interest_fen,
        paid_fee_fen=i.fee_fen,
        paid_penalty_fen=i.penalty_fen,
    )


@pytest.fixture
def one(lending: dict[str, Any]) -> Loan:
    set_date(START)
    loan = make_loan(lending)
    assert inst(loan, 1).due_date == date(2026, 2, 10)
    assert loan.grace_days == 3
    return loan


def test_installment_falls_due_then_overdue_after_grace(one: Loan) -> None:
    close(date(2026, 2, 9))
    assert inst(one, 1).status == "pending"
    assert get_business_date() == date(2026, 2, 10)
    close(date(2026, 2, 10))
    assert inst(one, 1).status == "due"
    assert inst(one, 2).status == "pending"
    assert reload(one).status == "active"
    close(date(2026, 2, 13))  # 3 days after the due date: still within the grace
    assert inst(one, 1).status == "due"
    assert reload(one).bucket == "M0"
    close(date(2026, 2, 14))
    assert inst(one, 1).status == "overdue"
    loan = reload(one)
    assert (loan.status, loan.overdue_since, loan.days_past_due) == (
        "overdue",
        date(2026, 2, 10),
        4,
    )
    assert (loan.bucket, loan.classification) == ("M1", "special_mention")
    assert [e["business_date"] for e in events("loan.became_overdue", one)] == ["2026-02-14"]
    assert [(e["from"], e["to"]) for e in events("loan.bucket_changed", one)] == [("M0", "M1")]
    assert get_business_date() == date(2026, 2, 15)


def test_loan_event_payloads(one: Loan) -> None:
    """The outbox rows COB writes for a loan (set-based INSERT … SELECT) carry the loan."""
    close(date(2026, 2, 14))
    loan = reload(one)
    base = {
        "loan_id": loan.pk,
        "contract_no": loan.contract_no,
        "customer_id": loan.customer_id,
        "owner_id": loan.owner_id,
        "department_id": loan.department_id,
        "business_date": "2026-02-14",
        "days_past_due": 4,
        "overdue_since": "2026-02-10",
    }
    overdue = OutboxEvent.objects.get(topic="loan.became_overdue", aggregate_id=str(loan.pk))
    assert overdue.aggregate_type == "lending.loan" and overdue.status == "pending"
    assert overdue.payload == {**base, "dedupe_key": f"loan.became_overdue:{loan.pk}:2026-02-14"}
    moved = OutboxEvent.objects.get(topic="loan.bucket_changed", aggregate_id=str(loan.pk))
    assert moved.payload == {
        **base,
        "from": "M0",
        "to": "M1",
        "classification": ["normal", "special_mention"],
        "dedupe_key": f"loan.bucket_changed:{loan.pk}:2026-02-14",
    }
    pay_off(inst(one, 1))
    close(date(2026, 2, 15))
    back = OutboxEvent.objects.filter(topic="loan.bucket_changed", aggregate_id=str(loan.pk))
    assert back.latest("created_at").payload == {
        **base,
        "business_date": "2026-02-15",
        "days_past_due": 0,
        "overdue_since": None,
        "from": "M1",
        "to": "M0",
        "classification": ["special_mention", "normal"],
        "dedupe_key": f"loan.bucket_changed:{loan.pk}:2026-02-15",
    }


def test_bucket_moves_m1_to_m2_and_back_to_current_when_paid(one: Loan) -> None:
    close(date(2026, 3, 12))
    loan = reload(one)
    assert (loan.days_past_due, loan.bucket) == (30, "M1")
    close(date(2026, 3, 13))
    loan = reload(one)
    assert (loan.days_past_due, loan.bucket, loan.overdue_since) == (31, "M2", date(2026, 2, 10))
    assert inst(one, 2).status == "due"  # due 03-10, within its grace
    close(date(2026, 3, 14))
    assert inst(one, 2).status == "overdue"
    # The oldest installment is paid: overdue since moves to the second one.
    pay_off(inst(one, 1))
    close(date(2026, 3, 15))
    loan = reload(one)
    assert inst(one, 1).status == "paid" and inst(one, 1).paid_off_on == date(2026, 3, 15)
    assert (loan.overdue_since, loan.days_past_due, loan.bucket) == (date(2026, 3, 10), 5, "M1")
    pay_off(inst(one, 2))
    close(date(2026, 3, 16))
    loan = reload(one)
    assert (loan.status, loan.overdue_since, loan.days_past_due) == ("active", None, 0)
    assert (loan.bucket, loan.classification) == ("M0", "normal")
    moves = [(e["from"], e["to"], e["business_date"]) for e in events("loan.bucket_changed", one)]
    assert moves == [
        ("M0", "M1", "2026-02-14"),
        ("M1", "M2", "2026-03-13"),
        ("M2", "M1", "2026-03-15"),
        ("M1", "M0", "2026-03-16"),
    ]
    assert len(events("loan.became_overdue", one)) == 1


def test_rerunning_a_date_changes_nothing(book: dict[str, Any]) -> None:
    close(date(2026, 2, 20))
    before = state()
    done = CobRun.objects.get(business_date=date(2026, 2, 20))
    again = cob.run_day(date(2026, 2, 20))
    assert again.pk == done.pk and again.status == "done"
    assert cob.run_cob(start=date(2026, 2, 20), until=date(2026, 2, 20)) == []
    # Even re-executing every step of a finished date by hand is a no-op.
    for s in done.steps.all():
        s.status = "pending"
        s.save()
        cob.execute_step(s.pk)
    assert state() == before


def test_events_are_published_once_per_loan_and_date(book: dict[str, Any]) -> None:
    close(date(2026, 3, 31))
    keys = Counter(
        (e.topic, e.aggregate_id, e.payload["business_date"])
        for e in OutboxEvent.objects.filter(
            topic__in=[cob.TOPIC_DUE_SOON, cob.TOPIC_OVERDUE, cob.TOPIC_BUCKET]
        )
    )
    assert keys and max(keys.values()) == 1
    assert {t for t, _, _ in keys} == {cob.TOPIC_DUE_SOON, cob.TOPIC_OVERDUE, cob.TOPIC_BUCKET}


def test_due_soon_three_days_before(one: Loan) -> None:
    close(date(2026, 2, 6))
    assert events(cob.TOPIC_DUE_SOON, one) == []
    close(date(2026, 2, 7))
    [ev] = events(cob.TOPIC_DUE_SOON, one)
    first = inst(one, 1)
    assert ev["due_date"] == "2026-02-10" and ev["seqs"] == [1]
    assert ev["amount_fen"] == first.principal_fen + first.interest_fen + first.fee_fen
    assert ev["dedupe_key"] == f"loan.installment_due_soon:{one.pk}:2026-02-07"


def test_snapshot_totals_equal_an_independent_sum(book: dict[str, Any]) -> None:
    pay_off(Installment.objects.filter(loan=book["loans"][0]).order_by("seq").first())  # type: ignore[arg-type]
    close(date(2026, 3, 20))
    day = date(2026, 3, 20)
    expected: dict[tuple[Any, ...], list[int]] = {}
    for loan in Loan.objects.filter(status__in=["active", "overdue"]):
        key = (loan.department_id, loan.product_id, loan.bucket)
        overdue = sum(
            i.principal_fen - i.paid_principal_fen
            for i in loan.installments.all()
            if i.status == "overdue"
        )
        row = expected.setdefault(key, [0, 0, 0])
        row[0] += 1
        row[1] += loan.outstanding_principal_fen
        row[2] += overdue
    got = {
        (s.department_id, s.product_id, s.bucket): [
            s.loan_count,
            s.outstanding_principal_fen,
            s.overdue_principal_fen,
        ]
        for s in PortfolioSnapshot.objects.filter(date=day)
    }
    assert got == expected
    assert sum(v[2] for v in got.values()) > 0
    assert len({s.bucket for s in PortfolioSnapshot.objects.filter(date=day)}) >= 2


# --- penalty interest: on demand, posted at month end (docs/adr/0006) --------------------------


def test_owed_today_golden_vectors(one: Loan) -> None:
    first = inst(one, 1)
    assert (first.principal_fen, first.interest_fen) == (788_488, 100_000)
    # Within the grace nothing is chargeable.
    owed = amount_owed_today(one, date(2026, 2, 13))
    assert (owed.principal_fen, owed.interest_fen, owed.penalty_fen) == (788_488, 100_000, 0)
    # 10 days at 18% / 360 on 7,884.88: 39.4244 → 39.42 (penalty counts from the due date).
    owed = amount_owed_today(one, date(2026, 2, 20))
    assert owed.penalty_fen == 3_942
    assert owed.total_fen == 788_488 + 100_000 + 3_942
    # 23 days, and two installments overdue on 03-15 (the second for 5 days).
    assert amount_owed_today(one, date(2026, 3, 5)).penalty_fen == 9_068
    second = inst(one, 2)
    owed = amount_owed_today(one, date(2026, 3, 15))
    assert [i.seq for i in owed.installments] == [1, 2]
    assert owed.installments[0].penalty_fen == 13_010  # 33 days: 130.1005… → 130.10
    assert owed.installments[1].penalty_fen == round(second.principal_fen * 18 * 5 / 36000)
    early = amount_owed_today(one, date(2026, 2, 9))
    assert early.total_fen == 0
    # Nothing due yet: the current period is what paying early settles (docs/adr/0009).
    assert early.current_period is not None
    assert (early.current_period.seq, early.current_period.total_fen) == (1, 888_488)
    assert owed.current_period is not None and owed.current_period.seq == 3


def test_month_end_posts_penalty_and_owed_today_is_unchanged(one: Loan) -> None:
    expected = amount_owed_today(one, date(2026, 3, 5))
    close(date(2026, 2, 27))
    assert inst(one, 1).penalty_fen == 0
    close(date(2026, 2, 28))
    first = inst(one, 1)
    assert first.penalty_fen == 7_096  # 18 days: 70.9639 → 70.96
    assert PenaltyPosting.objects.get(installment=first).through == date(2026, 2, 28)
    # Posting moves the amount into the books; what is owed on any later day is the same.
    assert amount_owed_today(one, date(2026, 3, 5)).penalty_fen == expected.penalty_fen == 9_068
    # A paid-off installment still owes its posted penalty until that is paid too.
    Installment.objects.filter(pk=first.pk).update(
        paid_principal_fen=first.principal_fen, paid_interest_fen=first.interest_fen
    )
    close(date(2026, 3, 1))
    assert inst(one, 1).status == "overdue"
    Installment.objects.filter(pk=first.pk).update(paid_penalty_fen=7_096)
    close(date(2026, 3, 2))
    assert inst(one, 1).status == "paid"


def test_closed_and_future_loans_are_left_alone(lending: dict[str, Any]) -> None:
    set_date(START)
    loan = make_loan(lending)
    Loan.objects.filter(pk=loan.pk).update(status="written_off")
    close(date(2026, 3, 1))
    assert set(Installment.objects.filter(loan=loan).values_list("status", flat=True)) == {
        "pending"
    }
    assert reload(loan).bucket == "M0"


def test_business_date_only_advances_when_every_step_is_done(book: dict[str, Any]) -> None:
    class Stop(BaseException):
        pass

    def stop_at_snapshot(point: str, step: Any) -> None:
        if step.step == "snapshot" and point == "before_commit":
            raise Stop

    with pytest.raises(Stop):
        cob.run_cob(until=START, interrupt=stop_at_snapshot)
    assert get_business_date() == START
    run = CobRun.objects.get(business_date=START)
    assert run.status == "running"
    assert run.steps.filter(status="done").count() == len(cob.PARTITIONED_STEPS)
    cob.run_cob(until=START)
    assert get_business_date() == START + timedelta(days=1)
