"""Allocation of a repayment across installments and components."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import permutations

from hypothesis import given, settings
from hypothesis import strategies as st

from loandesk.lending.finance import (
    Component,
    DueInstallment,
    Overpayment,
    Strategy,
    allocate_payment,
)

D = Decimal
FIRST = DueInstallment(
    1, date(2026, 2, 10), principal=D(900), interest=D(60), fee=D(5), penalty=D(3)
)
SECOND = DueInstallment(
    2, date(2026, 3, 10), principal=D(905), interest=D(55), fee=D(5), penalty=D(1)
)


def test_installment_first_pays_oldest_fully() -> None:
    result = allocate_payment(D(1000), [SECOND, FIRST])
    first, second = result.installments
    assert (first.seq, first.penalty, first.fee, first.interest, first.principal) == (
        1,
        D(3),
        D(5),
        D(60),
        D(900),
    )
    assert (second.penalty, second.fee, second.interest, second.principal) == (
        D(1),
        D(5),
        D(26),
        D(0),
    )
    assert result.credit == result.prepayment == 0


def test_component_first_pays_all_penalties_then_fees() -> None:
    result = allocate_payment(D(80), [FIRST, SECOND], strategy=Strategy.COMPONENT_FIRST)
    first, second = result.installments
    assert (first.penalty, second.penalty, first.fee, second.fee) == (D(3), D(1), D(5), D(5))
    assert (first.interest, second.interest) == (D(60), D(6))


def test_custom_order_principal_first() -> None:
    order = [Component.PRINCIPAL, Component.INTEREST, Component.FEE, Component.PENALTY]
    result = allocate_payment(D(950), [FIRST], order=order)
    assert (result.installments[0].principal, result.installments[0].interest) == (D(900), D(50))


def test_overpayment_credit_or_prepay() -> None:
    due = FIRST.principal + FIRST.interest + FIRST.fee + FIRST.penalty
    credit = allocate_payment(due + 100, [FIRST])
    assert (credit.credit, credit.prepayment) == (D(100), D(0))
    prepay = allocate_payment(due + 100, [FIRST], overpayment=Overpayment.PREPAY)
    assert (prepay.credit, prepay.prepayment) == (D(0), D(100))
    capped = allocate_payment(due + 100, [FIRST], overpayment="prepay", prepayable_principal=D(40))
    assert (capped.credit, capped.prepayment) == (D(60), D(40))


installments = st.lists(
    st.builds(
        DueInstallment,
        seq=st.integers(1, 10_000),
        due_date=st.dates(date(2025, 1, 1), date(2027, 1, 1)),
        principal=st.decimals(min_value=0, max_value=100_000, places=2),
        interest=st.decimals(min_value=0, max_value=10_000, places=2),
        fee=st.decimals(min_value=0, max_value=1_000, places=2),
        penalty=st.decimals(min_value=0, max_value=1_000, places=2),
    ),
    max_size=8,
    unique_by=lambda i: i.seq,
)


@settings(max_examples=400, deadline=None)
@given(
    items=installments,
    amount=st.decimals(min_value=D("0.01"), max_value=500_000, places=2),
    order=st.sampled_from(list(permutations(Component))),
    strategy=st.sampled_from(list(Strategy)),
    overpayment=st.sampled_from(list(Overpayment)),
    cap=st.one_of(st.none(), st.decimals(min_value=0, max_value=100_000, places=2)),
)
def test_allocation_sums_exactly(
    items: list[DueInstallment],
    amount: Decimal,
    order: tuple[Component, ...],
    strategy: Strategy,
    overpayment: Overpayment,
    cap: Decimal | None,
) -> None:
    result = allocate_payment(
        amount,
        items,
        order=order,
        strategy=strategy,
        overpayment=overpayment,
        prepayable_principal=cap,
    )
    assert result.allocated + result.credit + result.prepayment == amount
    assert result.credit >= 0 and result.prepayment >= 0
    by_seq = {i.seq: i for i in items}
    ordered = sorted(items, key=lambda i: (i.due_date, i.seq))
    assert [a.seq for a in result.installments] == [i.seq for i in ordered]
    owed_total = sum((i.principal + i.interest + i.fee + i.penalty for i in items), D(0))
    if result.credit or result.prepayment:
        assert result.allocated == owed_total  # overpayment only once all is paid
    else:
        assert result.allocated == min(amount, owed_total)
    for alloc in result.installments:
        for component in Component:
            paid = getattr(alloc, component.value)
            assert 0 <= paid <= getattr(by_seq[alloc.seq], component.value)
    # Ordering rule: nothing is paid on a step while an earlier step is unpaid.
    steps = (
        [(i, c) for i in ordered for c in order]
        if strategy is Strategy.INSTALLMENT_FIRST
        else [(i, c) for c in order for i in ordered]
    )
    allocs = {a.seq: a for a in result.installments}
    seen_partial = False
    for inst, component in steps:
        paid = getattr(allocs[inst.seq], component.value)
        owed = getattr(inst, component.value)
        if seen_partial:
            assert paid == 0
        elif paid < owed:
            seen_partial = True
