"""Decimal context and rounding rules shared by every calculation.

Amounts are yuan `Decimal`s quantized to the fen (0.01) with ROUND_HALF_UP (四舍五入), the
convention of Chinese loan contracts. Each amount is rounded once, from an exact numerator
divided once (``num / den``), so ties such as 0.035 are never lost to an inexact rate like
7 % / 1200.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
ONE = Decimal(1)
HUNDRED = Decimal(100)

# 40 significant digits: numerators reach ~1e22 (1e10 yuan x 1000 % x 366 days), so every
# product used here is exact and every quotient is far finer than a fen.
CONTEXT = Context(
    prec=40, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)


def fen(value: Decimal) -> Decimal:
    """Round a yuan amount half-up to the fen."""
    return value.quantize(FEN, ROUND_HALF_UP)


def round_to_multiple(value: Decimal, multiple: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to a multiple of `multiple` (0.01 = fen, 1 = whole yuan), result in fen."""
    if multiple == FEN:
        return value.quantize(FEN, rounding)
    return ((value / multiple).quantize(ONE, rounding) * multiple).quantize(FEN)


def fen_down(value: Decimal) -> Decimal:
    """Truncate to the fen (used when half-up would overshoot a remainder)."""
    return value.quantize(FEN, ROUND_DOWN)


def percent_str(value: Decimal) -> str:
    """Render a percentage with two decimals, half-up (the disclosed form).

    The precision grows with the value: an effective annual rate of an extreme short loan
    can have a hundred digits, and must print rather than raise.
    """
    with localcontext(CONTEXT) as ctx:
        ctx.prec = max(CONTEXT.prec, value.adjusted() + 4)
        return str(value.quantize(FEN, ROUND_HALF_UP))


def in_context(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` under the library's Decimal context, whatever the caller's context is."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(CONTEXT):
            return fn(*args, **kwargs)

    return wrapper
