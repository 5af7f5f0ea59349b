"""The formula functions: what each does (`FUNCTIONS`, listed by the designer) and how (`IMPLS`).

Four kinds of implementation, chosen by how the compiler calls them:
- eager: called with the evaluated arguments;
- lazy: called with the environment and the argument closures (IF, IFS, IFERROR, AND, OR), so a
  branch not taken is not evaluated;
- aggregate: called with [(value, is_reference)], where a reference's value may be a list (a
  sub-table column or a multi-value field); as in Excel, text, booleans and blanks that come from
  references are skipped, while a direct argument must be a number;
- env: called with the environment only (TODAY).
"""

from __future__ import annotations

import calendar
import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from .errors import FormulaError
from .values import (
    CONTEXT,
    ONE,
    ZERO,
    check_text,
    fmt_number,
    from_serial,
    is_blank,
    make_date,
    norm,
    parse_number,
    power,
    serial,
    to_bool,
    to_date,
    to_int,
    to_number,
    to_text,
    type_error,
)


class FunctionSpec(NamedTuple):
    min_args: int
    max_args: int | None  # None: any number
    description_zh: str
    description_en: str
    example: str


class Env(Protocol):
    values: Mapping[str, Any]
    today: date | None


Closure = Callable[[Env], Any]


@dataclass(frozen=True, slots=True)
class Impl:
    kind: str  # "eager" | "lazy" | "aggregate" | "env"
    fn: Callable[..., Any]


def _bad(function: str, **params: object) -> FormulaError:
    return FormulaError("formula.invalid_argument", params={"function": function, **params})


# ---- logic -----------------------------------------------------------------------------------


def _if(env: Env, cond: Closure, then: Closure, otherwise: Closure | None = None) -> Any:
    if to_bool(cond(env)):
        return then(env)
    return otherwise(env) if otherwise is not None else False


def _ifs(env: Env, *pairs: Closure) -> Any:
    for i in range(0, len(pairs), 2):
        if to_bool(pairs[i](env)):
            return pairs[i + 1](env)
    raise FormulaError("formula.no_match", params={"function": "IFS"})


def _iferror(env: Env, value: Closure, fallback: Closure) -> Any:
    try:
        return value(env)
    except (FormulaError, ArithmeticError, ValueError):
        return fallback(env)


def _and(env: Env, *args: Closure) -> bool:
    return all(to_bool(arg(env)) for arg in args)


def _or(env: Env, *args: Closure) -> bool:
    return any(to_bool(arg(env)) for arg in args)


def _not(value: Any) -> bool:
    return not to_bool(value)


def _isblank(value: Any) -> bool:
    return is_blank(value)


def _isnumber(value: Any) -> bool:
    return isinstance(value, Decimal)


def _istext(value: Any) -> bool:
    return isinstance(value, str)


# ---- maths -----------------------------------------------------------------------------------


def round_to(value: Any, digits: Any, rounding: str) -> Decimal:
    """Round to `digits` places (negative: to tens, hundreds, ...); HALF_UP is away from zero."""
    x, n = to_number(value), to_int(digits)
    if n > 0 and x.adjusted() + 1 + n > CONTEXT.prec:
        return x  # no digit left to round at that place
    if n < -CONTEXT.Emax:
        return ZERO
    rounded = x.quantize(Decimal((0, (1,), -n)), rounding=rounding)
    if n < 0:
        with contextlib.suppress(InvalidOperation):
            rounded = rounded.quantize(ONE)  # 1.2E+3 → 1200
    return rounded


def _round(value: Any, digits: Any) -> Decimal:
    return round_to(value, digits, ROUND_HALF_UP)


def _roundup(value: Any, digits: Any) -> Decimal:
    return round_to(value, digits, ROUND_UP)


def _rounddown(value: Any, digits: Any) -> Decimal:
    return round_to(value, digits, ROUND_DOWN)


def _int(value: Any) -> Decimal:
    return to_number(value).to_integral_value(ROUND_FLOOR)


def _mod(a: Any, b: Any) -> Decimal:
    x, y = to_number(a), to_number(b)
    if not y:
        raise FormulaError("formula.division_by_zero")
    return x - y * (x / y).to_integral_value(ROUND_FLOOR)  # the sign of the divisor, as Excel


def _abs(value: Any) -> Decimal:
    return abs(to_number(value))


def _sqrt(value: Any) -> Decimal:
    x = to_number(value)
    if x < 0:
        raise _bad("SQRT", value=fmt_number(x))
    return x.sqrt()


