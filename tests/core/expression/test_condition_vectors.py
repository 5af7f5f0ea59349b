"""Parity with json-logic-js 2.0.5 (the phone's library) on 1,600 recorded cases.

The vectors were recorded by vectors/record_jsonlogic.cjs; see vectors/make_jsonlogic_cases.py.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from loandesk.core.expression import ConditionError
from loandesk.core.expression.condition import apply, to_js, truthy

VECTORS = json.loads((Path(__file__).parent / "vectors" / "jsonlogic_vectors.json").read_text())
DATA = VECTORS["data"]


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$num"}:
            return float(value["$num"].replace("Infinity", "inf"))
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_vectors_were_recorded() -> None:
    assert VECTORS["library"] == "json-logic-js@2.0.5"
    assert len(VECTORS["cases"]) > 1500


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: json.dumps(c["logic"])[:60])
def test_same_result_as_json_logic_js(case: dict[str, Any]) -> None:
    data = to_js(DATA)
    if "error" in case:
        with pytest.raises(ConditionError):
            apply(case["logic"], data)
        return
    result = apply(case["logic"], data)
    assert _same(result, _decode(case["result"])), (result, case["result"])
    assert truthy(result) is case["truthy"]
