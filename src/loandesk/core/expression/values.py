"""How formula values behave: coercions, blanks, comparison and arithmetic, the Excel way.

A formula sees Decimal (every number; ints and floats from callers are converted), str, bool,
date/datetime, None (blank) and lists (multi-value fields and sub-table columns, only inside
aggregate functions). Everything here runs inside the evaluation's Decimal context (`CONTEXT`).

Blank (a missing key, None, or "") is 0 in arithmetic, "" in text and FALSE as a condition; in a
comparison None takes the "zero" of the other side's type (0, "", FALSE), as an empty cell does.
A blank date propagates: `date + blank`, `date - blank` and the date functions give blank.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import (
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

from .errors import FormulaError

# prec 28 (Decimal's default); exponents bounded well past Excel's 1e308 so every number stays
# cheap to print and to convert; overflow, division by zero and invalid operations raise.
CONTEXT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    Emax=999,
    Emin=-999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
MAX_TEXT = 10_000  # longest text a formula may build
MAX_INT_ARG = 10**9  # counts, digits, months, ... beyond this are nonsense
EXCEL_EPOCH = date(1899, 12, 30)  # serial 0, so serial 1 is 1900-01-01 (as Excel, after 1900-03)
_MAX_SERIAL = (date(9999, 12, 31) - EXCEL_EPOCH).days
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def type_error(expected: str, value: object) -> FormulaError:
    return FormulaError("formula.type_error", params={"expected": expected, "got": kind(value)})


def kind(value: object) -> str:
    """The name of a value's type as the designer shows it."""
    if value is None:
        return "blank"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal | int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, date):
        return "date"
    if isinstance(value, list | tuple):
        return "list"
    return "object"


def norm(value: Any) -> Any:
    """A caller's value as the formula sees it: ints and floats become Decimal."""
    t = type(value)
    if t is Decimal:
        if value.is_finite():
            return value
        raise type_error("number", "NaN")
    if value is None or t is str or t is bool or t is date or t is datetime:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return Decimal(repr(value))
        raise type_error("number", "NaN")
    if isinstance(value, Decimal):
        return norm(Decimal(value))
    if isinstance(value, tuple):
        return list(value)
    return value  # str/date subclasses, lists, dicts: the consumer decides


def is_blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list) and not value)


def parse_number(text: str) -> Decimal:
    """Numeric text the way Excel reads it: spaces, thousands separators and a % allowed."""
    s = text.strip().replace(",", "")
    if not s:
        return ZERO
    scale = 0
    if s.endswith("%"):
        s, scale = s[:-1].rstrip(), -2
    if not _NUMBER_TEXT.fullmatch(s):
        raise FormulaError("formula.type_error", params={"expected": "number", "got": "text"})
    value = CONTEXT.create_decimal(s)
    return value.scaleb(scale, CONTEXT) if scale else value


def to_number(value: Any) -> Decimal:
    if type(value) is Decimal:
        return value
    if value is None:
        return ZERO
    if isinstance(value, bool):
        return ONE if value else ZERO
    if isinstance(value, str):
        return parse_number(value)
    if isinstance(value, Decimal | int | float):
        return to_number(norm(value))
    raise type_error("number", value)


def to_int(value: Any) -> int:
    """An integer argument (count, digits, months): truncated toward zero, as Excel does."""
    number = to_number(value)
    if abs(number) > MAX_INT_ARG:
        raise FormulaError("formula.invalid_argument", params={"value": fmt_number(number)})
    return int(number)


def fmt_number(value: Decimal) -> str:
    """600000.00 → "600000", 0.050 → "0.05"; scientific only for absurd magnitudes."""
    if not value:
        return "0"
    n = value.normalize(CONTEXT)
    if -40 < n.adjusted() < 40:
        return format(n, "f")
    return str(n)


