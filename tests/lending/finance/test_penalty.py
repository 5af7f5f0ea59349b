"""Penalty interest (罚息) and compound interest (复利): examples and properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from loandesk.lending.finance import (
    OverdueInstallment,
    PenaltyTerms,
    accrue_penalties,
    accrue_penalty,
    chargeable_days,
)

D = Decimal
DUE = date(2026, 3, 10)


def test_default_rate_is_one_and_a_half_times_contract() -> None:
    # 10,000 overdue at 1.5 x 6 % = 9 % a year, /360 a day: 10 days = 25.00 exactly.
    terms = PenaltyTerms(contract_rate=D(6))
    assert terms.rate == D("9.0")
    accrual = accrue_penalty(
        OverdueInstallment(1, DUE, D(10000)), terms, end=DUE + timedelta(days=10)
    )
    assert (accrual.days, accrual.penalty, accrual.compound) == (10, D(25), D(0))


def test_compound_interest_on_overdue_interest() -> None:
    # Overdue interest 300 at 9 %: 300 x 0.09 x 30 / 360 = 2.25; principal 1000 -> 7.50.
    terms = PenaltyTerms(contract_rate=D(6), compound=True)
    accrual = accrue_penalty(
        OverdueInstallment(1, DUE, D(1000), D(300)), terms, end=DUE + timedelta(days=30)
    )
    assert (accrual.penalty, accrual.compound, accrual.total) == (D("7.50"), D("2.25"), D("9.75"))
    no_compound = accrue_penalty(
        OverdueInstallment(1, DUE, D(1000), D(300)),
        PenaltyTerms(contract_rate=D(6)),
        end=DUE + timedelta(days=30),
    )
    assert no_compound.compound == 0


def test_grace_days_waive_then_count_from_due_date() -> None:
    terms = PenaltyTerms(contract_rate=D(12), penalty_rate=D(18), grace_days=3)
    item = OverdueInstallment(1, DUE, D(10000))
    within = accrue_penalty(item, terms, end=DUE + timedelta(days=3))
    assert within.total == 0
    late = accrue_penalty(item, terms, end=DUE + timedelta(days=4))
    # 4 days from the due date: 10,000 x 18 % x 4 / 360 = 20.00
    assert (late.days, late.penalty) == (4, D(20))
    # The COB accrual for the day the grace is exceeded catches up the grace days.
    cob = accrue_penalty(item, terms, start=DUE + timedelta(days=3), end=DUE + timedelta(days=4))
    assert (cob.days, cob.penalty) == (4, D(20))


def test_nothing_on_the_due_date_itself() -> None:
    terms = PenaltyTerms(contract_rate=D(12))
    assert accrue_penalty(OverdueInstallment(1, DUE, D(5000)), terms, end=DUE).total == 0
    assert chargeable_days(DUE, DUE, 0) == 0
    assert chargeable_days(DUE, DUE + timedelta(days=1), 0) == 1


def test_rounding_once_per_range_half_up() -> None:
    # 333.33 x 7.3 % x 1 / 365 = 0.0666660 -> 0.07 for one day; for 3 days 0.199998 -> 0.20.
    terms = PenaltyTerms(contract_rate=D(1), penalty_rate=D("7.3"), days_in_year=365)
    item = OverdueInstallment(1, DUE, D("333.33"))
    days = [
        accrue_penalty(item, terms, start=DUE + timedelta(days=k), end=DUE + timedelta(days=k + 1))
        for k in range(3)
    ]
    whole = accrue_penalty(item, terms, end=DUE + timedelta(days=3))
    assert whole.penalty == D("0.20")
    assert sum(a.penalty for a in days) == whole.penalty  # daily accruals add up exactly


def test_accrue_penalties_batch() -> None:
    items = [
        OverdueInstallment(1, DUE, D(1000)),
        OverdueInstallment(2, DUE + timedelta(days=31), D(1000)),
    ]
    result = accrue_penalties(
        items, PenaltyTerms(contract_rate=D(24)), end=DUE + timedelta(days=40)
    )
    # 36 % / 360 = 0.1 % a day: 40 days -> 40.00; 9 days -> 9.00
    assert [a.penalty for a in result] == [D(40), D(9)]


amounts = st.decimals(min_value=0, max_value=10_000_000, places=2)
rates = st.decimals(min_value=0, max_value=100, places=4)


@settings(max_examples=300, deadline=None)
@given(
    principal=amounts,
    interest=amounts,
    rate=rates,
    grace=st.integers(0, 30),
    compound=st.booleans(),
    basis=st.sampled_from([360, 365]),
    d1=st.integers(-10, 400),
    d2=st.integers(-10, 400),
    d3=st.integers(-10, 400),
)
def test_penalty_monotone_additive_exact(
    principal: Decimal,
    interest: Decimal,
    rate: Decimal,
    grace: int,
    compound: bool,
    basis: int,
    d1: int,
    d2: int,
    d3: int,
) -> None:
    a, b, c = sorted((d1, d2, d3))
    terms = PenaltyTerms(
        contract_rate=rate, grace_days=grace, compound=compound, days_in_year=basis
    )
    item = OverdueInstallment(1, DUE, principal, interest)

    def at(offset: int) -> date:
        return DUE + timedelta(days=offset)

    upto_b = accrue_penalty(item, terms, end=at(b))
    upto_c = accrue_penalty(item, terms, end=at(c))
    # Monotone in days.
    assert upto_b.total <= upto_c.total
    # Additive over adjacent ranges.
    first = accrue_penalty(item, terms, start=at(a), end=at(b))
    second = accrue_penalty(item, terms, start=at(b), end=at(c))
    whole = accrue_penalty(item, terms, start=at(a), end=at(c))
    assert first.total + second.total == whole.total
    assert first.days + second.days == whole.days
    # Exact against a rational computation.
    days = c if c > grace else 0
    exact = Fraction(principal) * Fraction(terms.rate) * days / (100 * basis)
    expected = (D(exact.numerator) / D(exact.denominator)).quantize(D("0.01"), ROUND_HALF_UP)
    assert upto_c.penalty == expected
    assert upto_c.penalty >= 0 and upto_c.compound >= 0
