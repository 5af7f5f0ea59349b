"""Loan mathematics for LoanDesk: schedules, APR, caps, penalties, allocation, prepayment.

Plain Python (no Django). Money is `Decimal` yuan quantized to the fen; no float anywhere.
"""

from .allocation import (
    AllocationResult,
    Component,
    DueInstallment,
    InstallmentAllocation,
    Overpayment,
    Strategy,
    allocate_payment,
)
from .apr import compute_apr, periodic_irr
from .calendar import (
    ChineseWorkingDayCalendar,
    SetWorkingDayCalendar,
    WeekendCalendar,
    WorkingDayCalendar,
    next_working_day,
)
from .caps import (
    DEFAULT_LPR_ONE_YEAR,
    CapLine,
    CapPolicy,
    cap_lines,
    cap_rate,
    check_apr_cap,
    disclosed_apr,
    judicial_cap,
)
from .enums import DayCount, FeeKind, Frequency, InterestPeriod, Method
from .errors import AprCapExceeded, FinanceInputError
from .penalty import (
    OverdueInstallment,
    PenaltyAccrual,
    PenaltyTerms,
    accrue_penalties,
    accrue_penalty,
    chargeable_days,
)
from .prepayment import (
    PayoffQuote,
    PrepaymentMode,
    PrepaymentResult,
    partial_prepayment,
    payoff_quote,
)
from .schedule import build_schedule
from .serialize import parse_schedule_input, schedule_to_dict
from .types import AprResult, ScheduleInput, ScheduleResult, ScheduleRow, ScheduleTotals

__all__ = [
    "DEFAULT_LPR_ONE_YEAR",
    "AllocationResult",
    "AprCapExceeded",
    "AprResult",
    "CapLine",
    "CapPolicy",
    "ChineseWorkingDayCalendar",
    "Component",
    "DayCount",
    "DueInstallment",
    "FeeKind",
    "FinanceInputError",
    "Frequency",
    "InstallmentAllocation",
    "InterestPeriod",
    "Method",
    "OverdueInstallment",
    "Overpayment",
    "PayoffQuote",
    "PenaltyAccrual",
    "PenaltyTerms",
    "PrepaymentMode",
    "PrepaymentResult",
    "ScheduleInput",
    "ScheduleResult",
    "ScheduleRow",
    "ScheduleTotals",
    "SetWorkingDayCalendar",
    "Strategy",
    "WeekendCalendar",
    "WorkingDayCalendar",
    "accrue_penalties",
    "accrue_penalty",
    "allocate_payment",
    "build_schedule",
    "cap_lines",
    "cap_rate",
    "chargeable_days",
    "check_apr_cap",
    "compute_apr",
    "disclosed_apr",
    "judicial_cap",
    "next_working_day",
    "parse_schedule_input",
    "partial_prepayment",
    "payoff_quote",
    "periodic_irr",
    "schedule_to_dict",
]
