from __future__ import annotations

from datetime import date
from typing import Any

from loandesk.core.expression import compile_formula

TODAY = date(2026, 3, 15)


def ev(text: str, values: dict[str, Any] | None = None, **kw: Any) -> Any:
    """Evaluate `text` with `values` (or keyword values) on a fixed TODAY."""
    return compile_formula(text).evaluate({**(values or {}), **kw}, today=TODAY)
