"""Repayments: allocation exact to the fen, idempotency, reversal (红冲) with replay, prepayment,
scope and bad input. Loans come from the real disbursement service; dates from the business date.
"""

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from loandesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from loandesk.core.models import OutboxEvent
from loandesk.core.money import fen_to_yuan, format_yuan
from loandesk.customers.models import TimelineEvent
from loandesk.lending import prepayments, repayments
from loandesk.lending.models import Installment, Loan, Repayment, RepaymentAllocation
from loandesk.postloan import cob
from tests.postloan.conftest import START, make_loan, set_date

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)  # business date of most scenarios; COB day 2026-06-14


@pytest.fixture
def ctx(lending: dict[str, Any]) -> dict[str, Any]:
    set_date(START)
    loan = make_loan(lending)  # consumer, 100,000 / 12 x 12 %, first due 2026-02-10, grace 3
    set_date(TODAY)
    return {**lending, "loan": loan, "finance": lending["users"]["finance"]}


def post(ctx: dict[str, Any], amount_fen: int, on: date, loan: Loan | None = None, **kw: Any):
    return repayments.post_repayment(
        actor=ctx["finance"],
        loan_id=(loan or ctx["loan"]).pk,
        amount_fen=amount_fen,
        value_date=on,
        channel=kw.pop("channel", "bank_transfer"),
        **kw,
    )


def rows(loan: Loan) -> list[Installment]:
    return list(Installment.objects.filter(loan=loan).order_by("seq"))


def state(loan: Loan) -> dict[str, Any]:
    """Everything a repayment changes on a loan, comparable across two twin loans."""
    fresh = Loan.objects.get(pk=loan.pk)
    return {
        "loan": (
            fresh.status,
            fresh.outstanding_principal_fen,
            fresh.overdue_since,
            fresh.days_past_due,
            fresh.bucket,
            fresh.classification,
        ),
        "rows": [
            (
                r.seq,
                r.due_date,
                r.principal_fen,
                r.interest_fen,
                r.fee_fen,
                r.penalty_fen,
                r.paid_principal_fen,
                r.paid_interest_fen,
                r.paid_fee_fen,
                r.paid_penalty_fen,
                r.status,
                r.paid_off_on,
            )
            for r in rows(loan)
        ],
    }


def check_invariants(loan: Loan) -> None:
    """Paid never exceeds due; allocations + credit = amount for every repayment; paid columns
    are the sum of the live repayments' allocations."""
    for r in rows(loan):
        for c in repayments.COMPONENTS:
            assert 0 <= getattr(r, f"paid_{c}_fen") <= getattr(r, f"{c}_fen")
    live = Repayment.objects.filter(loan=loan, status="posted")
    paid = sum(r.paid_fen for r in rows(loan))
    for rep in Repayment.objects.filter(loan=loan):
        allocated = sum(a.total_fen for a in rep.allocations.all())
        assert allocated + rep.credit_fen == rep.amount_fen
        assert allocated == rep.principal_fen + rep.interest_fen + rep.fee_fen + rep.penalty_fen
    assert paid == sum(rep.amount_fen - rep.credit_fen for rep in live)


# --- golden vector ------------------------------------------------------------------------


