"""The one exception type of the finance library.

Every bad input raises `FinanceInputError` naming the offending field and a stable `code`
(``finance.*``); the API layer translates the code (zh-CN / en-US) and renders a 4xx, so
nothing here formats user-facing prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal


class FinanceInputError(ValueError):
    """Invalid input: `field` is the parameter name, `code` a stable translation key."""

    def __init__(
        self, field: str, code: str, message_params: Mapping[str, object] | None = None
    ) -> None:
        self.field = field
        self.code = code
        # Strings only, so the params can go straight into a JSON error body.
        self.message_params: dict[str, str] = {k: str(v) for k, v in (message_params or {}).items()}
        detail = f" {self.message_params}" if self.message_params else ""
        super().__init__(f"{field}: {code}{detail}")


class AprCapExceeded(FinanceInputError):
    """A schedule's APR is above the product cap (policy ``refuse``); carries both rates."""

    def __init__(self, apr: Decimal, cap: Decimal) -> None:
        self.apr = apr
        self.cap = cap
        super().__init__("annual_rate", "finance.apr_above_cap", {"apr": apr, "cap": cap})
