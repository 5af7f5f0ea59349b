"""Excel-like formulas: parsed once by a Lark LALR parser, compiled to closures, evaluated safely.

Grammar decisions (see `GRAMMAR`):
- Precedence, loosest first: comparisons (= <> < > <= >=), & (text), + -, * /, ^, % (postfix),
  unary - and +. As in Excel, unary minus binds tighter than ^, so -2^2 = 4 and 2^-1 = 0.5;
  ^ is left-associative (2^3^2 = 64). 5% is 0.05.
- Numbers are Decimal (never float); strings use double quotes with "" as an escaped quote.
- Field references: identifiers (ASCII letters, digits, underscore; not starting with a digit),
  `{any key}` in braces, and `table.column` for a sub-table column, allowed only as a direct
  argument of an aggregate function (SUM, AVERAGE, MIN, MAX, COUNT, COUNTA, ROWS).
- TRUE / FALSE and function names are case-insensitive; field keys are not.
- A leading "=" is allowed; full-width （ ） ， are accepted as ( ) , for Chinese keyboards.

Evaluation is a walk over closures built once per formula (no eval/exec). Bounded: at most
2,000 characters, expressions nested at most 64 deep (chains like a+b+c+... count once), text at
most 10,000 characters, numbers within 1e±999 at 28 digits (larger is formula.overflow).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from datetime import date
from decimal import Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext
from types import MappingProxyType
from typing import Any, NamedTuple

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from . import values as v
from .errors import FormulaError
from .functions import FUNCTIONS, IMPLS, Env

MAX_LENGTH = 2000
MAX_DEPTH = 64

GRAMMAR = r"""
?start: comparison

?comparison: concat
    | comparison COMP_OP concat        -> compare
?concat: additive
    | concat AMP additive              -> chain
?additive: multiplicative
    | additive ADD_OP multiplicative   -> chain
?multiplicative: power
    | multiplicative MUL_OP power      -> chain
?power: unary
    | power CARET unary                -> power
?unary: postfix
    | ADD_OP unary                     -> unary
?postfix: atom
    | postfix PERCENT                  -> percent
?atom: NUMBER                          -> number
    | STRING                           -> string
    | ref
    | NAME _LPAR [arglist] _RPAR       -> call
    | _LPAR comparison _RPAR
ref: refpart (_DOT refpart)?
refpart: NAME | BRACED
arglist: comparison (_COMMA comparison)*

