"""JSON-logic conditions: the designer's shapes, Decimal and blank handling, checks, fields."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from json_logic import jsonLogic

from loandesk.core.expression import (
    MESSAGES,
    OPERATORS,
    ConditionError,
    check_condition,
    condition_fields,
    evaluate_condition,
)
from loandesk.core.expression.condition import to_js

BIG_BUSINESS = {
    "and": [
        {">": [{"var": "amount"}, 500000]},
        {"==": [{"var": "purpose"}, "经营"]},
    ]
}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"amount": D("600000.00"), "purpose": "经营"}, True),
        ({"amount": D("500000.00"), "purpose": "经营"}, False),
        ({"amount": D("600000.00"), "purpose": "消费"}, False),
        ({"amount": 600000, "purpose": "经营"}, True),
        ({"amount": "600000", "purpose": "经营"}, True),  # digits from a form compare as numbers
        ({"purpose": "经营"}, False),
        ({}, False),
    ],
)
def test_designer_and(data: dict[str, Any], expected: bool) -> None:
    assert evaluate_condition(BIG_BUSINESS, data) is expected


def test_designer_in_and_nesting() -> None:
    in_list = {"in": [{"var": "purpose"}, ["经营", "消费"]]}
    assert evaluate_condition(in_list, {"purpose": "消费"}) is True
    assert evaluate_condition(in_list, {"purpose": "其他"}) is False
    assert evaluate_condition(in_list, {}) is False
    nested = {
        "or": [
            {"and": [{">=": [{"var": "age"}, 18]}, {"<=": [{"var": "age"}, 65]}]},
            {"and": [{"==": [{"var": "has_guarantor"}, True]}, {"!": [{"var": "blacklisted"}]}]},
        ]
    }
    assert evaluate_condition(nested, {"age": D(30)}) is True
    assert evaluate_condition(nested, {"age": D(70), "has_guarantor": True}) is True
    assert (
        evaluate_condition(nested, {"age": 70, "has_guarantor": True, "blacklisted": True}) is False
    )
    contains = {"in": ["经营", {"var": "remark"}]}
    assert evaluate_condition(contains, {"remark": "个体经营贷款"}) is True


def test_no_condition_holds() -> None:
    assert evaluate_condition(None, {}) is True
    assert evaluate_condition({}, {"a": 1}) is True
    assert evaluate_condition(True, {}) is True
    assert evaluate_condition(False, {}) is False


@pytest.mark.parametrize(
    ("logic", "data", "expected"),
    [
        ({">": [{"var": "amount"}, 500000]}, {"amount": D("600000.00")}, True),
        ({"==": [{"var": "amount"}, 600000]}, {"amount": D("600000.00")}, True),
        ({"==": [{"var": "amount"}, "600000"]}, {"amount": D("600000.00")}, True),
        ({"==": [{"var": "amount"}, "600000.00"]}, {"amount": D("600000.00")}, True),
        ({">": [{"var": "amount"}, "500000"]}, {"amount": D("600000.00")}, True),
        ({"===": [{"var": "amount"}, 600000]}, {"amount": D("600000.00")}, True),
        ({"==": [{"var": "rate"}, 0.0435]}, {"rate": D("0.0435")}, True),
        ({"<": [{"var": "rate"}, 0.05]}, {"rate": D("0.0435")}, True),
        ({"==": [{"var": "x"}, 1]}, {"x": D("1.000")}, True),
        ({">": [{"var": "x"}, 0]}, {"x": D("NaN")}, False),
        ({">": [{"var": "start"}, "2025-01-01"]}, {"start": date(2025, 3, 1)}, True),
        ({"==": [{"var": "start"}, "2025-03-01"]}, {"start": date(2025, 3, 1)}, True),
        ({"<": [{"var": "at"}, "2025-03-01T12"]}, {"at": datetime(2025, 3, 1, 8)}, True),
        ({"+": [{"var": "a"}, {"var": "b"}]}, {"a": D("0.1"), "b": D("0.2")}, True),
        ({"some": [{"var": "co"}, {">": [{"var": "income"}, 5000]}]},
         {"co": [{"income": D("3000")}, {"income": D("6000.50")}]}, True),
        ({"all": [{"var": "co"}, {">": [{"var": "income"}, 5000]}]},
         {"co": [{"income": D("3000")}, {"income": D("6000.50")}]}, False),
        ({"none": [{"var": "co"}, {"==": [{"var": "name"}, ""]}]},
         {"co": [{"name": "张三"}, {"name": "李四"}]}, True),
        ({"in": [{"var": "tag"}, {"var": "tags"}]}, {"tag": "a", "tags": ("a", "b")}, True),
        ({"==": [{"var": "obj.city"}, "杭州"]}, {"obj": {"city": "杭州"}}, True),
        ({"var": "co.1.income"}, {"co": [{"income": 0}, {"income": D(5)}]}, True),
    ],
)  # fmt: skip
def test_python_values_become_what_the_phone_sees(
    logic: dict[str, Any], data: dict[str, Any], expected: bool
) -> None:
    assert evaluate_condition(logic, data) is expected


def test_to_js() -> None:
    assert to_js({"a": D("5.00"), "b": D("0.5"), "d": date(2025, 1, 2), "l": (D(1),)}) == {
        "a": 5, "b": 0.5, "d": "2025-01-02", "l": [1]
    }  # fmt: skip
    assert type(to_js(D("5.00"))) is int


@pytest.mark.parametrize(
    ("logic", "data", "expected"),
    [
        # json-logic-js semantics where they surprise (and where maykin-json-logic-py differs)
        ({"<": [{"var": "amount"}, 100000]}, {"amount": None}, True),  # null is 0
        ({"<": [{"var": "amount"}, 100000]}, {}, True),
        ({">": [{"var": "amount"}, 0]}, {}, False),
        ({"==": [{"var": "amount"}, 0]}, {}, False),  # but null == 0 is false
        ({"==": [{"var": "amount"}, None]}, {}, True),
        ({">": ["9", "10"]}, {}, True),  # two texts compare as text
        ({">": ["9", 10]}, {}, False),  # text and number compare as numbers
        ({"==": ["1.0", 1]}, {}, True),
        ({"missing": ["a"]}, {"a": ""}, True),  # "" counts as missing
        ({"!": [[]]}, {}, True),  # an empty array is false
        ({"!!": ["0"]}, {}, True),  # the text "0" is true
        ({"==": [{"cat": ["x", None, True]}, "xtrue"]}, {}, True),
        ({"==": [{"+": ["12px", 1]}, 13]}, {}, True),  # parseFloat
    ],
)
def test_json_logic_js_semantics(
    logic: dict[str, Any], data: dict[str, Any], expected: bool
) -> None:
    assert evaluate_condition(logic, data) is expected


def test_maykin_differs_where_forms_live() -> None:
    """Why the engine does not delegate to json_logic.jsonLogic (see condition.py)."""
    assert jsonLogic({"<": [{"var": "amount"}, 100000]}, {"amount": None}) is None  # js: true
    decimal_data: Any = {"a": D("600000.00")}
    assert jsonLogic({"==": [{"var": "a"}, "600000"]}, decimal_data) is False  # js: true
    assert jsonLogic({"missing": ["a"]}, {"a": ""}) == []  # js: ["a"]
    with pytest.raises(ValueError, match="Unrecognized operation some"):
        jsonLogic({"some": [[1], {"var": ""}]}, {})
    with pytest.raises(TypeError):
        jsonLogic({">": [{"var": "a"}, "500000"]}, decimal_data)


_NUMBERS = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda f: round(f, 2)),
)
_TEXTS = st.sampled_from(["经营", "消费", "a", "B", "", "abc", "10", "9"])


@st.composite
def _designer_logic(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """The designer's shapes, on present values of one type: where maykin and js agree."""
    data: dict[str, Any] = {}

    def leaf(i: int) -> dict[str, Any]:
        key = f"f{i}"
        if draw(st.booleans()):
            data[key] = draw(_NUMBERS)
            op = draw(st.sampled_from(["==", "!=", ">", ">=", "<", "<="]))
            return {op: [{"var": key}, draw(_NUMBERS)]}
        data[key] = draw(_TEXTS)
        if draw(st.booleans()):
            return {"in": [{"var": key}, draw(st.lists(_TEXTS, max_size=3))]}
        return {draw(st.sampled_from(["==", "!="])): [{"var": key}, draw(_TEXTS)]}

    def tree(depth: int, counter: list[int]) -> dict[str, Any]:
        if depth == 0 or draw(st.booleans()):
            counter[0] += 1
            return leaf(counter[0])
        op = draw(st.sampled_from(["and", "or"]))
        return {op: [tree(depth - 1, counter) for _ in range(draw(st.integers(1, 3)))]}

    return tree(3, [0]), data


