"""Approval modes, assignee resolution, skip rules and empty-assignee policies."""

from __future__ import annotations

from typing import Any

import pytest

from loandesk.flows.engine import FlowError, Notify

from .helpers import Driver, approval, flow


def one(node: dict[str, Any]) -> dict[str, Any]:
    return flow(node, approval("next", "zz"))


# ---------------------------------------------------------------- any (或签)


def test_any_first_approve_cancels_siblings() -> None:
    d = Driver.start(one(approval("a", "u1", "u2", "u3")))
    assert d.users("a") == ["u1", "u2", "u3"]
    d.act("u2")
    statuses = {t.user_id: t.status for t in d.state.tasks.values() if t.node_id == "a"}
    assert statuses == {"u1": "cancelled", "u2": "approved", "u3": "cancelled"}
    assert d.users() == ["zz"]
    with pytest.raises(FlowError) as err:
        d.engine.act(d.state, task_id="a:1:1", user_id="u1", action="approve", now=d.now())
    assert err.value.code == "flow.task_closed"
    assert err.value.status == 409


def test_any_first_reject_decides() -> None:
    d = Driver.start(one(approval("a", "u1", "u2")))
    d.act("u1", "reject", comment="资料不全")
    assert d.state.status == "rejected"
    assert d.history[-1].action == "finished"
    assert {t.status for t in d.state.tasks.values()} == {"rejected", "cancelled"}


# ---------------------------------------------------------------- all (会签)


def test_all_needs_everyone() -> None:
    d = Driver.start(one(approval("a", "u1", "u2", "u3", mode="all")))
    d.act("u1")
    d.act("u3")
    assert d.users("a") == ["u2"]
    d.act("u2")
    assert d.users() == ["zz"]


def test_all_one_reject_ends() -> None:
    d = Driver.start(one(approval("a", "u1", "u2", mode="all")))
    d.act("u1")
    d.act("u2", "reject")
    assert d.state.status == "rejected"


def test_reject_can_return_to_initiator_instead() -> None:
    d = Driver.start(one(approval("a", "u1", "u2", mode="all", on_reject="return_to_initiator")))
    d.act("u2", "reject")
    assert d.state.status == "returned"
    assert d.state.returned_from == "a"
    assert d.open() == []


# ---------------------------------------------------------------- sequential (依次)


def test_sequential_one_at_a_time_in_order() -> None:
    d = Driver.start(one(approval("a", "u1", "u2", "u3", mode="sequential")))
    assert d.users() == ["u1"]
    d.act("u1")
    assert d.users() == ["u2"]
    d.act("u2")
    assert d.users() == ["u3"]
    d.act("u3")
    assert d.users() == ["zz"]


def test_sequential_reject_stops() -> None:
    d = Driver.start(one(approval("a", "u1", "u2", mode="sequential")))
    d.act("u1", "reject")
    assert d.state.status == "rejected"
    assert all(t.user_id != "u2" for t in d.state.tasks.values())


# ---------------------------------------------------------------- percent


@pytest.mark.parametrize(
    ("percent", "n", "need"),
    [(50, 5, 3), (60, 5, 3), (40, 5, 2), (1, 5, 1), (100, 5, 5), (34, 3, 2), (33, 3, 1)],
)
def test_percent_threshold_is_ceil(percent: int, n: int, need: int) -> None:
    users = [f"c{i}" for i in range(1, n + 1)]
    d = Driver.start(one(approval("a", *users, mode="percent", percent=percent)))
    for i, user in enumerate(users[:need]):
        assert d.state.current == "a", f"decided after {i} approvals"
        d.act(user)
    assert d.users() == ["zz"]


@pytest.mark.parametrize(("percent", "rejects_to_fail"), [(60, 3), (80, 2), (100, 1), (20, 5)])
def test_percent_rejects_when_threshold_unreachable(percent: int, rejects_to_fail: int) -> None:
    users = [f"c{i}" for i in range(1, 6)]
    d = Driver.start(one(approval("a", *users, mode="percent", percent=percent)))
    for user in users[:rejects_to_fail]:
        assert d.state.status == "running"
        d.act(user, "reject")
    assert d.state.status == "rejected"


def test_percent_mixed_votes() -> None:
    users = ["c1", "c2", "c3", "c4", "c5"]
    d = Driver.start(one(approval("a", *users, mode="percent", percent=60)))
    d.act("c1", "reject")
    d.act("c2")
    d.act("c3", "reject")
    d.act("c4")
    assert d.state.current == "a"
    d.act("c5")
    assert d.users() == ["zz"]
    assert d.state.tasks["a:1:1"].status == "rejected"


# ---------------------------------------------------------------- assignee kinds


def test_assignee_kinds_resolve_through_the_directory() -> None:
    node = approval(
        "a",
        mode="all",
        assignees=[
            {"kind": "role", "role": "risk"},
            {"kind": "dept_head", "levels_up": 0},
            {"kind": "dept_head", "levels_up": 2},
            {"kind": "dept_head", "levels_up": 9},  # above the root: nobody
            {"kind": "form_user_field", "field": "reviewers"},
            {"kind": "customer_owner"},
            {"kind": "user", "user_ids": ["risk1", "u9"]},  # risk1 twice → once
        ],
    )
    d = Driver.start(one(node), {"reviewers": ["r7", "r8"], "customer_id": "c-1"})
    assert d.users("a") == [
        "risk1",
        "risk2",
        "manager1",
        "ceo",
        "r7",
        "r8",
        "officer2",
        "u9",
    ]