def test_golden_vector_on_time_then_late(ctx: dict[str, Any]) -> None:
    loan = ctx["loan"]
    first = rows(loan)[0]
    assert (first.principal_fen, first.interest_fen) == (788_488, 100_000)
    # 400 fen more than installment 1 (888,488): the rest pays installment 2 ahead, interest
    # first (order penalty, fee, interest, principal) — no idle credit (docs/adr/0009).
    r1 = post(ctx, 888_888, date(2026, 2, 10), reference="BANK-1")
    assert (r1.principal_fen, r1.interest_fen, r1.penalty_fen, r1.credit_fen) == (
        788_488,
        100_400,
        0,
        0,
    )
    assert [(a.seq, a.total_fen) for a in r1.allocations.order_by("seq")] == [
        (1, 888_488),
        (2, 400),
    ]
    assert r1.replayed is False
    inst1 = rows(loan)[0]
    assert inst1.status == "paid" and inst1.paid_off_on == date(2026, 2, 10)
    # Installment 2 (due 03-10) paid 10 days late: penalty first, on the unpaid principal:
    # 796,373 x 18 % x 10 / 360 = 3,981.87 → 3,982 fen; then its interest (92,115 − 400).
    r2 = post(ctx, 500_000, date(2026, 3, 20))
    assert (r2.penalty_fen, r2.interest_fen, r2.principal_fen, r2.credit_fen) == (
        3_982,
        91_715,
        404_303,
        0,
    )
    inst2 = rows(loan)[1]
    assert inst2.penalty_fen == 3_982 and inst2.status != "paid"
    assert inst2.paid_interest_fen == inst2.interest_fen == 92_115
    allocations = list(RepaymentAllocation.objects.filter(repayment=r2))
    assert [(a.seq, a.total_fen) for a in allocations] == [(2, 500_000)]
    check_invariants(loan)
    loan.refresh_from_db()
    assert loan.outstanding_principal_fen == 10_000_000 - 788_488 - 404_303


def test_paying_before_the_due_date_pays_the_current_period(ctx: dict[str, Any]) -> None:
    """提前还当期: money received before a due date pays that installment (it used to become
    credit that nothing applied, and the borrower went overdue on a paid installment)."""
    loan = ctx["loan"]
    set_date(date(2026, 2, 7))
    rep = post(ctx, 888_488, date(2026, 2, 7))  # installment 1, three days early
    assert (rep.principal_fen, rep.interest_fen, rep.credit_fen) == (788_488, 100_000, 0)
    first = rows(loan)[0]
    assert first.status == "paid" and first.paid_off_on == date(2026, 2, 7)
    cob.run_cob(until=date(2026, 2, 20))  # past the due date and the 3 grace days
    loan.refresh_from_db()
    assert (loan.status, loan.days_past_due, loan.overdue_since) == ("active", 0, None)
    assert [r.status for r in rows(loan)[:2]] == ["paid", "pending"]
    assert not OutboxEvent.objects.filter(topic="loan.became_overdue").exists()
    check_invariants(loan)


def test_part_paid_early_the_rest_falls_due_and_goes_overdue(ctx: dict[str, Any]) -> None:
    loan = ctx["loan"]
    set_date(date(2026, 2, 1))
    rep = post(ctx, 300_000, date(2026, 2, 1))
    assert (rep.interest_fen, rep.principal_fen, rep.credit_fen) == (100_000, 200_000, 0)
    first = rows(loan)[0]
    assert first.status == "pending" and first.paid_principal_fen == 200_000
    cob.run_cob(until=date(2026, 2, 14))  # due 02-10, grace 3: overdue from 02-14
    loan.refresh_from_db()
    first = rows(loan)[0]
    assert first.status == "overdue" and loan.status == "overdue"
    assert loan.overdue_since == date(2026, 2, 10)  # the unpaid due date (docs/cob.md)


def test_credit_product_pays_later_periods_ahead_in_order(ctx: dict[str, Any]) -> None:
    loan = ctx["loan"]
    first, second = rows(loan)[:2]
    two = first.total_fen + second.total_fen
    rep = post(ctx, two + 50_000, date(2026, 1, 20))
    after = rows(loan)
    assert [r.status for r in after[:3]] == ["paid", "paid", "pending"]
    # The third installment takes the rest in the product's component order: interest first.
    assert after[2].paid_interest_fen == 50_000 and after[2].paid_principal_fen == 0
    assert rep.credit_fen == 0 and rep.amount_fen == two + 50_000
    check_invariants(loan)


def test_credit_only_beyond_the_whole_schedule(ctx: dict[str, Any]) -> None:
    loan = ctx["loan"]
    everything = sum(r.total_fen for r in rows(loan))
    rep = post(ctx, everything + 1_234, date(2026, 1, 20))
    loan.refresh_from_db()
    assert rep.credit_fen == 1_234 and loan.status == "closed"
    assert all(r.status == "paid" for r in rows(loan))
    check_invariants(loan)


