"""The formula language: literals, references, precedence, blanks, comparisons, dates, cache."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from typing import Any

import pytest

from loandesk.core.expression import Formula, FormulaError, compile_formula

from .helpers import ev


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", D(7)),
        ("(1 + 2) * 3", D(9)),
        ("10 - 4 - 3", D(3)),  # left-associative
        ("100 / 10 / 5", D(2)),
        ("2 ^ 3 ^ 2", D(64)),  # Excel: ^ is left-associative too
        ("-2 ^ 2", D(4)),  # Excel: unary minus binds tighter than ^
        ("-(2 ^ 2)", D(-4)),
        ("0 - 2 ^ 2", D(-4)),
        ("2 ^ -1", D("0.5")),
        ("2 * -3", D(-6)),
        ("1 - -1", D(2)),
        ("+5", D(5)),
        ("2 * 3 ^ 2", D(18)),
        ("5%", D("0.05")),
        ("200 * 5%", D(10)),
        ("-5%", D("-0.05")),
        ("2 ^ 50%", D(2).sqrt()),  # % before ^
        ("10%%", D("0.001")),
        ("1 + 2 & 3", "33"),  # + before &
        ('1 & 2 = "12"', True),  # & before =
        ("1 + 1 = 2", True),
        ("1 < 2 = TRUE", True),
        ("3 <> 3", False),
        ("3 >= 3", True),
        ("2 <= 1", False),
        ("0.1 + 0.2", D("0.3")),  # Decimal, never float
        ("0.1 + 0.2 = 0.3", True),
        ("1e3", D(1000)),
        ("1.5E-2", D("0.015")),
        (".5", D("0.5")),
        ("1.", D(1)),
        ('"say ""hi"""', 'say "hi"'),
        ('""', ""),
        ('"借款"', "借款"),
        ("TRUE", True),
        ("false", False),
        ("True = TRUE()", True),
        ("=1 + 1", D(2)),  # a leading = as typed in Excel
        ("  = 1", D(1)),
        ("SUM（1，2）", D(3)),  # full-width parentheses and comma
        ("1 +\n 2\t* 3", D(7)),
        ("1\u3000+ 1", D(2)),
    ],
)
def test_literals_and_precedence(text: str, expected: Any) -> None:
    result = ev(text)
    assert result == expected
    assert type(result) is type(expected)


def test_results_are_decimal_never_float() -> None:
    assert ev("x * 1", x=3) == D(3)
    assert isinstance(ev("x", x=3), D)
    assert ev("x", x=0.1) == D("0.1")  # a float from a caller goes through its repr
    assert str(ev("x - x", x=D("-1.50"))) == "0.00"  # no negative zero


def test_references() -> None:
    values = {"amount": D("1000"), "借款金额": D(3), "key with space": D(2), "a1_b": D(1)}
    assert ev("amount * 2", values) == D(2000)
    assert ev("{借款金额} * 2", values) == D(6)
    assert ev("{ key with space } + a1_b", values) == D(3)
    assert ev("{TRUE}", {"TRUE": D(7)}) == D(7)  # a key that is a keyword, in braces


def test_field_keys_are_case_sensitive_functions_are_not() -> None:
    assert ev("Amount + amount", Amount=1, amount=2) == D(3)
    assert ev("round(1.25, 1) + Round(1, 0)") == D("2.3")


def test_references_extraction() -> None:
    f = compile_formula(
        "ROUND(PMT(rate / 12, term, -amount), 2) + SUM(co.income, bonus) + {中文 key}"
        " + IF(ROWS(co) > 1, 0, 1)"
    )
    assert f.references == frozenset(
        {"rate", "term", "amount", "co.income", "bonus", "中文 key", "co"}
    )
    assert compile_formula("1 + 2").references == frozenset()
    assert compile_formula("TRUE").references == frozenset()
    assert [
        (u.key, u.column, u.position, u.function) for u in compile_formula("SUM(c.x) + a").uses
    ] == [
        ("c", "x", 4, "SUM"),
        ("a", None, 11, None),
    ]


def test_compile_is_cached() -> None:
    first = compile_formula("amount * 1.05")
    assert compile_formula("amount * 1.05") is first
    assert isinstance(first, Formula)
    assert first.text == "amount * 1.05"
    assert repr(first) == "Formula('amount * 1.05')"


