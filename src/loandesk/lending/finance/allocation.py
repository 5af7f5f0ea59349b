"""Allocating a repayment across what is due (冲账顺序).

The caller passes the outstanding components of each due (or overdue) installment. The
payment is applied in a configurable component order (any permutation of penalty, fee,
interest, principal) using one of two strategies:

* ``installment_first``: oldest installment fully first (in component order), then the next;
* ``component_first``: the first component across all installments oldest first (e.g. all
  penalties), then the next component, and so on.

What is left after everything due is paid is an overpayment: kept as `credit`, or with
``overpayment="prepay"`` returned as `prepayment` (capped at `prepayable_principal` if
given, the rest credit) for `partial_prepayment` to apply. Allocations, credit and
prepayment always add up exactly to the payment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from . import validation as v
from .errors import FinanceInputError
from .rounding import ZERO


class Component(StrEnum):
    PENALTY = "penalty"
    FEE = "fee"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class Strategy(StrEnum):
    INSTALLMENT_FIRST = "installment_first"
    COMPONENT_FIRST = "component_first"


class Overpayment(StrEnum):
    CREDIT = "credit"
    PREPAY = "prepay"


DEFAULT_ORDER: tuple[Component, ...] = (
    Component.PENALTY,
    Component.FEE,
    Component.INTEREST,
    Component.PRINCIPAL,
)


@dataclass(frozen=True)
class DueInstallment:
    """Outstanding amounts of one installment as of the payment date."""

    seq: int
    due_date: date
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    fee: Decimal = ZERO
    penalty: Decimal = ZERO

    def __post_init__(self) -> None:
        v.integer("seq", self.seq)
        v.day("due_date", self.due_date)
        for name in ("principal", "interest", "fee", "penalty"):
            amount = v.money(name, getattr(self, name))
            if amount < 0:
                raise FinanceInputError(name, "finance.amount_negative", {"seq": self.seq})
            object.__setattr__(self, name, amount)

    def amount(self, component: Component) -> Decimal:
        value: Decimal = getattr(self, component.value)
        return value


@dataclass(frozen=True)
class InstallmentAllocation:
    """How much of the payment went to each component of one installment."""

    seq: int
    penalty: Decimal = ZERO
    fee: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.penalty + self.fee + self.interest + self.principal


@dataclass(frozen=True)
class AllocationResult:
    """Per-installment allocations (due-date order), plus credit and prepayment."""

    amount: Decimal
    installments: tuple[InstallmentAllocation, ...]
    credit: Decimal
    prepayment: Decimal

    @property
    def allocated(self) -> Decimal:
        return sum((a.total for a in self.installments), ZERO)


def _order(order: Sequence[Component | str]) -> tuple[Component, ...]:
    components = tuple(v.choice("order", Component, c) for c in order)
    if sorted(components) != sorted(Component):
        raise FinanceInputError(
            "order",
            "finance.allocation_order_invalid",
            {"value": ", ".join(components), "expected": ", ".join(Component)},
        )
    return components


def allocate_payment(
    amount: Decimal,
    installments: Sequence[DueInstallment],
    *,
    order: Sequence[Component | str] = DEFAULT_ORDER,
    strategy: Strategy | str = Strategy.INSTALLMENT_FIRST,
    overpayment: Overpayment | str = Overpayment.CREDIT,
    prepayable_principal: Decimal | None = None,
) -> AllocationResult:
    """Split `amount` over the installments; see the module docstring for the rules."""
    amount = v.money("amount", amount)
    if amount <= 0:
        raise FinanceInputError("amount", "finance.amount_not_positive", {"value": amount})
    components = _order(order)
    strategy = v.choice("strategy", Strategy, strategy)
    overpayment = v.choice("overpayment", Overpayment, overpayment)
    seqs = [i.seq for i in installments]
    if len(set(seqs)) != len(seqs):
        raise FinanceInputError("installments", "finance.duplicate_installment")
    ordered = sorted(installments, key=lambda i: (i.due_date, i.seq))
    applied: dict[int, dict[Component, Decimal]] = {
        i.seq: dict.fromkeys(Component, ZERO) for i in ordered
    }
    if strategy is Strategy.INSTALLMENT_FIRST:
        steps = [(i, c) for i in ordered for c in components]
    else:
        steps = [(i, c) for c in components for i in ordered]
    remaining = amount
    for installment, component in steps:
        if remaining == 0:
            break
        take = min(remaining, installment.amount(component))
        applied[installment.seq][component] += take
        remaining -= take
    prepayment = ZERO
    if remaining and overpayment is Overpayment.PREPAY:
        prepayment = remaining
        if prepayable_principal is not None:
            cap = v.money("prepayable_principal", prepayable_principal)
            prepayment = min(remaining, max(cap, ZERO))
    allocations = tuple(
        InstallmentAllocation(
            seq=i.seq,
            penalty=applied[i.seq][Component.PENALTY],
            fee=applied[i.seq][Component.FEE],
            interest=applied[i.seq][Component.INTEREST],
            principal=applied[i.seq][Component.PRINCIPAL],
        )
        for i in ordered
    )
    return AllocationResult(
        amount=amount,
        installments=allocations,
        credit=remaining - prepayment,
        prepayment=prepayment,
    )
