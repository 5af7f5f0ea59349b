"""Journal entries booked from lending events: golden entries per event type, every entry
balanced, exactly once under redelivery, and the loans-principal account tracking the book."""

from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loandesk.accounting import ledger
from loandesk.accounting.models import JournalEntry, JournalLine
from loandesk.core.models import OutboxDelivery, OutboxEvent
from tests.accounting.conftest import (
    assert_all_balanced,
    balance,
    dispatch,
    lines_of,
    make_loan,
    publish,
)


@pytest.fixture
def loan(lending: dict[str, Any]) -> Any:
    made = make_loan(lending)
    JournalEntry.objects.all().delete()  # the disbursement's own entry is not under test here
    OutboxEvent.objects.all().delete()
    return made


def _base(loan: Any, **extra: Any) -> dict[str, Any]:
    return {
        "loan_id": loan.pk,
        "contract_no": loan.contract_no,
        "customer_id": loan.customer_id,
        "value_date": "2026-02-10",
        **extra,
    }


def test_disbursement_of_10000_with_a_1_percent_fee(loan: Any) -> None:
    publish(
        "loan.disbursed",
        _base(loan, principal_fen=1_000_000, net_amount_fen=990_000, disbursement_id=1),
    )
    dispatch()
    entry = JournalEntry.objects.get()
    assert lines_of(entry) == [
        ("130301", 1_000_000, 0),
        ("1002", 0, 990_000),
        ("6021", 0, 10_000),
    ]
    assert entry.total_debit_fen == entry.total_credit_fen == 1_000_000
    assert entry.date == date(2026, 2, 10)
    assert entry.period == "2026-02"
    assert entry.voucher_no == 1
    assert entry.loan_id == loan.pk and entry.customer_id == loan.customer_id
    assert entry.contract_no == loan.contract_no
    assert {(x.customer_id, x.loan_id) for x in entry.lines.all()} == {(loan.customer_id, loan.pk)}


REPAID = {
    "principal_fen": 100_000,
    "interest_fen": 30_000,
    "fee_fen": 5_000,
    "penalty_fen": 10_000,
    "credit_fen": 5_000,
}


def test_repayment_split_into_principal_interest_fee_penalty_and_credit(loan: Any) -> None:
    publish(
        "loan.repayment_posted",
        _base(loan, repayment_id=7, amount_fen=150_000, channel="bank_transfer", **REPAID),
    )
    dispatch()
    assert lines_of(JournalEntry.objects.get()) == [
        ("1002", 150_000, 0),
        ("130301", 0, 100_000),
        ("6011", 0, 30_000),
        ("6021", 0, 5_000),
        ("605101", 0, 10_000),
        ("224101", 0, 5_000),
    ]


def test_reversal_is_the_mirror_of_the_repayment(loan: Any) -> None:
    publish("loan.repayment_posted", _base(loan, repayment_id=7, amount_fen=150_000, **REPAID))
    publish("loan.repayment_reversed", _base(loan, repayment_id=7, reason="错账", **REPAID))
    dispatch()
    posted, reversed_ = JournalEntry.objects.order_by("voucher_no")
    assert lines_of(reversed_) == [
        ("130301", 100_000, 0),
        ("6011", 30_000, 0),
        ("6021", 5_000, 0),
        ("605101", 10_000, 0),
        ("224101", 5_000, 0),
        ("1002", 0, 150_000),
    ]
    assert reversed_.voucher_no == posted.voucher_no + 1
    for code in ("1002", "1303", "6011", "6021", "605101", "224101"):
        assert balance(code) == 0


def test_reallocation_books_the_deltas_only(loan: Any) -> None:
    publish(
        "loan.repayment_reallocated",
        _base(
            loan,
            repayment_id=7,
            delta_principal_fen=2_000,
            delta_interest_fen=-1_500,
            delta_fee_fen=0,
            delta_penalty_fen=-500,
            delta_credit_fen=0,
        ),
    )
    dispatch()
    assert lines_of(JournalEntry.objects.get()) == [
        ("6011", 1_500, 0),
        ("605101", 500, 0),
        ("130301", 0, 2_000),
    ]


def test_a_reallocation_that_moves_nothing_books_nothing(loan: Any) -> None:
    publish("loan.repayment_reallocated", _base(loan, repayment_id=7))
    dispatch()
    assert not JournalEntry.objects.exists()
    assert OutboxEvent.objects.get().status == "done"


def test_write_off_debits_the_provision_and_keeps_interest_off_the_books(loan: Any) -> None:
    publish(
        "loan.written_off",
        _base(loan, principal_fen=500_000, interest_fen=12_000, fee_fen=0, penalty_fen=3_456),
    )
    dispatch()
    entry = JournalEntry.objects.get()
    assert lines_of(entry) == [("1304", 500_000, 0), ("130301", 0, 500_000)]
    assert entry.memo == {"off_books": {"interest": 12_000, "fee": 0, "penalty": 3_456}}


def test_redelivery_books_once(loan: Any) -> None:
    event = publish("loan.disbursed", _base(loan, principal_fen=1_000_000, net_amount_fen=990_000))
    dispatch()
    # The outbox forgets it delivered (a crash between the handler and the delivery row):
    OutboxDelivery.objects.all().delete()
    OutboxEvent.objects.filter(pk=event.pk).update(status="pending", attempts=0)
    dispatch()
    # And a handler called twice directly books the same entry.
    first = ledger.book(event.pk, event.topic, event.payload)
    again = ledger.book(event.pk, event.topic, event.payload)
    assert first is not None and again is not None and first.pk == again.pk
    assert JournalEntry.objects.count() == 1
    assert JournalLine.objects.count() == 3


