"""Server-side validation of a 30-field submission (3 formulas, 2 conditions, a sub-table, an ID
number): the form engine's pipeline alone, in one process. Target ≥ 2,000 submissions/s.

Baseline: the same form written by hand as a pydantic model (the validation library Django Ninja
uses for the API): the same types, required fields, options, the two conditions, the ID number
check and the three formulas in a validator. The ratio is what interpreting an admin-designed
form costs against code written for one form.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from tests.forms.test_engine import _bench_data, _bench_schema

from bench.harness import Row, measure, row_from
from loandesk.customers.identity import clean_id_number
from loandesk.forms import engine
from loandesk.forms.schema import compile_schema

Option = Literal["a", "b", "c", "d"]
FEN = Decimal("0.01")


class _Other(BaseModel):
    n: str = Field(min_length=1)
    inc: Decimal | None = None


class _Region(BaseModel):
    codes: list[str]
    names: list[str]


class _Application(BaseModel):
    name: str = Field(min_length=1)
    phone: str = Field(pattern=r"^1[3-9]\d{9}$")
    id_no: str
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    amount: Decimal = Field(ge=0)
    term: int | None = None
    rate: Decimal | None = None
    start: date | None = None
    product: Option | None = None
    channels: list[Option] = []
    married: bool = False
    spouse: str | None = None
    guarantee: Option | None = None
    region: _Region | None = None
    address: str | None = None
    employer: str | None = None
    income: Decimal | None = None
    others: list[_Other] = []
    extra: list[str | None] = []
    payment: Decimal | None = None
    household: Decimal | None = None
    ratio: Decimal | None = None

    @model_validator(mode="after")
    def _rules(self) -> "_Application":
        clean_id_number(self.id_no, today=date(2026, 3, 1))
        if self.married and not self.spouse:
            raise ValueError("spouse is required")
        if self.amount <= 500000:
            self.guarantee = None
        if self.rate is not None and self.term:
            r = self.rate / 100 / 12
            pmt = self.amount * r / (1 - (1 + r) ** -self.term)
            self.payment = pmt.quantize(FEN, rounding=ROUND_HALF_UP)
        self.household = (self.income or 0) + sum((o.inc or 0 for o in self.others), Decimal(0))
        if self.payment is not None and self.household > 0:
            self.ratio = (self.payment / self.household).quantize(Decimal("0.0001"))
        return self


def _by_hand(data: dict[str, Any]) -> _Application:
    extra = [data.get(f"extra_{i}") for i in range(8)]
    return _Application.model_validate({**data, "extra": extra})


def run(scale: str) -> list[Row]:
    form = compile_schema(_bench_schema())
    data = _bench_data()
    today = date(2026, 3, 1)
    outcome = engine.process(form, data, today=today)
    assert outcome.errors == {}
    by_hand = _by_hand(data)
    assert str(by_hand.payment) == outcome.data["payment"]
    assert by_hand.household == Decimal(outcome.data["household"])
    base = measure(lambda: _by_hand(data), repeat=1000)
    base_row = row_from("form validation, 30 fields, pydantic by hand (baseline)", "python", base)
    times = measure(lambda: engine.process(form, data, today=today), repeat=1000)
    row = row_from(
        "form validation, 30 fields",
        "python",
        times,
        target=">= 2,000/s",
        baseline="pydantic by hand",
        baseline_median_ms=base_row.median_ms,
    )
    row.met = row.throughput >= 2000
    return [base_row, row]