def _power(a: Any, b: Any) -> Decimal:
    return power(a, b)


# ---- aggregates ------------------------------------------------------------------------------


def _items(parts: list[tuple[Any, bool]]) -> Iterator[tuple[Any, bool]]:
    for value, is_ref in parts:
        if isinstance(value, list):
            for item in value:
                yield norm(item), True
        else:
            yield value, is_ref


def _numbers(parts: list[tuple[Any, bool]], *, dates: bool = False) -> list[Any]:
    out: list[Any] = []
    for value, is_ref in _items(parts):
        if value is None or value == "":
            continue
        if type(value) is Decimal:
            out.append(value)
        elif isinstance(value, date):
            if dates:
                out.append(value)
            elif not is_ref:
                raise type_error("number", value)
        elif is_ref:
            continue  # text, booleans, rows in a range are skipped
        elif isinstance(value, bool | str):
            out.append(to_number(value))
        else:
            raise type_error("number", value)
    return out


def _sum(parts: list[tuple[Any, bool]]) -> Decimal:
    return sum(_numbers(parts), ZERO)


def _average(parts: list[tuple[Any, bool]]) -> Decimal:
    numbers = _numbers(parts)
    if not numbers:
        raise FormulaError("formula.division_by_zero", params={"function": "AVERAGE"})
    return sum(numbers, ZERO) / len(numbers)


def _extreme(parts: list[tuple[Any, bool]], pick: Callable[..., Any]) -> Any:
    values = _numbers(parts, dates=True)
    if not values:
        return ZERO
    dates = [v for v in values if isinstance(v, date)]
    if not dates:
        return pick(values)
    if len(dates) != len(values):
        raise type_error("date", ZERO)
    return pick(values, key=serial)


def _min(parts: list[tuple[Any, bool]]) -> Any:
    return _extreme(parts, min)


def _max(parts: list[tuple[Any, bool]]) -> Any:
    return _extreme(parts, max)


def _count(parts: list[tuple[Any, bool]]) -> Decimal:
    n = 0
    for value, is_ref in _items(parts):
        if isinstance(value, bool):
            n += not is_ref
        elif type(value) is Decimal or isinstance(value, date):
            n += 1
        elif isinstance(value, str) and not is_ref and value.strip():
            try:
                parse_number(value)
            except FormulaError:
                continue
            n += 1
    return Decimal(n)


def _counta(parts: list[tuple[Any, bool]]) -> Decimal:
    return Decimal(sum(1 for value, _ in _items(parts) if not is_blank(value)))


def _rows(parts: list[tuple[Any, bool]]) -> Decimal:
    (value, _), *_rest = parts
    if value is None:
        return ZERO
    if isinstance(value, list):
        return Decimal(len(value))
    raise type_error("list", value)


# ---- finance (Excel's PMT family; rate per period, cash paid out negative) -------------------


def _type_flag(value: Any) -> Decimal:
    return ONE if to_number(value) else ZERO


def pmt(rate: Any, nper: Any, present: Any, future: Any = None, kind: Any = None) -> Decimal:
    r, n, p = to_number(rate), to_number(nper), to_number(present)
    f, t = to_number(future), _type_flag(kind)
    if not n:
        raise _bad("PMT", nper="0")
    if not r:
        return -(p + f) / n
    growth = (1 + r) ** n
    if growth == 1:
        raise _bad("PMT", rate=fmt_number(r))
    return -(r * (p * growth + f)) / ((1 + r * t) * (growth - 1))


def fv(rate: Any, nper: Any, payment: Any, present: Any = None, kind: Any = None) -> Decimal:
    r, n, m = to_number(rate), to_number(nper), to_number(payment)
    p, t = to_number(present), _type_flag(kind)
    if not r:
        return -(p + m * n)
    growth = (1 + r) ** n
    return -(p * growth + m * (1 + r * t) / r * (growth - 1))


def pv(rate: Any, nper: Any, payment: Any, future: Any = None, kind: Any = None) -> Decimal:
    r, n, m = to_number(rate), to_number(nper), to_number(payment)
    f, t = to_number(future), _type_flag(kind)
    if not r:
        return -(f + m * n)
    growth = (1 + r) ** n
    if not growth:
        raise _bad("PV", rate=fmt_number(r))
    return -(f + m * (1 + r * t) / r * (growth - 1)) / growth


