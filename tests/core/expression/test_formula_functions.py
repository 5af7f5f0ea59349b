"""Every function, with normal and edge inputs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from typing import Any

import pytest

from loandesk.core.expression import FUNCTIONS, FormulaError, FunctionSpec, compile_formula

from .helpers import TODAY, ev

ROWS = [
    {"income": D("3000.50"), "name": "张三", "age": 30, "since": date(2020, 5, 1)},
    {"income": 4000, "name": "", "age": D(45), "since": date(2019, 1, 1)},
    {"income": None, "name": "王五"},
    {"income": "n/a", "name": "赵六", "age": True},
]
VALUES: dict[str, Any] = {
    "amount": D("600000.00"),
    "rate": D("0.0435"),
    "term": 12,
    "co": ROWS,
    "tags": ["经营", "消费", ""],
    "start": date(2025, 1, 31),
    "birth": date(2000, 2, 29),
    "name": "  Li   Lei  ",
    "id_number": "330106199001011234",
}

CASES: list[tuple[str, Any]] = [
    # logic
    ('IF(amount > 500000, "大额", "普通")', "大额"),
    ('IF(amount > 700000, "大额", "普通")', "普通"),
    ("IF(FALSE, 1)", False),
    ("IF(TRUE, 1, 1 / 0)", D(1)),  # the branch not taken is not evaluated
    ("IF(FALSE, 1 / 0, 2)", D(2)),
    ('IF("true", 1, 2)', D(1)),
    ("IF(0.0, 1, 2)", D(2)),
    ("IF(start, 1, 2)", D(1)),
    ('IFS(amount > 1000000, "A", amount > 500000, "B", TRUE, "C")', "B"),
    ('IFS(FALSE, 1, TRUE, "x")', "x"),
    ("IFERROR(1 / 0, -1)", D(-1)),
    ("IFERROR(amount, -1)", D("600000.00")),
    ('IFERROR(VALUE("abc"), 0)', D(0)),
    ("IFERROR(IFS(FALSE, 1), 9)", D(9)),
    ("AND(amount > 0, term = 12)", True),
    ("AND(TRUE, FALSE, 1 / 0)", False),  # stops at the first FALSE
    ("AND(1, 2)", True),
    ("OR(amount < 0, term = 12)", True),
    ("OR(TRUE, 1 / 0)", True),
    ("OR(FALSE, 0)", False),
    ("NOT(amount > 0)", False),
    ("NOT(0)", True),
    ("ISBLANK(nothing)", True),
    ("ISBLANK(amount)", False),
    ('ISBLANK("")', True),
    ("ISNUMBER(amount)", True),
    ("ISNUMBER(term)", True),
    ('ISNUMBER("1")', False),
    ("ISTEXT(name)", True),
    ("ISTEXT(amount)", False),
    ("TRUE()", True),
    ("FALSE()", False),
    # maths
    ("ROUND(2.5, 0)", D(3)),  # half away from zero, as Excel
    ("ROUND(-2.5, 0)", D(-3)),
    ("ROUND(2.45, 1)", D("2.5")),
    ("ROUND(1.005, 2)", D("1.01")),
    ("ROUND(1234.567, -2)", D(1200)),
    ("ROUND(1250, -2)", D(1300)),
    ("ROUND(-1250, -2)", D(-1300)),
    ("ROUND(0.4, 0)", D(0)),
    ("ROUND(amount * rate / 12, 2)", D("2175.00")),
    ("ROUND(1E30, 2)", D("1E30")),  # no digit left to round
    ("ROUND(123, -5000)", D(0)),
    ("ROUND(1.23456, 2.9)", D("1.23")),  # digits truncated
    ("ROUNDUP(1.201, 2)", D("1.21")),
    ("ROUNDUP(-1.201, 2)", D("-1.21")),
    ("ROUNDUP(1201, -2)", D(1300)),
    ("ROUNDDOWN(1.209, 2)", D("1.20")),
    ("ROUNDDOWN(-1.209, 2)", D("-1.20")),
    ("ROUNDDOWN(1299, -2)", D(1200)),
    ("INT(1.9)", D(1)),
    ("INT(-1.5)", D(-2)),  # down, not toward zero
    ("INT(term / 5)", D(2)),
    ("MOD(10, 3)", D(1)),
    ("MOD(-3, 2)", D(1)),  # the sign of the divisor
    ("MOD(3, -2)", D(-1)),
    ("MOD(5.5, 2)", D("1.5")),
    ("ABS(-3.5)", D("3.5")),
    ("ABS(x)", D(0)),
    ("SQRT(16)", D(4)),
    ("SQRT(2)", D(2).sqrt()),
    ("POWER(2, 10)", D(1024)),
    ("POWER(1 + rate, 0)", D(1)),
    ("POWER(4, 0.5)", D(2)),
    # aggregates, with a sub-table column
    ("SUM(co.income)", D("7000.50")),
    ("SUM(co.income) * 12", D("84006.00")),
    ("SUM(co.income, 1000, amount)", D("608000.50")),
    ("SUM(nothing.income)", D(0)),
    ("SUM(1, 2, 3)", D(6)),
    ('SUM("5", TRUE)', D(6)),  # direct text and booleans count, as in Excel
    ("SUM(tags)", D(0)),  # text from a reference is skipped
    ("AVERAGE(co.income)", D("3500.25")),
    ("AVERAGE(1, 2)", D("1.5")),
    ("MIN(co.income)", D("3000.50")),
    ("MAX(co.income)", D(4000)),
    ("MAX(co.age)", D(45)),  # the boolean in a range is skipped
    ("MIN(amount, 500000)", D(500000)),
    ("MAX()", None),  # replaced below: wrong arity
    ("MIN(co.since)", date(2019, 1, 1)),
    ("MAX(co.since, start)", date(2025, 1, 31)),
    ("MIN(nothing.x)", D(0)),
    ("COUNT(co.income)", D(2)),
    ("COUNT(co.since)", D(2)),
    ('COUNT(1, "2", "x", TRUE, nothing)', D(3)),
    ("COUNTA(co.name)", D(3)),  # "" is blank
    ("COUNTA(co.income)", D(3)),
    ("COUNTA(tags)", D(2)),  # a multi-value field
    ("COUNTA(co)", D(4)),
    ("ROWS(co)", D(4)),
    ("ROWS(co.income)", D(4)),
    ("ROWS(nothing)", D(0)),
    # finance: Excel's documented examples (PMT vs numpy-financial in test_formula_finance.py)
    ("ROUND(PMT(8% / 12, 10, 10000), 2)", D("-1037.03")),
    ("ROUND(PMT(8% / 12, 10, 10000, 0, 1), 2)", D("-1030.16")),
    ("ROUND(PMT(6% / 12, 18 * 12, 0, 50000), 2)", D("-129.08")),
    ("ROUND(IPMT(10% / 12, 1, 3 * 12, 8000), 2)", D("-66.67")),
    ("ROUND(IPMT(10%, 3, 3, 8000), 2)", D("-292.45")),
    ("ROUND(PPMT(10% / 12, 1, 2 * 12, 2000), 2)", D("-75.62")),
    ("ROUND(PPMT(8%, 10, 10, 200000), 2)", D("-27598.05")),
    ("ROUND(FV(6% / 12, 10, -200, -500, 1), 2)", D("2581.40")),
    ("ROUND(PV(8% / 12, 12 * 20, 500), 2)", D("-59777.15")),
    ("PMT(0, 12, 1200)", D(-100)),
    # dates
    ("TODAY()", TODAY),
    ("DATE(2025, 1, 31)", date(2025, 1, 31)),
    ("DATE(2024, 14, 1)", date(2025, 2, 1)),  # months roll over
    ("DATE(2024, 1, 0)", date(2023, 12, 31)),  # so do days
    ("DATE(2024, 3, -1)", date(2024, 2, 28)),
    ("DATE(2025, 0, 1)", date(2024, 12, 1)),
    ("DATE(24, 1, 1)", date(1924, 1, 1)),  # Excel adds 1900 to years below 1900
    ("DATE(2025.9, 1.9, 1.9)", date(2025, 1, 1)),
    ("DATE(nothing, 1, 1)", None),
    ('DATEDIF(birth, TODAY(), "Y")', D(26)),
    ('DATEDIF(DATE(2000, 2, 29), DATE(2026, 2, 28), "Y")', D(25)),
    ('DATEDIF(DATE(2001, 1, 1), DATE(2003, 1, 1), "Y")', D(2)),  # Excel's examples
    ('DATEDIF(DATE(2001, 6, 1), DATE(2002, 8, 15), "D")', D(440)),
    ('DATEDIF(DATE(2001, 6, 1), DATE(2002, 8, 15), "YD")', D(75)),
    ('DATEDIF(DATE(2001, 6, 1), DATE(2002, 8, 15), "MD")', D(14)),
    ('DATEDIF(DATE(2001, 6, 1), DATE(2002, 8, 15), "YM")', D(2)),
    ('DATEDIF(DATE(2001, 6, 1), DATE(2002, 8, 15), "M")', D(14)),
    ('DATEDIF(start, DATE(2025, 2, 28), "M")', D(0)),  # Jan 31 → Feb 28 is not a whole month
    ('DATEDIF(start, DATE(2025, 3, 1), "M")', D(1)),
    ('DATEDIF(start, DATE(2025, 3, 1), "MD")', D(1)),  # since Feb 28 (Excel: -2)
    ('DATEDIF(start, start, "d")', D(0)),
    ('DATEDIF("2025-01-01", "2025/12/31", "D")', D(364)),
    ("EDATE(start, 1)", date(2025, 2, 28)),  # clamped to the month's end
    ("EDATE(start, -2)", date(2024, 11, 30)),
    ("EDATE(start, 13)", date(2026, 2, 28)),
    ("EDATE(DATE(2024, 2, 29), 12)", date(2025, 2, 28)),
    ("EDATE(start, 1.9)", date(2025, 2, 28)),
    ("EOMONTH(DATE(2024, 2, 10), 0)", date(2024, 2, 29)),
    ("EOMONTH(start, -1)", date(2024, 12, 31)),
    ("YEAR(start)", D(2025)),
    ("MONTH(start)", D(1)),
    ("DAY(start)", D(31)),
    ('YEAR("2025-03-01")', D(2025)),
    ('MONTH("2025-03-01T08:00:00")', D(3)),
    ("YEAR(45658)", D(2025)),  # an Excel serial number
    ("DAYS(TODAY(), start)", D(408)),
    ("DAYS(start, TODAY())", D(-408)),
    # text
    ('CONCAT("贷款", amount, "元")', "贷款600000元"),
    ('CONCAT(1, "-", TRUE, nothing, 2.50)', "1-TRUE2.5"),
    ('CONCATENATE("a", "b")', "ab"),
    ("LEN(id_number)", D(18)),
    ('LEN("借款申请")', D(4)),
    ("LEN(12.50)", D(4)),
    ("LEN(nothing)", D(0)),
    ("LEFT(id_number, 6)", "330106"),
    ('LEFT("借款申请", 2)', "借款"),
    ('LEFT("abc")', "a"),
    ('LEFT("abc", 0)', ""),
    ('LEFT("abc", 10)', "abc"),
    ("RIGHT(id_number, 4)", "1234"),
    ('RIGHT("abc")', "c"),
    ('RIGHT("abc", 0)', ""),
    ('RIGHT("abc", 10)', "abc"),
    ("MID(id_number, 7, 8)", "19900101"),
    ('MID("abc", 3, 5)', "c"),
    ('MID("abc", 5, 1)', ""),
    ('UPPER("abc")', "ABC"),
    ('LOWER("ABC 借")', "abc 借"),
    ("TRIM(name)", "Li Lei"),
    ('TRIM("\u3000a")', "\u3000a"),  # only spaces, as Excel
    ('TEXT(1234.5, "#,##0.00")', "1,234.50"),
    ('TEXT(1234567, "#,##0")', "1,234,567"),
    ('TEXT(-1234.567, "#,##0.00")', "-1,234.57"),
    ('TEXT(1234.5, "0")', "1235"),
    ('TEXT(0.256, "0.0%")', "25.6%"),
    ('TEXT(0.5, "0%")', "50%"),
    ('TEXT(3.14159, "0.00")', "3.14"),
    ('TEXT(0.5, "#.00")', ".50"),
    ('TEXT(5, "000")', "005"),
    ('TEXT(1.5, "0.##")', "1.5"),
    ('TEXT(2, "0.##")', "2"),
    ('TEXT(-0.001, "0.00")', "0.00"),
    ('TEXT(amount, "¥#,##0.00")', "¥600,000.00"),
    ('TEXT(amount / 10000, "0.0万元")', "60.0万元"),
    ('TEXT("abc", "0.00")', "abc"),
    ('TEXT("12.345", "0.0")', "12.3"),
    ('TEXT(start, "yyyy-mm-dd")', "2025-01-31"),
    ('TEXT(start, "yyyy年m月d日")', "2025年1月31日"),
    ('TEXT(start, "yy/mm")', "25/01"),
    ('TEXT(45658, "yyyy-mm-dd")', "2025-01-01"),
    ('TEXT(nothing, "yyyy-mm-dd")', ""),
    ('TEXT(amount, "")', "600000"),
    ('TEXT(amount, "@")', "600000"),
    ('TEXT(TRUE, "General")', "TRUE"),
    ('VALUE("1,000")', D(1000)),
    ('VALUE(" 12.5 ")', D("12.5")),
    ('VALUE("12%")', D("0.12")),
    ('VALUE("-1e3")', D(-1000)),
    ("VALUE(amount)", D("600000.00")),
    ("VALUE(DATE(2025, 1, 1))", D(45658)),  # Excel's serial
    ("VALUE(nothing)", D(0)),
]
CASES = [c for c in CASES if c[0] != "MAX()"]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_function(text: str, expected: Any) -> None:
    result = ev(text, VALUES)
    assert result == expected
    assert type(result) is type(expected)


def test_every_function_is_tested_and_described() -> None:
    tested = " ".join(text for text, _ in CASES).upper()
    for name, spec in FUNCTIONS.items():
        assert f"{name}(" in tested, name
        assert isinstance(spec, FunctionSpec)
        assert spec.description_zh and spec.description_en
        assert spec.max_args is None or spec.max_args >= spec.min_args
        compile_formula(spec.example)  # every example parses and names real functions
    assert {"PMT", "IPMT", "PPMT", "FV", "PV"} <= set(FUNCTIONS)


def test_functions_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        FUNCTIONS["EVIL"] = FUNCTIONS["SUM"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('DATEDIF(TODAY(), DATE(2000, 1, 1), "Y")', "formula.invalid_argument"),  # start > end
        ('DATEDIF(start, TODAY(), "W")', "formula.invalid_argument"),
        ("DATE(10000, 1, 1)", "formula.invalid_date"),
        ("DATE(-1, 1, 1)", "formula.invalid_date"),
        ("DATE(9999, 12, 32)", "formula.invalid_date"),
        ("DATE(2025, 1, 1e9)", "formula.invalid_date"),
        ("EDATE(start, 1e8)", "formula.invalid_date"),
        ("YEAR(0)", "formula.invalid_date"),
        ("YEAR(TRUE)", "formula.type_error"),
        ('YEAR("2025-13-01")', "formula.invalid_date"),
        ("start + 1e7", "formula.invalid_date"),
        ('MID("abc", 0, 1)', "formula.invalid_argument"),
        ('MID("abc", 1, -1)', "formula.invalid_argument"),
        ('RIGHT("abc", -1)', "formula.invalid_argument"),
        ('TEXT(1, "???")', "formula.invalid_argument"),
        ('VALUE("abc")', "formula.type_error"),
        ("VALUE(TRUE)", "formula.type_error"),
        ('SUM("abc")', "formula.type_error"),  # a direct argument must be a number
        ("SUM(DATE(2025, 1, 1))", "formula.type_error"),
        ("MAX(co.since, co.income)", "formula.type_error"),  # dates and numbers mixed
        ("ROWS(amount)", "formula.type_error"),
        ("ROUND(1, 1e10)", "formula.invalid_argument"),
        ("SQRT(-1)", "formula.invalid_argument"),
    ],
)
def test_function_errors(text: str, code: str) -> None:
    with pytest.raises(FormulaError) as err:
        ev(text, VALUES)
    assert err.value.code == code
    assert err.value.position is not None


def test_today_defaults_to_the_real_date() -> None:
    assert compile_formula("TODAY()").evaluate({}) == date.today()


def test_datetime_today_argument_and_values() -> None:
    moment = datetime(2025, 6, 30, 23, 59)
    assert ev('DATEDIF(t, DATE(2025, 7, 31), "M")', t=moment) == D(1)
    assert ev('TEXT(t, "yyyy-mm-dd hh:mm:ss")', t=moment) == "2025-06-30 23:59:00"
    assert ev("EOMONTH(t, 0)", t=moment) == date(2025, 6, 30)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("yyyy-mm-dd hh:mm:ss", "2025-06-30 08:05:09"),
        ("h:m:s", "8:5:9"),
        ("yyyy/m/d h:mm", "2025/6/30 8:05"),
        ("mm/dd", "06/30"),
        ("hh时mm分", "08时05分"),
    ],
)
def test_text_date_formats(fmt: str, expected: str) -> None:
    assert ev(f'TEXT(t, "{fmt}")', t=datetime(2025, 6, 30, 8, 5, 9)) == expected
    assert ev('TEXT(d, "hh:mm")', d=date(2025, 6, 30)) == "00:00"