@settings(max_examples=300, deadline=None)
@given(case=_designer_logic())
def test_agrees_with_maykin_on_designer_shapes(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    logic, data = case
    assert evaluate_condition(logic, data) is bool(jsonLogic(logic, data))


_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from([*OPERATORS, "var", "x", "log"]), inner, max_size=2),
    ),
    max_leaves=15,
)


@settings(max_examples=1000, deadline=None)
@given(logic=_JSON, data=st.dictionaries(st.sampled_from(["a", "b", "x"]), _JSON, max_size=3))
def test_anything_evaluates_or_raises_condition_error(logic: Any, data: dict[str, Any]) -> None:
    try:
        result = evaluate_condition(logic, data)
    except ConditionError as exc:
        assert exc.code in MESSAGES
    else:
        assert isinstance(result, bool)
    try:
        check_condition(logic, {"a", "b"})
    except ConditionError as exc:
        assert exc.code in MESSAGES
    assert isinstance(condition_fields(logic), set)


def test_unknown_operator_is_refused_when_evaluating() -> None:
    with pytest.raises(ConditionError) as err:
        evaluate_condition({"log": [1]}, {})
    assert (err.value.code, err.value.params) == ("condition.unknown_operator", {"operator": "log"})
    with pytest.raises(ConditionError):
        evaluate_condition({"and": [True, {"reduce": [[1], 0, 0]}]}, {})


