"""Penalty interest (罚息) on overdue principal and compound interest (复利) on overdue interest.

Rules:

* Rate: `penalty_rate` percent per year, default 1.5 x the contract rate; the daily rate is
  rate / `days_in_year` (360 by default, the PBOC convention for daily rates; 365 allowed).
  Compound interest on overdue interest (if enabled) accrues at the same penalty rate;
  penalty is never charged on penalty.
* Days: a day d is overdue if d > due date, so paying on the due date costs nothing.
* Grace: while ``as_of <= due + grace_days`` nothing is chargeable; once the grace is
  exceeded the penalty counts from the due date, grace days included (the grace is a waiver
  for paying on time, not a free allowance).
* Rounding: integer-fen arithmetic. Cumulative penalty to a date is
  base_fen x rate x days / (100 x days_in_year), rounded half-up to the fen once; the
  penalty for a range (start, end] is cumulative(end) - cumulative(start). Daily accruals
  therefore add up exactly to the one-shot amount for the whole range, and amounts are
  monotone in days. A change of base (a partial payment) starts a new range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import validation as v
from .errors import FinanceInputError
from .rounding import FEN, ZERO

DEFAULT_MULTIPLIER = Decimal("1.5")


@dataclass(frozen=True)
class PenaltyTerms:
    """Contract terms for overdue charges; rates in percent per year."""

    contract_rate: Decimal
    penalty_rate: Decimal | None = None
    multiplier: Decimal = DEFAULT_MULTIPLIER
    grace_days: int = 0
    compound: bool = False
    days_in_year: int = 360

    def __post_init__(self) -> None:
        v.rate("contract_rate", self.contract_rate)
        if self.penalty_rate is not None:
            v.rate("penalty_rate", self.penalty_rate)
        multiplier = v.decimal_value("multiplier", self.multiplier)
        if multiplier < 0 or multiplier > 10:
            raise FinanceInputError(
                "multiplier", "finance.multiplier_out_of_range", {"value": multiplier}
            )
        grace = v.integer("grace_days", self.grace_days)
        if grace < 0 or grace > 366:
            raise FinanceInputError(
                "grace_days", "finance.grace_days_out_of_range", {"value": grace}
            )
        if not isinstance(self.compound, bool):
            raise FinanceInputError("compound", "finance.invalid_boolean")
        if self.days_in_year not in (360, 365):
            raise FinanceInputError(
                "days_in_year", "finance.invalid_choice", {"value": self.days_in_year}
            )

    @property
    def rate(self) -> Decimal:
        """The effective penalty rate in percent per year."""
        if self.penalty_rate is not None:
            return self.penalty_rate
        return self.contract_rate * self.multiplier


@dataclass(frozen=True)
class OverdueInstallment:
    """What is overdue on one installment: the bases of penalty and compound interest."""

    seq: int
    due_date: date
    principal: Decimal
    interest: Decimal = ZERO


@dataclass(frozen=True)
class PenaltyAccrual:
    """Charges for (start, end]; `days` is the number of chargeable days in the range."""

    seq: int
    start: date
    end: date
    days: int
    penalty: Decimal
    compound: Decimal
    total: Decimal


def chargeable_days(due_date: date, as_of: date, grace_days: int) -> int:
    """Overdue days chargeable as of `as_of` (0 within the grace, else all since the due date)."""
    overdue = (as_of - due_date).days
    return overdue if overdue > grace_days else 0


def _cumulative_fen(base_fen: int, rate_num: int, rate_den: int, days: int) -> int:
    """base x rate% x days / days_in_year, rounded half-up to an integer fen (exactly)."""
    numerator = base_fen * rate_num * days
    return (2 * numerator + rate_den) // (2 * rate_den)


def _fen_int(field: str, amount: Decimal) -> int:
    value = v.money(field, amount)
    if value < 0:
        raise FinanceInputError(field, "finance.amount_negative", {"value": amount})
    return int(value * 100)


def accrue_penalty(
    item: OverdueInstallment, terms: PenaltyTerms, *, end: date, start: date | None = None
) -> PenaltyAccrual:
    """Penalty and compound interest of one installment for (start, end]; without `start`,
    everything up to `end` (an empty range if `end` is not after the due date)."""
    end = v.day("end", end)
    start = min(item.due_date, end) if start is None else v.day("start", start)
    if end < start:
        raise FinanceInputError("end", "finance.range_reversed", {"start": start, "end": end})
    principal_fen = _fen_int("principal", item.principal)
    interest_fen = _fen_int("interest", item.interest) if terms.compound else 0
    num, den = terms.rate.as_integer_ratio()
    den *= 100 * terms.days_in_year
    days_from = chargeable_days(item.due_date, start, terms.grace_days)
    days_to = chargeable_days(item.due_date, end, terms.grace_days)
    penalty = _cumulative_fen(principal_fen, num, den, days_to) - _cumulative_fen(
        principal_fen, num, den, days_from
    )
    compound = _cumulative_fen(interest_fen, num, den, days_to) - _cumulative_fen(
        interest_fen, num, den, days_from
    )
    penalty_yuan = Decimal(penalty) * FEN
    compound_yuan = Decimal(compound) * FEN
    return PenaltyAccrual(
        seq=item.seq,
        start=start,
        end=end,
        days=days_to - days_from,
        penalty=penalty_yuan,
        compound=compound_yuan,
        total=penalty_yuan + compound_yuan,
    )


def accrue_penalties(
    items: Sequence[OverdueInstallment],
    terms: PenaltyTerms,
    *,
    end: date,
    start: date | None = None,
) -> tuple[PenaltyAccrual, ...]:
    """`accrue_penalty` for each installment (e.g. one COB day: start = yesterday)."""
    return tuple(accrue_penalty(item, terms, end=end, start=start) for item in items)
