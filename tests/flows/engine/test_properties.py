"""Property tests: random command sequences keep the invariants; states and commands round-trip
through JSON; replaying the commands reproduces the state exactly."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loandesk.flows.engine import (
    ERROR_STATUS,
    Act,
    AutomatedDone,
    AutomatedFailed,
    Cancel,
    Command,
    FlowError,
    InstanceState,
    Resubmit,
    Retry,
    Start,
    TimerFired,
    Urge,
    Withdraw,
    command_from_json,
    command_to_json,
    return_options,
)

from .helpers import T0, approval, check, directory, engine_for, flow

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
USERS = ["u1", "u2", "u3", "u4", "u5", "x1", "x2", "officer1"]
DL = {"hours": 4, "reminder_before": 1}


def big_flow() -> dict[str, Any]:
    return flow(
        approval(
            "a",
            "u1",
            "u2",
            "u3",
            deadline={**DL, "on_timeout": "escalate"},
            skip_initiator=True,
        ),
        {"id": "score", "kind": "automated", "action": "risk_scorecard", "on_failure": "skip"},
        approval(
            "b",
            "u1",
            "u2",
            "u3",
            mode="all",
            deadline={**DL, "on_timeout": "auto_approve", "working_hours": True},
            return_targets=["initiator", "a"],
            skip_previous_approver=True,
            field_permissions={"amount": "edit"},
        ),
        {
            "id": "g",
            "kind": "condition_group",
            "branches": [
                {
                    "id": "big",
                    "condition": {">": [{"var": "amount"}, 5]},
                    "nodes": [
                        approval(
                            "c",
                            "u1",
                            "u2",
                            "u3",
                            "u4",
                            "u5",
                            mode="percent",
                            percent=60,
                            deadline={**DL, "on_timeout": "auto_reject"},
                            return_targets=["a", "b", "initiator"],
                        )
                    ],
                },
                {
                    "id": "small",
                    "default": True,
                    "nodes": [
                        {
                            "id": "cc",
                            "kind": "cc",
                            "recipients": [{"kind": "role", "role": "gm"}],
                        }
                    ],
                },
            ],
        },
        {"id": "contract", "kind": "automated", "action": "generate_contract"},
        approval(
            "e",
            "u4",
            "u5",
            mode="sequential",
            return_targets=["initiator", "b"],
            on_reject="return_to_initiator",
        ),
    )


def walk_directory() -> Any:
    d = directory()
    for user in ("u1", "u2", "u3", "u4", "u5"):
        d.member_of[user] = "risk_dept"
    return d


def candidates(state: InstanceState, engine: Any, now: Any, amount: int) -> list[Command]:
    out: list[Command] = []
    definition = engine.definition
    for task in sorted(state.tasks.values(), key=lambda t: t.id):
        if task.status != "open":
            out.append(Act(task.id, task.user_id, "approve", now))  # closed: refused
            continue
        u = task.user_id
        out += [Act(task.id, u, "approve", now, comment="ok")] * 12  # weight: mostly onwards
        out += [
            Act(task.id, u, "reject", now),
            Act(task.id, u, "comment", now, comment="?", attachments=("f1",)),
            Act(task.id, "intruder", "approve", now),
            Act(task.id, u, "approve", now, data={"amount": amount}),
        ]
        for target in [*return_options(definition, state, task.id), "nowhere"]:
            out.append(Act(task.id, u, "return", now, target=target))
        for other in ("x1", "x2", "u4"):
            out.append(Act(task.id, u, "transfer", now, target=other))
            out.append(Act(task.id, u, "add_signer_before", now, target=other))
            out.append(Act(task.id, u, "add_signer_after", now, target=other))
    for timer_id in sorted(state.timers):
        out += [TimerFired(timer_id, now)] * 2
    out.append(TimerFired("a:1:1:timeout", now))  # often stale
    if state.step_id:
        out += [AutomatedDone(state.step_id, {"score": amount}, now)] * 6
        out.append(AutomatedFailed(state.step_id, "boom", now))
    for step_id in state.steps:
        out.append(AutomatedDone(step_id, None, now))
    out += [
        Withdraw("officer1", now),
        Withdraw("u1", now),
        Urge("officer1", now),
    ]
    if state.status == "returned":
        out += [Resubmit("officer1", {"amount": amount}, now)] * 6
    else:
        out.append(Resubmit("officer1", {"amount": amount}, now))  # refused
    out += [Retry("admin", now)] * (6 if state.status == "error" else 1)
    if amount == 0:
        out.append(Cancel("admin", now, expected_version=state.version - now.minute % 2))
    return out


@PROPERTY
@given(data=st.data())
def test_random_command_sequences_keep_the_invariants(data: st.DataObject) -> None:
    engine = engine_for(big_flow(), directory=walk_directory())
    amount = data.draw(st.integers(0, 10), label="amount")
    now = T0
    first = Start("officer1", {"amount": amount}, now)
    t = engine.handle(None, first)
    check(None, t)
    applied: list[Command] = [first]
    for _ in range(data.draw(st.integers(1, 60), label="steps")):
        now += timedelta(minutes=data.draw(st.integers(0, 600), label="minutes"))
        amount = data.draw(st.integers(0, 10))
        options = candidates(t.state, engine, now, amount)
        command = data.draw(st.sampled_from(options))
        assert command_from_json(command_to_json(command)) == command
        before = t.state.to_json()
        try:
            nxt = engine.handle(t.state, command)
        except FlowError as err:
            assert err.code in ERROR_STATUS
            assert t.state.to_json() == before, "a refused command changed the state"
            continue
        assert t.state.to_json() == before, "the input state was mutated"
        check(t.state, nxt)
        if not nxt.ignored:
            applied.append(command)
        t = nxt
    # replay: the same commands from scratch give the same state, byte for byte
    replay = engine.handle(None, applied[0])
    for command in applied[1:]:
        replay = engine.handle(replay.state, command)
    assert replay.state.to_json() == t.state.to_json()


@PROPERTY
@given(data=st.data())
def test_random_states_round_trip_through_json(data: st.DataObject) -> None:
    engine = engine_for(big_flow(), directory=walk_directory())
    now = T0
    t = engine.start(initiator="officer1", data={"amount": 7, "名字": "张三"}, now=now)
    for _ in range(data.draw(st.integers(0, 25))):
        now += timedelta(minutes=data.draw(st.integers(1, 300)))
        command = data.draw(st.sampled_from(candidates(t.state, engine, now, 7)))
        with contextlib.suppress(FlowError):
            t = engine.handle(t.state, command)
    text = json.dumps(t.state.to_json(), ensure_ascii=False, sort_keys=True)
    back = InstanceState.from_json(json.loads(text))
    assert back == t.state
    assert json.dumps(back.to_json(), ensure_ascii=False, sort_keys=True) == text
    effects = json.loads(json.dumps(t.to_json(), ensure_ascii=False))
    assert {e["type"] for e in effects["effects"]} <= {
        "task_created",
        "task_closed",
        "timer_scheduled",
        "timer_cancelled",
        "automated_run",
        "automated_cancelled",
        "notify",
        "cc",
        "data_updated",
        "history_recorded",
        "status_changed",
        "finished",
    }
