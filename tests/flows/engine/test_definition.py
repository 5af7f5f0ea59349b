"""Definition JSON: parsing, save-time validation (each problem on its node), round trip."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from loandesk.flows.engine import (
    DEMO_LOAN_APPROVAL,
    Definition,
    DefinitionInvalid,
    field_permission,
    field_permissions,
    validate_definition,
)

from .helpers import approval, flow


def issues(obj: dict[str, Any]) -> set[tuple[str | None, str]]:
    return {(i.node_id, i.code) for i in validate_definition(obj)}


def group(gid: str, *branches: dict[str, Any]) -> dict[str, Any]:
    return {"id": gid, "kind": "condition_group", "name": gid, "branches": list(branches)}


def branch(bid: str, *nodes: dict[str, Any], cond: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": bid, "name": bid, "nodes": list(nodes)}
    if cond is None:
        out["default"] = True
    else:
        out["condition"] = cond
    return out


BIG = {">": [{"var": "amount"}, 10]}


def test_valid_minimal_and_round_trip() -> None:
    obj = flow(approval("a", "u1"))
    d = Definition.from_json(obj)
    assert d.key == "test_flow"
    assert d.first_after_start() == "a"
    assert d.next_of == {"start": "a", "a": "end", "end": None}
    assert Definition.from_json(d.to_json()).to_json() == d.to_json()


def test_defaults_are_filled_in() -> None:
    node = Definition.from_json(flow(approval("a", "u1"))).approval("a")
    assert node.mode == "any"
    assert node.on_empty == "auto_pass"
    assert node.return_targets == ("initiator",)
    assert "add_signer" in node.actions
    assert node.deadline is None


def test_every_problem_points_at_its_node() -> None:
    obj = flow(
        approval("no_one"),  # no assignee and policy auto_pass
        approval("pct", "u1", mode="percent", percent=0),
        approval("pct2", "u1", mode="percent", percent=101),
        approval("late", "u1", deadline={"hours": 0}),
        approval("remind", "u1", deadline={"hours": 4, "reminder_before": 4}),
        approval("back", "u1", return_targets=["nowhere", "later"]),
        approval("later", "u1"),
        {"id": "robot", "kind": "automated", "action": "mine_bitcoin"},
        group("g1", branch("only_default")),
        group(
            "g2",
            branch("x", cond=BIG),
            branch("d1"),
            branch("d2"),
        ),
        {"id": "later", "kind": "cc", "recipients": [{"kind": "role", "role": "r"}]},
        {"id": "weird", "kind": "teleport"},
        approval("keys", "u1", asignees=[]),
    )
    found = issues(obj)
    expected: set[tuple[str | None, str]] = {
        ("no_one", "flow.def.no_assignee"),
        ("pct", "flow.def.percent_range"),
        ("pct2", "flow.def.percent_range"),
        ("late", "flow.def.deadline_positive"),
        ("remind", "flow.def.reminder_not_before_deadline"),
        ("robot", "flow.def.unknown_automated_action"),
        ("g1", "flow.def.no_conditional_branch"),
        ("g2", "flow.def.default_branch_count"),
        ("later", "flow.def.duplicate_id"),
        ("weird", "flow.def.unknown_kind"),
        ("keys", "flow.def.unknown_key"),
    }
    assert expected <= found, expected - found


def test_return_targets_must_exist_and_be_earlier() -> None:
    obj = flow(
        approval("a", "u1"),
        group(
            "g",
            branch("left", approval("l1", "u1"), cond=BIG),
            branch("right", approval("r1", "u1", return_targets=["l1", "a", "initiator"])),
        ),
        approval("b", "u1", return_targets=["a", "l1", "r1", "c", "ghost"]),
        approval("c", "u1"),
    )
    found = issues(obj)
    assert ("r1", "flow.def.return_not_earlier") in found  # l1 is on a sibling branch
    assert ("b", "flow.def.return_not_earlier") in found  # c comes later
    assert ("b", "flow.def.bad_return_target") in found  # ghost
    assert len(found) == 3
    ok = copy.deepcopy(obj)
    ok["nodes"][2]["branches"][1]["nodes"][0]["return_targets"] = ["a"]
    ok["nodes"][3]["return_targets"] = ["a", "l1", "r1"]  # branch nodes may precede b
    d = Definition.from_json(ok)
    assert d.earlier["b"] == {"a", "l1", "r1"}
    assert d.earlier["r1"] == {"a"}


def test_unreachable_nodes_after_an_end() -> None:
    obj = flow(
        approval("a", "u1"),
        {"id": "early_end", "kind": "end", "result": "rejected"},
        approval("dead", "u1"),
    )
    assert ("dead", "flow.def.unreachable") in issues(obj)
    both_end = flow(
        group(
            "g",
            branch("x", {"id": "e1", "kind": "end"}, cond=BIG),
            branch("y", {"id": "e2", "kind": "end"}),
        ),
    )
    assert ("end", "flow.def.unreachable") in issues(both_end)
    inside = flow(
        group(
            "g",
            branch("x", {"id": "e1", "kind": "end"}, approval("z", "u1"), cond=BIG),
            branch("y"),
        )
    )
    assert ("z", "flow.def.unreachable") in issues(inside)


def test_structure_rules() -> None:
    no_start = {"key": "k", "nodes": [approval("a", "u1"), {"id": "end", "kind": "end"}]}
    assert ("a", "flow.def.missing_start") in issues(no_start)
    no_end = flow(approval("a", "u1"))
    no_end["nodes"].pop()
    assert (None, "flow.def.missing_end") in issues(no_end)
    two_starts = flow({"id": "s2", "kind": "start"})
    assert ("s2", "flow.def.start_not_first") in issues(two_starts)
    bad_id = flow(approval("has:colon", "u1"))
    assert ("has:colon", "flow.def.bad_id") in issues(bad_id)
    assert (None, "flow.def.no_nodes") in issues({"key": "k", "nodes": []})
    assert (None, "flow.def.not_an_object") in issues([])  # type: ignore[arg-type]


def test_assignee_and_policy_rules() -> None:
    assert not issues(flow(approval("a", on_empty="to_admin")))
    assert not issues(flow(approval("a", on_empty="to_user", on_empty_user_id=42)))
    assert ("a", "flow.def.bad_user") in issues(flow(approval("a", on_empty="to_user")))
    bad_specs = approval(
        "a",
        assignees=[
            {"kind": "role"},
            {"kind": "dept_head", "levels_up": -1},
            {"kind": "user", "user_ids": []},
            {"kind": "form_user_field"},
            {"kind": "psychic"},
        ],
    )
    found = [i for i in validate_definition(flow(bad_specs)) if i.code == "flow.def.bad_assignee"]
    assert [i.field for i in found] == [
        "assignees[0].role",
        "assignees[1].levels_up",
        "assignees[2].user_ids",
        "assignees[3].field",
        "assignees[4]",
    ]
    assert ("a", "flow.def.approve_required") in issues(
        flow(approval("a", "u", actions=["reject"]))
    )
    assert ("a", "flow.def.unknown_node_action") in issues(
        flow(approval("a", "u", actions=["approve", "fly"]))
    )
    assert ("c", "flow.def.no_recipients") in issues(flow({"id": "c", "kind": "cc"}))


def test_condition_checker_is_injected() -> None:
    obj = flow(group("g", branch("x", cond={"nope": []}), branch("y")))
    assert not issues(obj)
    found = validate_definition(obj, check_condition=lambda logic: "unknown operator")
    assert [(i.node_id, i.code, i.params["error"]) for i in found] == [
        ("x", "flow.def.bad_condition", "unknown operator")
    ]
    assert ("x", "flow.def.bad_condition") in issues(
        flow(group("g", branch("x", cond="amount > 5"), branch("y")))
    )


def test_definition_invalid_carries_issues_as_json() -> None:
    with pytest.raises(DefinitionInvalid) as err:
        Definition.from_json(flow(approval("a")))
    assert err.value.code == "flow.definition_invalid"
    assert err.value.status == 422
    assert err.value.to_json() == [
        {"node_id": "a", "code": "flow.def.no_assignee", "field": "assignees", "params": {}}
    ]


def test_field_permissions_helper() -> None:
    d = Definition.from_json(DEMO_LOAN_APPROVAL)
    assert field_permissions(d, "risk_review")["amount"] == "edit"
    assert field_permission(d, "manager_review", "amount") == "read"
    assert field_permission(d, "manager_review", "secret", default="hidden") == "hidden"
    assert field_permissions(d, "risk_scorecard") == {}
    assert field_permissions(d, "start")["purpose"] == "edit"
    bad = flow(approval("a", "u", field_permissions={"amount": "write"}))
    assert ("a", "flow.def.bad_field_permissions") in issues(bad)


def test_numbers_and_settings() -> None:
    d = Definition.from_json(
        flow(
            approval("a", "u", deadline={"hours": "1.5", "reminder_before": 0.5}),
            resubmit_from="returner",
            urge_interval_minutes=30,
        )
    )
    dl = d.approval("a").deadline
    assert dl is not None and str(dl.hours) == "1.5" and str(dl.reminder_before) == "0.5"
    assert d.to_json()["nodes"][1]["deadline"]["hours"] == 1.5
    assert d.settings.resubmit_from == "returner"
    assert ("a", "flow.def.deadline_positive") in issues(
        flow(approval("a", "u", deadline={"hours": True}))
    )
    assert (None, "flow.def.bad_choice") in issues(flow(resubmit_from="middle"))
