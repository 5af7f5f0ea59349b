"""The two exception types of the expression engine.

Both carry a stable `code` (``formula.*`` / ``condition.*``) and string `params`, so the API
layer can translate them (see `messages.MESSAGES`) and put them in a JSON error body as they are.
"""

from __future__ import annotations

from collections.abc import Mapping


class FormulaError(Exception):
    """A formula that cannot be compiled, or that failed while evaluating.

    `position` is the 0-based character offset in the formula text of the token at fault (the
    designer underlines it), or None when no single place is to blame.
    """

    def __init__(
        self,
        code: str,
        position: int | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.code = code
        self.position = position
        self.params: dict[str, str] = {k: str(v) for k, v in (params or {}).items()}
        super().__init__(code)

    def __str__(self) -> str:
        where = "" if self.position is None else f" at {self.position}"
        extra = f" {self.params}" if self.params else ""
        return f"{self.code}{where}{extra}"


class ConditionError(Exception):
    """A JSON-logic condition that is malformed or uses what the engine does not allow.

    `params` may carry ``operator``, ``field`` and ``path`` (where in the tree, e.g. ``and.1.>``).
    """

    def __init__(self, code: str, params: Mapping[str, object] | None = None) -> None:
        self.code = code
        self.params: dict[str, str] = {k: str(v) for k, v in (params or {}).items()}
        super().__init__(code)

    def __str__(self) -> str:
        return f"{self.code} {self.params}" if self.params else self.code
