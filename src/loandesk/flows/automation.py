"""Automated flow steps: a registry of actions that other apps plug in.

A flow's `automated` node names an action (`risk_scorecard`, `generate_contract`, `disburse`,
`send_message`, `update_record`, `webhook`). The flows app runs the step as a background task and
calls the registered function with an `AutomatedContext`; the returned JSON-able dict becomes the
step's result (stored in the instance data under the node's `result_key`, so later conditions
and approvers see it). Raising `AutomatedStepFailed` fails the step (the node's `on_failure`
decides: stop the instance in `error`, or skip).

An action may run more than once for one step (a worker killed after the action but before the
result was saved re-runs it), so every action must be idempotent per (instance_id, step_id) —
e.g. the disbursement uses `f"flow:{instance_id}:{step_id}"` as its idempotency key.
Actions run inside the runner's transaction: their writes commit with the step's result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AutomatedContext:
    instance_id: int
    step_id: str
    node_id: str
    action: str
    params: Mapping[str, Any]
    # The instance data as the flow sees it (the record's values; PII fields as stored, i.e.
    # encrypted): actions that need plaintext read the record or the customer themselves.
    data: Mapping[str, Any]
    record_id: int | None
    form_code: str | None
    customer_id: int | None
    initiator_id: int
    # The person on whose authority the step runs: the last approver before it (e.g. the
    # finance officer for `disburse`), else the initiator.
    actor_id: int
    now: datetime
    extra: Mapping[str, Any] = field(default_factory=dict)


class AutomatedStepFailed(Exception):
    """The step cannot complete; `code` is a message code, `params` its placeholders."""

    def __init__(self, code: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.params = dict(params or {})


AutomatedAction = Callable[[AutomatedContext], dict[str, Any]]

_actions: dict[str, AutomatedAction] = {}


def register_action(name: str, action: AutomatedAction) -> None:
    """Register (or replace) the function behind an automated action name."""
    _actions[name] = action


def get_action(name: str) -> AutomatedAction | None:
    return _actions.get(name)


def registered_actions() -> list[str]:
    return sorted(_actions)
