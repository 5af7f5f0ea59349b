"""Formula and condition evaluation per second (compiled once, evaluated many times).

The form engine evaluates formulas and visibility conditions on every keystroke the phone sends
and on every submission; target ≥ 50,000 evaluations/s for a five-function formula.

Baselines: the same formula and condition written by hand in Python (Decimal, the same rounding):
the floor an interpreter of admin-written expressions can approach; the ratio is its overhead.
"""

import statistics
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bench.harness import Row, measure, row_from
from loandesk.core.expression import compile_formula, evaluate_condition

FIVE_FUNCTIONS = "ROUND(PMT(rate / 12, term, -amount), 2) + IF(ISBLANK(fee), 0, MAX(fee, 100))"
VALUES = {
    "rate": Decimal("0.0435"),
    "term": 36,
    "amount": Decimal("600000.00"),
    "fee": Decimal(250),
}
CONDITION = {"and": [{">": [{"var": "amount"}, 500000]}, {"==": [{"var": "purpose"}, "经营"]}]}
DATA = {"amount": Decimal("600000.00"), "purpose": "经营"}


def _by_hand(v: dict[str, Any]) -> Decimal:
    """FIVE_FUNCTIONS as Python: PMT of the monthly rate, rounded half up to the fen, plus the fee
    (at least 100) when there is one."""
    r, n, pv = v["rate"] / 12, v["term"], v["amount"]
    payment = pv * r / (1 - (1 + r) ** -n)
    fee = v["fee"]
    extra = 0 if fee is None or fee == "" else max(fee, 100)
    return payment.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) + extra


def _condition_by_hand(d: dict[str, Any]) -> bool:
    return bool(d["amount"] > 500000 and d["purpose"] == "经营")


def run(scale: str) -> list[Row]:
    repeat = 5000 if scale == "small" else 20000
    formula = compile_formula(FIVE_FUNCTIONS)
    assert formula.evaluate(VALUES) == Decimal("18057.96")
    assert _by_hand(VALUES) == Decimal("18057.96")
    assert evaluate_condition(CONDITION, DATA) is _condition_by_hand(DATA) is True
    formula_base = measure(lambda: _by_hand(VALUES), repeat=repeat)
    condition_base = measure(lambda: _condition_by_hand(DATA), repeat=repeat)
    rows = [
        row_from(
            "formula, 5 functions",
            "python",
            measure(lambda: formula.evaluate(VALUES), repeat=repeat),
            baseline="the same in Python",
            baseline_median_ms=statistics.median(formula_base),
        ),
        row_from(
            "condition (JSON-logic and/>/==)",
            "python",
            measure(lambda: evaluate_condition(CONDITION, DATA), repeat=repeat),
            baseline="the same in Python",
            baseline_median_ms=statistics.median(condition_base),
        ),
    ]
    rows[0].target = ">= 50,000/s"
    rows[0].met = rows[0].throughput >= 50_000
    return rows