def test_deep_nesting_is_bounded() -> None:
    logic: Any = True
    for _ in range(500):
        logic = {"!": [logic]}
    with pytest.raises(ConditionError) as err:
        evaluate_condition(logic, {})
    assert err.value.code == "condition.too_deep"
    with pytest.raises(ConditionError):
        check_condition(logic, set())
    data: Any = 1
    for _ in range(500):
        data = [data]
    with pytest.raises(ConditionError):
        evaluate_condition({"var": "a"}, {"a": data})


# ---- check_condition ---------------------------------------------------------------------------

KNOWN = {"amount", "purpose", "co", "address"}


@pytest.mark.parametrize(
    "logic",
    [
        None,
        {},
        True,
        BIG_BUSINESS,
        {"in": [{"var": "purpose"}, ["经营", "消费"]]},
        {"some": [{"var": "co"}, {">": [{"var": "income"}, 5000]}]},  # row columns not checked
        {"all": [{"var": "co"}, {"!!": [{"var": ""}]}]},
        {"==": [{"var": "address.city"}, "杭州"]},
        {"==": [{"var": ["amount", 0]}, 0]},
        {"!": {"var": "amount"}},
        {"missing": ["amount", "purpose"]},
        {"missing_some": [1, ["amount", "purpose"]]},
        {"if": [{"var": "amount"}, "a", "b"]},
        {"<": [1, {"var": "amount"}, 10]},
        {"==": [{"substr": [{"var": "purpose"}, 0, 1]}, "经"]},
        {"==": [{"cat": [{"var": "purpose"}, "-"]}, "经营-"]},
        {">": [{"+": [{"var": "amount"}, 1]}, {"*": [2, 3]}]},
        {">": [{"max": [{"var": "amount"}, 1]}, {"min": [2, 3]}]},
        {"in": [1, {"merge": [[1], 2]}]},
        {"==": [{"%": [{"var": "amount"}, 2]}, {"/": [4, {"-": [3, 1]}]}]},
    ],
)
def test_check_condition_accepts(logic: Any) -> None:
    check_condition(logic, KNOWN)


