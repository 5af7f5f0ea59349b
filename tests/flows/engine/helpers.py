"""Shared builders for the flow engine tests: definitions, a directory, a driver with checks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from loandesk.core.expression import evaluate_condition
from loandesk.flows.engine import (
    Definition,
    FlowEngine,
    HistoryEvent,
    HistoryRecorded,
    InstanceState,
    StaticDirectory,
    Task,
    Transition,
)

# Monday 2 March 2026, 09:00 in Shanghai (a working day).
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def at(minutes: float = 0, *, hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, hours=hours, days=days)


def evaluate(logic: Any, data: Mapping[str, Any]) -> bool:
    return evaluate_condition(logic, data)


def directory() -> StaticDirectory:
    """officer1/officer2 in team1 (head manager1) under branch1 (head branch_head) under hq."""
    return StaticDirectory(
        roles={
            "risk": ["risk1", "risk2"],
            "gm": ["gm1"],
            "finance": ["fin1", "fin2"],
            "committee": ["c1", "c2", "c3", "c4", "c5"],
            "nobody": [],
        },
        departments={
            "hq": (None, "ceo"),
            "branch1": ("hq", "branch_head"),
            "team1": ("branch1", "manager1"),
            "risk_dept": ("hq", "risk_head"),
            "finance_dept": ("hq", "fin_head"),
            "headless": ("hq", None),
        },
        member_of={
            "officer1": "team1",
            "officer2": "team1",
            "manager1": "team1",
            "branch_head": "branch1",
            "risk1": "risk_dept",
            "risk2": "risk_dept",
            "risk_head": "risk_dept",
            "gm1": "hq",
            "fin1": "finance_dept",
            "fin2": "finance_dept",
            "ceo": "hq",
            "loner": "headless",
        },
        customer_owners={"c-1": "officer2"},
        admin_ids=["admin"],
    )


def approval(node_id: str, *users: str, **settings: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "kind": "approval", "name": node_id}
    if users:
        node["assignees"] = [{"kind": "user", "user_ids": list(users)}]
    node.update(settings)
    return node


def flow(*nodes: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {
        "key": "test_flow",
        "name": "测试流程",
        "version": 1,
        "settings": settings,
        "nodes": [
            {"id": "start", "kind": "start", "name": "提交"},
            *nodes,
            {"id": "end", "kind": "end", "name": "结束"},
        ],
    }


def engine_for(definition: Mapping[str, Any] | Definition, **kwargs: Any) -> FlowEngine:
    d = definition if isinstance(definition, Definition) else Definition.from_json(definition)
    kwargs.setdefault("directory", directory())
    kwargs.setdefault("evaluate_condition", evaluate)
    return FlowEngine(d, **kwargs)


def check(before: InstanceState | None, t: Transition) -> None:
    """Invariants every transition must keep."""
    st = t.state
    recorded = [fx.event.seq for fx in t.effects if isinstance(fx, HistoryRecorded)]
    first = 1 if before is None else before.history_seq + 1
    assert recorded == list(range(first, first + len(recorded))), "history is append-only"
    assert st.history_seq == first + len(recorded) - 1
    if before is not None:
        if t.ignored:
            assert st is before and not t.effects
        else:
            assert st.version == before.version + 1
    open_tasks = st.open_tasks()
    if st.finished:
        assert not open_tasks and not st.timers and st.run is None
        assert all(s.status != "running" for s in st.steps.values())
    if st.status != "running":
        assert not open_tasks
    holders = [(t.node_id, t.visit, t.user_id) for t in open_tasks]
    assert len(holders) == len(set(holders)), "two open tasks for one user on one node"
    for timer in st.timers.values():
        assert st.tasks[timer.task_id].status == "open"
    doc = st.to_json()
    assert json.loads(json.dumps(doc, ensure_ascii=False)) == doc
    assert InstanceState.from_json(doc) == st


class Driver:
    """Runs commands through an engine, checking invariants after each one."""

    def __init__(self, engine: FlowEngine, t: Transition) -> None:
        self.engine = engine
        self.t = t
        check(None, t)
        # What the Django layer keeps as rows: the engine's state no longer holds it (ADR 0015).
        self.history: list[HistoryEvent] = []
        self._record(t)

    def _record(self, t: Transition) -> None:
        self.history.extend(fx.event for fx in t.effects if isinstance(fx, HistoryRecorded))

    @classmethod
    def start(
        cls,
        definition: Mapping[str, Any] | Definition,
        data: Mapping[str, Any] | None = None,
        initiator: str = "officer1",
        now: datetime = T0,
        **kwargs: Any,
    ) -> Driver:
        choices = kwargs.pop("choices", None)
        engine = engine_for(definition, **kwargs)
        return cls(
            engine, engine.start(initiator=initiator, data=data or {}, now=now, choices=choices)
        )

    @property
    def state(self) -> InstanceState:
        return self.t.state

    def apply(self, t: Transition) -> Transition:
        check(self.t.state, t)
        self.t = t
        self._record(t)
        return t

    def open(self, node: str | None = None) -> list[Task]:
        return [t for t in self.state.open_tasks() if node is None or t.node_id == node]

    def users(self, node: str | None = None) -> list[str]:
        return [t.user_id for t in self.open(node)]

    def task(self, user: str) -> Task:
        tasks = [t for t in self.open() if t.user_id == user]
        assert len(tasks) == 1, f"{user} has {len(tasks)} open tasks"
        return tasks[0]

    def act(
        self, user: str, action: str = "approve", now: datetime | None = None, **kw: Any
    ) -> Transition:
        task = self.task(user)
        return self.apply(
            self.engine.act(
                self.state,
                task_id=task.id,
                user_id=user,
                action=action,
                now=now or self.now(),
                **kw,
            )
        )

    def now(self) -> datetime:
        return self.history[-1].at + timedelta(minutes=5)

    def step_done(self, result: Any = None, now: datetime | None = None) -> Transition:
        assert self.state.step_id is not None
        return self.apply(
            self.engine.automated_done(
                self.state, step_id=self.state.step_id, result=result, now=now or self.now()
            )
        )

    def step_failed(self, error: str = "boom", now: datetime | None = None) -> Transition:
        assert self.state.step_id is not None
        return self.apply(
            self.engine.automated_failed(
                self.state, step_id=self.state.step_id, error=error, now=now or self.now()
            )
        )

    def fire(self, timer_id: str, now: datetime | None = None) -> Transition:
        timer = self.state.timers.get(timer_id)
        when = now or (timer.fire_at if timer else self.now())
        return self.apply(self.engine.timer_fired(self.state, timer_id=timer_id, now=when))

    def actions(self) -> list[str]:
        return [e.action for e in self.history]

    def effect_types(self) -> list[str]:
        return [e.type for e in self.t.effects]
