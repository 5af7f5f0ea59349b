"""Throughput of the core: approval actions per second on a 5-node flow (start + approve all).

The database will be the bottleneck of the service layer (target ≥ 500 actions/s there); the
core must be far faster. The second figure includes the JSON load/save of the state around each
command, as the Django layer does.
"""

from __future__ import annotations

import timeit
from datetime import timedelta

import pytest

from loandesk.flows.engine import FlowEngine, InstanceState

from .helpers import T0, approval, engine_for, flow

FIVE = flow(
    *[
        approval(f"n{i}", f"u{i}", "backup", deadline={"hours": 8, "reminder_before": 1})
        for i in range(1, 6)
    ]
)
COMMANDS_PER_RUN = 6  # start + five approvals


def one_run(engine: FlowEngine, json_roundtrip: bool = False) -> None:
    t = engine.start(initiator="officer1", data={"amount": 100000}, now=T0)
    for i in range(1, 6):
        state = t.state
        if json_roundtrip:
            state = InstanceState.from_json(state.to_json())
        task_id = f"n{i}:1:1"
        t = engine.act(
            state,
            task_id=task_id,
            user_id=f"u{i}",
            action="approve",
            now=T0 + timedelta(minutes=i),
        )
    assert t.state.status == "approved"


def rate(json_roundtrip: bool) -> float:
    engine = engine_for(FIVE)
    runs = 200
    best = min(timeit.repeat(lambda: one_run(engine, json_roundtrip), number=runs, repeat=3))
    return runs * COMMANDS_PER_RUN / best


def test_actions_per_second(capsys: pytest.CaptureFixture[str]) -> None:
    plain = rate(False)
    with_json = rate(True)
    with capsys.disabled():
        print(f"\nflow core: {plain:,.0f} actions/s; with JSON load/save: {with_json:,.0f}/s")
    assert plain > 2000  # loose bounds: shared CI machines are slow; the print is the figure
    assert with_json > 1000