COMP_OP: /<>|<=|>=|=|<|>/
AMP: "&"
ADD_OP: /[+-]/
MUL_OP: /[*\/]/
CARET: "^"
PERCENT: "%"
_LPAR: /[(（]/
_RPAR: /[)）]/
_COMMA: /[,，]/
_DOT: "."
NUMBER: /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/
STRING: /"(?:[^"]|"")*"/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
BRACED: /\{[^{}]*\}/
%ignore /[ \t\r\n\u3000]+/
"""

_EMPTY: Mapping[str, Collection[str]] = MappingProxyType({})
_WHOLE_TABLE = "ROWS", "COUNTA"  # aggregates that may take a whole sub-table


# ---- syntax tree ------------------------------------------------------------------------------


class Node:
    __slots__ = ("depth", "pos")
    depth: int
    pos: int

    def __init__(self, pos: int, *children: Node) -> None:
        self.pos = pos
        self.depth = 1 + max((c.depth for c in children), default=0)
        if self.depth > MAX_DEPTH:
            raise FormulaError("formula.too_deep", pos, {"max": MAX_DEPTH})


class Literal(Node):
    __slots__ = ("value",)

    def __init__(self, pos: int, value: Any) -> None:
        super().__init__(pos)
        self.value = value


class Ref(Node):
    __slots__ = ("column", "key")

    def __init__(self, pos: int, key: str, column: str | None) -> None:
        super().__init__(pos)
        self.key = key
        self.column = column


class Unary(Node):
    __slots__ = ("op", "operand")

    def __init__(self, pos: int, op: str, operand: Node) -> None:
        super().__init__(pos, operand)
        self.op = op
        self.operand = operand


class Binary(Node):
    __slots__ = ("left", "op", "right")

    def __init__(self, pos: int, op: str, left: Node, right: Node) -> None:
        super().__init__(pos, left, right)
        self.op = op
        self.left = left
        self.right = right


class Chain(Node):
    """a + b - c (or * /, or &) flattened, so long sums do not nest deeply."""

    __slots__ = ("first", "rest")

    def __init__(self, first: Node, rest: list[tuple[str, int, Node]]) -> None:
        super().__init__(first.pos, first, *(node for _, _, node in rest))
        self.first = first
        self.rest = rest


class Call(Node):
    __slots__ = ("args", "name")

    def __init__(self, pos: int, name: str, args: list[Node]) -> None:
        super().__init__(pos, *args)
        self.name = name
        self.args = args


_GROUPS = {"+": "+-", "-": "+-", "*": "*/", "/": "*/", "&": "&"}


class _Builder(Transformer[Token, Node]):
    """Runs inside the LALR parser (bottom-up, no recursion), building `Node`s."""

    def number(self, children: list[Token]) -> Node:
        (tok,) = children
        try:
            value = v.CONTEXT.create_decimal(str(tok))
        except Overflow:
            raise FormulaError("formula.overflow", tok.start_pos) from None
        return Literal(_pos(tok), value)

    def string(self, children: list[Token]) -> Node:
        (tok,) = children
        return Literal(_pos(tok), str(tok)[1:-1].replace('""', '"'))

    def refpart(self, children: list[Token]) -> Token:
        (tok,) = children
        return tok

    def ref(self, children: list[Token]) -> Node:
        first = children[0]
        key = _key(first)
        if len(children) == 1:
            word = key.upper()
            if first.type == "NAME" and word in ("TRUE", "FALSE"):
                return Literal(_pos(first), word == "TRUE")
            return Ref(_pos(first), key, None)
        return Ref(_pos(first), key, _key(children[1]))

    def arglist(self, children: list[Node]) -> list[Node]:
        return children

    def call(self, children: list[Any]) -> Node:
        name, args = children
        return Call(_pos(name), str(name).upper(), args or [])

    def unary(self, children: list[Any]) -> Node:
        op, operand = children
        if op == "+":
            return operand
        if isinstance(operand, Literal) and type(operand.value) is Decimal:
            return Literal(_pos(op), operand.value.copy_negate())  # exact, no context
        return Unary(_pos(op), "-", operand)

    def percent(self, children: list[Any]) -> Node:
        operand, op = children
        if isinstance(operand, Literal) and type(operand.value) is Decimal:
            return Literal(operand.pos, operand.value.scaleb(-2, v.CONTEXT))
        return Unary(_pos(op), "%", operand)

    def power(self, children: list[Any]) -> Node:
        left, op, right = children
        return Binary(_pos(op), "^", left, right)

    def compare(self, children: list[Any]) -> Node:
        left, op, right = children
        return Binary(_pos(op), str(op), left, right)

    def chain(self, children: list[Any]) -> Node:
        left, op, right = children
        item = (str(op), _pos(op), right)
        if isinstance(left, Chain) and _GROUPS[left.rest[0][0]] == _GROUPS[item[0]]:
            return Chain(left.first, [*left.rest, item])
        return Chain(left, [item])


def _pos(tok: Token) -> int:
    return tok.start_pos or 0


def _key(tok: Token) -> str:
    text = str(tok)
    if tok.type == "BRACED":
        text = text[1:-1].strip()
        if not text:
            raise FormulaError("formula.syntax", _pos(tok), {"token": "{}"})
    return text


_PARSER = Lark(GRAMMAR, parser="lalr", lexer="contextual", transformer=_Builder())


def parse(text: str) -> Node:
    """The syntax tree of `text`, or FormulaError (syntax, too long, too deep) with a position."""
    if len(text) > MAX_LENGTH:
        raise FormulaError("formula.too_long", MAX_LENGTH, {"max": MAX_LENGTH})
    stripped = text.lstrip(" \t\r\n\u3000")
    if stripped.startswith("="):  # "=ROUND(...)" as typed in Excel; keep the offsets
        at = len(text) - len(stripped)
        text = text[:at] + " " + text[at + 1 :]
    if not text.strip(" \t\r\n\u3000"):
        raise FormulaError("formula.empty", 0)
    try:
        tree = _PARSER.parse(text)
    except UnexpectedCharacters as exc:
        at = exc.pos_in_stream or 0
        raise FormulaError("formula.syntax", at, {"token": text[at : at + 1]}) from None
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            raise FormulaError("formula.syntax", len(text.rstrip()), {"token": ""}) from None
        raise FormulaError("formula.syntax", _pos(tok), {"token": str(tok)[:20]}) from None
    except UnexpectedInput as exc:  # pragma: no cover - LALR raises the two above
        raise FormulaError("formula.syntax", getattr(exc, "pos_in_stream", None)) from None
    assert isinstance(tree, Node)
    return tree


# ---- compilation to closures -----------------------------------------------------------------


Closure = Callable[[Env], Any]


class RefUse(NamedTuple):
    key: str
    column: str | None
    position: int
    function: str | None  # the aggregate it is a direct argument of


def _locate(exc: BaseException, pos: int) -> FormulaError:
    """A runtime failure as a FormulaError at the innermost node that knows its position."""
    if isinstance(exc, FormulaError):
        if exc.position is None:
            exc.position = pos
        return exc
    if isinstance(exc, ZeroDivisionError | DivisionByZero):
        return FormulaError("formula.division_by_zero", pos)
    if isinstance(exc, Overflow | OverflowError):
        return FormulaError("formula.overflow", pos)
    if isinstance(exc, InvalidOperation | ValueError):
        return FormulaError("formula.invalid_argument", pos)
    return FormulaError("formula.type_error", pos)


_CAUGHT = (FormulaError, ArithmeticError, ValueError, TypeError)

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": v.add,
    "-": v.sub,
    "*": v.mul,
    "/": v.div,
    "^": v.power,
    "&": v.concat,
    "=": v.eq,
    "<>": v.ne,
    "<": v.lt,
    "<=": v.le,
    ">": v.gt,
    ">=": v.ge,
}


class _Compiler:
    def __init__(self) -> None:
        self.uses: list[RefUse] = []

    def build(self, node: Node, aggregate: str | None = None) -> Closure:
        if isinstance(node, Literal):
            value = node.value
            return lambda env: value
        if isinstance(node, Ref):
            return self._ref(node, aggregate)
        if isinstance(node, Unary):
            return _guard(
                v.negate if node.op == "-" else v.percent, [self.build(node.operand)], node.pos
            )
        if isinstance(node, Binary):
            fn = _BINARY[node.op]
            return _guard(fn, [self.build(node.left), self.build(node.right)], node.pos)
        if isinstance(node, Chain):
            return self._chain(node)
        assert isinstance(node, Call)
        return self._call(node)

    def _ref(self, node: Ref, aggregate: str | None) -> Closure:
        key, column = node.key, node.column
        self.uses.append(RefUse(key, column, node.pos, aggregate))
        if column is None:
            norm, pos = v.norm, node.pos

            def ref(env: Env) -> Any:
                value = env.values.get(key)
                if type(value) is Decimal and value.is_finite():
                    return value
                try:
                    return norm(value)
                except FormulaError as exc:
                    raise _locate(exc, pos) from None

            return ref
        if aggregate is None:
            raise FormulaError(
                "formula.column_outside_aggregate", node.pos, {"field": f"{key}.{column}"}
            )
        pos = node.pos

        def column_ref(env: Env) -> list[Any]:
            rows = env.values.get(key)
            if rows is None:
                return []
            if not isinstance(rows, list | tuple):
                raise FormulaError(
                    "formula.type_error", pos, {"expected": "list", "got": v.kind(rows)}
                )
            out = []
            for row in rows:
                if not isinstance(row, Mapping):
                    raise FormulaError(
                        "formula.type_error", pos, {"expected": "row", "got": v.kind(row)}
                    )
                out.append(v.norm(row.get(column)))
            return out

        return column_ref

    def _chain(self, node: Chain) -> Closure:
        first = self.build(node.first)
        if len(node.rest) == 1:
            op, pos, right = node.rest[0]
            return _guard(_BINARY[op], [first, self.build(right)], pos)
        steps = [(_BINARY[op], pos, self.build(right)) for op, pos, right in node.rest]

        def chain(env: Env) -> Any:
            acc = first(env)
            for fn, pos, right in steps:
                try:
                    acc = fn(acc, right(env))
                except _CAUGHT as exc:
                    raise _locate(exc, pos) from None
            return acc

        return chain

    def _call(self, node: Call) -> Closure:
        name, pos = node.name, node.pos
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise FormulaError("formula.unknown_function", pos, {"function": name})
        n = len(node.args)
        if (
            n < spec.min_args
            or (spec.max_args is not None and n > spec.max_args)
            or (name == "IFS" and n % 2)
        ):
            most = "" if spec.max_args is None else spec.max_args
            raise FormulaError(
                "formula.wrong_arity",
                pos,
                {"function": name, "min": spec.min_args, "max": most, "got": n},
            )
        impl = IMPLS[name]
        if impl.kind == "aggregate":
            parts = [(isinstance(a, Ref), self.build(a, name)) for a in node.args]
            if name == "ROWS" and not isinstance(node.args[0], Ref):
                raise FormulaError("formula.type_error", node.args[0].pos, {"expected": "list"})
            return _aggregate(impl.fn, parts, pos)
        args = [self.build(a) for a in node.args]
        if impl.kind == "lazy":
            return _lazy(impl.fn, args, pos)
        if impl.kind == "env":
            fn = impl.fn
            return lambda env: fn(env)
        return _guard(impl.fn, args, pos)


def _guard(fn: Callable[..., Any], args: list[Closure], pos: int) -> Closure:
    """A call of `fn` on the evaluated arguments; failures are located at `pos`."""
    if len(args) == 1:
        (a,) = args

        def call1(env: Env) -> Any:
            try:
                return fn(a(env))
            except _CAUGHT as exc:
                raise _locate(exc, pos) from None

        return call1
    if len(args) == 2:
        a, b = args

        def call2(env: Env) -> Any:
            try:
                return fn(a(env), b(env))
            except _CAUGHT as exc:
                raise _locate(exc, pos) from None

        return call2

    def call(env: Env) -> Any:
        try:
            return fn(*[arg(env) for arg in args])
        except _CAUGHT as exc:
            raise _locate(exc, pos) from None

    return call


def _lazy(fn: Callable[..., Any], args: list[Closure], pos: int) -> Closure:
    def call(env: Env) -> Any:
        try:
            return fn(env, *args)
        except _CAUGHT as exc:
            raise _locate(exc, pos) from None

    return call


def _aggregate(fn: Callable[..., Any], parts: list[tuple[bool, Closure]], pos: int) -> Closure:
    def call(env: Env) -> Any:
        try:
            return fn([(arg(env), is_ref) for is_ref, arg in parts])
        except _CAUGHT as exc:
            raise _locate(exc, pos) from None

    return call


# ---- the public objects ------------------------------------------------------------------------


class _Env:
    __slots__ = ("today", "values")

    def __init__(self, values: Mapping[str, Any], today: date | None) -> None:
        self.values = values
        self.today = today


class Formula:
    """A compiled formula: immutable, shared through the cache, safe to use from many threads."""

    __slots__ = ("_fn", "_uses", "references", "text")

    text: str
    references: frozenset[str]

    def __init__(self, text: str, fn: Closure, uses: tuple[RefUse, ...]) -> None:
        self.text = text
        self._fn = fn
        self._uses = uses
        self.references = frozenset(
            use.key if use.column is None else f"{use.key}.{use.column}" for use in uses
        )

    @property
    def uses(self) -> tuple[RefUse, ...]:
        """Each reference with its position and the aggregate it is an argument of."""
        return self._uses

    def evaluate(
        self, values: Mapping[str, Any], *, today: date | None = None
    ) -> Decimal | str | bool | date | None:
        """The formula's value for `values` (field key -> value); FormulaError on failure."""
        env = _Env(values, today)
        with localcontext(v.CONTEXT):
            try:
                return v.result(self._fn(env))
            except FormulaError as exc:
                raise _locate(exc, 0) from None
            except RecursionError:  # pragma: no cover - depth is bounded at compile time
                raise FormulaError("formula.too_deep") from None
            except _CAUGHT as exc:
                raise _locate(exc, 0) from None

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"


