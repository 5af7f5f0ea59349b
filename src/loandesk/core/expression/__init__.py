"""The expression engine: Excel-like formulas and JSON-logic conditions. Plain Python, no Django.

Formulas compute form fields (and later flow/rule values)::

    f = compile_formula("ROUND(PMT(annual_rate / 12, term, -amount), 2)")  # cached by text
    f.references                  # frozenset({"annual_rate", "term", "amount"})
    f.evaluate({"annual_rate": Decimal("0.08"), "term": 12, "amount": Decimal("10000")})
    check_formula(text, known_fields, {"co_borrowers": ["income"]})  # design time, with positions

Conditions (visibility, branches, rules) are JSON-logic with json-logic-js semantics, so the
phone and the server agree::

    evaluate_condition({">": [{"var": "amount"}, 500000]}, {"amount": Decimal("600000.00")})
    check_condition(logic, known_fields)     # ConditionError(code, params)
    condition_fields(logic)                  # {"amount"}

Errors carry stable codes; `MESSAGES` has their zh-CN / en-US texts.
"""

from .condition import OPERATORS, check_condition, condition_fields, evaluate_condition
from .errors import ConditionError, FormulaError
from .formula import MAX_DEPTH, MAX_LENGTH, Formula, RefUse, check_formula, compile_formula
from .functions import FUNCTIONS, FunctionSpec
from .messages import MESSAGES
from .values import MAX_TEXT

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_TEXT",
    "MESSAGES",
    "OPERATORS",
    "ConditionError",
    "Formula",
    "FormulaError",
    "FunctionSpec",
    "RefUse",
    "check_condition",
    "check_formula",
    "compile_formula",
    "condition_fields",
    "evaluate_condition",
]
