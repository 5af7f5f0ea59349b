"""Small input checks shared by the dataclasses; each raises `FinanceInputError`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from .errors import FinanceInputError
from .rounding import FEN

E = TypeVar("E", bound=StrEnum)

MAX_RATE_DECIMALS = 8


def decimal_value(field: str, value: object) -> Decimal:
    """Accept Decimal or int (never float, never bool) and return a finite Decimal."""
    if type(value) is Decimal and value.is_finite():
        return value
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        code = "finance.float_not_allowed" if isinstance(value, float) else "finance.invalid_number"
        raise FinanceInputError(field, code, {"value": value})
    result = Decimal(value)
    if not result.is_finite():
        raise FinanceInputError(field, "finance.invalid_number", {"value": value})
    return result


def money(field: str, value: object) -> Decimal:
    """A yuan amount with at most two decimals, normalised to exactly two."""
    amount = decimal_value(field, value)
    if amount.adjusted() > 15:
        raise FinanceInputError(field, "finance.amount_out_of_range", {"value": value})
    rounded = amount.quantize(FEN)
    if rounded != amount:
        raise FinanceInputError(field, "finance.too_many_decimals", {"value": value, "max": 2})
    return rounded


def rate(field: str, value: object, *, maximum: Decimal = Decimal(1000)) -> Decimal:
    """A percentage in [0, maximum] with a bounded number of decimals."""
    result = decimal_value(field, value)
    exponent = result.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_RATE_DECIMALS:
        raise FinanceInputError(
            field, "finance.too_many_decimals", {"value": value, "max": MAX_RATE_DECIMALS}
        )
    if result < 0 or result > maximum:
        raise FinanceInputError(
            field, "finance.rate_out_of_range", {"value": value, "min": 0, "max": maximum}
        )
    return result


def integer(field: str, value: object) -> int:
    """A plain int (bool is rejected although it subclasses int)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise FinanceInputError(field, "finance.invalid_integer", {"value": value})
    return value


def day(field: str, value: object) -> date:
    """A calendar date; a datetime is rejected because the time of day would be ignored."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise FinanceInputError(field, "finance.invalid_date", {"value": value})
    return value


def choice(field: str, enum: type[E], value: object) -> E:
    """Coerce a string to a StrEnum member, or fail with the list of valid choices."""
    if type(value) is enum:
        return value
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum(value)
    except ValueError:
        raise FinanceInputError(
            field,
            "finance.invalid_choice",
            {"value": value, "choices": ", ".join(m.value for m in enum)},
        ) from None