@functools.lru_cache(maxsize=4096)
def compile_formula(text: str) -> Formula:
    """Parse and compile `text` once (cached by text); FormulaError with a position if invalid."""
    if not isinstance(text, str):
        raise FormulaError("formula.syntax", 0, {"token": type(text).__name__})
    tree = parse(text)
    compiler = _Compiler()
    fn = compiler.build(tree)
    return Formula(text, fn, tuple(compiler.uses))


def check_formula(
    text: str,
    known_fields: Collection[str],
    subtables: Mapping[str, Collection[str]] = _EMPTY,
) -> Formula:
    """Design-time check: syntax, functions, arity, and that every reference exists.

    `subtables` maps a sub-table field's key to its column keys. A sub-table's columns are
    referenced as `table.column` inside SUM, AVERAGE, ...; the bare table only in ROWS / COUNTA.
    """
    formula = compile_formula(text)
    for use in sorted(formula.uses, key=lambda u: u.position):
        if use.column is None:
            if use.key in subtables:
                if use.function not in _WHOLE_TABLE:
                    raise FormulaError(
                        "formula.subtable_needs_column", use.position, {"field": use.key}
                    )
            elif use.key not in known_fields:
                raise FormulaError("formula.unknown_field", use.position, {"field": use.key})
        else:
            columns = subtables.get(use.key)
            if columns is None or use.column not in columns:
                raise FormulaError(
                    "formula.unknown_field", use.position, {"field": f"{use.key}.{use.column}"}
                )
    return formula