# ---- blanks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x + 1", D(1)),  # blank is 0 in arithmetic
        ("x * 5", D(0)),
        ('x & "元"', "元"),  # "" in text
        ("ISBLANK(x)", True),
        ("x = 0", True),  # compared with a number, blank is 0
        ('x = ""', True),  # with text, ""
        ("x = FALSE", True),  # with a boolean, FALSE
        ("x < 1", True),
        ("x > -1", True),
        ("x = x", True),
        ("IF(x, 1, 2)", D(2)),  # FALSE as a condition
        ("NOT(x)", True),
        ("LEN(x)", D(0)),
        ("SUM(x, 5)", D(5)),
        ("AVERAGE(x, 4)", D(4)),  # a blank reference is skipped, as an empty cell
        ("COUNTA(x, 1)", D(1)),
        ("MAX(x)", D(0)),
        ("YEAR(x)", None),  # a blank date stays blank
        ('DATEDIF(x, TODAY(), "Y")', None),
        ("EDATE(x, 1)", None),
        ("DAYS(TODAY(), x)", None),
        ("TODAY() - x", None),
        ("x", None),
    ],
)
def test_blank_semantics(text: str, expected: Any) -> None:
    assert ev(text) == expected
    assert ev(text, x=None) == expected


def test_empty_text_from_a_field_is_blank() -> None:
    assert ev("ISBLANK(x)", x="") is True
    assert ev("x * 2", x="") == 0
    assert ev('"" = 0') is False  # but an empty text literal is text, as in Excel
    assert ev("ISBLANK(x)", x=0) is False
    assert ev("ISBLANK(x)", x=[]) is True


# ---- comparisons -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"abc" = "ABC"', True),  # Excel ignores case
        ('"a" < "b"', True),
        ('"经营" = "经营"', True),
        ('1 < "a"', True),  # numbers < text < booleans
        ('"z" < TRUE', True),
        ("FALSE < TRUE", True),
        ('"5" = 5', False),  # no conversion in a comparison
        ("1 = 1.000", True),
    ],
)
def test_comparisons(text: str, expected: bool) -> None:
    assert ev(text) is expected


# ---- dates -----------------------------------------------------------------------------------


def test_date_arithmetic() -> None:
    d1, d2 = date(2025, 1, 31), date(2025, 3, 1)
    assert ev("d2 - d1", d1=d1, d2=d2) == D(29)
    assert ev("d1 + 30", d1=d1) == date(2025, 3, 2)
    assert ev("30 + d1", d1=d1) == date(2025, 3, 2)
    assert ev("d1 - 31", d1=d1) == date(2024, 12, 31)
    assert ev("d1 + 1.9", d1=d1) == date(2025, 2, 1)  # whole days
    assert ev("d1 < d2", d1=d1, d2=d2) is True
    assert ev("d1 = DATE(2025, 1, 31)", d1=d1) is True
    assert ev("d1 > 45000", d1=d1) is True  # Excel serials: 2025-01-31 is 45688
    assert ev("d1 - d1", d1=d1) == 0
    assert ev("d1 + x", d1=d1) is None  # blank propagates


def test_datetime_values() -> None:
    moment = datetime(2025, 3, 1, 12, 0)
    assert ev("YEAR(t)", t=moment) == D(2025)
    assert ev("t - DATE(2025, 3, 1)", t=moment) == D("0.5")
    assert ev("t", t=moment) == moment
    assert ev('t & ""', t=moment) == "2025-03-01 12:00:00"


def test_date_type_errors() -> None:
    for text in ("d * 2", "5 - d", "d + d", "-d"):
        with pytest.raises(FormulaError) as err:
            ev(text, d=date(2025, 1, 1))
        assert err.value.code == "formula.type_error"


def test_text_conversion_of_values() -> None:
    assert ev('x & ""', x=D("600000.00")) == "600000"
    assert ev('x & ""', x=D("0.0500")) == "0.05"
    assert ev('x & ""', x=D("-12.5")) == "-12.5"
    assert ev('x & ""', x=True) == "TRUE"
    assert ev('x & ""', x=date(2025, 3, 1)) == "2025-03-01"
    assert ev('x & "%"', x=12) == "12%"


def test_text_coerced_in_arithmetic() -> None:
    assert ev("x + 1", x="41") == D(42)
    assert ev("x * 2", x=" 1,000.5 ") == D("2001.0")
    assert ev("x * 1", x="5%") == D("0.05")
    assert ev("TRUE + TRUE") == D(2)
    with pytest.raises(FormulaError) as err:
        ev('"abc" + 1')
    assert (err.value.code, err.value.position) == ("formula.type_error", 6)
