"""Task actions (approve, reject, return, transfer, add-signer, comment), initiator commands
(withdraw, urge, resubmit), versioning and the error codes."""

from __future__ import annotations

from typing import Any

import pytest

from loandesk.flows.engine import (
    DataUpdated,
    Definition,
    FlowEngine,
    FlowError,
    Notify,
    StaticDirectory,
    return_options,
    task_actions,
)

from .helpers import Driver, approval, at, evaluate, flow

THREE = flow(
    approval("a", "u1"),
    approval("b", "u2", return_targets=["initiator", "a"]),
    approval(
        "c",
        "u3",
        "u4",
        mode="all",
        return_targets=["a", "b", "initiator"],
        field_permissions={"amount": "edit", "note": "read"},
    ),
)


def refused(code: str, fn: Any, *args: Any, **kwargs: Any) -> FlowError:
    with pytest.raises(FlowError) as err:
        fn(*args, **kwargs)
    assert err.value.code == code, err.value
    return err.value


# ---------------------------------------------------------------- error codes


def test_acting_on_someone_elses_missing_closed_or_finished() -> None:
    d = Driver.start(THREE)
    task = d.task("u1")
    e = d.engine
    refused(
        "flow.not_your_task",
        e.act,
        d.state,
        task_id=task.id,
        user_id="u2",
        action="approve",
        now=at(1),
    )
    refused(
        "flow.task_not_found",
        e.act,
        d.state,
        task_id="zz:1:1",
        user_id="u1",
        action="approve",
        now=at(1),
    )
    refused(
        "flow.action_not_allowed",
        e.act,
        d.state,
        task_id=task.id,
        user_id="u1",
        action="dance",
        now=at(1),
    )
    before = d.state.to_json()
    d.act("u1")
    assert d.state.version == 2
    refused(
        "flow.task_closed",
        e.act,
        d.state,
        task_id=task.id,
        user_id="u1",
        action="approve",
        now=at(2),
    )
    d.act("u2", "reject")
    assert d.state.status == "rejected"
    refused(
        "flow.instance_finished",
        e.act,
        d.state,
        task_id=task.id,
        user_id="u1",
        action="approve",
        now=at(3),
    )
    refused("flow.instance_finished", e.withdraw, d.state, user_id="officer1", now=at(3))
    assert before["version"] == 1


def test_refused_command_does_not_touch_the_state() -> None:
    d = Driver.start(THREE)
    d.act("u1")
    d.act("u2")
    snapshot = d.state.to_json()
    refused(
        "flow.field_not_editable",
        d.engine.act,
        d.state,
        task_id=d.task("u3").id,
        user_id="u3",
        action="approve",
        data={"amount": 1, "note": "x"},
        now=at(9),
    )
    assert d.state.to_json() == snapshot


def test_stale_expected_version_is_a_conflict() -> None:
    d = Driver.start(flow(approval("a", "u1", "u2")))
    v = d.state.version
    first = d.engine.act(
        d.state, task_id="a:1:1", user_id="u1", action="approve", now=at(1), expected_version=v
    )
    # the second approver saw the same version: after the first transition it is stale
    err = refused(
        "flow.conflict",
        d.engine.act,
        first.state,
        task_id="a:1:2",
        user_id="u2",
        action="approve",
        now=at(1),
        expected_version=v,
    )
    assert err.status == 409 and err.params == {"expected": "1", "actual": "2"}


def test_definition_mismatch() -> None:
    d = Driver.start(THREE)
    other = dict(THREE, version=2)
    engine = FlowEngine(
        Definition.from_json(other), directory=StaticDirectory(), evaluate_condition=evaluate
    )
    refused("flow.definition_mismatch", engine.urge, d.state, user_id="officer1", now=at(1))


def test_node_action_list_is_enforced() -> None:
    d = Driver.start(flow(approval("a", "u1", actions=["approve", "comment"])))
    assert task_actions(d.engine.definition, d.state, "a:1:1", "u1") == ["approve", "comment"]
    assert task_actions(d.engine.definition, d.state, "a:1:1", "u2") == []
    for action in ("reject", "return", "transfer", "add_signer_before", "add_signer_after"):
        refused(
            "flow.action_not_allowed",
            d.engine.act,
            d.state,
            task_id="a:1:1",
            user_id="u1",
            action=action,
            target="u9",
            now=at(1),
        )


# ---------------------------------------------------------------- comment and edits


def test_comment_keeps_the_task_open_and_records_attachments() -> None:
    d = Driver.start(THREE)
    d.act("u1", "comment", comment="请补充流水", attachments=["f1", "f2"], signature="sig-1")
    assert d.users() == ["u1"]
    event = d.history[-1]
    assert (event.action, event.comment, event.attachments, event.signature) == (
        "commented",
        "请补充流水",
        ("f1", "f2"),
        "sig-1",
    )
    assert not d.state.acted, "a comment is not a decision: withdraw is still allowed"