def test_prepay_product_takes_the_current_period_and_refuses_more(ctx: dict[str, Any]) -> None:
    loan = ctx["loan"]
    loan.terms = {**(loan.terms or {}), "overpayment": "prepay"}
    loan.save(update_fields=["terms"])
    first = rows(loan)[0]
    with pytest.raises(ValidationFailed) as refused:
        post(ctx, first.total_fen + 1, date(2026, 2, 7))
    message = refused.value.details["fields"]["amount"]
    assert format_yuan(fen_to_yuan(first.total_fen)) in message
    assert Repayment.objects.filter(loan=loan).count() == 0
    assert rows(loan)[0].paid_fen == 0
    rep = post(ctx, first.total_fen, date(2026, 2, 7))
    assert rep.credit_fen == 0 and rows(loan)[0].status == "paid"


def test_events_timeline_and_audit(ctx: dict[str, Any]) -> None:
    loan = ctx["loan"]
    rep = post(ctx, 888_888, date(2026, 2, 10), reference="R1")
    event = OutboxEvent.objects.get(topic="loan.repayment_posted")
    for key in (
        "repayment_id",
        "loan_id",
        "contract_no",
        "customer_id",
        "owner_id",
        "department_id",
        "amount_fen",
        "value_date",
        "channel",
        "reference",
        "principal_fen",
        "interest_fen",
        "fee_fen",
        "penalty_fen",
        "credit_fen",
        "prepayment",
    ):
        assert key in event.payload, key
    assert event.payload["amount_fen"] == 888_888 and event.payload["prepayment"] is False
    assert TimelineEvent.objects.filter(customer=loan.customer, kind="repayment_posted").exists()
    repayments.reverse_repayment(actor=ctx["finance"], repayment_id=rep.pk, reason="录错金额")
    reversed_event = OutboxEvent.objects.get(topic="loan.repayment_reversed")
    assert reversed_event.payload["principal_fen"] == 788_488
    assert reversed_event.payload["interest_fen"] == 100_400  # 400 paid installment 2 ahead
    assert reversed_event.payload["credit_fen"] == 0
    assert reversed_event.payload["reason"] == "录错金额"
    assert reversed_event.payload["value_date"] == TODAY.isoformat()
    assert TimelineEvent.objects.filter(customer=loan.customer, kind="repayment_reversed").exists()
    from loandesk.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="repayment.reverse").count() == 1


def test_paying_everything_closes_the_loan(ctx: dict[str, Any]) -> None:
    loan = ctx["loan"]
    set_date(date(2027, 2, 1))
    from loandesk.postloan.selectors import amount_owed_today

    owed = amount_owed_today(loan, date(2027, 1, 31)).total_fen
    post(ctx, owed, date(2027, 1, 31))
    loan.refresh_from_db()
    assert loan.status == "closed" and loan.outstanding_principal_fen == 0
    assert all(r.status == "paid" for r in rows(loan))
    closed = OutboxEvent.objects.get(topic="loan.closed")
    assert closed.payload["closed_on"] == "2027-01-31"
    with pytest.raises(Conflict):
        post(ctx, 100, date(2027, 1, 31))


# --- idempotency --------------------------------------------------------------------------


def test_idempotency_same_key_same_body_returns_the_first(ctx: dict[str, Any]) -> None:
    one = post(ctx, 10_000, TODAY, idempotency_key="pay-key-0001")
    two = post(ctx, 10_000, TODAY, idempotency_key="pay-key-0001")
    assert two.pk == one.pk and two.replayed is True
    assert Repayment.objects.count() == 1
    assert OutboxEvent.objects.filter(topic="loan.repayment_posted").count() == 1
    with pytest.raises(Conflict) as exc:
        post(ctx, 10_001, TODAY, idempotency_key="pay-key-0001")
    assert exc.value.code == "lending.repayment.idempotency_conflict"
    post(ctx, 10_000, TODAY)
    post(ctx, 10_000, TODAY)
    assert Repayment.objects.count() == 3  # without a key every call posts


