"""Approval actions per second through the flow engine core (in memory, and with the JSON
load/save of the instance state around each command, as the service layer does).

The service-layer row with the database (target ≥ 500/s) and the SpiffWorkflow baseline come with
the flow engine's Django layer.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import Row, measure, row_from
from loandesk.core.expression import evaluate_condition
from loandesk.flows.engine import Definition, FlowEngine, InstanceState, StaticDirectory

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
USERS = [f"u{i}" for i in range(1, 6)]
DEFINITION: dict[str, Any] = {
    "key": "bench",
    "name": "bench",
    "version": 1,
    "settings": {},
    "nodes": [
        {"id": "start", "kind": "start", "name": "提交"},
        *[
            {
                "id": f"n{i}",
                "kind": "approval",
                "name": f"n{i}",
                "assignees": [{"kind": "user", "user_ids": [user]}],
                "deadline": {"hours": 8, "reminder_before": 1},
            }
            for i, user in enumerate(USERS, 1)
        ],
        {"id": "end", "kind": "end", "name": "结束"},
    ],
}
COMMANDS_PER_RUN = 1 + len(USERS)


def _engine() -> FlowEngine:
    return FlowEngine(
        Definition.from_json(DEFINITION),
        directory=StaticDirectory(roles={}, departments={}, member_of={}, admin_ids=["admin"]),
        evaluate_condition=evaluate_condition,
    )


def _run(engine: FlowEngine, json_roundtrip: bool) -> None:
    t = engine.start(initiator="officer1", data={"amount": 100000}, now=T0)
    for i, user in enumerate(USERS, 1):
        state = InstanceState.from_json(t.state.to_json()) if json_roundtrip else t.state
        t = engine.act(
            state,
            task_id=f"n{i}:1:1",
            user_id=user,
            action="approve",
            now=T0 + timedelta(minutes=i),
        )
    assert t.state.status == "approved"


def run(scale: str) -> list[Row]:
    engine = _engine()
    repeat = 300 if scale == "small" else 1000
    rows = []
    for label, roundtrip in (("in memory", False), ("with JSON state", True)):
        times = measure(lambda r=roundtrip: _run(engine, r), repeat=repeat)  # type: ignore[misc]
        row = row_from(f"flow core, 5 approvals ({label})", "python", times)
        # One run is six commands: report commands per second.
        row.throughput *= COMMANDS_PER_RUN
        row.notes = "ops/s = approval commands per second"
        rows.append(row)
    return rows
