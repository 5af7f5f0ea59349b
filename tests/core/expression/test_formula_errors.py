"""Design-time errors (with the position the designer underlines) and runtime errors."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from loandesk.core.expression import (
    MAX_LENGTH,
    MESSAGES,
    FormulaError,
    check_formula,
    compile_formula,
)

from .helpers import ev


def _compile_error(text: str) -> FormulaError:
    with pytest.raises(FormulaError) as err:
        compile_formula(text)
    return err.value


@pytest.mark.parametrize(
    ("text", "code", "position", "params"),
    [
        ("amount +* 2", "formula.syntax", 8, {"token": "*"}),
        ("amount + ", "formula.syntax", 8, {"token": ""}),  # unexpected end
        ("SUM(1", "formula.syntax", 5, {"token": ""}),
        ("1)", "formula.syntax", 1, {"token": ")"}),
        ('"abc', "formula.syntax", 0, {"token": '"'}),
        ("a # b", "formula.syntax", 2, {"token": "#"}),
        ("1 2", "formula.syntax", 2, {"token": "2"}),
        ("a..b", "formula.syntax", 2, {"token": "."}),
        ("a.b.c", "formula.syntax", 3, {"token": "."}),
        ("IF(a,,b)", "formula.syntax", 5, {"token": ","}),
        ("{}", "formula.syntax", 0, {"token": "{}"}),
        ("==1", "formula.syntax", 1, {"token": "="}),
        ("", "formula.empty", 0, {}),
        ("  =  ", "formula.empty", 0, {}),
        ("FOO(1)", "formula.unknown_function", 0, {"function": "FOO"}),
        ("1 + foo(2)", "formula.unknown_function", 4, {"function": "FOO"}),
        (
            "ROUND(1)",
            "formula.wrong_arity",
            0,
            {"function": "ROUND", "min": "2", "max": "2", "got": "1"},
        ),
        (
            "1 + IF(1)",
            "formula.wrong_arity",
            4,
            {"function": "IF", "min": "2", "max": "3", "got": "1"},
        ),
        (
            "TODAY(1)",
            "formula.wrong_arity",
            0,
            {"function": "TODAY", "min": "0", "max": "0", "got": "1"},
        ),
        (
            "IFS(TRUE, 1, FALSE)",
            "formula.wrong_arity",
            0,
            {"function": "IFS", "min": "2", "max": "", "got": "3"},
        ),
        ("co.income * 12", "formula.column_outside_aggregate", 0, {"field": "co.income"}),
        ("SUM(co.income * 12)", "formula.column_outside_aggregate", 4, {"field": "co.income"}),
        ("ROWS(1 + 1)", "formula.type_error", 5, {"expected": "list"}),
        ("1e1000", "formula.overflow", 0, {}),
    ],
)
def test_compile_errors(text: str, code: str, position: int, params: dict[str, str]) -> None:
    error = _compile_error(text)
    assert (error.code, error.position, error.params) == (code, position, params)
    assert code in MESSAGES


def test_length_and_depth_bounds() -> None:
    assert _compile_error("1" * (MAX_LENGTH + 1)).code == "formula.too_long"
    longest = "1+" * (MAX_LENGTH // 2 - 1) + "10"
    assert len(longest) == MAX_LENGTH
    assert compile_formula(longest).evaluate({}) == MAX_LENGTH // 2 - 1 + 10
    deep = _compile_error("ABS(" * 70 + "1" + ")" * 70)
    assert deep.code == "formula.too_deep"
    assert deep.position is not None
    assert _compile_error("-" * 80 + "x").code == "formula.too_deep"
    assert ev("ABS(" * 60 + "-1" + ")" * 60) == 1
    # parentheses and long chains do not nest: these are fine
    assert ev("(" * 990 + "1" + ")" * 990) == 1
    assert ev("+".join(["1"] * 999)) == 999
    assert ev("&".join(['"a"'] * 400)) == "a" * 400
    assert ev("-" * 1500 + "1") == 1  # negating a literal folds


def test_error_str_and_params_are_strings() -> None:
    error = _compile_error("ROUND(1)")
    assert (
        str(error)
        == "formula.wrong_arity at 0 {'function': 'ROUND', 'min': '2', 'max': '2', 'got': '1'}"
    )
    assert all(isinstance(v, str) for v in error.params.values())
    assert str(FormulaError("formula.division_by_zero")) == "formula.division_by_zero"


def test_a_bad_formula_is_not_cached_as_good() -> None:
    for _ in range(2):
        with pytest.raises(FormulaError):
            compile_formula("1 +")


def test_non_text_is_a_syntax_error() -> None:
    with pytest.raises(FormulaError):
        compile_formula(None)


# ---- check_formula ---------------------------------------------------------------------------

KNOWN = {"amount", "term", "rate", "co_borrowers", "借款金额"}
SUBTABLES = {"co_borrowers": ["income", "name"]}


@pytest.mark.parametrize(
    "text",
    [
        "ROUND(PMT(rate / 12, term, -amount), 2)",
        "SUM(co_borrowers.income) * 12",
        "ROWS(co_borrowers) + COUNTA(co_borrowers)",
        "COUNTA(co_borrowers.name)",
        "{借款金额} / 10000",
        "1 + 1",
    ],
)
def test_check_formula_accepts(text: str) -> None:
    formula = check_formula(text, KNOWN, SUBTABLES)
    assert formula is compile_formula(text)


@pytest.mark.parametrize(
    ("text", "code", "position", "field"),
    [
        ("amount + incom", "formula.unknown_field", 9, "incom"),
        ("amount + {借款}", "formula.unknown_field", 9, "借款"),
        ("SUM(co_borrowers.salary)", "formula.unknown_field", 4, "co_borrowers.salary"),
        ("SUM(guarantors.income)", "formula.unknown_field", 4, "guarantors.income"),
        ("SUM(co_borrowers) + 1", "formula.subtable_needs_column", 4, "co_borrowers"),
        ("co_borrowers + 1", "formula.subtable_needs_column", 0, "co_borrowers"),
        ("x + y", "formula.unknown_field", 0, "x"),  # the first by position
    ],
)
def test_check_formula_rejects(text: str, code: str, position: int, field: str) -> None:
    with pytest.raises(FormulaError) as err:
        check_formula(text, KNOWN, SUBTABLES)
    assert (err.value.code, err.value.position, err.value.params) == (
        code,
        position,
        {"field": field},
    )


def test_check_formula_reports_syntax_first() -> None:
    with pytest.raises(FormulaError) as err:
        check_formula("unknown +* 2", KNOWN)
    assert err.value.code == "formula.syntax"


def test_check_formula_without_subtables() -> None:
    with pytest.raises(FormulaError) as err:
        check_formula("SUM(co_borrowers.income)", KNOWN)
    assert err.value.code == "formula.unknown_field"


# ---- runtime errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values", "code", "position"),
    [
        ("1 / 0", {}, "formula.division_by_zero", 2),
        ("amount / term", {"amount": D(1), "term": D(0)}, "formula.division_by_zero", 7),
        ("amount / term", {"amount": D(1)}, "formula.division_by_zero", 7),  # blank is 0
        ("1 + (2 / 0)", {}, "formula.division_by_zero", 7),
        ("ROUND(1 / 0, 2)", {}, "formula.division_by_zero", 8),
        ("0 / 0", {}, "formula.division_by_zero", 2),
        ("MOD(5, 0)", {}, "formula.division_by_zero", 0),
        ("AVERAGE(x)", {}, "formula.division_by_zero", 0),
        ("0 ^ -1", {}, "formula.division_by_zero", 2),
        ("0 ^ 0", {}, "formula.invalid_argument", 2),
        ("(-8) ^ 0.5", {}, "formula.invalid_argument", 5),
        ('"abc" * 2', {}, "formula.type_error", 6),
        ("x + 1", {"x": {"a": 1}}, "formula.type_error", 2),
        ("x + 1", {"x": [1, 2]}, "formula.type_error", 2),
        ("x", {"x": [1, 2]}, "formula.type_error", 0),
        ("x + 1", {"x": D("NaN")}, "formula.type_error", 0),
        ("x + 1", {"x": float("inf")}, "formula.type_error", 0),
        ("SQRT(-4)", {}, "formula.invalid_argument", 0),
        ('YEAR("31/02/2025")', {}, "formula.invalid_date", 0),
        ("IFS(FALSE, 1)", {}, "formula.no_match", 0),
        ('AND("maybe")', {}, "formula.type_error", 0),
        ("SUM(co.x)", {"co": "text"}, "formula.type_error", 4),
        ("SUM(co.x)", {"co": ["text"]}, "formula.type_error", 4),
        ("LEFT(x, -1)", {}, "formula.invalid_argument", 0),
        ("LEFT(x, 1e12)", {}, "formula.invalid_argument", 0),
        ("10 ^ 1000", {}, "formula.overflow", 3),
        ("x * 10", {"x": D("1e999")}, "formula.overflow", 2),
    ],
)
def test_runtime_errors(text: str, values: dict[str, Any], code: str, position: int) -> None:
    formula = compile_formula(text)
    with pytest.raises(FormulaError) as err:
        formula.evaluate(values)
    assert (err.value.code, err.value.position) == (code, position)
    assert code in MESSAGES


def test_runtime_errors_are_fresh_per_evaluation() -> None:
    formula = compile_formula("1 + a / b")
    for _ in range(2):
        with pytest.raises(FormulaError) as err:
            formula.evaluate({"a": 1, "b": 0})
        assert err.value.position == 6


def test_messages_have_both_languages() -> None:
    for code, (zh, en) in MESSAGES.items():
        assert code.startswith(("formula.", "condition."))
        assert zh and en