def to_text(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal | int | float):
        return fmt_number(to_number(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)
    raise type_error("text", value)


def check_text(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise FormulaError("formula.text_too_long", params={"max": MAX_TEXT})
    return text


def to_bool(value: Any) -> bool:
    if value is True or value is False:
        return value
    if value is None:
        return False
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return bool(to_number(value))
    if isinstance(value, str):
        word = value.strip().upper()
        if word in ("TRUE", "FALSE", ""):
            return word == "TRUE"
        raise type_error("boolean", value)
    if isinstance(value, date):
        return True
    raise type_error("boolean", value)


def serial(value: date) -> Decimal:
    """Excel's serial number of a date (days since 1899-12-30; time as the fraction)."""
    days = Decimal(value.toordinal() - EXCEL_EPOCH.toordinal())
    if isinstance(value, datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        days += Decimal(seconds) / 86400
    return days


def from_serial(number: Decimal) -> date:
    days = number.to_integral_value(ROUND_FLOOR)
    if not 1 <= days <= _MAX_SERIAL:
        raise FormulaError("formula.invalid_date", params={"value": fmt_number(number)})
    return EXCEL_EPOCH + timedelta(days=int(days))


def to_date(value: Any) -> date | None:
    """A date argument; None for blank. datetimes become their date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip().replace("/", "-")
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            raise FormulaError("formula.invalid_date", params={"value": value[:40]}) from None
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return from_serial(to_number(value))
    raise type_error("date", value)


def make_date(year: int, month: int, day: int) -> date:
    """DATE(y, m, d) with Excel's rollover: month 13 is next January, day 0 the last of before."""
    if 0 <= year < 1900:
        year += 1900
    carry, month0 = divmod(month - 1, 12)
    year += carry
    if not 1 <= year <= 9999:
        raise FormulaError("formula.invalid_date", params={"value": f"{year}-{month0 + 1}"})
    try:
        return date(year, month0 + 1, 1) + timedelta(days=day - 1)
    except OverflowError:
        raise FormulaError("formula.invalid_date", params={"value": f"{year}"}) from None


def shift_days(day: date, days: Decimal) -> date:
    whole = days.to_integral_value(ROUND_FLOOR)
    if abs(whole) > 4_000_000:
        raise FormulaError("formula.invalid_date", params={"value": fmt_number(days)})
    try:
        return day + timedelta(days=int(whole))
    except OverflowError:
        raise FormulaError("formula.invalid_date", params={"value": fmt_number(days)}) from None


# ---- operators -------------------------------------------------------------------------------


def add(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        return a + b
    if isinstance(a, date):
        return None if b is None else shift_days(a, _plain_number(b))
    if isinstance(b, date):
        return None if a is None else shift_days(b, _plain_number(a))
    return to_number(a) + to_number(b)


def sub(a: Any, b: Any) -> Any:
    if type(a) is Decimal and type(b) is Decimal:
        return a - b
    if isinstance(a, date):
        if b is None:
            return None
        if isinstance(b, date):
            if isinstance(a, datetime) or isinstance(b, datetime):
                return serial(a) - serial(b)
            return Decimal(a.toordinal() - b.toordinal())
        return shift_days(a, -_plain_number(b))
    if isinstance(b, date):
        if a is None:
            return None
        raise type_error("date", a)
    return to_number(a) - to_number(b)


def _plain_number(value: Any) -> Decimal:
    if isinstance(value, date):
        raise type_error("number", value)
    return to_number(value)


def mul(a: Any, b: Any) -> Decimal:
    if type(a) is Decimal and type(b) is Decimal:
        return a * b
    return _plain_number(a) * _plain_number(b)


def div(a: Any, b: Any) -> Decimal:
    x, y = _plain_number(a), _plain_number(b)
    if not y:
        raise FormulaError("formula.division_by_zero")
    return x / y


def power(a: Any, b: Any) -> Decimal:
    x, y = _plain_number(a), _plain_number(b)
    if not x:
        if not y:
            raise FormulaError("formula.invalid_argument", params={"value": "0^0"})
        if y < 0:
            raise FormulaError("formula.division_by_zero")
    return x**y


def negate(a: Any) -> Decimal:
    return -_plain_number(a)


def percent(a: Any) -> Decimal:
    return _plain_number(a) / HUNDRED


def concat(a: Any, b: Any) -> str:
    left, right = to_text(a), to_text(b)
    if len(left) + len(right) > MAX_TEXT:
        raise FormulaError("formula.text_too_long", params={"max": MAX_TEXT})
    return left + right


def _rank(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return 2, value
    if type(value) is Decimal:
        return 0, value
    if isinstance(value, str):
        return 1, value.casefold()
    if isinstance(value, date):
        return 0, serial(value)
    if isinstance(value, Decimal | int | float):
        return 0, to_number(value)
    raise type_error("value", value)


def _blank_like(value: Any) -> Any:
    if isinstance(value, str):
        return ""
    if isinstance(value, bool):
        return False
    return ZERO


def compare(a: Any, b: Any) -> int:
    """Excel's ordering: numbers (and dates) < text < booleans; text ignores case."""
    if type(a) is Decimal and type(b) is Decimal:
        return (a > b) - (a < b)
    if a is None:
        if b is None:
            return 0
        a = _blank_like(b)
    elif b is None:
        b = _blank_like(a)
    ra, ka = _rank(a)
    rb, kb = _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    return int(ka > kb) - int(ka < kb)


def eq(a: Any, b: Any) -> bool:
    return compare(a, b) == 0


def ne(a: Any, b: Any) -> bool:
    return compare(a, b) != 0


def lt(a: Any, b: Any) -> bool:
    return compare(a, b) < 0


def le(a: Any, b: Any) -> bool:
    return compare(a, b) <= 0


def gt(a: Any, b: Any) -> bool:
    return compare(a, b) > 0


def ge(a: Any, b: Any) -> bool:
    return compare(a, b) >= 0


def result(value: Any) -> Decimal | str | bool | date | None:
    """The value `Formula.evaluate` returns: a scalar, numbers as Decimal."""
    if value is None or isinstance(value, str | bool | date):
        return value
    if isinstance(value, Decimal | int | float):
        number = to_number(value)
        return number.copy_abs() if number.is_zero() else number  # no "-0" on screen
    raise type_error("value", value)
