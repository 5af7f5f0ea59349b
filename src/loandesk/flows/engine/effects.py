"""Effects: what the Django layer must do after a command, in order, in the same transaction.

The engine never performs I/O. Every transition returns the new state plus a list of effects;
the Django layer applies them (rows for tasks/timers/history, outbox events for notifications,
django-tasks jobs for automated steps) and saves the state with its new version. Each effect
has a stable ``type`` and ``to_json()``; ``Transition.to_json()`` serialises the lot, e.g. for an
outbox payload or a debugging log.

==================  ======================================================================
type                meaning
==================  ======================================================================
task_created        insert a task row (待办) for `task.user_id`
task_closed         mark the task row closed with `status` (approved, cancelled, ...)
timer_scheduled     insert a timer row that the scheduler fires at `fire_at` → timer_fired
timer_cancelled     delete/disable the timer row (firing it later would be ignored anyway)
automated_run       enqueue the automated action; report automated_done / automated_failed
automated_cancelled the step's result is no longer wanted (instance withdrawn/cancelled)
notify              in-app notification `kind` to `user_ids` (task_assigned, reminder, urge,
                    returned, finished, escalation_failed, automated_failed, no_assignee)
cc                  抄送: `user_ids` get the instance in their CC inbox and a notification
data_updated        an approver edited fields (`changes`) — write them to the form record
history_recorded    insert the history row (`event`); the timeline is built from these
status_changed      the instance status moved `old` → `new` (returned, error, running, ...)
finished            the instance ended with `result` (approved, rejected, withdrawn, cancelled)
==================  ======================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeAlias

from .state import HistoryEvent, InstanceState, Task, Timer


@dataclass(frozen=True, slots=True)
class TaskCreated:
    type: ClassVar[str] = "task_created"
    task: Task

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "task": self.task.to_json()}


@dataclass(frozen=True, slots=True)
class TaskClosed:
    type: ClassVar[str] = "task_closed"
    task_id: str
    node_id: str
    user_id: str
    status: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "task_id": self.task_id,
            "node_id": self.node_id,
            "user_id": self.user_id,
            "status": self.status,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class TimerScheduled:
    type: ClassVar[str] = "timer_scheduled"
    timer: Timer

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "timer": self.timer.to_json()}


@dataclass(frozen=True, slots=True)
class TimerCancelled:
    type: ClassVar[str] = "timer_cancelled"
    timer_id: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "timer_id": self.timer_id}


@dataclass(frozen=True, slots=True)
class AutomatedRun:
    type: ClassVar[str] = "automated_run"
    step_id: str
    node_id: str
    action: str
    params: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "step_id": self.step_id,
            "node_id": self.node_id,
            "action": self.action,
            "params": dict(self.params),
        }


@dataclass(frozen=True, slots=True)
class AutomatedCancelled:
    type: ClassVar[str] = "automated_cancelled"
    step_id: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "step_id": self.step_id}


@dataclass(frozen=True, slots=True)
class Notify:
    type: ClassVar[str] = "notify"
    kind: str
    user_ids: tuple[str, ...]
    node_id: str | None = None
    task_id: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "kind": self.kind,
            "user_ids": list(self.user_ids),
            "node_id": self.node_id,
            "task_id": self.task_id,
            "params": dict(self.params),
        }


@dataclass(frozen=True, slots=True)
class NotifyCc:
    type: ClassVar[str] = "cc"
    node_id: str
    user_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "node_id": self.node_id, "user_ids": list(self.user_ids)}


@dataclass(frozen=True, slots=True)
class DataUpdated:
    type: ClassVar[str] = "data_updated"
    node_id: str | None
    changes: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "node_id": self.node_id, "changes": dict(self.changes)}


@dataclass(frozen=True, slots=True)
class HistoryRecorded:
    type: ClassVar[str] = "history_recorded"
    event: HistoryEvent

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "event": self.event.to_json()}


@dataclass(frozen=True, slots=True)
class StatusChanged:
    type: ClassVar[str] = "status_changed"
    old: str
    new: str
    error: Mapping[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "old": self.old,
            "new": self.new,
            "error": None if self.error is None else dict(self.error),
        }


@dataclass(frozen=True, slots=True)
class Finished:
    type: ClassVar[str] = "finished"
    result: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "result": self.result, "at": self.at.isoformat()}


Effect: TypeAlias = (
    TaskCreated
    | TaskClosed
    | TimerScheduled
    | TimerCancelled
    | AutomatedRun
    | AutomatedCancelled
    | Notify
    | NotifyCc
    | DataUpdated
    | HistoryRecorded
    | StatusChanged
    | Finished
)

EFFECT_TYPES = tuple(
    cls.type
    for cls in (
        TaskCreated,
        TaskClosed,
        TimerScheduled,
        TimerCancelled,
        AutomatedRun,
        AutomatedCancelled,
        Notify,
        NotifyCc,
        DataUpdated,
        HistoryRecorded,
        StatusChanged,
        Finished,
    )
)


@dataclass(frozen=True, slots=True)
class Transition:
    """The result of a command: the new state, what to do, and whether it was a no-op.

    `ignored` is true for stale timers and duplicate automated results: `state` is then the
    input state unchanged (same version) and `effects` is empty.
    """

    state: InstanceState
    effects: list[Effect]
    ignored: bool = False

    def of_type(self, cls: type[Any]) -> list[Any]:
        return [e for e in self.effects if isinstance(e, cls)]

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state.to_json(),
            "effects": [e.to_json() for e in self.effects],
            "ignored": self.ignored,
        }
