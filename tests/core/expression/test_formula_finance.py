"""PMT and friends against numpy-financial (floats, converted) and Excel's documented values."""

from __future__ import annotations

from decimal import Decimal as D

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loandesk.core.expression import FormulaError, compile_formula

rates = st.decimals(min_value=D("0.0001"), max_value=D("0.05"), places=6)
npers = st.integers(min_value=1, max_value=480)
amounts = st.decimals(min_value=D(1), max_value=D(10_000_000), places=2)
whens = st.sampled_from([0, 1])


def _close(ours: object, theirs: float, scale: D = D(1)) -> bool:
    """Within float noise: numpy's error grows with (1+r)^n and the amounts (`scale`)."""
    assert isinstance(ours, D)
    return abs(ours - D(repr(float(theirs)))) <= D("1e-9") * max(D(1), abs(ours), abs(scale))


def test_pmt_matches_excel_example() -> None:
    value = compile_formula("PMT(8%/12, 10, 10000)").evaluate({})
    assert isinstance(value, D)
    assert _close(value, npf.pmt(0.08 / 12, 10, 10000))
    assert value.quantize(D("0.01")) == D("-1037.03")
    # not rounded unless the user ROUNDs
    assert value.as_tuple().exponent < -2  # type: ignore[operator]


@settings(max_examples=200, deadline=None)
@given(rate=rates, nper=npers, pv=amounts, fv=amounts, when=whens)
def test_pmt_matches_numpy_financial(rate: D, nper: int, pv: D, fv: D, when: int) -> None:
    values = {"rate": rate, "nper": nper, "pv": pv, "fv": fv, "when": when}
    ours = compile_formula("PMT(rate, nper, -pv, fv, when)").evaluate(values)
    theirs = npf.pmt(float(rate), nper, -float(pv), float(fv), when)
    assert _close(ours, theirs)


@settings(max_examples=150, deadline=None)
@given(rate=rates, nper=npers, pv=amounts, when=whens, data=st.data())
def test_ipmt_ppmt_fv_pv_match_numpy_financial(
    rate: D, nper: int, pv: D, when: int, data: st.DataObject
) -> None:
    per = data.draw(st.integers(min_value=1, max_value=nper))
    values = {"rate": rate, "nper": nper, "pv": pv, "per": per, "when": when}
    r, p = float(rate), float(pv)

    def ev(text: str) -> object:
        return compile_formula(text).evaluate(values)

    ipmt, ppmt = npf.ipmt(r, per, nper, p, 0, when), npf.ppmt(r, per, nper, p, 0, when)
    assert _close(ev("IPMT(rate, per, nper, pv, 0, when)"), ipmt, pv)
    assert _close(ev("PPMT(rate, per, nper, pv, 0, when)"), ppmt, pv)
    assert _close(ev("FV(rate, nper, -100, -pv, when)"), npf.fv(r, nper, -100, -p, when), pv)
    assert _close(ev("PV(rate, nper, -100, pv, when)"), npf.pv(r, nper, -100, p, when), pv)


def test_ipmt_plus_ppmt_is_pmt() -> None:
    values = {"r": D("0.0435") / 12, "n": 36, "pv": D(100000)}
    pmt = compile_formula("PMT(r, n, pv)").evaluate(values)
    for per in (1, 2, 18, 36):
        total = compile_formula(f"IPMT(r, {per}, n, pv) + PPMT(r, {per}, n, pv)").evaluate(values)
        assert isinstance(total, D) and isinstance(pmt, D)
        assert abs(total - pmt) < D("1e-20")


def test_zero_rate() -> None:
    assert compile_formula("PMT(0, 10, 1000, 100)").evaluate({}) == D(-110)
    assert compile_formula("FV(0, 10, -100)").evaluate({}) == D(1000)
    assert compile_formula("PV(0, 10, -100)").evaluate({}) == D(1000)
    assert compile_formula("IPMT(0, 1, 10, 1000)").evaluate({}) == D(0)


def test_fractional_nper() -> None:
    ours = compile_formula("PMT(1%, 10.5, 1000)").evaluate({})
    assert _close(ours, npf.pmt(0.01, 10.5, 1000))


@pytest.mark.parametrize(
    "text",
    [
        "PMT(1%, 0, 1000)",
        "IPMT(1%, 0, 12, 1000)",
        "IPMT(1%, 13, 12, 1000)",
        "PPMT(1%, 13, 12, 1000)",
        "PMT(-2, 0.5, 1000)",  # a negative base to a fractional power
        "PMT(1e-30, 12, 1000)",  # (1 + r)^n rounds to 1 at 28 digits
    ],
)
def test_finance_errors(text: str) -> None:
    with pytest.raises(FormulaError) as err:
        compile_formula(text).evaluate({})
    assert err.value.code == "formula.invalid_argument"


def test_blank_arguments_are_zero() -> None:
    assert compile_formula("PMT(r, 12, pv)").evaluate({"pv": 1200}) == D(-100)