def ipmt(
    rate: Any, per: Any, nper: Any, present: Any, future: Any = None, kind: Any = None
) -> Decimal:
    r, k, n, t = to_number(rate), to_number(per), to_number(nper), _type_flag(kind)
    if k < 1 or k > n:
        raise _bad("IPMT", per=fmt_number(k))
    payment = pmt(r, n, present, future, t)
    if t and k == 1:
        return ZERO
    interest = fv(r, k - 1, payment, present, t) * r  # the balance after per - 1 payments, times r
    return interest / (1 + r) if t else interest


def ppmt(
    rate: Any, per: Any, nper: Any, present: Any, future: Any = None, kind: Any = None
) -> Decimal:
    k, n = to_number(per), to_number(nper)
    if k < 1 or k > n:
        raise _bad("PPMT", per=fmt_number(k))
    payment = pmt(rate, nper, present, future, kind)
    return payment - ipmt(rate, per, nper, present, future, kind)


# ---- dates -----------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    carry, month0 = divmod(day.month - 1 + months, 12)
    year = day.year + carry
    if not 1 <= year <= 9999:
        raise FormulaError("formula.invalid_date", params={"value": str(year)})
    month = month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _today(env: Env) -> date:
    return env.today or date.today()


def _date(year: Any, month: Any, day: Any) -> date | None:
    if year is None or year == "":
        return None
    return make_date(to_int(year), to_int(month), to_int(day))


def _edate(start: Any, months: Any) -> date | None:
    day = to_date(start)
    return None if day is None else add_months(day, to_int(months))


def _eomonth(start: Any, months: Any) -> date | None:
    day = to_date(start)
    if day is None:
        return None
    moved = add_months(day.replace(day=1), to_int(months))
    return moved.replace(day=calendar.monthrange(moved.year, moved.month)[1])


def _part(value: Any, attr: str) -> Decimal | None:
    day = to_date(value)
    return None if day is None else Decimal(getattr(day, attr))


def _year(value: Any) -> Decimal | None:
    return _part(value, "year")


def _month(value: Any) -> Decimal | None:
    return _part(value, "month")


def _day(value: Any) -> Decimal | None:
    return _part(value, "day")


def _days(end: Any, start: Any) -> Decimal | None:
    e, s = to_date(end), to_date(start)
    if e is None or s is None:
        return None
    return Decimal(e.toordinal() - s.toordinal())