def test_bad_idempotency_key(ctx: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        post(ctx, 10_000, TODAY, idempotency_key="bad key with spaces")
    assert Repayment.objects.count() == 0


# --- bad input, scope ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "on", "channel", "field"),
    [
        (0, TODAY, "cash", "amount"),
        (-5, TODAY, "cash", "amount"),
        (10**15, TODAY, "cash", "amount"),
        ("100", TODAY, "cash", "amount"),
        (True, TODAY, "cash", "amount"),
        (100, TODAY + timedelta(days=1), "cash", "value_date"),
        (100, date(2026, 1, 9), "cash", "value_date"),
        (100, TODAY, "paypal", "channel"),
        (100, "2026-06-01", "cash", "value_date"),
    ],
)
def test_bad_input_is_refused_without_a_write(
    ctx: dict[str, Any], amount: Any, on: Any, channel: str, field: str
) -> None:
    before = state(ctx["loan"])
    with pytest.raises(ValidationFailed) as exc:
        post(ctx, amount, on, channel=channel)
    assert field in exc.value.details["fields"]
    assert Repayment.objects.count() == 0 and state(ctx["loan"]) == before


@pytest.mark.parametrize(
    ("text", "fen"), [("1234.56", 123_456), ("0.01", 1), (" 7 ", 700), ("1e2", 10_000)]
)
def test_parse_amount(text: str, fen: int) -> None:
    assert repayments.parse_amount(text) == fen


@pytest.mark.parametrize(
    "text", ["1.234", "abc", "", None, "-1", "0", "NaN", "1e30", "-1e30", "-" + "9" * 40, 1.5]
)
def test_parse_amount_refuses(text: Any) -> None:
    with pytest.raises(ValidationFailed):
        repayments.parse_amount(text)


def test_scope_and_permissions(ctx: dict[str, Any]) -> None:
    users = ctx["users"]
    loan = ctx["loan"]  # customer c1, owner officer1
    with pytest.raises(PermissionDenied):
        repayments.post_repayment(
            actor=users["officer1"],
            loan_id=loan.pk,
            amount_fen=100,
            value_date=TODAY,
            channel="cash",
        )
    rep = post(ctx, 100, TODAY)
    from loandesk.lending.repayment_reads import repayment_for, search_repayments

    assert repayment_for(actor=users["officer1"], repayment_id=rep.pk).pk == rep.pk
    with pytest.raises(NotFound):
        repayment_for(actor=users["officer2"], repayment_id=rep.pk)
    assert not search_repayments(actor=users["officer2"]).exists()
    with pytest.raises(PermissionDenied):
        repayments.reverse_repayment(actor=users["officer1"], repayment_id=rep.pk, reason="x")
    with pytest.raises(NotFound):
        post(ctx, 100, TODAY, loan=Loan(pk=999_999))


def test_reversal_needs_a_reason_and_happens_once(ctx: dict[str, Any]) -> None:
    rep = post(ctx, 100_000, TODAY)
    with pytest.raises(ValidationFailed):
        repayments.reverse_repayment(actor=ctx["finance"], repayment_id=rep.pk, reason="  ")
    repayments.reverse_repayment(actor=ctx["finance"], repayment_id=rep.pk, reason="重复")
    with pytest.raises(Conflict):
        repayments.reverse_repayment(actor=ctx["finance"], repayment_id=rep.pk, reason="重复")
    rep.refresh_from_db()
    assert rep.status == "reversed" and rep.reversed_on == TODAY and rep.amount_fen == 100_000


# --- reversal replays what followed ------------------------------------------------------


def twins(ctx: dict[str, Any], n: int = 2) -> list[Loan]:
    set_date(START)
    made = [make_loan(ctx) for _ in range(n)]
    set_date(TODAY)
    return made


