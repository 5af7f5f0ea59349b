"""Automated steps, CC nodes, condition groups (ordered, default, nested), end nodes."""

from __future__ import annotations

from typing import Any

import pytest

from loandesk.flows.engine import (
    AutomatedCancelled,
    AutomatedRun,
    DataUpdated,
    FlowError,
    Notify,
    NotifyCc,
    State,
    progress,
)

from .helpers import Driver, approval, at, flow


def robot(node_id: str, action: str = "webhook", **kw: Any) -> dict[str, Any]:
    return {"id": node_id, "kind": "automated", "action": action, "params": {"url": "x"}, **kw}


# ---------------------------------------------------------------- automated


def test_automated_step_waits_for_its_result() -> None:
    d = Driver.start(flow(robot("score", "risk_scorecard", result_key="risk"), approval("a", "u1")))
    assert d.state.current == "score" and d.state.step_id == "score:1"
    assert [(e.step_id, e.action, dict(e.params)) for e in d.t.of_type(AutomatedRun)] == [
        ("score:1", "risk_scorecard", {"url": "x"})
    ]
    assert d.open() == []
    d.step_done({"score": 640, "grade": "C"})
    assert d.state.data["risk"] == {"score": 640, "grade": "C"}
    assert [e.changes for e in d.t.of_type(DataUpdated)] == [{"risk": {"score": 640, "grade": "C"}}]
    assert d.state.steps["score:1"].status == "done"
    # ADR 0016: the result is in the history event (and the data), not a third time in the state
    assert [e.details for e in d.history if e.action == "automated_done"] == [
        {"action": "risk_scorecard", "result": {"score": 640, "grade": "C"}}
    ]
    stored = d.state.to_json()
    kept = ["action", "error", "finished_at", "id", "node_id", "params", "started_at", "status"]
    assert [sorted(s) for s in stored["steps"]] == [[*kept, "visit"]]
    assert State.from_json(stored).to_json() == stored
    assert d.users() == ["u1"]
    # a duplicate delivery of the result is ignored; an unknown step is an error
    again = d.engine.automated_done(d.state, step_id="score:1", result={}, now=at(9))
    assert again.ignored and again.state is d.state
    with pytest.raises(FlowError) as err:
        d.engine.automated_done(d.state, step_id="nope:1", result={}, now=at(9))
    assert (err.value.code, err.value.status) == ("flow.step_not_found", 404)


def test_a_state_written_with_step_results_still_loads() -> None:
    """States stored before ADR 0016 carry each finished step's result; it is dropped on load
    and the flow goes on from them."""
    d = Driver.start(flow(robot("score", "risk_scorecard", result_key="risk"), approval("a", "u1")))
    d.step_done({"score": 640})
    legacy = d.state.to_json()
    legacy["steps"][0]["result"] = {"score": 640}
    loaded = State.from_json(legacy)
    assert loaded.steps["score:1"].status == "done" and "result" not in loaded.to_json()["steps"][0]
    assert loaded.data["risk"] == {"score": 640}
    t = d.engine.act(loaded, task_id=d.task("u1").id, user_id="u1", action="approve", now=at(30))
    assert t.state.status == "approved"


def test_automated_failure_skip() -> None:
    d = Driver.start(flow(robot("hook", on_failure="skip"), approval("a", "u1")))
    d.step_failed("HTTP 502")
    assert d.users() == ["u1"]
    assert d.state.steps["hook:1"].error == "HTTP 502"
    assert {i.node_id: i.status for i in progress(d.engine.definition, d.state, history=d.history)}[
        "hook"
    ] == ("skipped")


def test_automated_failure_stop_then_retry_gets_a_new_step() -> None:
    d = Driver.start(flow(robot("contract", "generate_contract"), approval("a", "u1")))
    d.step_failed("template missing")
    assert d.state.status == "error"
    assert d.state.error == {
        "code": "flow.automated_failed",
        "node_id": "contract",
        "message": "template missing",
    }
    assert [(n.kind, n.user_ids) for n in d.t.of_type(Notify)] == [("automated_failed", ("admin",))]
    assert {i.node_id: i.status for i in progress(d.engine.definition, d.state, history=d.history)}[
        "contract"
    ] == "current"
    with pytest.raises(FlowError) as err:
        d.engine.urge(d.state, user_id="officer1", now=at(5))
    assert err.value.code == "flow.nothing_to_urge"
    d.apply(d.engine.retry(d.state, user_id="admin", now=at(10)))
    assert d.state.status == "running" and d.state.step_id == "contract:2"
    d.step_done({"document_id": "doc-1"})
    assert d.users() == ["u1"]