@pytest.mark.parametrize(
    ("logic", "code", "params"),
    [
        ({"log": [1]}, "condition.unknown_operator", {"operator": "log", "path": ""}),
        ({"and": [True, {"reduce": [1]}]}, "condition.unknown_operator",
         {"operator": "reduce", "path": "and.1"}),
        ({"==": [{"var": "amont"}, 1]}, "condition.unknown_field",
         {"field": "amont", "path": "==.0.var"}),
        ({"missing": ["amount", "nope"]}, "condition.unknown_field",
         {"field": "nope", "path": "missing"}),
        ({"==": [1]}, "condition.wrong_arity", {"operator": "==", "path": "=="}),
        ({"!": [1, 2]}, "condition.wrong_arity", {"operator": "!", "path": "!"}),
        ({"some": [{"var": "co"}]}, "condition.wrong_arity", {"operator": "some", "path": "some"}),
        ({"var": [{"var": "purpose"}]}, "condition.malformed", {"path": "var"}),
        ({"var": ""}, "condition.malformed", {"path": "var"}),
        ({"==": [1, 2], "!=": [1, 2]}, "condition.malformed", {"path": ""}),
        ({"and": [{"a": 1, "b": 2}]}, "condition.malformed", {"path": "and.0"}),
        ({"missing": [1]}, "condition.malformed", {"path": "missing"}),
        ({"missing_some": ["x", ["amount"]]}, "condition.malformed", {"path": "missing_some.0"}),
        ("amount > 1", "condition.malformed", {"path": ""}),
        ([{"var": "amount"}], "condition.malformed", {"path": ""}),
        ({"==": [object(), 1]}, "condition.malformed", {"path": "==.0"}),
    ],
)  # fmt: skip
def test_check_condition_rejects(logic: Any, code: str, params: dict[str, str]) -> None:
    with pytest.raises(ConditionError) as err:
        check_condition(logic, KNOWN)
    assert (err.value.code, err.value.params) == (code, params)
    assert code in MESSAGES
    assert str(err.value).startswith(code)


def test_every_operator_is_known_to_the_checker() -> None:
    expected = {
        "==", "===", "!=", "!==", ">", ">=", "<", "<=", "!", "!!", "and", "or", "if", "?:",
        "in", "var", "missing", "missing_some", "+", "-", "*", "/", "%", "min", "max", "cat",
        "substr", "merge", "some", "all", "none",
    }  # fmt: skip
    assert expected == OPERATORS


# ---- condition_fields --------------------------------------------------------------------------


def test_condition_fields() -> None:
    assert condition_fields(BIG_BUSINESS) == {"amount", "purpose"}
    assert condition_fields(None) == set()
    assert condition_fields(True) == set()
    logic = {
        "or": [
            {"some": [{"var": "co"}, {">": [{"var": "income"}, {"var": "ignored_in_scope"}]}]},
            {"==": [{"var": "address.city"}, "杭州"]},
            {"missing": ["phone"]},
            {"missing_some": [1, ["email", "wechat"]]},
            {"var": ["fallback", {"var": "default_from"}]},
            {"!": {"var": "flag"}},
            {"var": 0},
        ]
    }
    assert condition_fields(logic) == {
        "co", "address.city", "phone", "email", "wechat", "fallback", "default_from", "flag", "0"
    }  # fmt: skip
    assert condition_fields({"var": [{"var": "dynamic"}]}) == {"dynamic"}
