"""Commands: the only ways an instance changes. Each is a frozen dataclass with JSON form.

The Django layer can store the commands it applied (``command_to_json``) next to the state and
re-apply them with `FlowEngine.handle` — the engine is deterministic given the same definition,
the same answers from the `Directory` and the same condition evaluator. Every command carries
`now` (the engine never reads the clock); the ones a person sends may carry `expected_version`
(the state version the client saw) and are refused with ``flow.conflict`` when it is stale.

=================  =========================================================================
type               fields
=================  =========================================================================
start              initiator, data, now, choices {node_id: [user ids]} for initiator_choice
act                task_id, user_id, action, now, comment, attachments, signature, target,
                   data (field edits allowed by the node's field permissions),
                   expected_version. action ∈ approve | reject | return | transfer |
                   add_signer_before | add_signer_after | comment. target: a user id
                   (transfer, add-signer) or "initiator" / an earlier node id (return)
withdraw           user_id, now, comment, expected_version (initiator, before anyone acted)
urge               user_id, now, expected_version (initiator; once per task per interval)
resubmit           user_id, data, now, choices, comment, expected_version (after a return)
timer_fired        timer_id, now (from the scheduler; stale timers are ignored)
automated_done     step_id, result, now
automated_failed   step_id, error, now
retry              user_id, now, expected_version (re-enter the node an error stopped at)
cancel             user_id, now, comment, expected_version (admin ends the instance)
=================  =========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeAlias

from .errors import FlowError

ACT_ACTIONS = (
    "approve",
    "reject",
    "return",
    "transfer",
    "add_signer_before",
    "add_signer_after",
    "comment",
)


@dataclass(frozen=True, slots=True)
class Start:
    type: ClassVar[str] = "start"
    initiator: str
    data: Mapping[str, Any]
    now: datetime
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Act:
    type: ClassVar[str] = "act"
    task_id: str
    user_id: str
    action: str
    now: datetime
    comment: str | None = None
    attachments: tuple[str, ...] = ()
    signature: str | None = None
    target: str | None = None
    data: Mapping[str, Any] | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class Withdraw:
    type: ClassVar[str] = "withdraw"
    user_id: str
    now: datetime
    comment: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class Urge:
    type: ClassVar[str] = "urge"
    user_id: str
    now: datetime
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class Resubmit:
    type: ClassVar[str] = "resubmit"
    user_id: str
    data: Mapping[str, Any]
    now: datetime
    choices: Mapping[str, Sequence[str]] | None = None
    comment: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class TimerFired:
    type: ClassVar[str] = "timer_fired"
    timer_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class AutomatedDone:
    type: ClassVar[str] = "automated_done"
    step_id: str
    result: Any
    now: datetime


@dataclass(frozen=True, slots=True)
class AutomatedFailed:
    type: ClassVar[str] = "automated_failed"
    step_id: str
    error: str
    now: datetime


@dataclass(frozen=True, slots=True)
class Retry:
    type: ClassVar[str] = "retry"
    user_id: str
    now: datetime
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class Cancel:
    type: ClassVar[str] = "cancel"
    user_id: str
    now: datetime
    comment: str | None = None
    expected_version: int | None = None


Command: TypeAlias = (
    Start
    | Act
    | Withdraw
    | Urge
    | Resubmit
    | TimerFired
    | AutomatedDone
    | AutomatedFailed
    | Retry
    | Cancel
)
_CLASSES: dict[str, Any] = {
    cls.type: cls
    for cls in (
        Start,
        Act,
        Withdraw,
        Urge,
        Resubmit,
        TimerFired,
        AutomatedDone,
        AutomatedFailed,
        Retry,
        Cancel,
    )
}


def command_to_json(command: Command) -> dict[str, Any]:
    out: dict[str, Any] = {"type": command.type}
    for name in command.__dataclass_fields__:
        value = getattr(command, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
        out[name] = value
    return out


def command_from_json(obj: Mapping[str, Any]) -> Command:
    cls = _CLASSES.get(str(obj.get("type")))
    if cls is None:
        raise FlowError("flow.bad_command", {"type": obj.get("type")})
    kwargs: dict[str, Any] = {}
    for name, value in obj.items():
        if name == "type":
            continue
        if name not in cls.__dataclass_fields__:
            raise FlowError("flow.bad_command", {"field": name})
        if name == "now":
            value = datetime.fromisoformat(value)
        elif name == "attachments":
            value = tuple(value)
        kwargs[name] = value
    try:
        command: Command = cls(**kwargs)
    except TypeError as exc:
        raise FlowError("flow.bad_command", {"error": exc}) from exc
    return command
