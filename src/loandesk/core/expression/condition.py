"""JSON-logic conditions (visibility, flow branches, rule conditions), as json-logic-js does them.

The phone evaluates conditions live with json-logic-js; the server re-checks, and must reach the
same answer. maykin-json-logic-py (`json_logic.jsonLogic`) was the plan, but it differs from
json-logic-js where forms live:
- a blank operand makes <, <=, >, >= return None (js: null is 0, so blank < 100000 is true);
- "==" compares str() forms ("600000.00" == 600000 is false; js converts the text to a number);
- "missing" does not count "" as missing; "cat" writes None/True as "None"/"True";
- "+" on non-numeric text raises ValueError; "in" with a number in a string raises TypeError;
- some / all / none / substr are not implemented ("Unrecognized operation").
So this module is a small, whitelisted port of json-logic-js 2.0.5's `apply` (tested against
vectors recorded from it, and against maykin where the two agree). Data is first turned into
what the phone holds after JSON: Decimal → number, date → ISO text.

Allowed operators: == === != !== > >= < <= ! !! and or if ?: in var missing missing_some
+ - * / % min max cat substr merge some all none. Anything else is a ConditionError.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from .errors import ConditionError

MAX_DEPTH = 64

# (min, max) arguments the designer may use; None: any number
_ARITY: dict[str, tuple[int, int | None]] = {
    "==": (2, 2), "===": (2, 2), "!=": (2, 2), "!==": (2, 2), ">": (2, 2), ">=": (2, 2),
    "<": (2, 3), "<=": (2, 3), "!": (1, 1), "!!": (1, 1), "and": (1, None), "or": (1, None),
    "if": (1, None), "?:": (3, 3), "in": (2, 2), "var": (1, 2), "missing": (1, None),
    "missing_some": (2, 2), "+": (1, None), "-": (1, 2), "*": (1, None), "/": (2, 2),
    "%": (2, 2), "min": (1, None), "max": (1, None), "cat": (1, None), "substr": (2, 3),
    "merge": (0, None), "some": (2, 2), "all": (2, 2), "none": (2, 2),
}  # fmt: skip
OPERATORS = frozenset(_ARITY)
_SCOPED = frozenset({"some", "all", "none"})

_UNDEFINED = object()
_NAN = float("nan")
_SAFE_INT = 2**53  # beyond this a JS number is a float (and may be Infinity)


def _float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


# ---- JavaScript values -----------------------------------------------------------------------


def to_js(value: Any, depth: int = 0) -> Any:
    """What the phone holds after JSON: numbers, text, booleans, null, arrays and objects."""
    if value is None or isinstance(value, bool | str | int | float):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if depth > MAX_DEPTH:
        raise ConditionError("condition.too_deep", {"max": MAX_DEPTH})
    if isinstance(value, Mapping):
        return {str(k): to_js(item, depth + 1) for k, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_js(item, depth + 1) for item in value]
    return str(value)


def truthy(value: Any) -> bool:
    """json-logic's truthiness: JS's, except that an empty array is false."""
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, dict):
        return True
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    return bool(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def to_str(value: Any) -> str:
    """JS String(value)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) <= _SAFE_INT else _number_to_str(_float(value))
    if isinstance(value, float):
        return _number_to_str(value)
    if isinstance(value, list):
        return ",".join("" if item is None else to_str(item) for item in value)
    return "[object Object]"


def _number_to_str(x: float) -> str:
    """JS Number.prototype.toString for a float (shortest round-trip digits, JS's layout)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) <= _SAFE_INT:
        return str(int(x))
    sign = "-" if x < 0 else ""
    _, digit_tuple, exp = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    assert isinstance(exp, int)
    k = len(digits)
    n = exp + len(digit_tuple)  # the decimal point sits after n digits
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + body


_JS_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Infinity)")
_JS_RADIX = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")
_JS_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def _str_to_number(text: str) -> float | int:
    s = text.strip()
    if not s:
        return 0
    if _JS_NUMBER.fullmatch(s):
        return float(s.replace("Infinity", "inf"))
    if _JS_RADIX.fullmatch(s):
        return int(s, 0)
    return _NAN


def to_number(value: Any) -> float | int:
    """JS Number(value)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if abs(value) <= _SAFE_INT else _float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return _str_to_number(value)
    if isinstance(value, list):
        return _str_to_number(to_str(value))
    return _NAN


def parse_float(value: Any) -> float:
    """JS parseFloat(value)."""
    match = _JS_FLOAT_PREFIX.match(to_str(value).lstrip())
    if not match:
        return _NAN
    return float(match.group().replace("Infinity", "inf"))