def test_withdraw_during_an_automated_step_cancels_it() -> None:
    d = Driver.start(flow(robot("score", "risk_scorecard"), approval("a", "u1")))
    d.apply(d.engine.withdraw(d.state, user_id="officer1", now=at(1)))
    assert [e.step_id for e in d.t.of_type(AutomatedCancelled)] == ["score:1"]
    late = d.engine.automated_done(d.state, step_id="score:1", result={}, now=at(2))
    assert late.ignored


def test_every_known_automated_action_runs() -> None:
    actions = [
        "risk_scorecard",
        "generate_contract",
        "send_message",
        "update_record",
        "webhook",
        "disburse",
    ]
    d = Driver.start(flow(*[robot(f"r{i}", a) for i, a in enumerate(actions)]))
    seen = []
    while d.state.step_id:
        seen.append(d.state.steps[d.state.step_id].action)
        d.step_done({"ok": True})
    assert seen == actions
    assert d.state.status == "approved"


# ---------------------------------------------------------------- cc


def test_cc_notifies_and_flows_on() -> None:
    cc = {
        "id": "cc",
        "kind": "cc",
        "recipients": [
            {"kind": "dept_head", "levels_up": 1},
            {"kind": "role", "role": "gm"},
            {"kind": "user", "user_ids": ["gm1", "u5"]},
        ],
    }
    d = Driver.start(flow(cc, approval("a", "u1")))
    assert [(e.node_id, e.user_ids) for e in d.t.of_type(NotifyCc)] == [
        ("cc", ("branch_head", "gm1", "u5"))
    ]
    assert d.users() == ["u1"]
    assert not any(t.node_id == "cc" for t in d.state.tasks.values())


def test_cc_with_nobody_resolved_is_recorded_without_effect() -> None:
    cc = {"id": "cc", "kind": "cc", "recipients": [{"kind": "role", "role": "nobody"}]}
    d = Driver.start(flow(cc, approval("a", "u1")))
    assert not d.t.of_type(NotifyCc)
    assert "cc" in d.actions()


# ---------------------------------------------------------------- conditions


def nested() -> dict[str, Any]:
    return flow(
        {
            "id": "by_amount",
            "kind": "condition_group",
            "branches": [
                {
                    "id": "huge",
                    "condition": {">": [{"var": "amount"}, 1000000]},
                    "nodes": [approval("board", "c1", "c2", mode="all")],
                },
                {
                    "id": "big",
                    "condition": {">": [{"var": "amount"}, 500000]},
                    "nodes": [
                        approval("gm", "gm1"),
                        {
                            "id": "by_grade",
                            "kind": "condition_group",
                            "branches": [
                                {
                                    "id": "bad_grade",
                                    "condition": {"==": [{"var": "grade"}, "D"]},
                                    "nodes": [
                                        {"id": "auto_reject", "kind": "end", "result": "rejected"}
                                    ],
                                },
                                {"id": "ok_grade", "default": True, "nodes": []},
                            ],
                        },
                    ],
                },
                {"id": "small", "default": True, "nodes": [approval("mgr", "manager1")]},
            ],
        },
        approval("finance", "fin1"),
    )


@pytest.mark.parametrize(
    ("amount", "grade", "path"),
    [
        (2000000, "A", ["c1", "fin1"]),
        (600000, "A", ["gm1", "fin1"]),
        (600000, "D", ["gm1"]),
        (100, "D", ["manager1", "fin1"]),
    ],
)
def test_ordered_nested_branches(amount: int, grade: str, path: list[str]) -> None:
    d = Driver.start(nested(), {"amount": amount, "grade": grade})
    seen = []
    while d.state.status == "running":
        user = d.open()[0].user_id
        seen.append(user)
        d.act(user)
        if user == "c1":
            d.act("c2")
    assert seen == path
    assert d.state.status == ("rejected" if grade == "D" and amount == 600000 else "approved")


def test_first_matching_branch_wins_and_choice_is_recorded() -> None:
    d = Driver.start(nested(), {"amount": 2000000})
    event = next(e for e in d.history if e.action == "branch_chosen")
    assert (event.node_id, event.target) == ("by_amount", "huge")
    items = {i.node_id: i for i in progress(d.engine.definition, d.state, history=d.history)}
    assert items["gm"].status == "skipped" and items["mgr"].status == "skipped"
    assert items["board"].status == "current"
    assert sorted(items["board"].waiting_for) == ["c1", "c2"]
    assert items["by_grade"].depth == 1 and items["auto_reject"].depth == 2


def test_end_result_rejected_in_a_branch() -> None:
    d = Driver.start(nested(), {"amount": 600000, "grade": "D"})
    d.act("gm1")
    assert d.state.status == "rejected"
    assert d.state.route[-1].node_id == "auto_reject"
