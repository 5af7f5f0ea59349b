"""The two exception types of the flow engine core.

`FlowError` is raised when a command cannot be applied to an instance (acting on someone else's
task, on a closed task, on a finished instance, a stale `expected_version`, ...). It carries a
stable `code` (``flow.*``), string `params` for the message and the HTTP `status` the API layer
should answer with, so the Django layer maps it onto the project's error hierarchy 1:1 and
translates the code; nothing here formats user-facing prose.

`DefinitionInvalid` is raised by `Definition.from_json` when a flow definition fails validation.
It carries every problem found (not only the first), each pointing at the node (or branch) id the
designer should highlight.

A command that raises leaves the instance state untouched: the engine works on a copy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# code → HTTP status the API should use. Every code the engine raises is listed here, so the
# Django layer (and its message catalogue test) can enumerate them.
ERROR_STATUS: dict[str, int] = {
    "flow.conflict": 409,
    "flow.definition_mismatch": 409,
    "flow.instance_finished": 409,
    "flow.task_not_found": 404,
    "flow.step_not_found": 404,
    "flow.not_your_task": 403,
    "flow.not_initiator": 403,
    "flow.task_closed": 409,
    "flow.action_not_allowed": 422,
    "flow.invalid_target": 422,
    "flow.duplicate_assignee": 409,
    "flow.field_not_editable": 422,
    "flow.edit_not_allowed": 422,
    "flow.withdraw_not_allowed": 409,
    "flow.urge_too_soon": 429,
    "flow.nothing_to_urge": 409,
    "flow.not_returned": 409,
    "flow.not_in_error": 409,
    "flow.bad_command": 400,
    "flow.no_working_day": 422,
    "flow.definition_invalid": 422,
}


class FlowError(Exception):
    """A command was refused. `code` is stable; `params` are strings for the message."""

    def __init__(self, code: str, params: Mapping[str, object] | None = None) -> None:
        self.code = code
        self.params: dict[str, str] = {k: str(v) for k, v in (params or {}).items()}
        self.status: int = ERROR_STATUS.get(code, 400)
        detail = f" {self.params}" if self.params else ""
        super().__init__(f"{code}{detail}")


@dataclass(frozen=True, slots=True)
class Issue:
    """One validation problem: where (`node_id`, maybe `field`), what (`code`) and details."""

    node_id: str | None
    code: str
    field: str | None = None
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "code": self.code,
            "field": self.field,
            "params": dict(self.params),
        }


class DefinitionInvalid(FlowError):
    """A definition failed validation; `issues` lists every problem, each on its node."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("flow.definition_invalid", {"count": len(self.issues)})

    def to_json(self) -> list[dict[str, Any]]:
        return [issue.to_json() for issue in self.issues]
