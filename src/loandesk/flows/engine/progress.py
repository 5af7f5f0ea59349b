"""Read helpers for the UI: progress timelines and what a task's holder may do.

- ``progress(definition, state, history=events)``: every node of the tree in order with a
  status — ``done``, ``current``, ``pending`` or ``skipped`` — plus who acted (with comments and
  how long each waited), who is being waited for and the deadline. Branches not taken are
  ``skipped``; a branch group not reached yet shows all its branches ``pending``, or only the
  branch the current data would take when `evaluate_condition` is given (the rest ``skipped``).
  Nodes left unvisited by a finished instance are ``skipped``.
- ``borrower_progress(definition, state, lang)``: the borrower's status page in plain words:
  a summary line and the visible steps (start, approval nodes, automated nodes that have a
  ``borrower_label``), without names, comments or internal node names; consecutive steps with
  the same label are merged.
- ``task_actions(definition, state, task_id, user_id)`` / ``return_options(...)``: the buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .definition import (
    INITIATOR,
    ApprovalNode,
    AutomatedNode,
    ConditionGroup,
    Definition,
    EndNode,
    Node,
    StartNode,
)
from .state import ERROR, OPEN, RUNNING, HistoryEvent, InstanceState, Visit

DONE, CURRENT, PENDING, SKIPPED = "done", "current", "pending", "skipped"

# History actions shown as someone's act on a node.
ACTOR_ACTIONS = frozenset(
    {
        "submitted",
        "resubmitted",
        "approved",
        "rejected",
        "returned",
        "transferred",
        "add_signer_before",
        "add_signer_after",
        "commented",
        "auto_approved",
        "auto_rejected",
        "escalated",
        "auto_passed",
        "automated_done",
        "automated_failed",
    }
)


@dataclass(frozen=True, slots=True)
class ProgressItem:
    node_id: str
    kind: str
    name: str
    status: str
    depth: int = 0
    branch_id: str | None = None  # the branch this node sits in
    outcome: str | None = None  # approved, rejected, returned, auto_passed, branch, done, ...
    chosen_branch: str | None = None  # for condition groups
    entered_at: datetime | None = None
    left_at: datetime | None = None
    duration_seconds: int | None = None
    waiting_for: tuple[str, ...] = ()
    due_at: datetime | None = None
    acts: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "kind": self.kind,
            "name": self.name,
            "status": self.status,
            "depth": self.depth,
            "branch_id": self.branch_id,
            "outcome": self.outcome,
            "chosen_branch": self.chosen_branch,
            "entered_at": None if self.entered_at is None else self.entered_at.isoformat(),
            "left_at": None if self.left_at is None else self.left_at.isoformat(),
            "duration_seconds": self.duration_seconds,
            "waiting_for": list(self.waiting_for),
            "due_at": None if self.due_at is None else self.due_at.isoformat(),
            "acts": [dict(a) for a in self.acts],
        }


def progress(
    definition: Definition,
    state: InstanceState,
    *,
    history: Sequence[HistoryEvent],
    evaluate_condition: Callable[[Any, Mapping[str, Any]], bool] | None = None,
) -> list[ProgressItem]:
    """The officer's timeline: every node in order with its status (see the module doc).
    `history` is the instance's events in seq order (kept as rows, not in the state: ADR 0015);
    the statuses come from the state alone, the events only fill in who acted."""
    last: dict[str, Visit] = {v.node_id: v for v in state.route}
    acts: dict[tuple[str | None, int | None], list[HistoryEvent]] = {}
    submissions: list[HistoryEvent] = []
    for event in history:
        if event.action in ("submitted", "resubmitted"):
            submissions.append(event)
        elif event.action in ACTOR_ACTIONS:
            acts.setdefault((event.node_id, event.visit), []).append(event)
    open_by_node: dict[str, list[str]] = {}
    due: dict[str, datetime] = {}
    for task in state.tasks.values():
        if task.status == OPEN:
            open_by_node.setdefault(task.node_id, []).append(task.user_id)
            if task.due_at is not None and (
                task.node_id not in due or task.due_at < due[task.node_id]
            ):
                due[task.node_id] = task.due_at
    finished = state.finished
    items: list[ProgressItem] = []

    def walk(nodes: Sequence[Node], depth: int, branch_id: str | None, forced: str | None) -> None:
        for node in nodes:
            visit = last.get(node.id) if forced is None else None
            chosen: str | None = None
            if visit is not None:
                if visit.left_at is None and state.status in (RUNNING, ERROR):
                    status = CURRENT
                elif visit.outcome in ("auto_passed", "skipped"):
                    status = SKIPPED
                else:
                    status = DONE
                chosen = visit.branch_id
            else:
                status = forced or (SKIPPED if finished else PENDING)
            if isinstance(node, StartNode):
                events = submissions
            else:
                events = acts.get((node.id, visit.visit), []) if visit is not None else []
            items.append(
                ProgressItem(
                    node_id=node.id,
                    kind=node.kind,
                    name=node.name,
                    status=status,
                    depth=depth,
                    branch_id=branch_id,
                    outcome=None if visit is None else visit.outcome,
                    chosen_branch=chosen,
                    entered_at=None if visit is None else visit.entered_at,
                    left_at=None if visit is None else visit.left_at,
                    duration_seconds=(
                        int((visit.left_at - visit.entered_at).total_seconds())
                        if visit is not None and visit.left_at is not None
                        else None
                    ),
                    waiting_for=tuple(open_by_node.get(node.id, ())) if status == CURRENT else (),
                    due_at=due.get(node.id) if status == CURRENT else None,
                    acts=tuple(_act(e) for e in events),
                )
            )
            if isinstance(node, ConditionGroup):
                if chosen is None and forced is None and status == PENDING and evaluate_condition:
                    chosen = next(
                        (
                            b.id
                            for b in node.branches
                            if not b.default and evaluate_condition(b.condition, state.data)
                        ),
                        next(b.id for b in node.branches if b.default),
                    )
                for branch in node.branches:
                    inner = forced
                    if inner is None and chosen is not None and branch.id != chosen:
                        inner = SKIPPED
                    walk(branch.nodes, depth + 1, branch.id, inner)

    walk(definition.nodes, 0, None, None)
    return items


def _act(event: HistoryEvent) -> dict[str, Any]:
    return {
        "actor": event.actor,
        "action": event.action,
        "at": event.at.isoformat(),
        "target": event.target,
        "comment": event.comment,
        "attachments": list(event.attachments),
        "signature": event.signature,
        "duration_seconds": event.duration_seconds,
    }


# --------------------------------------------------------------------------- borrower view

PLAIN_WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        DONE: "已完成",
        CURRENT: "进行中",
        PENDING: "未开始",
        "start": "提交申请",
        "approval": "审核",
        "summary.running": "您的申请正在审核中，请耐心等待。",
        "summary.error": "您的申请正在处理中，请耐心等待。",
        "summary.returned": "您的申请需要补充或修改资料，客户经理会与您联系。",
        "summary.approved": "您的申请已通过。",
        "summary.rejected": "很抱歉，您的申请未通过审核。",
        "summary.withdrawn": "您的申请已撤回。",
        "summary.cancelled": "您的申请已取消。",
    },
    "en-US": {
        DONE: "Done",
        CURRENT: "In progress",
        PENDING: "Not started",
        "start": "Application submitted",
        "approval": "Review",
        "summary.running": "Your application is being reviewed.",
        "summary.error": "Your application is being processed.",
        "summary.returned": "Your application needs more information; your loan officer will "
        "contact you.",
        "summary.approved": "Your application has been approved.",
        "summary.rejected": "We are sorry, your application was not approved.",
        "summary.withdrawn": "Your application has been withdrawn.",
        "summary.cancelled": "Your application has been cancelled.",
    },
}


def borrower_progress(
    definition: Definition, state: InstanceState, lang: str = "zh-CN"
) -> dict[str, Any]:
    """``{"status", "summary", "steps": [{"label", "status", "text"}]}`` in plain words."""
    words = PLAIN_WORDS.get(lang, PLAIN_WORDS["zh-CN"])
    steps: list[dict[str, str]] = []
    for item in progress(definition, state, history=()):  # no names or comments here
        if item.status == SKIPPED:
            continue
        node = definition.node(item.node_id)
        if isinstance(node, StartNode):
            label = node.borrower_label or words["start"]
        elif isinstance(node, ApprovalNode):
            label = node.borrower_label or words["approval"]
        elif isinstance(node, AutomatedNode | EndNode) and node.borrower_label:
            label = node.borrower_label
        else:
            continue
        status = item.status
        if steps and steps[-1]["label"] == label:
            status = _merge(steps[-1]["status"], status)
            steps.pop()
        steps.append({"label": label, "status": status, "text": words[status]})
    return {
        "status": state.status,
        "summary": words[f"summary.{state.status}"],
        "steps": steps,
    }


def _merge(a: str, b: str) -> str:
    if a == b:
        return a
    if CURRENT in (a, b) or {a, b} == {DONE, PENDING}:
        return CURRENT
    return a


# --------------------------------------------------------------------------- task buttons


def return_options(definition: Definition, state: InstanceState, task_id: str) -> list[str]:
    """Where the task's holder may return the instance to: "initiator" and/or node ids."""
    task = state.tasks.get(task_id)
    if task is None or task.status != OPEN:
        return []
    node = definition.node(task.node_id)
    if not isinstance(node, ApprovalNode) or "return" not in node.actions:
        return []
    route_ids = [v.node_id for v in state.route]
    here = len(route_ids) - 1 - route_ids[::-1].index(node.id)
    passed = set(route_ids[:here])
    return [
        t
        for t in node.return_targets
        if t == INITIATOR or (t in passed and isinstance(definition.node(t), ApprovalNode))
    ]


def task_actions(
    definition: Definition, state: InstanceState, task_id: str, user_id: str
) -> list[str]:
    """The act actions `user_id` may send for `task_id` now (empty when none)."""
    task = state.tasks.get(task_id)
    if task is None or task.status != OPEN or task.user_id != str(user_id) or state.finished:
        return []
    node = definition.node(task.node_id)
    if not isinstance(node, ApprovalNode):
        return []
    out: list[str] = []
    for action in node.actions:
        if action == "add_signer":
            out += ["add_signer_before", "add_signer_after"]
        elif action != "return" or return_options(definition, state, task_id):
            out.append(action)
    return out


__all__ = [
    "CURRENT",
    "DONE",
    "PENDING",
    "SKIPPED",
    "ProgressItem",
    "borrower_progress",
    "progress",
    "return_options",
    "task_actions",
]