def test_reversal_equals_never_posting_and_reallocates_later_ones(ctx: dict[str, Any]) -> None:
    a, b = twins(ctx)
    plan = [
        (date(2026, 2, 10), 400_000),
        (date(2026, 3, 1), 700_000),
        (date(2026, 4, 25), 2_000_000),
    ]
    posted = [post(ctx, amount, on, loan=a) for on, amount in plan]
    for i, (on, amount) in enumerate(plan):
        if i != 0:
            post(ctx, amount, on, loan=b)
    repayments.reverse_repayment(actor=ctx["finance"], repayment_id=posted[0].pk, reason="退回")
    cob.run_day(TODAY - timedelta(days=1))
    assert state(a) == state(b)
    check_invariants(a)
    moved = OutboxEvent.objects.filter(topic="loan.repayment_reallocated")
    assert {e.payload["repayment_id"] for e in moved} == {posted[1].pk, posted[2].pk}
    for e in moved:
        rep = Repayment.objects.get(pk=e.payload["repayment_id"])
        total = sum(
            e.payload[f"delta_{c}_fen"] for c in ("principal", "interest", "fee", "penalty")
        )
        assert total + e.payload["delta_credit_fen"] == 0 and rep.status == "posted"


def test_back_dated_posting_replays_later_ones(ctx: dict[str, Any]) -> None:
    a, b = twins(ctx)
    post(ctx, 900_000, date(2026, 3, 20), loan=a)
    post(ctx, 300_000, date(2026, 2, 12), loan=a)  # arrives later, value date earlier
    post(ctx, 300_000, date(2026, 2, 12), loan=b)
    post(ctx, 900_000, date(2026, 3, 20), loan=b)
    assert state(a) == state(b)
    check_invariants(a)


def test_reversal_after_a_month_end_posting_is_exact(ctx: dict[str, Any]) -> None:
    """COB posts penalty at month end on the base of the moment; after a 红冲 the replay must
    end with what the books would hold had the reversed payment never existed."""
    a, b = twins(ctx)
    set_date(date(2026, 3, 25))
    mistaken = post(ctx, 600_000, date(2026, 3, 25), loan=a)
    cob.run_cob(until=date(2026, 4, 2))  # closes 03-25 … 04-02, posts penalty on 03-31
    post(ctx, 1_500_000, date(2026, 4, 3), loan=a)
    post(ctx, 1_500_000, date(2026, 4, 3), loan=b)
    repayments.reverse_repayment(actor=ctx["finance"], repayment_id=mistaken.pk, reason="错账")
    assert state(a) == state(b)
    check_invariants(a)


# --- prepayment ---------------------------------------------------------------------------


def test_payoff_quote_and_full_prepayment_close_the_loan(ctx: dict[str, Any]) -> None:
    loan = ctx["loan"]
    on = date(2026, 2, 20)
    post(ctx, 888_488, date(2026, 2, 10))
    q = prepayments.quote(actor=ctx["finance"], loan_id=loan.pk, on=on)
    assert q["due"]["total"] == "0.00"
    # Current period 02-10 … 03-10 (28 days): 10 of 28 days of 921.15 interest = 328.98.
    assert q["payoff"]["principal"] == "92115.12"
    assert q["payoff"]["interest"] == "328.98"
    rep = prepayments.post_prepayment(
        actor=ctx["finance"],
        loan_id=loan.pk,
        full=True,
        value_date=on,
        channel="cash",
        expected_amount_fen=9_244_410,
    )
    assert rep.amount_fen == 9_244_410 and rep.kind == "full_prepayment" and rep.credit_fen == 0
    loan.refresh_from_db()
    assert loan.status == "closed" and loan.outstanding_principal_fen == 0
    assert sum(r.principal_fen for r in rows(loan)) == loan.principal_fen
    assert OutboxEvent.objects.filter(topic="loan.repayment_posted").last().payload["prepayment"]
    check_invariants(loan)


def test_quote_changed_is_a_conflict(ctx: dict[str, Any]) -> None:
    loan = ctx["loan"]
    post(ctx, 888_488, date(2026, 2, 10))
    with pytest.raises(Conflict) as exc:
        prepayments.post_prepayment(
            actor=ctx["finance"],
            loan_id=loan.pk,
            full=True,
            value_date=date(2026, 2, 20),
            channel="cash",
            expected_amount_fen=100,
        )
    assert exc.value.code == "lending.prepayment.quote_changed"
    assert Repayment.objects.filter(kind="full_prepayment").count() == 0