def test_edits_follow_field_permissions() -> None:
    d = Driver.start(THREE, {"amount": 100, "note": "n"})
    d.act("u1")
    d.act("u2")
    refused("flow.field_not_editable", d.act, "u3", data={"note": "changed"})
    refused("flow.edit_not_allowed", d.act, "u3", "reject", data={"amount": 5})
    d.act("u3", data={"amount": 90, "note": "n"})  # unchanged read-only values are fine
    assert d.state.data == {"amount": 90, "note": "n"}
    assert [e.changes for e in d.t.of_type(DataUpdated)] == [{"amount": 90}]


# ---------------------------------------------------------------- transfer


def test_transfer_moves_the_slot_and_keeps_the_deadline() -> None:
    d = Driver.start(
        flow(
            approval(
                "a", "u1", "u2", mode="all", deadline={"hours": 4, "on_timeout": "auto_reject"}
            )
        )
    )
    old = d.task("u1")
    d.act("u1", "transfer", target="u9", comment="休假，转交")
    new = d.task("u9")
    assert d.state.tasks[old.id].status == "transferred"
    assert (new.slot, new.due_at, new.kind) == (old.slot, old.due_at, "transfer")
    assert f"{old.id}:timeout" not in d.state.timers
    assert f"{new.id}:timeout" in d.state.timers
    refused("flow.invalid_target", d.act, "u9", "transfer", target="u9")
    refused("flow.invalid_target", d.act, "u9", "transfer")
    refused("flow.duplicate_assignee", d.act, "u9", "transfer", target="u2")
    d.act("u9")
    d.act("u2")
    assert d.state.status == "approved"


# ---------------------------------------------------------------- add signer


def test_add_signer_before_returns_to_the_original() -> None:
    d = Driver.start(flow(approval("a", "u1", mode="all"), approval("b", "zz")))
    d.act("u1", "add_signer_before", target="expert", comment="请专家先看")
    assert d.users() == ["expert"]
    assert d.state.tasks["a:1:1"].status == "delegated"
    d.act("expert", comment="风险可控")
    assert d.users() == ["u1"], "back to the one who added the signer"
    resumed = d.task("u1")
    assert (resumed.kind, resumed.id) == ("resume", "a:1:3")
    d.act("u1")
    assert d.users() == ["zz"]


def test_add_signer_before_rejection_rejects_the_slot() -> None:
    d = Driver.start(flow(approval("a", "u1")))
    d.act("u1", "add_signer_before", target="expert")
    d.act("expert", "reject")
    assert d.state.status == "rejected"


def test_nested_add_signer_before() -> None:
    d = Driver.start(flow(approval("a", "u1")))
    d.act("u1", "add_signer_before", target="x")
    d.act("x", "add_signer_before", target="y")
    refused("flow.duplicate_assignee", d.act, "y", "add_signer_before", target="u1")
    d.act("y")
    assert d.users() == ["x"]
    d.act("x")
    assert d.users() == ["u1"]
    d.act("u1")
    assert d.state.status == "approved"


def test_add_signer_after_needs_the_added_signer() -> None:
    d = Driver.start(flow(approval("a", "u1", "u2"), approval("b", "zz")))
    d.act("u1", "add_signer_after", target="gm1", comment="同意，请总经理复核")
    # u1's approval is recorded, but in any-mode the slot is not decided until gm1 acts
    assert d.state.tasks["a:1:1"].status == "approved"
    assert sorted(d.users()) == ["gm1", "u2"]
    d.act("gm1")
    assert d.users() == ["zz"]
    assert d.state.tasks["a:1:2"].status == "cancelled"


def test_add_signer_after_then_reject() -> None:
    d = Driver.start(flow(approval("a", "u1", mode="sequential")))
    d.act("u1", "add_signer_after", target="gm1")
    d.act("gm1", "reject")
    assert d.state.status == "rejected"


# ---------------------------------------------------------------- return


def test_return_to_an_earlier_node_gets_fresh_tasks_and_timers() -> None:
    dl = {"hours": 8, "reminder_before": 1, "on_timeout": "auto_approve"}
    d = Driver.start(
        flow(
            approval("a", "u1", deadline=dl),
            approval("b", "u2", "u3", mode="all", deadline=dl, return_targets=["a"]),
        )
    )
    first_a = d.task("u1")
    d.act("u1")
    assert sorted(d.users()) == ["u2", "u3"]
    assert return_options(d.engine.definition, d.state, d.task("u2").id) == ["a"]
    old_timers = set(d.state.timers)
    refused("flow.invalid_target", d.act, "u2", "return", target="initiator")
    refused("flow.invalid_target", d.act, "u2", "return", target="b")
    d.act("u2", "return", target="a", comment="初审意见不充分")
    assert d.users() == ["u1"]
    again = d.task("u1")
    assert again.id == "a:2:1" != first_a.id
    assert d.state.tasks["b:1:2"].status == "cancelled"
    assert not old_timers & set(d.state.timers)
    assert again.due_at is not None and again.due_at > (first_a.due_at or again.due_at)
    assert [v.node_id for v in d.state.route] == ["start", "a"]
    # the stale timers of the first visit are ignored
    assert d.fire("b:1:1:timeout", now=at(hours=30)).ignored
    assert d.fire("a:1:1:remind", now=at(hours=30)).ignored
    d.act("u1")
    assert d.task("u2").id == "b:2:1"


