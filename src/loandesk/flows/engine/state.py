"""Instance state: plain dataclasses that round-trip through JSON exactly.

`InstanceState` is everything the engine needs to continue an instance: status, data, the
current node and its approval run (one slot per resolved assignee), every task the instance ever
had, the scheduled timers, automated steps, the current route (the nodes passed since the last
(re)submission, used for return targets and progress) and how many history events it has
recorded (`history_seq`).

The leaves (`Task`, `Slot`, `Timer`, `AutoStep`, `Visit`, `HistoryEvent`) are frozen: the engine
replaces them instead of mutating, so `InstanceState.clone()` only copies containers and a
command never changes the state it was given. ``state.to_json()`` returns plain JSON types
(datetimes as ISO-8601 strings with their offset) for a JSONField; ``InstanceState.from_json``
rebuilds an equal state. The Django layer also keeps tasks, timers and history as rows (from the
effects), so the JSON document is the engine's memory and the rows are the queryable projection.

The history itself is not in the state (ADR 0015): each event leaves the engine once, as a
`HistoryRecorded` effect, and is kept as a row; `progress` is given those events back. The state
stays the size of what the engine needs to continue, however long an instance's history grows
(it was ~45 % of a finished loan application's state, and every decision rewrites the state).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

# Instance statuses. "returned": waiting for the initiator to resubmit; "error": an automated
# step failed with on_failure=stop or nobody could be assigned — `retry` or `cancel` go on.
RUNNING = "running"
RETURNED = "returned"
ERROR = "error"
APPROVED = "approved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
CANCELLED = "cancelled"
FINISHED = frozenset({APPROVED, REJECTED, WITHDRAWN, CANCELLED})

SYSTEM = "system"  # the actor of everything the engine does by itself

# Task statuses: "open" is the only one a user can act on.
OPEN = "open"
TASK_CLOSED_STATUSES = (
    "approved",
    "rejected",
    "returned",
    "transferred",
    "delegated",  # add-signer-before: suspended until the added signer has acted
    "escalated",
    "cancelled",
)


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _req_dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class Task:
    """A to-do for one user on one approval node visit (待办)."""

    id: str
    node_id: str
    visit: int
    slot: int
    user_id: str
    # assignee | transfer | before (added before) | after (added after) | resume (back to the
    # user who added a signer before) | escalation
    kind: str
    created_at: datetime
    status: str = OPEN
    due_at: datetime | None = None
    remind_at: datetime | None = None
    closed_at: datetime | None = None
    return_stack: tuple[str, ...] = ()  # users to give the slot back to (add-signer before)
    last_urged_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "node_id": self.node_id,
            "visit": self.visit,
            "slot": self.slot,
            "user_id": self.user_id,
            "kind": self.kind,
            "created_at": _dt(self.created_at),
            "status": self.status,
            "due_at": _dt(self.due_at),
            "remind_at": _dt(self.remind_at),
            "closed_at": _dt(self.closed_at),
            "return_stack": list(self.return_stack),
            "last_urged_at": _dt(self.last_urged_at),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Task:
        return cls(
            id=obj["id"],
            node_id=obj["node_id"],
            visit=obj["visit"],
            slot=obj["slot"],
            user_id=obj["user_id"],
            kind=obj["kind"],
            created_at=_req_dt(obj["created_at"]),
            status=obj["status"],
            due_at=_parse_dt(obj["due_at"]),
            remind_at=_parse_dt(obj["remind_at"]),
            closed_at=_parse_dt(obj["closed_at"]),
            return_stack=tuple(obj["return_stack"]),
            last_urged_at=_parse_dt(obj["last_urged_at"]),
        )


@dataclass(frozen=True, slots=True)
class Slot:
    """One resolved assignee's seat on an approval run; decided approved or rejected once."""

    assignee: str
    status: str = "queued"  # queued | open | approved | rejected | cancelled
    reason: str | None = None  # for automatic decisions: initiator | previous_approver | timeout

    def to_json(self) -> dict[str, Any]:
        return {"assignee": self.assignee, "status": self.status, "reason": self.reason}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Slot:
        return cls(assignee=obj["assignee"], status=obj["status"], reason=obj["reason"])