@pytest.mark.parametrize("mode", ["keep_term", "keep_installment"])
def test_partial_prepayment_reschedules_exactly(ctx: dict[str, Any], mode: str) -> None:
    loan = ctx["loan"]
    post(ctx, 888_488, date(2026, 2, 10))
    before = rows(loan)
    rep = prepayments.post_prepayment(
        actor=ctx["finance"],
        loan_id=loan.pk,
        full=False,
        principal_fen=3_000_000,
        mode=mode,
        value_date=date(2026, 2, 20),
        channel="bank_transfer",
    )
    after = rows(loan)
    assert rep.principal_fen == 3_000_000 and rep.credit_fen == 0
    assert sum(r.principal_fen for r in after) == loan.principal_fen
    live = [r for r in after if r.seq >= 2 and r.principal_fen]
    if mode == "keep_term":
        assert len(live) == 11
        assert after[2].principal_fen + after[2].interest_fen < (
            before[2].principal_fen + before[2].interest_fen
        )
    else:
        assert len(live) < 11
        assert after[3].principal_fen + after[3].interest_fen == (
            before[3].principal_fen + before[3].interest_fen
        )
        assert all(r.status == "paid" and r.total_fen == 0 for r in after if r.seq > live[-1].seq)
    loan.refresh_from_db()
    assert loan.outstanding_principal_fen == 10_000_000 - 788_488 - 3_000_000
    check_invariants(loan)
    # A 红冲 of the prepayment gives back the schedule as disbursed.
    repayments.reverse_repayment(actor=ctx["finance"], repayment_id=rep.pk, reason="撤销")
    restored = rows(loan)
    assert [(r.principal_fen, r.interest_fen, r.due_date) for r in restored] == [
        (r.principal_fen, r.interest_fen, r.due_date) for r in before
    ]


def test_prepayment_refused_with_arrears_or_bad_mode(ctx: dict[str, Any]) -> None:
    loan = ctx["loan"]
    with pytest.raises(ValidationFailed):
        prepayments.post_prepayment(
            actor=ctx["finance"],
            loan_id=loan.pk,
            full=False,
            principal_fen=100_000,
            mode="shorten",
            value_date=TODAY,
            channel="cash",
        )
    with pytest.raises(ValidationFailed):
        prepayments.post_prepayment(
            actor=ctx["finance"],
            loan_id=loan.pk,
            full=False,
            principal_fen=None,
            mode="keep_term",
            value_date=TODAY,
            channel="cash",
        )
    assert Repayment.objects.count() == 0


# --- property: any payment sequence ---------------------------------------------------------

payments = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=150), st.integers(min_value=1, max_value=1_500_000)
    ),
    min_size=1,
    max_size=6,
)


class _Rollback(Exception):
    pass


@settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=payments, drop=st.integers(min_value=0, max_value=5))
@example(plan=[(35, 1)], drop=0)
@example(plan=[(31, 888_488), (60, 5_000), (95, 1_200_000), (130, 300)], drop=1)
def test_property_any_sequence(ctx: dict[str, Any], plan: list[tuple[int, int]], drop: int) -> None:
    """Paid never exceeds due, allocations add up to the amounts, and reversing any one
    repayment gives the state of never having posted it."""
    drop %= len(plan)
    try:
        with transaction.atomic():
            a, b = twins(ctx)
            posted = []
            for k, (day, amount) in enumerate(plan):
                on = START + timedelta(days=day)
                posted.append(post(ctx, amount, on, loan=a))
                if k != drop:
                    post(ctx, amount, on, loan=b)
                check_invariants(a)
            repayments.reverse_repayment(
                actor=ctx["finance"], repayment_id=posted[drop].pk, reason="property"
            )
            check_invariants(a)
            # Statuses of rows a 红冲 un-paid are COB's: compare once COB has seen both loans.
            cob.run_day(TODAY - timedelta(days=1))
            assert state(a) == state(b)
            raise _Rollback
    except _Rollback:
        pass
