"""Write jsonlogic_cases.json: hand-picked and random (seeded) JSON-logic cases (an intermediate).

Recording the expected results needs node and json-logic-js 2.0.5 (the phone's library):

    python tests/core/expression/vectors/make_jsonlogic_cases.py
    npm install --prefix /tmp/jl json-logic-js@2.0.5
    NODE_PATH=/tmp/jl/node_modules node tests/core/expression/vectors/record_jsonlogic.cjs

which writes jsonlogic_vectors.json, read by test_condition_vectors.py (no node needed there).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent

DATA: dict[str, Any] = {
    "amount": 600000,
    "rate": 0.0435,
    "term": 12,
    "zero": 0,
    "neg": -3,
    "text_num": "500000",
    "text_dec": "500000.50",
    "text_pad": " 42 ",
    "empty": "",
    "blank": None,
    "word": "经营",
    "abc": "abc",
    "yes": True,
    "no": False,
    "date": "2025-03-01",
    "tags": ["经营", "消费"],
    "nums": [1, 2, 3],
    "empty_list": [],
    "one_list": [5],
    "rows": [{"income": 3000, "name": "张三"}, {"income": "4000", "name": ""}, {"income": None}],
    "obj": {"city": "杭州", "zip": "310000"},
}
VARS = [*DATA, "absent", "obj.city", "obj.none", "rows.0.income", "nums.1", "nums.9"]
LITERALS: list[Any] = [
    0, 1, -1, 2.5, 500000, 600000, 1e21, 0.1, "", "0", "1", "10", "9", "500000", "600000",
    "abc", "ABC", "经营", "消费", " ", "1e3", "0x10", "Infinity", "12px", True, False, None,
    [], [1], ["经营", "消费"], [1, 2], "2025-01-01",
]  # fmt: skip
BINARY = ["==", "===", "!=", "!==", ">", ">=", "<", "<=", "in", "/", "%", "-"]
NARY = ["and", "or", "+", "*", "min", "max", "cat", "merge"]
UNARY = ["!", "!!", "-"]

HAND: list[dict[str, Any]] = [
    {"and": [{">": [{"var": "amount"}, 500000]}, {"==": [{"var": "word"}, "经营"]}]},
    {"or": [{"<": [{"var": "amount"}, 1000]}, {"and": [{"==": [{"var": "yes"}, True]}]}]},
    {"in": [{"var": "word"}, ["经营", "消费"]]},
    {"in": ["营", {"var": "word"}]},
    {"in": [{"var": "absent"}, ["经营"]]},
    {">": [{"var": "text_num"}, 400000]},
    {">": [{"var": "text_num"}, "400000"]},
    {">": [{"var": "text_num"}, "9"]},
    {"==": [{"var": "text_dec"}, 500000.5]},
    {"==": [{"var": "blank"}, 0]},
    {"==": [{"var": "blank"}, None]},
    {"==": [{"var": "absent"}, None]},
    {"<": [{"var": "blank"}, 100000]},
    {"<": [{"var": "absent"}, 100000]},
    {">": [{"var": "blank"}, -1]},
    {"<=": [{"var": "empty"}, 0]},
    {"==": [{"var": "empty"}, 0]},
    {"==": [{"var": "empty"}, False]},
    {"<": [1, {"var": "term"}, 24]},
    {"<=": [12, {"var": "term"}, 12]},
    {"!": [{"var": "empty_list"}]},
    {"!!": [{"var": "empty_list"}]},
    {"!!": [{"var": "obj"}]},
    {"!!": ["0"]},
    {"missing": ["amount", "absent", "empty", "blank"]},
    {"missing_some": [1, ["absent", "amount"]]},
    {"missing_some": [2, ["absent", "amount", "blank"]]},
    {"if": [{">": [{"var": "amount"}, 500000]}, "big", "small"]},
    {"if": [False, 1, False, 2, 3]},
    {"if": [False, 1]},
    {"?:": [{"var": "yes"}, "y", "n"]},
    {"some": [{"var": "rows"}, {">": [{"var": "income"}, 3500]}]},
    {"all": [{"var": "rows"}, {"!!": [{"var": "income"}]}]},
    {"none": [{"var": "rows"}, {"==": [{"var": "name"}, "李四"]}]},
    {"some": [{"var": "absent"}, {"var": ""}]},
    {"all": [{"var": "empty_list"}, True]},
    {"none": [{"var": "empty_list"}, True]},
    {"some": [{"var": "nums"}, {">": [{"var": ""}, 2]}]},
    {"all": [{"var": "tags"}, {"in": [{"var": ""}, ["经营", "消费"]]}]},
    {"cat": ["a", None, 1, 2.5, True, [1, 2], {"var": "blank"}]},
    {"cat": [0.1, 1e21, 1e-7, 123456789012345680000, -0.0, 1.5e300]},
    {"substr": ["jsonlogic", 4]},
    {"substr": ["jsonlogic", -5]},
    {"substr": ["jsonlogic", 1, 3]},
    {"substr": ["jsonlogic", 4, -2]},
    {"substr": ["借款申请", 1, 2]},
    {"substr": [{"var": "amount"}, 0, 3]},
    {"merge": [1, [2, 3], [[4]], {"var": "nums"}]},
    {"+": ["1", "2.5", 3]},
    {"+": ["12px", 1]},
    {"+": []},
    {"+": "3"},
    {"*": [2, "3"]},
    {"*": ["abc"]},
    {"-": ["10", 3]},
    {"-": [{"var": "amount"}]},
    {"/": [1, 0]},
    {"/": [-1, 0]},
    {"/": [0, 0]},
    {"%": [-7, 3]},
    {"%": [7.5, 2]},
    {"%": [1, 0]},
    {"min": [3, "1", 2]},
    {"max": []},
    {"min": [1, "abc"]},
    {"var": ["absent", "dflt"]},
    {"var": ["blank", "dflt"]},
    {"var": "obj.city"},
    {"var": "nums.length"},
    {"var": "rows.1.income"},
    {"var": ["nums.9", 7]},
    {"==": [{"var": "nums"}, "1,2,3"]},
    {"==": [{"var": "one_list"}, 5]},
    {"==": [[], ""]},
    {"==": [[], 0]},
    {"==": [True, "1"]},
    {"==": [False, ""]},
    {"==": ["1.0", 1]},
    {"===": [1, 1.0]},
    {"===": ["1", 1]},
    {"!==": [None, None]},
    {"<": ["abc", "abd"]},
    {"<": ["Z", "a"]},
    {"<": ["经营", "消费"]},
    {"<": ["10", "9"]},
    {"<": ["10", 9]},
    {"<": [None, 1]},
    {">=": [None, 0]},
    {"<": ["abc", 1]},
    {">": [{"var": "date"}, "2025-01-01"]},
    {"<": [[2], 3]},
    {"==": [{"var": "obj"}, "[object Object]"]},
    {"in": [1, "x1y"]},
    {"in": ["", ""]},
    {"in": [None, [None]]},
    {"in": [1, ["1"]]},
    {"==": [" 42 ", 42]},
    {"==": ["0x10", 16]},
    {"==": ["Infinity", {"/": [1, 0]}]},
    {"and": []},
    {"or": [0, "", None]},
    {"and": [1, "a", [1]]},
]


def _random_logic(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth >= 3 or roll < 0.25:
        return rng.choice(LITERALS)
    if roll < 0.5:
        return {"var": rng.choice(VARS)}
    kind = rng.random()
    if kind < 0.55:
        op = rng.choice(BINARY)
        args = [_random_logic(rng, depth + 1) for _ in range(2)]
        if op in ("<", "<=") and rng.random() < 0.2:
            args.append(_random_logic(rng, depth + 1))
        return {op: args}
    if kind < 0.8:
        op = rng.choice(NARY)
        return {op: [_random_logic(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    if kind < 0.9:
        return {rng.choice(UNARY): [_random_logic(rng, depth + 1)]}
    op = rng.choice(["some", "all", "none"])
    scoped = {
        rng.choice([">", "==", "<", "!="]): [
            {"var": rng.choice(["", "income", "name"])},
            rng.choice(LITERALS),
        ]
    }
    return {op: [{"var": rng.choice(["rows", "nums", "tags", "absent", "empty_list"])}, scoped]}


def main() -> None:
    rng = random.Random(20261128)
    logics = HAND + [_random_logic(rng, 0) for _ in range(1500)]
    text = json.dumps({"data": DATA, "logics": logics}, ensure_ascii=False, allow_nan=False)
    (HERE / "jsonlogic_cases.json").write_text(text)


if __name__ == "__main__":
    main()
