"""Server-side validation of a 30-field submission (3 formulas, 2 conditions, a sub-table, an ID
number): the form engine's pipeline alone, in one process. Target ≥ 2,000 submissions/s.
"""

from datetime import date

from tests.forms.test_engine import _bench_data, _bench_schema

from bench.harness import Row, measure, row_from
from loandesk.forms import engine
from loandesk.forms.schema import compile_schema


def run(scale: str) -> list[Row]:
    form = compile_schema(_bench_schema())
    data = _bench_data()
    today = date(2026, 3, 1)
    assert engine.process(form, data, today=today).errors == {}
    times = measure(lambda: engine.process(form, data, today=today), repeat=1000)
    row = row_from("form validation, 30 fields", "python", times, target=">= 2,000/s")
    row.met = row.throughput >= 2000
    return [row]
