"""Inputs and outputs of the schedule calculator (frozen dataclasses, Decimal yuan)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from . import validation as v
from .dates import MONTH_STEPS, add_months
from .enums import (
    PERIODS_PER_YEAR,
    DayCount,
    FeeKind,
    Frequency,
    InterestPeriod,
    Method,
)
from .errors import FinanceInputError
from .rounding import FEN, ZERO

if TYPE_CHECKING:
    from .calendar import WorkingDayCalendar

__all__ = [
    "PERIODS_PER_YEAR",
    "AprResult",
    "DayCount",
    "FeeKind",
    "Frequency",
    "InterestPeriod",
    "Method",
    "ScheduleInput",
    "ScheduleResult",
    "ScheduleRow",
    "ScheduleTotals",
]

MAX_PRINCIPAL = Decimal(10_000_000_000)
MAX_PERIODS = 600


@dataclass(frozen=True)
class ScheduleInput:
    """Everything needed to compute a schedule; validated on construction.

    Rates are percent per year. `first_due` defaults to one period after `start` (with a
    `due_day`: that day of the month after start's month); `due_day` (monthly/quarterly
    only; 29-31 clamp to the month's last day) defaults to first_due's day, else start's.
    `grace_periods` leading periods repay no principal; the first `interest_grace_periods`
    of them (<= grace_periods) also collect no interest: that interest is deferred, not
    capitalised, and falls due with the first installment after the interest grace.
    `installment_multiple` rounds the constant installment of equal_installment and flat
    (others have none); the remainder goes into the last installment.
    """

    principal: Decimal
    annual_rate: Decimal
    periods: int
    start: date
    method: Method = Method.EQUAL_INSTALLMENT
    frequency: Frequency = Frequency.MONTHLY
    first_due: date | None = None
    due_day: int | None = None
    interest_period: InterestPeriod = InterestPeriod.PERIOD
    day_count: DayCount = DayCount.ACT_365
    installment_multiple: Decimal = FEN
    grace_periods: int = 0
    interest_grace_periods: int = 0
    holiday_shift: bool = False
    calendar: WorkingDayCalendar | None = field(default=None, compare=False, repr=False)
    upfront_fee: Decimal = ZERO
    period_fee: Decimal = ZERO
    period_fee_kind: FeeKind = FeeKind.FIXED

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def single_row(self) -> bool:
        """Bullet loans and daily-frequency loans are one row at maturity."""
        return self.method is Method.BULLET or self.frequency is Frequency.DAILY


def _set(obj: ScheduleInput, name: str, value: object) -> None:
    """Store a normalised value on the frozen instance (skipped when nothing changed)."""
    if getattr(obj, name) is not value:
        object.__setattr__(obj, name, value)


def _validate(inp: ScheduleInput) -> None:
    principal = v.money("principal", inp.principal)
    if principal <= 0 or principal > MAX_PRINCIPAL:
        raise FinanceInputError(
            "principal",
            "finance.principal_out_of_range",
            {"value": inp.principal, "min": "0.01", "max": MAX_PRINCIPAL},
        )
    _set(inp, "principal", principal)
    _set(inp, "annual_rate", v.rate("annual_rate", inp.annual_rate))
    periods = v.integer("periods", inp.periods)
    if periods < 1 or periods > MAX_PERIODS:
        raise FinanceInputError(
            "periods", "finance.periods_out_of_range", {"value": periods, "min": 1, "max": 600}
        )
    start = v.day("start", inp.start)
    method = v.choice("method", Method, inp.method)
    frequency = v.choice("frequency", Frequency, inp.frequency)
    _set(inp, "method", method)
    _set(inp, "frequency", frequency)
    _set(inp, "interest_period", v.choice("interest_period", InterestPeriod, inp.interest_period))
    _set(inp, "day_count", v.choice("day_count", DayCount, inp.day_count))
    _set(inp, "period_fee_kind", v.choice("period_fee_kind", FeeKind, inp.period_fee_kind))
    if not isinstance(inp.holiday_shift, bool):
        raise FinanceInputError(
            "holiday_shift", "finance.invalid_boolean", {"value": inp.holiday_shift}
        )
    if inp.calendar is not None and not (
        hasattr(inp.calendar, "is_working_day") and hasattr(inp.calendar, "covers")
    ):
        raise FinanceInputError("calendar", "finance.invalid_calendar")

    if inp.installment_multiple is not FEN:  # the default needs no check
        multiple = v.decimal_value("installment_multiple", inp.installment_multiple)
        if multiple <= 0 or multiple != multiple.quantize(FEN) or multiple > MAX_PRINCIPAL:
            raise FinanceInputError(
                "installment_multiple",
                "finance.installment_multiple_invalid",
                {"value": inp.installment_multiple},
            )
        _set(inp, "installment_multiple", multiple.quantize(FEN))

    _validate_dates(inp, start, frequency)
    _validate_grace(inp, method, frequency, periods)
    _validate_fees(inp, principal)


def _validate_dates(inp: ScheduleInput, start: date, frequency: Frequency) -> None:
    monthly = frequency in MONTH_STEPS
    if inp.due_day is not None:
        due_day = v.integer("due_day", inp.due_day)
        if not monthly:
            raise FinanceInputError(
                "due_day", "finance.due_day_not_applicable", {"frequency": frequency.value}
            )
        if due_day < 1 or due_day > 31:
            raise FinanceInputError(
                "due_day", "finance.due_day_out_of_range", {"value": due_day, "min": 1, "max": 31}
            )
    if inp.first_due is None:
        return
    first_due = v.day("first_due", inp.first_due)
    if frequency is Frequency.DAILY:
        raise FinanceInputError(
            "first_due", "finance.first_due_not_applicable", {"frequency": frequency.value}
        )
    if first_due <= start:
        raise FinanceInputError(
            "first_due",
            "finance.first_due_not_after_start",
            {"first_due": first_due, "start": start},
        )
    if monthly and inp.due_day is not None:
        expected = add_months(first_due, 0, inp.due_day)
        if expected != first_due:
            raise FinanceInputError(
                "first_due",
                "finance.first_due_not_on_due_day",
                {"first_due": first_due, "due_day": inp.due_day},
            )
    # A first period may be long or short, but not longer than two regular periods.
    step = 3 if frequency is Frequency.QUARTERLY else 1
    if monthly:
        limit = add_months(start, 2 * step, 31)
    else:
        limit = start + timedelta(days=28 if frequency is Frequency.BIWEEKLY else 14)
    if first_due > limit:
        raise FinanceInputError(
            "first_due", "finance.first_due_too_late", {"first_due": first_due, "latest": limit}
        )


def _validate_grace(inp: ScheduleInput, method: Method, frequency: Frequency, periods: int) -> None:
    grace = v.integer("grace_periods", inp.grace_periods)
    interest_grace = v.integer("interest_grace_periods", inp.interest_grace_periods)
    single = method is Method.BULLET or frequency is Frequency.DAILY
    if single and (grace or interest_grace):
        raise FinanceInputError(
            "grace_periods", "finance.grace_not_applicable", {"method": method.value}
        )
    if grace < 0 or grace >= periods:
        raise FinanceInputError(
            "grace_periods",
            "finance.grace_out_of_range",
            {"value": grace, "min": 0, "max": periods - 1},
        )
    if interest_grace < 0 or interest_grace > grace:
        raise FinanceInputError(
            "interest_grace_periods",
            "finance.interest_grace_out_of_range",
            {"value": interest_grace, "min": 0, "max": grace},
        )


def _validate_fees(inp: ScheduleInput, principal: Decimal) -> None:
    if inp.upfront_fee is ZERO and inp.period_fee is ZERO:  # the defaults: no fees
        return
    upfront = v.money("upfront_fee", inp.upfront_fee)
    if upfront < 0 or upfront >= principal:
        raise FinanceInputError(
            "upfront_fee",
            "finance.fee_out_of_range",
            {"value": inp.upfront_fee, "min": 0, "max": principal},
        )
    _set(inp, "upfront_fee", upfront)
    if inp.period_fee_kind is FeeKind.PERCENT:
        fee = v.rate("period_fee", inp.period_fee, maximum=Decimal(100))
    else:
        fee = v.money("period_fee", inp.period_fee)
        if fee < 0 or fee > MAX_PRINCIPAL:
            raise FinanceInputError(
                "period_fee",
                "finance.fee_out_of_range",
                {"value": inp.period_fee, "min": 0, "max": MAX_PRINCIPAL},
            )
    _set(inp, "period_fee", fee)


class ScheduleRow(NamedTuple):
    """One installment. `days` runs from the previous due date (or start) to `due_date`.

    `accrued_interest` is the interest that accrued in this period; it differs from
    `interest` (what is payable) only around an interest grace, where payable interest is
    deferred to the first row after the grace. A NamedTuple: schedules build many rows, and
    a tuple is several times cheaper to construct than a frozen dataclass.
    """

    seq: int
    due_date: date
    days: int
    opening_balance: Decimal
    principal: Decimal
    interest: Decimal
    fee: Decimal
    total: Decimal
    closing_balance: Decimal
    accrued_interest: Decimal


@dataclass(frozen=True, slots=True)
class ScheduleTotals:
    principal: Decimal
    interest: Decimal
    fee: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class AprResult:
    """Annualised IRR of the cash flows; every rate in percent, unrounded.

    `periodic_rate` is the IRR per schedule period, `apr` = periodic_rate x periods per year
    (monthly x 12: the nominal annual rate lenders disclose), `effective_annual_rate` =
    (1 + periodic)^periods_per_year - 1, `monthly_rate` = apr / 12.
    """

    periodic_rate: Decimal
    apr: Decimal
    effective_annual_rate: Decimal
    monthly_rate: Decimal
    periods_per_year: Decimal


@dataclass(frozen=True)
class ScheduleResult:
    """A computed schedule. `installment` is the constant installment of equal_installment
    and flat, else the first row's total. APR is solved lazily on first access."""

    input: ScheduleInput
    rows: tuple[ScheduleRow, ...]
    totals: ScheduleTotals
    installment: Decimal
    warnings: tuple[str, ...] = ()

    @cached_property
    def apr(self) -> AprResult:
        from .apr import compute_apr

        return compute_apr(self)