def test_an_allocation_that_does_not_add_up_is_refused_and_retried(loan: Any) -> None:
    publish("loan.repayment_posted", _base(loan, repayment_id=7, amount_fen=150_001, **REPAID))
    dispatch()
    event = OutboxEvent.objects.get()
    assert event.status == "pending" and event.attempts == 1
    assert "components_mismatch" in event.last_error or "accounting" in event.last_error
    assert not JournalEntry.objects.exists()


def test_the_database_refuses_an_unbalanced_entry_and_a_two_sided_line(loan: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry.objects.create(
            date=date(2026, 1, 1),
            period="2026-01",
            voucher_no=99,
            description="x",
            total_debit_fen=100,
            total_credit_fen=99,
        )
    entry = JournalEntry.objects.create(
        date=date(2026, 1, 1),
        period="2026-01",
        voucher_no=98,
        description="x",
        total_debit_fen=100,
        total_credit_fen=100,
    )
    from loandesk.accounting.models import Account

    cash = Account.objects.get(code="1002")
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalLine.objects.create(entry=entry, line_no=1, account=cash, debit_fen=1, credit_fen=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalLine.objects.create(entry=entry, line_no=1, account=cash)


def test_voucher_numbers_run_per_period(loan: Any) -> None:
    for day in ("2026-01-31", "2026-02-01", "2026-02-02", "2026-01-15"):
        publish("loan.disbursed", {**_base(loan, principal_fen=100_000), "value_date": day})
    dispatch()
    got = sorted(JournalEntry.objects.values_list("period", "voucher_no"))
    assert got == [("2026-01", 1), ("2026-01", 2), ("2026-02", 1), ("2026-02", 2)]


# --- any sequence of events -----------------------------------------------------------------

money = st.integers(min_value=0, max_value=50_000_00)
ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("disburse"), st.integers(0, 2), st.integers(1, 100_000_00), st.integers(0, 5)
        ),
        st.tuples(st.just("repay"), st.integers(0, 2), st.integers(0, 100), money, money, money),
        st.tuples(st.just("reverse"), st.integers(0, 50)),
        st.tuples(st.just("reallocate"), st.integers(0, 50), st.integers(0, 100)),
        st.tuples(st.just("write_off"), st.integers(0, 2)),
    ),
    max_size=25,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=ops)
def test_any_sequence_of_events_keeps_every_entry_balanced_and_the_principal_exact(
    lending: dict[str, Any], sequence: list[tuple[Any, ...]]
) -> None:
    loans_ = getattr(lending, "_loans", None) or [make_loan(lending) for _ in range(3)]
    JournalEntry.objects.all().delete()
    OutboxEvent.objects.all().delete()
    outstanding = [0, 0, 0]
    written_off = [False, False, False]
    cash = 0
    repayments: list[dict[str, Any]] = []  # live (not reversed) repayments

    def base(i: int) -> dict[str, Any]:
        return _base(loans_[i])

    for op in sequence:
        kind = op[0]
        if kind == "disburse":
            _, i, principal, fee_pct = op
            if written_off[i]:
                continue
            net = principal - principal * fee_pct // 100
            publish(
                "loan.disbursed", {**base(i), "principal_fen": principal, "net_amount_fen": net}
            )
            outstanding[i] += principal
            cash -= net
        elif kind == "repay":
            _, i, pct, interest, fee, penalty = op
            if written_off[i]:
                continue
            parts = {
                "principal_fen": outstanding[i] * pct // 100,
                "interest_fen": interest,
                "fee_fen": fee,
                "penalty_fen": penalty,
                "credit_fen": 0,
            }
            amount = sum(parts.values())
            if amount == 0:
                continue
            publish("loan.repayment_posted", {**base(i), "amount_fen": amount, **parts})
            outstanding[i] -= parts["principal_fen"]
            cash += amount
            repayments.append({"i": i, **parts})
        elif kind == "reverse" and repayments:
            rep = repayments.pop(op[1] % len(repayments))
            i = rep["i"]
            if written_off[i]:
                continue
            parts = {k: v for k, v in rep.items() if k != "i"}
            publish("loan.repayment_reversed", {**base(i), **parts})
            outstanding[i] += parts["principal_fen"]
            cash -= sum(parts.values())
        elif kind == "reallocate" and repayments:
            rep = repayments[op[1] % len(repayments)]
            i = rep["i"]
            if written_off[i]:
                continue
            shift = rep["interest_fen"] * op[2] // 100
            shift = min(shift, outstanding[i])  # principal can only be repaid while owed
            if shift == 0:
                continue
            publish(
                "loan.repayment_reallocated",
                {**base(i), "delta_principal_fen": shift, "delta_interest_fen": -shift},
            )
            rep["principal_fen"] += shift
            rep["interest_fen"] -= shift
            outstanding[i] -= shift
        elif kind == "write_off":
            i = op[1]
            if written_off[i] or outstanding[i] == 0:
                continue
            publish(
                "loan.written_off",
                {**base(i), "principal_fen": outstanding[i], "interest_fen": 1, "penalty_fen": 2},
            )
            written_off[i] = True
            outstanding[i] = 0
    dispatch()
    assert not OutboxEvent.objects.exclude(status="done").exists()
    assert_all_balanced()
    assert balance("1303") == sum(outstanding)
    assert balance("1002") == cash
    assert balance("1304") == sum(
        e.total_debit_fen for e in JournalEntry.objects.filter(source_topic="loan.written_off")
    )
