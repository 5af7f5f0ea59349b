"""What rules can do: apps register actions here from their AppConfig.ready().

No Django imports: an action is a plain callable, so rule matching stays testable without a
database. The rule engine calls `spec.run(context, params)` inside the firing's transaction,
once per firing (the firing's idempotency key is in the context); with `context.dry_run` the
action must not write anything and only say what it would do (the designer's "test against a
record").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ParamType = Literal[
    "text", "textarea", "number", "choice", "multichoice", "user", "role", "department",
    "template", "field", "fields", "json", "bool", "form",
]  # fmt: skip


@dataclass(frozen=True)
class ParamSpec:
    """One setting of an action, shown as a widget in the rule designer."""

    key: str
    label_zh: str
    label_en: str
    type: ParamType = "text"
    required: bool = False
    # choice / multichoice: (value, label_zh, label_en)
    options: tuple[tuple[str, str, str], ...] = ()
    default: Any = None


@dataclass(frozen=True)
class ActionContext:
    """What a firing hands to each action.

    `record` holds the record's field values as the condition saw them; by convention it carries
    `id` and, where they apply, `customer_id`, `owner_id`, `department_id` and `loan_id`, which
    actions use to resolve recipients and targets.

    `extra` carries `actor_id` (the user the rule runs as: services called by an action check
    that user's permissions and data scope), `trigger_type`, and for record events `topic` and
    `payload` (the outbox event's)."""

    rule_id: int
    rule_name: str
    firing_key: str
    record_type: str
    record_id: int | None
    record: Mapping[str, Any]
    occurred_at: datetime
    dry_run: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


ActionResult = dict[str, Any]  # JSON-able: what was done (or would be), shown in the firing log
ActionFn = Callable[[ActionContext, Mapping[str, Any]], ActionResult]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label_zh: str
    label_en: str
    run: ActionFn
    params: tuple[ParamSpec, ...] = ()
    # Record types the action makes sense for; empty = every type. Keys: customer, application,
    # loan, installment, repayment, collection_case (see loandesk.rules.records).
    record_types: tuple[str, ...] = ()


class UnknownAction(KeyError):
    pass


_actions: dict[str, ActionSpec] = {}


def register_action(
    name: str,
    *,
    label_zh: str,
    label_en: str,
    params: tuple[ParamSpec, ...] = (),
    record_types: tuple[str, ...] = (),
) -> Callable[[ActionFn], ActionFn]:
    """Decorator: `@register_action("send_message", label_zh=..., label_en=..., params=(...))`."""

    def register(fn: ActionFn) -> ActionFn:
        _actions[name] = ActionSpec(name, label_zh, label_en, fn, params, record_types)
        return fn

    return register


def get_action(name: str) -> ActionSpec:
    try:
        return _actions[name]
    except KeyError:
        raise UnknownAction(name) from None


def all_actions() -> list[ActionSpec]:
    return [_actions[name] for name in sorted(_actions)]