def _primitive(value: Any) -> Any:
    return to_str(value) if isinstance(value, list | dict) else value


def strict_equals(a: Any, b: Any) -> bool:
    kind = _kind(a)
    if kind != _kind(b):
        return False
    if kind == "object":
        return a is b
    return bool(a == b)


def loose_equals(a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka == kb:
        return strict_equals(a, b)
    if ka == "null" or kb == "null":
        return False
    if ka == "boolean":
        return loose_equals(int(a), b)
    if kb == "boolean":
        return loose_equals(a, int(b))
    if ka == "number" and kb == "string":
        return bool(a == _str_to_number(b))
    if ka == "string" and kb == "number":
        return bool(_str_to_number(a) == b)
    if ka == "object":
        return loose_equals(_primitive(a), b)
    if kb == "object":
        return loose_equals(a, _primitive(b))
    return False  # pragma: no cover - every pair of kinds is handled above


def less(a: Any, b: Any, *, or_equal: bool = False) -> bool:
    """JS a < b (or a <= b): text with text by code units, anything else as numbers."""
    a, b = _primitive(a), _primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        if not (a.isascii() and b.isascii()):  # JS compares UTF-16 code units
            x, y = a.encode("utf-16-be"), b.encode("utf-16-be")
            return x <= y if or_equal else x < y
        return a <= b if or_equal else a < b
    n, m = to_number(a), to_number(b)
    if math.isnan(n) or math.isnan(m):
        return False
    return n <= m if or_equal else n < m


def _divide(a: Any, b: Any) -> float:
    x, y = float(to_number(a)), float(to_number(b))
    if y == 0:
        if x == 0 or math.isnan(x):
            return _NAN
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _remainder(a: Any, b: Any) -> float | int:
    x, y = to_number(a), to_number(b)
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or y == 0:
        return _NAN
    if math.isinf(y):
        return x
    if isinstance(x, int) and isinstance(y, int):
        return int(math.fmod(x, y)) if abs(x) < 2**53 and abs(y) < 2**53 else x % y
    return math.fmod(x, y)


def _extreme(args: list[Any], pick: Any, empty: float) -> float | int:
    numbers = [to_number(a) for a in args]
    if any(math.isnan(n) for n in numbers):
        return _NAN
    return pick(numbers) if numbers else empty


def _integer(value: Any) -> float:
    """JS ToIntegerOrInfinity."""
    n = to_number(value)
    if math.isnan(n):
        return 0
    if math.isinf(n):
        return n
    return float(math.trunc(n))


def _substr(text: str, start: Any, length: Any = _UNDEFINED) -> str:
    size = len(text)
    first = _integer(start)
    if first < 0:
        begin = 0 if first == -math.inf else int(max(size + first, 0))
    else:
        begin = int(min(first, size))
    count = size if length is _UNDEFINED else _integer(length)
    count = min(max(count, 0), size)
    end = min(begin + int(count), size)
    return text[begin:end] if begin < end else ""


def _in(a: Any, b: Any) -> bool:
    if isinstance(b, str):
        return b != "" and to_str(a) in b
    if isinstance(b, list):
        return any(strict_equals(a, item) for item in b)
    return False


def _var(data: Any, args: list[Any]) -> Any:
    not_found = args[1] if len(args) > 1 else None
    name = args[0] if args else None
    if name is None or name == "":
        return data
    for prop in to_str(name).split("."):
        if data is None:
            return not_found
        data = _lookup(data, prop)
        if data is _UNDEFINED:
            return not_found
    return data


def _lookup(data: Any, prop: str) -> Any:
    if isinstance(data, dict):
        return data.get(prop, _UNDEFINED)
    if isinstance(data, list | str):
        if prop == "length":
            return len(data)
        if prop.isdigit() and (prop == "0" or not prop.startswith("0")):
            index = int(prop)
            return data[index] if index < len(data) else _UNDEFINED
    return _UNDEFINED


def _missing(data: Any, args: list[Any]) -> list[Any]:
    keys = args[0] if args and isinstance(args[0], list) else args
    out = []
    for key in keys:
        value = _var(data, [key])
        if value is None or value == "":
            out.append(key)
    return out


def _apply_op(op: str, args: list[Any], data: Any) -> Any:
    first = args[0] if args else None
    if op == "var":
        return _var(data, args)
    if op == "==":
        return loose_equals(first, _arg(args, 1))
    if op == "!=":
        return not loose_equals(first, _arg(args, 1))
    if op == "===":
        return strict_equals(first, _arg(args, 1))
    if op == "!==":
        return not strict_equals(first, _arg(args, 1))
    if op in ("<", "<="):
        or_equal = op == "<="
        if len(args) > 2:
            return less(first, args[1], or_equal=or_equal) and less(
                args[1], args[2], or_equal=or_equal
            )
        return less(first, _arg(args, 1), or_equal=or_equal)
    if op == ">":
        return less(_arg(args, 1), first)
    if op == ">=":
        return less(_arg(args, 1), first, or_equal=True)
    if op == "!":
        return not truthy(first)
    if op == "!!":
        return truthy(first)
    if op == "in":
        return _in(first, _arg(args, 1))
    if op == "missing":
        return _missing(data, args)
    if op == "missing_some":
        need, options = first, _arg(args, 1)
        options = options if isinstance(options, list) else [options]
        absent = _missing(data, options)
        return [] if less(need, len(options) - len(absent), or_equal=True) else absent
    if op == "+":
        total: float | int = 0
        for arg in args:
            total = parse_float(total) + parse_float(arg)
        return total
    if op == "*":
        if not args:
            raise ConditionError("condition.wrong_arity", {"operator": op})
        product = args[0]
        for arg in args[1:]:
            product = parse_float(product) * parse_float(arg)
        return product
    if op == "-":
        if len(args) < 2:
            return -to_number(first) if args else _NAN
        return to_number(first) - to_number(args[1])
    if op == "/":
        return _divide(first, _arg(args, 1))
    if op == "%":
        return _remainder(first, _arg(args, 1))
    if op == "min":
        return _extreme(args, min, math.inf)
    if op == "max":
        return _extreme(args, max, -math.inf)
    if op == "cat":
        return "".join("" if a is None else to_str(a) for a in args)
    if op == "substr":
        text = to_str(first)
        length = args[2] if len(args) > 2 else _UNDEFINED
        if length is not _UNDEFINED and less(length, 0):
            rest = _substr(text, _arg(args, 1))
            return _substr(rest, 0, len(rest) + to_number(length))
        return _substr(text, _arg(args, 1), length)
    if op == "merge":
        merged: list[Any] = []
        for arg in args:
            if isinstance(arg, list):
                merged.extend(arg)
            else:
                merged.append(arg)
        return merged
    raise ConditionError("condition.unknown_operator", {"operator": op})  # pragma: no cover


def _arg(args: list[Any], i: int) -> Any:
    return args[i] if len(args) > i else None


def apply(logic: Any, data: Any, depth: int = 0) -> Any:
    """json-logic-js `apply` on whitelisted operators; `data` must already be `to_js` values."""
    if depth > MAX_DEPTH:
        raise ConditionError("condition.too_deep", {"max": MAX_DEPTH})
    if isinstance(logic, list):
        return [apply(item, data, depth + 1) for item in logic]
    if not (isinstance(logic, dict) and len(logic) == 1):
        return to_js(logic) if isinstance(logic, dict | Decimal | date | tuple) else logic
    ((op, values),) = logic.items()
    if op not in OPERATORS:
        raise ConditionError("condition.unknown_operator", {"operator": op})
    if not isinstance(values, list):
        values = [values]
    deeper = depth + 1
    if op in ("if", "?:"):
        i = 0
        while i < len(values) - 1:
            if truthy(apply(values[i], data, deeper)):
                return apply(values[i + 1], data, deeper)
            i += 2
        return apply(values[i], data, deeper) if len(values) == i + 1 else None
    if op in ("and", "or"):
        current: Any = None
        want = op == "or"
        for item in values:
            current = apply(item, data, deeper)
            if truthy(current) is want:
                return current
        return current
    if op in _SCOPED:
        items = apply(values[0], data, deeper) if values else None
        if not isinstance(items, list) or not items:
            return op == "none"
        scoped = values[1] if len(values) > 1 else None
        for item in items:
            hit = truthy(apply(scoped, item, deeper))
            if op == "all" and not hit:
                return False
            if op != "all" and hit:
                return op == "some"
        return op != "some"
    return _apply_op(op, [apply(item, data, deeper) for item in values], data)


# ---- public API ------------------------------------------------------------------------------


def evaluate_condition(logic: Mapping[str, Any] | bool | None, data: Mapping[str, Any]) -> bool:
    """Whether `logic` holds for `data` (field key -> value). No condition (None, {}) holds.

    Unknown operators raise ConditionError; anything else evaluates as json-logic-js would.
    """
    if logic is None:
        return True
    if isinstance(logic, bool):
        return logic
    if isinstance(logic, Mapping) and not logic:
        return True
    if isinstance(logic, Mapping) and not isinstance(logic, dict):
        logic = dict(logic)
    return truthy(apply(logic, to_js(data or {})))


def check_condition(logic: Any, known_fields: Collection[str]) -> None:
    """Design-time check; ConditionError for unknown operators, unknown fields, bad shapes.

    A var's first segment must be a known field (so "address.city" is fine when "address" is);
    inside some / all / none the second argument's vars name the row's columns and are not
    checked. Errors carry `path`, e.g. "and.1.>.0".
    """
    if logic is None or isinstance(logic, bool):
        return
    if not isinstance(logic, Mapping):
        raise ConditionError("condition.malformed", {"path": ""})
    if logic:
        _check(logic, known_fields, "", scoped=False, depth=0)


def _check(node: Any, known: Collection[str], path: str, *, scoped: bool, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ConditionError("condition.too_deep", {"max": MAX_DEPTH, "path": path})
    if isinstance(node, list):
        for i, item in enumerate(node):
            _check(item, known, _join(path, i), scoped=scoped, depth=depth + 1)
        return
    if isinstance(node, Mapping):
        if len(node) != 1:
            raise ConditionError("condition.malformed", {"path": path})
        ((op, values),) = node.items()
        where = _join(path, op)
        if op not in OPERATORS:
            raise ConditionError("condition.unknown_operator", {"operator": op, "path": path})
        args = values if isinstance(values, list) else [values]
        lo, hi = _ARITY[op]
        if len(args) < lo or (hi is not None and len(args) > hi):
            raise ConditionError("condition.wrong_arity", {"operator": op, "path": where})
        if op == "var":
            _check_var(args, known, where, scoped=scoped, depth=depth)
            return
        if op in ("missing", "missing_some"):
            names = args[1] if op == "missing_some" else args
            if op == "missing_some" and not isinstance(args[0], int | float):
                raise ConditionError("condition.malformed", {"path": _join(where, 0)})
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ConditionError("condition.malformed", {"path": where})
            if not scoped:
                for name in names:
                    _check_field(name, known, where)
            return
        for i, arg in enumerate(args):
            inner = scoped or (op in _SCOPED and i == 1)
            _check(arg, known, _join(where, i), scoped=inner, depth=depth + 1)
        return
    if not (node is None or isinstance(node, bool | int | float | str | Decimal)):
        raise ConditionError("condition.malformed", {"path": path})


def _check_var(
    args: list[Any], known: Collection[str], where: str, *, scoped: bool, depth: int
) -> None:
    name = args[0]
    if len(args) > 1:
        _check(args[1], known, _join(where, 1), scoped=scoped, depth=depth + 1)
    if scoped:
        if not isinstance(name, str | int) or isinstance(name, bool):
            raise ConditionError("condition.malformed", {"path": where})
        return
    if not isinstance(name, str) or not name:
        raise ConditionError("condition.malformed", {"path": where})
    _check_field(name, known, where)


def _check_field(name: str, known: Collection[str], where: str) -> None:
    if name not in known and name.split(".", 1)[0] not in known:
        raise ConditionError("condition.unknown_field", {"field": name, "path": where})


def _join(path: str, part: object) -> str:
    return f"{path}.{part}" if path else str(part)


def condition_fields(logic: Any) -> set[str]:
    """The var names (and missing / missing_some names) a condition reads, as written.

    Names inside the per-row logic of some / all / none are row columns and are left out.
    """
    found: set[str] = set()
    for name in _fields(logic, 0):
        found.add(name)
    return found


def _fields(node: Any, depth: int) -> Iterator[str]:
    if depth > MAX_DEPTH:
        return
    if isinstance(node, list):
        for item in node:
            yield from _fields(item, depth + 1)
        return
    if not (isinstance(node, Mapping) and len(node) == 1):
        return
    ((op, values),) = node.items()
    args = values if isinstance(values, list) else [values]
    if op == "var":
        if args and isinstance(args[0], str | int) and not isinstance(args[0], bool):
            if args[0] != "":
                yield str(args[0])
        else:
            yield from _fields(args[:1], depth + 1)
        yield from _fields(args[1:], depth + 1)
        return
    if op in ("missing", "missing_some"):
        names = args[1] if op == "missing_some" and len(args) > 1 else args
        if isinstance(names, list):
            yield from (n for n in names if isinstance(n, str))
        return
    if op in _SCOPED:
        yield from _fields(args[:1], depth + 1)
        return
    yield from _fields(args, depth + 1)
