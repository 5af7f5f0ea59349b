"""JSON shape of a schedule, and parsing of CLI/REST parameters into `ScheduleInput`.

Amounts are strings in yuan with two decimals and rates strings in percent with two
decimals, so no client ever sees a binary float.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .calendar import WorkingDayCalendar
from .errors import FinanceInputError
from .rounding import FEN, percent_str
from .types import ScheduleInput, ScheduleResult


def _money(value: Decimal) -> str:
    return str(value.quantize(FEN))


def schedule_to_dict(result: ScheduleResult) -> dict[str, Any]:
    """The public JSON shape; computes the APR if it was not computed yet."""
    apr = result.apr
    return {
        "installment": _money(result.installment),
        "rows": [
            {
                "seq": row.seq,
                "due_date": row.due_date.isoformat(),
                "days": row.days,
                "opening_balance": _money(row.opening_balance),
                "principal": _money(row.principal),
                "interest": _money(row.interest),
                "fee": _money(row.fee),
                "total": _money(row.total),
                "balance": _money(row.closing_balance),
            }
            for row in result.rows
        ],
        "totals": {
            "principal": _money(result.totals.principal),
            "interest": _money(result.totals.interest),
            "fee": _money(result.totals.fee),
            "total": _money(result.totals.total),
        },
        "apr": percent_str(apr.apr),
        "monthly_rate": percent_str(apr.monthly_rate),
        "effective_annual_rate": percent_str(apr.effective_annual_rate),
        "warnings": list(result.warnings),
    }


def parse_decimal(field: str, value: object) -> Decimal:
    """A Decimal from a string, int or Decimal; floats are refused (pass "6.5", not 6.5)."""
    if isinstance(value, float):
        raise FinanceInputError(field, "finance.float_not_allowed", {"value": value})
    if isinstance(value, bool):
        raise FinanceInputError(field, "finance.invalid_number", {"value": value})
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", "").replace("_", ""))
        except InvalidOperation:
            raise FinanceInputError(field, "finance.invalid_number", {"value": value}) from None
        if result.is_finite():
            return result
    raise FinanceInputError(field, "finance.invalid_number", {"value": value})


def parse_int(field: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise FinanceInputError(field, "finance.invalid_integer", {"value": value})


def parse_date(field: str, value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise FinanceInputError(field, "finance.invalid_date", {"value": value})


_TRUE = {"true", "1", "yes", "on", "y"}
_FALSE = {"false", "0", "no", "off", "n"}


def parse_bool(field: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise FinanceInputError(field, "finance.invalid_boolean", {"value": value})


def _text(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise FinanceInputError(field, "finance.invalid_choice", {"value": value})
    return value.strip().lower()


_PARSERS: dict[str, Callable[[str, object], object]] = {
    "principal": parse_decimal,
    "annual_rate": parse_decimal,
    "periods": parse_int,
    "start": parse_date,
    "method": _text,
    "frequency": _text,
    "first_due": parse_date,
    "due_day": parse_int,
    "interest_period": _text,
    "day_count": _text,
    "installment_multiple": parse_decimal,
    "grace_periods": parse_int,
    "interest_grace_periods": parse_int,
    "holiday_shift": parse_bool,
    "upfront_fee": parse_decimal,
    "period_fee": parse_decimal,
    "period_fee_kind": _text,
}
REQUIRED = ("principal", "annual_rate", "periods", "start")
PARAMETERS = tuple(_PARSERS)


def parse_schedule_input(
    params: Mapping[str, object], *, calendar: WorkingDayCalendar | None = None
) -> ScheduleInput:
    """Build a validated `ScheduleInput` from snake_case params (strings or JSON values).

    Missing, None or blank optional params take their defaults; unknown names are refused
    so a typo never silently changes a schedule.
    """
    unknown = sorted(set(params) - set(_PARSERS))
    if unknown:
        raise FinanceInputError(unknown[0], "finance.unknown_parameter", {"name": unknown[0]})
    values: dict[str, Any] = {}
    for name, parser in _PARSERS.items():
        raw = params.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if name in REQUIRED:
                raise FinanceInputError(name, "finance.required")
            continue
        values[name] = parser(name, raw)
    return ScheduleInput(calendar=calendar, **values)