def _whole_months(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def _datedif(start: Any, end: Any, unit: Any) -> Decimal | None:
    """Excel's DATEDIF. MD and YD count the days since the last whole month / year boundary
    (start + whole months, clamped to the month's end), which avoids Excel's negative MD."""
    s, e = to_date(start), to_date(end)
    code = to_text(unit).strip().upper()
    if code not in ("Y", "M", "D", "MD", "YM", "YD"):
        raise _bad("DATEDIF", unit=code[:10])
    if s is None or e is None:
        return None
    if s > e:
        raise _bad("DATEDIF", start=s.isoformat(), end=e.isoformat())
    if code == "D":
        return Decimal(e.toordinal() - s.toordinal())
    months = _whole_months(s, e)
    if code == "M":
        return Decimal(months)
    if code == "Y":
        return Decimal(months // 12)
    if code == "YM":
        return Decimal(months % 12)
    anchor = add_months(s, months if code == "MD" else months // 12 * 12)
    return Decimal(e.toordinal() - anchor.toordinal())


# ---- text ------------------------------------------------------------------------------------


def _concat(*values: Any) -> str:
    return check_text("".join(to_text(v) for v in values))


def _len(value: Any) -> Decimal:
    return Decimal(len(to_text(value)))


def _count_arg(value: Any, function: str) -> int:
    n = to_int(value)
    if n < 0:
        raise _bad(function, count=str(n))
    return n


def _left(text: Any, count: Any = ONE) -> str:
    return to_text(text)[: _count_arg(count, "LEFT")]


def _right(text: Any, count: Any = ONE) -> str:
    s, n = to_text(text), _count_arg(count, "RIGHT")
    return s[len(s) - n :] if n else ""


def _mid(text: Any, start: Any, count: Any) -> str:
    s, first, n = to_text(text), to_int(start), _count_arg(count, "MID")
    if first < 1:
        raise _bad("MID", start=str(first))
    return s[first - 1 : first - 1 + n]


def _upper(text: Any) -> str:
    return check_text(to_text(text).upper())


def _lower(text: Any) -> str:
    return to_text(text).lower()


_SPACES = re.compile(" +")


def _trim(text: Any) -> str:
    return _SPACES.sub(" ", to_text(text)).strip(" ")


def _value(value: Any) -> Decimal:
    if isinstance(value, date):
        return serial(value)
    if isinstance(value, bool):
        raise type_error("number", value)
    return to_number(value)


_NUMBER_FORMAT = re.compile(
    r'(?P<pre>[^0#,.%"]*)(?P<int>[#,0]*[#0])(?:\.(?P<dec>[0#]*))?(?P<pct>%?)(?P<suf>[^0#,.%"]*)'
)
_DATE_TOKEN = re.compile(r"yyyy|yy|mm|m|dd|d|hh|h|ss|s|.", re.IGNORECASE | re.DOTALL)


def _format_number(x: Decimal, spec: re.Match[str]) -> str:
    dec, int_part = spec["dec"] or "", spec["int"]
    if spec["pct"]:
        x = x * 100
    rounded = round_to(x, len(dec), ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, frac = format(abs(rounded), "f").partition(".")
    frac = frac.ljust(len(dec), "0")[: len(dec)]
    min_frac = len(dec.rstrip("#"))
    while len(frac) > min_frac and frac.endswith("0"):
        frac = frac[:-1]
    min_int = int_part.replace(",", "").count("0")
    whole = whole.lstrip("0").rjust(min_int, "0")
    if "," in int_part:
        whole = f"{int(whole or 0):,}" if whole or min_int else whole
    body = whole + ("." + frac if frac or (dec and min_frac) else "")
    if not body.strip("0.,"):
        sign = ""
    return f"{spec['pre']}{sign}{body}{spec['pct']}{spec['suf']}"


def _format_date(day: date, fmt: str) -> str:
    """yyyy yy mm m dd d hh h ss s; m/mm right after an hour is minutes, as in Excel."""
    moment = day if isinstance(day, datetime) else datetime(day.year, day.month, day.day)
    out: list[str] = []
    after_hour = False
    for token in _DATE_TOKEN.findall(fmt):
        low = token.lower()
        if low in ("yyyy", "yy"):
            out.append(f"{moment.year:04d}" if low == "yyyy" else f"{moment.year % 100:02d}")
            continue
        if low[0] == "m":
            number = moment.minute if after_hour else moment.month
        elif low[0] == "d":
            number = moment.day
        elif low[0] == "h":
            number = moment.hour
        elif low[0] == "s":
            number = moment.second
        else:
            out.append(token)  # literals keep "after an hour" (hh"时"mm"分")
            continue
        out.append(f"{number:02d}" if len(low) == 2 else str(number))
        after_hour = low[0] == "h"
    return "".join(out)


def _text(value: Any, fmt: Any) -> str:
    """TEXT with simple formats: 0, 0.00, #,##0.00, 0%, ¥#,##0.00元; yyyy-mm-dd, yyyy年m月d日."""
    pattern = to_text(fmt)
    if pattern in ("", "@") or pattern.lower() in ("general", "g/通用格式"):
        return check_text(to_text(value))
    spec = _NUMBER_FORMAT.fullmatch(pattern)
    if spec:
        if isinstance(value, str):
            try:
                number = parse_number(value)
            except FormulaError:
                return value  # Excel leaves text alone
        elif isinstance(value, date):
            number = serial(value)
        else:
            number = to_number(value)
        return check_text(_format_number(number, spec))
    if re.search(r"[ymdhs]", pattern, re.IGNORECASE) and not re.search(r"[0#]", pattern):
        if isinstance(value, Decimal):
            day: date | None = from_serial(value)
        else:
            try:
                day = to_date(value) if not isinstance(value, datetime) else value
            except FormulaError:
                return to_text(value)
        return "" if day is None else check_text(_format_date(day, pattern))
    raise _bad("TEXT", format=pattern[:20])


# ---- the table -------------------------------------------------------------------------------


def _eager(fn: Callable[..., Any]) -> Impl:
    return Impl("eager", fn)


def _lazy(fn: Callable[..., Any]) -> Impl:
    return Impl("lazy", fn)


def _agg(fn: Callable[..., Any]) -> Impl:
    return Impl("aggregate", fn)


# fmt: off
_TABLE: list[tuple[str, Impl, int, int | None, str, str, str]] = [
    # name, implementation, min args, max args, zh, en, example
    ("IF", _lazy(_if), 2, 3,
     "条件成立返回第二个参数,否则返回第三个参数(省略为 FALSE)",
     "The second argument if the condition holds, else the third (FALSE if omitted)",
     'IF(amount > 500000, "大额", "普通")'),
    ("IFS", _lazy(_ifs), 2, None,
     "依次检查条件,返回第一个成立条件对应的值;都不成立时报错",
     "Checks conditions in order and returns the value of the first that holds",
     'IFS(score >= 90, "A", score >= 60, "B", TRUE, "C")'),
    ("IFERROR", _lazy(_iferror), 2, 2,
     "第一个参数计算出错时返回第二个参数",
     "The second argument if evaluating the first one fails",
     "IFERROR(income / debt, 0)"),
    ("AND", _lazy(_and), 1, None, "所有条件都成立时为 TRUE", "TRUE if every condition holds",
     'AND(age >= 18, age <= 65)'),
    ("OR", _lazy(_or), 1, None, "任一条件成立时为 TRUE", "TRUE if any condition holds",
     'OR(purpose = "经营", purpose = "消费")'),
    ("NOT", _eager(_not), 1, 1, "取反", "Logical negation", "NOT(ISBLANK(phone))"),
    ("ISBLANK", _eager(_isblank), 1, 1, "为空时为 TRUE", "TRUE if the value is blank",
     "ISBLANK(guarantor)"),
    ("ISNUMBER", _eager(_isnumber), 1, 1, "是数字时为 TRUE", "TRUE if the value is a number",
     "ISNUMBER(amount)"),
    ("ISTEXT", _eager(_istext), 1, 1, "是文本时为 TRUE", "TRUE if the value is text",
     "ISTEXT(remark)"),
    ("TRUE", _eager(lambda: True), 0, 0, "逻辑值 TRUE", "The logical value TRUE", "TRUE()"),
    ("FALSE", _eager(lambda: False), 0, 0, "逻辑值 FALSE", "The logical value FALSE", "FALSE()"),
    # maths
    ("ROUND", _eager(_round), 2, 2, "四舍五入到指定小数位(负数为整十、整百)",
     "Rounds half away from zero to the given decimals (negative: tens, hundreds)",
     "ROUND(amount * rate, 2)"),
    ("ROUNDUP", _eager(_roundup), 2, 2, "向远离零的方向舍入", "Rounds away from zero",
     "ROUNDUP(amount / 12, 0)"),
    ("ROUNDDOWN", _eager(_rounddown), 2, 2, "向零的方向舍去", "Rounds toward zero",
     "ROUNDDOWN(amount / 12, 2)"),
    ("INT", _eager(_int), 1, 1, "向下取整", "Rounds down to an integer", "INT(term / 12)"),
    ("MOD", _eager(_mod), 2, 2, "求余数(符号与除数相同)",
     "Remainder, with the sign of the divisor", "MOD(term, 12)"),
    ("ABS", _eager(_abs), 1, 1, "绝对值", "Absolute value", "ABS(balance)"),
    ("SQRT", _eager(_sqrt), 1, 1, "平方根", "Square root", "SQRT(area)"),
    ("POWER", _eager(_power), 2, 2, "乘幂,同 ^", "Power, same as ^", "POWER(1 + rate, term)"),
    ("SUM", _agg(_sum), 1, None, "求和,可用子表列", "Sum; accepts a sub-table column",
     "SUM(co_borrowers.income) * 12"),
    ("AVERAGE", _agg(_average), 1, None, "平均值(忽略空值)", "Average, blanks ignored",
     "AVERAGE(co_borrowers.income)"),
    ("MIN", _agg(_min), 1, None, "最小值", "Smallest value", "MIN(amount, 500000)"),
    ("MAX", _agg(_max), 1, None, "最大值", "Largest value", "MAX(co_borrowers.age)"),
    ("COUNT", _agg(_count), 1, None, "数字的个数", "How many numbers",
     "COUNT(co_borrowers.income)"),
    ("COUNTA", _agg(_counta), 1, None, "非空值的个数", "How many non-blank values",
     "COUNTA(co_borrowers.name)"),
    ("ROWS", _agg(_rows), 1, 1, "子表的行数", "Number of rows of a sub-table",
     "ROWS(co_borrowers)"),
    # finance
    ("PMT", _eager(pmt), 3, 5,
     "等额本息每期还款额(利率为每期利率;付出为负数);参数:利率, 期数, 现值[, 终值, 类型]",
     "Payment per period of an annuity (rate per period; money paid out is negative): "
     "rate, nper, pv[, fv, type]",
     "ROUND(PMT(annual_rate / 12, term, -amount), 2)"),
    ("IPMT", _eager(ipmt), 4, 6, "第 per 期还款中的利息", "Interest part of payment number per",
     "IPMT(annual_rate / 12, 1, term, -amount)"),
    ("PPMT", _eager(ppmt), 4, 6, "第 per 期还款中的本金", "Principal part of payment number per",
     "PPMT(annual_rate / 12, 1, term, -amount)"),
    ("FV", _eager(fv), 3, 5, "终值:利率, 期数, 每期付款[, 现值, 类型]",
     "Future value: rate, nper, pmt[, pv, type]", "FV(3% / 12, 12, -1000)"),
    ("PV", _eager(pv), 3, 5, "现值:利率, 期数, 每期付款[, 终值, 类型]",
     "Present value: rate, nper, pmt[, fv, type]", "PV(8% / 12, 36, -3000)"),
    # dates
    ("TODAY", Impl("env", _today), 0, 0, "今天的日期", "Today's date",
     'DATEDIF(birth_date, TODAY(), "Y")'),
    ("DATE", _eager(_date), 3, 3, "由年、月、日组成日期(月、日可溢出)",
     "A date from year, month, day (months and days roll over)", "DATE(2025, 1, 31)"),
    ("DATEDIF", _eager(_datedif), 3, 3,
     '两个日期之差:"Y" 整年,"M" 整月,"D" 天,"MD" "YM" "YD" 不足月/年的部分',
     'Difference between dates in "Y", "M", "D", or the remainder "MD", "YM", "YD"',
     'DATEDIF(birth_date, TODAY(), "Y")'),
    ("EDATE", _eager(_edate), 2, 2, "几个月之后的同一天(月末对齐)",
     "The same day some months later (clamped to month end)", "EDATE(start_date, term)"),
    ("EOMONTH", _eager(_eomonth), 2, 2, "几个月之后的月末", "The month end some months later",
     "EOMONTH(start_date, 0)"),
    ("YEAR", _eager(_year), 1, 1, "日期的年份", "Year of a date", "YEAR(birth_date)"),
    ("MONTH", _eager(_month), 1, 1, "日期的月份", "Month of a date", "MONTH(start_date)"),
    ("DAY", _eager(_day), 1, 1, "日期的日", "Day of a date", "DAY(start_date)"),
    ("DAYS", _eager(_days), 2, 2, "两个日期相差的天数(结束, 开始)",
     "Days between two dates (end, start)", "DAYS(end_date, start_date)"),
    # text
    ("CONCAT", _eager(_concat), 1, None, "连接文本", "Joins texts", 'CONCAT(name, "-", phone)'),
    ("CONCATENATE", _eager(_concat), 1, None, "连接文本,同 CONCAT", "Joins texts, as CONCAT",
     'CONCATENATE(province, city)'),
    ("LEN", _eager(_len), 1, 1, "文本的字符数", "Number of characters", "LEN(id_number)"),
    ("LEFT", _eager(_left), 1, 2, "从左取若干字符", "The first characters",
     "LEFT(id_number, 6)"),
    ("RIGHT", _eager(_right), 1, 2, "从右取若干字符", "The last characters",
     "RIGHT(phone, 4)"),
    ("MID", _eager(_mid), 3, 3, "从第几个字符起取若干字符", "Characters from a position",
     "MID(id_number, 7, 8)"),
    ("UPPER", _eager(_upper), 1, 1, "转大写", "Upper case", "UPPER(code)"),
    ("LOWER", _eager(_lower), 1, 1, "转小写", "Lower case", "LOWER(email)"),
    ("TRIM", _eager(_trim), 1, 1, "去掉首尾空格,中间连续空格保留一个",
     "Removes leading/trailing spaces and repeated inner spaces", "TRIM(name)"),
    ("TEXT", _eager(_text), 2, 2,
     '按格式显示:"0.00"、"#,##0.00"、"0%"、"yyyy-mm-dd"、"yyyy年m月d日"',
     'Formats a value: "0.00", "#,##0.00", "0%", "yyyy-mm-dd"',
     'TEXT(amount, "#,##0.00")'),
    ("VALUE", _eager(_value), 1, 1, "把文本转为数字", "Converts text to a number",
     'VALUE("1,000")'),
]
# fmt: on

IMPLS: dict[str, Impl] = {row[0]: row[1] for row in _TABLE}
FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType(
    {name: FunctionSpec(lo, hi, zh, en, example) for name, _, lo, hi, zh, en, example in _TABLE}
)
AGGREGATES = frozenset(name for name, impl in IMPLS.items() if impl.kind == "aggregate")