def test_initiator_choice() -> None:
    node = approval("a", assignees=[{"kind": "initiator_choice", "multiple": False}])
    d = Driver.start(one(node), choices={"a": ["gm1"]})
    assert d.users() == ["gm1"]
    with pytest.raises(FlowError) as err:
        Driver.start(one(node), choices={"a": ["gm1", "u2"]})
    assert err.value.code == "flow.bad_command"
    with pytest.raises(FlowError):
        Driver.start(one(node), choices={"next": ["gm1"]})
    # no choice made: the empty policy applies (auto_pass by default)
    d = Driver.start(one(node))
    assert d.users() == ["zz"]
    assert "auto_passed" in d.actions()


# ---------------------------------------------------------------- empty assignees


def test_empty_auto_pass_is_recorded() -> None:
    node = approval("a", assignees=[{"kind": "role", "role": "nobody"}])
    d = Driver.start(one(node))
    assert d.users() == ["zz"]
    event = next(e for e in d.history if e.action == "auto_passed")
    assert (event.node_id, event.details) == ("a", {"reason": "no_assignee"})
    assert d.state.route[1].outcome == "auto_passed"


def test_empty_to_admin_and_to_user() -> None:
    node = approval("a", assignees=[{"kind": "role", "role": "nobody"}], on_empty="to_admin")
    assert Driver.start(one(node)).users() == ["admin"]
    node = approval("a", on_empty="to_user", on_empty_user_id="u42")
    assert Driver.start(one(node)).users() == ["u42"]


def test_empty_to_admin_without_admins_stops_in_error_then_retry() -> None:
    node = approval("a", assignees=[{"kind": "role", "role": "nobody"}], on_empty="to_admin")
    d = Driver.start(one(node))
    d.engine.directory.admin_ids.clear()  # type: ignore[attr-defined]
    d = Driver.start(one(node), directory=d.engine.directory)
    assert d.state.status == "error"
    assert d.state.error == {"code": "flow.no_assignee", "node_id": "a", "message": ""}
    d.engine.directory.roles["nobody"] = ["late"]  # type: ignore[attr-defined]
    d.apply(d.engine.retry(d.state, user_id="admin", now=d.now()))
    assert d.state.status == "running"
    assert d.users() == ["late"]
    assert d.task("late").id == "a:2:1"


# ---------------------------------------------------------------- skip rules


def test_skip_initiator_auto_approves_their_slot() -> None:
    node = approval("a", "officer1", "u2", mode="all", skip_initiator=True)
    d = Driver.start(one(node))
    assert d.users() == ["u2"]
    event = next(e for e in d.history if e.action == "auto_approved")
    assert (event.target, event.details["reason"]) == ("officer1", "initiator")
    d.act("u2")
    assert d.users() == ["zz"]


def test_skip_initiator_alone_passes_the_node() -> None:
    d = Driver.start(one(approval("a", "officer1", skip_initiator=True)))
    assert d.users() == ["zz"]


def test_without_skip_the_initiator_approves_their_own() -> None:
    d = Driver.start(one(approval("a", "officer1")))
    assert d.users() == ["officer1"]


def test_skip_previous_approver_across_cc_and_automated() -> None:
    d = Driver.start(
        flow(
            approval("a", "u1", "u2"),
            {"id": "cc", "kind": "cc", "recipients": [{"kind": "user", "user_ids": ["x"]}]},
            {"id": "robot", "kind": "automated", "action": "send_message"},
            approval("b", "u1", "u3", mode="all", skip_previous_approver=True),
            approval("c", "u1", skip_previous_approver=True),
            approval("e", "u1", "u3", mode="all", skip_previous_approver=True),
        )
    )
    d.act("u1")
    d.step_done()
    assert d.users() == ["u3"], "u1 approved a just before"
    d.act("u3")
    # u1 was auto-approved on b, so u1 also counts as b's approver → c passes at once
    assert d.state.current == "e"
    # e: u1 approved c (automatically), u3 did not approve c
    assert d.users() == ["u3"]
    reasons = [e.details.get("reason") for e in d.history if e.action == "auto_approved"]
    assert reasons == ["previous_approver"] * 3


def test_skip_previous_does_not_apply_to_a_non_adjacent_node() -> None:
    d = Driver.start(
        flow(
            approval("a", "u1"),
            approval("b", "u2"),
            approval("c", "u1", skip_previous_approver=True),
        )
    )
    d.act("u1")
    d.act("u2")
    assert d.users() == ["u1"]


def test_notifications_for_new_tasks() -> None:
    d = Driver.start(one(approval("a", "u1", "u2")))
    notes = [e for e in d.t.effects if isinstance(e, Notify)]
    assert [(n.kind, n.user_ids) for n in notes] == [
        ("task_assigned", ("u1",)),
        ("task_assigned", ("u2",)),
    ]