def test_return_to_node_not_on_route_is_refused() -> None:
    d = Driver.start(
        flow(
            {
                "id": "g",
                "kind": "condition_group",
                "branches": [
                    {
                        "id": "big",
                        "condition": {">": [{"var": "n"}, 5]},
                        "nodes": [approval("x", "u1")],
                    },
                    {"id": "other", "default": True, "nodes": []},
                ],
            },
            approval("y", "u2", return_targets=["x", "initiator"]),
        ),
        {"n": 1},
    )
    assert return_options(d.engine.definition, d.state, d.task("u2").id) == ["initiator"]
    refused("flow.invalid_target", d.act, "u2", "return", target="x")


def test_return_to_initiator_and_resubmit_from_returner() -> None:
    d = Driver.start(THREE | {"settings": {"resubmit_from": "returner"}})
    d.act("u1")
    d.act("u2")
    d.act("u3")
    d.act("u4", "return", target="initiator", comment="补充资料")
    assert d.state.status == "returned"
    assert [n.kind for n in d.t.of_type(Notify)][-1] == "returned"
    urge = d.engine.urge
    refused("flow.nothing_to_urge", urge, d.state, user_id="officer1", now=d.now())
    d.apply(d.engine.resubmit(d.state, user_id="officer1", data={"more": 1}, now=d.now()))
    assert sorted(d.users()) == ["u3", "u4"], "straight back to the node that returned it"
    assert d.task("u3").id == "c:2:1"
    assert not d.state.acted, "nobody has decided since the resubmission"
    refused(
        "flow.not_returned", d.engine.resubmit, d.state, user_id="officer1", data={}, now=d.now()
    )


def test_withdraw_rules() -> None:
    d = Driver.start(THREE)
    refused("flow.not_initiator", d.engine.withdraw, d.state, user_id="u1", now=at(1))
    d.act("u1", "comment", comment="看一下")
    ok = d.engine.withdraw(d.state, user_id="officer1", now=at(2), comment="填错了")
    assert ok.state.status == "withdrawn"
    assert ok.state.open_tasks() == []
    assert [e.type for e in ok.effects][-3:] == ["status_changed", "history_recorded", "finished"]
    d.act("u1")
    refused("flow.withdraw_not_allowed", d.engine.withdraw, d.state, user_id="officer1", now=at(3))
    d.act("u2", "return", target="initiator")
    # a returned application may be given up by its initiator
    d.apply(d.engine.withdraw(d.state, user_id="officer1", now=at(4)))
    assert d.state.status == "withdrawn"


def test_withdraw_after_resubmit_is_allowed_again() -> None:
    d = Driver.start(THREE)
    d.act("u1", "return", target="initiator")
    d.apply(d.engine.resubmit(d.state, user_id="officer1", data={}, now=at(1)))
    d.apply(d.engine.withdraw(d.state, user_id="officer1", now=at(2)))
    assert d.state.status == "withdrawn"


def test_urge_is_rate_limited_per_task() -> None:
    d = Driver.start(flow(approval("a", "u1", "u2")))
    refused("flow.not_initiator", d.engine.urge, d.state, user_id="u1", now=at(1))
    d.apply(d.engine.urge(d.state, user_id="officer1", now=at(10)))
    assert [(n.kind, n.user_ids) for n in d.t.of_type(Notify)] == [
        ("urge", ("u1",)),
        ("urge", ("u2",)),
    ]
    err = refused("flow.urge_too_soon", d.engine.urge, d.state, user_id="officer1", now=at(69))
    assert err.status == 429 and err.params["next_at"] == at(70).isoformat()
    d.apply(d.engine.urge(d.state, user_id="officer1", now=at(70)))
    assert d.history[-1].action == "urged"


def test_cancel_by_admin() -> None:
    d = Driver.start(THREE)
    d.act("u1")
    d.apply(d.engine.cancel(d.state, user_id="admin", now=at(5), comment="重复申请"))
    assert d.state.status == "cancelled"
    refused("flow.instance_finished", d.engine.cancel, d.state, user_id="admin", now=at(6))
    refused("flow.not_in_error", d.engine.retry, Driver.start(THREE).state, user_id="a", now=at(6))


def test_history_durations() -> None:
    d = Driver.start(THREE)
    d.act("u1", now=at(hours=3))
    event = next(e for e in d.history if e.action == "approved")
    assert (event.action, event.actor, event.duration_seconds) == ("approved", "u1", 3 * 3600)
