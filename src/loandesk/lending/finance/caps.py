"""Interest-rate cap lines and the APR check against a product's cap.

* judicial: 4 x the one-year LPR (Supreme People's Court, 2020); with LPR 3.0 % -> 12 %.
* 24 % and 36 %: the older lines still used in regulatory guidance for consumer lending.

The check compares the *disclosed* APR, i.e. rounded half-up to two decimals of a percent:
a 24 % loan whose fen-rounded installments put its exact IRR at 24.00001 % is a 24.00 % loan.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from . import validation as v
from .errors import AprCapExceeded
from .rounding import FEN, percent_str
from .types import ScheduleResult

DEFAULT_LPR_ONE_YEAR = Decimal("3.0")


class CapLine(StrEnum):
    JUDICIAL = "judicial"
    RATE_24 = "24"
    RATE_36 = "36"


class CapPolicy(StrEnum):
    """`refuse` raises AprCapExceeded; `flag` returns a warning string."""

    REFUSE = "refuse"
    FLAG = "flag"


def judicial_cap(lpr_one_year: Decimal = DEFAULT_LPR_ONE_YEAR) -> Decimal:
    """4 x the one-year LPR, in percent."""
    return 4 * v.rate("lpr_one_year", lpr_one_year, maximum=Decimal(100))


def cap_lines(lpr_one_year: Decimal = DEFAULT_LPR_ONE_YEAR) -> dict[CapLine, Decimal]:
    """All cap lines in percent, for display and product configuration."""
    return {
        CapLine.JUDICIAL: judicial_cap(lpr_one_year),
        CapLine.RATE_24: Decimal(24),
        CapLine.RATE_36: Decimal(36),
    }


def cap_rate(line: CapLine | str, lpr_one_year: Decimal = DEFAULT_LPR_ONE_YEAR) -> Decimal:
    """The cap of one line, in percent."""
    return cap_lines(lpr_one_year)[v.choice("cap_line", CapLine, line)]


def disclosed_apr(apr: Decimal | ScheduleResult) -> Decimal:
    """The APR as disclosed: percent, two decimals, half-up."""
    value = apr.apr.apr if isinstance(apr, ScheduleResult) else apr
    return value.quantize(FEN, ROUND_HALF_UP)


def check_apr_cap(
    apr: Decimal | ScheduleResult, cap: Decimal, policy: CapPolicy | str = CapPolicy.REFUSE
) -> str | None:
    """None if the disclosed APR is within `cap` (percent); else raise or return a warning."""
    policy = v.choice("policy", CapPolicy, policy)
    cap = v.rate("cap", cap)
    disclosed = disclosed_apr(apr)
    if disclosed <= cap:
        return None
    if policy is CapPolicy.REFUSE:
        raise AprCapExceeded(disclosed, cap)
    return f"finance.apr_above_cap: APR {disclosed}% exceeds the cap of {percent_str(cap)}%"