@dataclass(slots=True)
class ApprovalRun:
    """The approval node the instance waits on: its slots and who approved so far."""

    node_id: str
    visit: int
    slots: list[Slot]
    approvers: list[str] = field(default_factory=list)
    task_seq: int = 0

    def clone(self) -> ApprovalRun:
        return ApprovalRun(
            self.node_id, self.visit, list(self.slots), list(self.approvers), self.task_seq
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "visit": self.visit,
            "slots": [s.to_json() for s in self.slots],
            "approvers": list(self.approvers),
            "task_seq": self.task_seq,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ApprovalRun:
        return cls(
            node_id=obj["node_id"],
            visit=obj["visit"],
            slots=[Slot.from_json(s) for s in obj["slots"]],
            approvers=list(obj["approvers"]),
            task_seq=obj["task_seq"],
        )


@dataclass(frozen=True, slots=True)
class Timer:
    """A reminder or timeout the scheduler must fire at `fire_at` (a row in the Django layer)."""

    id: str
    kind: str  # reminder | timeout
    task_id: str
    fire_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "task_id": self.task_id,
            "fire_at": _dt(self.fire_at),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Timer:
        return cls(
            id=obj["id"], kind=obj["kind"], task_id=obj["task_id"], fire_at=_req_dt(obj["fire_at"])
        )


@dataclass(frozen=True, slots=True)
class AutoStep:
    """One run of an automated node; the Django layer runs it and reports back.

    Its result is not kept here (ADR 0016): the step-run row, the ``automated_done`` history
    event and, for a node with a ``result_key``, the flow data hold it; the state is rewritten
    on every decision, so a copy here (a scorecard is ~1.4 KB) was paid again each time."""

    id: str
    node_id: str
    visit: int
    action: str
    params: Mapping[str, Any]
    started_at: datetime
    status: str = "running"  # running | done | failed | cancelled
    finished_at: datetime | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "node_id": self.node_id,
            "visit": self.visit,
            "action": self.action,
            "params": dict(self.params),
            "started_at": _dt(self.started_at),
            "status": self.status,
            "finished_at": _dt(self.finished_at),
            "error": self.error,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> AutoStep:
        return cls(
            id=obj["id"],
            node_id=obj["node_id"],
            visit=obj["visit"],
            action=obj["action"],
            params=dict(obj["params"]),
            started_at=_req_dt(obj["started_at"]),
            status=obj["status"],
            finished_at=_parse_dt(obj["finished_at"]),
            error=obj["error"],  # a "result" of a state written before ADR 0016 is dropped
        )


@dataclass(frozen=True, slots=True)
class Visit:
    """One pass through a node on the current route."""

    node_id: str
    visit: int
    entered_at: datetime
    left_at: datetime | None = None
    # None while current; then approved | rejected | returned | auto_passed | done | skipped
    # (automated failure with on_failure=skip) | failed | branch | withdrawn | cancelled
    outcome: str | None = None
    branch_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "visit": self.visit,
            "entered_at": _dt(self.entered_at),
            "left_at": _dt(self.left_at),
            "outcome": self.outcome,
            "branch_id": self.branch_id,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Visit:
        return cls(
            node_id=obj["node_id"],
            visit=obj["visit"],
            entered_at=_req_dt(obj["entered_at"]),
            left_at=_parse_dt(obj["left_at"]),
            outcome=obj["outcome"],
            branch_id=obj["branch_id"],
        )


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One line of the timeline: who did what, when, where, and how long the task had waited."""

    seq: int
    at: datetime
    actor: str  # a user id, or "system"
    action: str
    node_id: str | None = None
    visit: int | None = None
    task_id: str | None = None
    target: str | None = None  # a user (transfer, add-signer, auto-approved) or a node id
    comment: str | None = None
    attachments: tuple[str, ...] = ()
    signature: str | None = None
    duration_seconds: int | None = None  # since the task was created
    round: int = 1
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": _dt(self.at),
            "actor": self.actor,
            "action": self.action,
            "node_id": self.node_id,
            "visit": self.visit,
            "task_id": self.task_id,
            "target": self.target,
            "comment": self.comment,
            "attachments": list(self.attachments),
            "signature": self.signature,
            "duration_seconds": self.duration_seconds,
            "round": self.round,
            "details": dict(self.details),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> HistoryEvent:
        return cls(
            seq=obj["seq"],
            at=_req_dt(obj["at"]),
            actor=obj["actor"],
            action=obj["action"],
            node_id=obj["node_id"],
            visit=obj["visit"],
            task_id=obj["task_id"],
            target=obj["target"],
            comment=obj["comment"],
            attachments=tuple(obj["attachments"]),
            signature=obj["signature"],
            duration_seconds=obj["duration_seconds"],
            round=obj["round"],
            details=dict(obj["details"]),
        )


@dataclass(slots=True)
class InstanceState:
    """The whole state of one flow instance. Build it with `FlowEngine.start`."""

    definition_key: str
    definition_version: int
    initiator: str
    started_at: datetime
    data: dict[str, Any]
    version: int = 0
    status: str = RUNNING
    round: int = 1
    choices: dict[str, list[str]] = field(default_factory=dict)
    current: str | None = None
    run: ApprovalRun | None = None
    step_id: str | None = None
    visits: dict[str, int] = field(default_factory=dict)
    route: list[Visit] = field(default_factory=list)
    tasks: dict[str, Task] = field(default_factory=dict)
    timers: dict[str, Timer] = field(default_factory=dict)
    steps: dict[str, AutoStep] = field(default_factory=dict)
    history_seq: int = 0  # the seq of the last history event recorded (they are numbered from 1)
    previous_approvers: list[str] = field(default_factory=list)
    acted: bool = False  # has a person decided anything since the last (re)submission?
    returned_from: str | None = None
    error: dict[str, str] | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def open_tasks(self) -> list[Task]:
        return [t for t in self.tasks.values() if t.status == OPEN]

    def clone(self) -> InstanceState:
        """A copy safe to change: containers are copied, frozen leaves shared, `data` shared
        (the engine replaces it, never mutates it)."""
        return replace(
            self,
            choices={k: list(v) for k, v in self.choices.items()},
            run=None if self.run is None else self.run.clone(),
            visits=dict(self.visits),
            route=list(self.route),
            tasks=dict(self.tasks),
            timers=dict(self.timers),
            steps=dict(self.steps),
            previous_approvers=list(self.previous_approvers),
            error=None if self.error is None else dict(self.error),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "definition_key": self.definition_key,
            "definition_version": self.definition_version,
            "initiator": self.initiator,
            "started_at": _dt(self.started_at),
            "data": dict(self.data),
            "version": self.version,
            "status": self.status,
            "round": self.round,
            "choices": {k: list(v) for k, v in self.choices.items()},
            "current": self.current,
            "run": None if self.run is None else self.run.to_json(),
            "step_id": self.step_id,
            "visits": dict(self.visits),
            "route": [v.to_json() for v in self.route],
            "tasks": [t.to_json() for t in self.tasks.values()],
            "timers": [t.to_json() for t in self.timers.values()],
            "steps": [s.to_json() for s in self.steps.values()],
            "history_seq": self.history_seq,
            "previous_approvers": list(self.previous_approvers),
            "acted": self.acted,
            "returned_from": self.returned_from,
            "error": None if self.error is None else dict(self.error),
            "finished_at": _dt(self.finished_at),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> InstanceState:
        tasks = [Task.from_json(t) for t in obj["tasks"]]
        timers = [Timer.from_json(t) for t in obj["timers"]]
        steps = [AutoStep.from_json(s) for s in obj["steps"]]
        return cls(
            definition_key=obj["definition_key"],
            definition_version=obj["definition_version"],
            initiator=obj["initiator"],
            started_at=_req_dt(obj["started_at"]),
            data=dict(obj["data"]),
            version=obj["version"],
            status=obj["status"],
            round=obj["round"],
            choices={k: list(v) for k, v in obj["choices"].items()},
            current=obj["current"],
            run=None if obj["run"] is None else ApprovalRun.from_json(obj["run"]),
            step_id=obj["step_id"],
            visits=dict(obj["visits"]),
            route=[Visit.from_json(v) for v in obj["route"]],
            tasks={t.id: t for t in tasks},
            timers={t.id: t for t in timers},
            steps={s.id: s for s in steps},
            # A state written before ADR 0015 carried its whole history.
            history_seq=(
                obj["history_seq"]
                if "history_seq" in obj
                else max((h["seq"] for h in obj.get("history", ())), default=0)
            ),
            previous_approvers=list(obj["previous_approvers"]),
            acted=obj["acted"],
            returned_from=obj["returned_from"],
            error=None if obj["error"] is None else dict(obj["error"]),
            finished_at=_parse_dt(obj["finished_at"]),
        )
