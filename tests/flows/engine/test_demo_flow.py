"""The shipped demo flow 贷款审批, end to end through the core."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loandesk.flows.engine import (
    DEMO_LOAN_APPROVAL,
    AutomatedRun,
    Definition,
    Finished,
    FlowError,
    Notify,
    NotifyCc,
    borrower_progress,
    progress,
    task_actions,
)

from .helpers import Driver, evaluate

APPLICATION: dict[str, Any] = {
    "customer_id": "c-1",
    "amount": 600000,
    "term": 24,
    "annual_rate": "0.12",
    "purpose": "经营周转",
}


def submit(amount: int) -> Driver:
    return Driver.start(DEMO_LOAN_APPROVAL, {**APPLICATION, "amount": amount})


def run_to_end(d: Driver) -> None:
    """From submission to the end, approving everything; checks the node order."""
    assert d.users() == ["manager1"]
    d.act("manager1", comment="同意")
    run = d.t.of_type(AutomatedRun)
    assert [(e.action, e.node_id) for e in run] == [("risk_scorecard", "risk_scorecard")]
    d.step_done({"score": 712, "grade": "B", "decision": "approve"})
    assert d.state.data["risk"]["grade"] == "B"
    assert sorted(d.users()) == ["risk1", "risk2"]
    d.act("risk1")
    assert d.users() == [] or d.users("gm_review") == ["gm1"]


def test_demo_definition_is_valid_and_round_trips() -> None:
    definition = Definition.from_json(DEMO_LOAN_APPROVAL)
    assert Definition.from_json(definition.to_json()).to_json() == definition.to_json()
    assert [n.id for n in definition.walk()] == [
        "start",
        "manager_review",
        "risk_scorecard",
        "risk_review",
        "amount_check",
        "gm_review",
        "contract",
        "disbursement",
        "disburse",
        "cc_branch_head",
        "end",
    ]


def test_docs_show_the_shipped_demo_definition() -> None:
    doc = Path(__file__).parents[3].joinpath("docs", "flow-engine.md").read_text("utf-8")
    section = doc.split("## The demo flow", 1)[1]
    block = section.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block) == DEMO_LOAN_APPROVAL


def test_600k_goes_through_gm_and_ends_approved() -> None:
    d = submit(600000)
    run_to_end(d)
    assert d.users() == ["gm1"]
    assert [i.status for i in progress(d.engine.definition, d.state, history=d.history)][4:7] == [
        "done",
        "current",
        "pending",
    ]
    d.act("gm1", comment="同意放款")
    assert d.state.current == "contract"
    d.step_done({"document_id": "doc-9"})
    assert sorted(d.users()) == ["fin1", "fin2"]
    assert task_actions(d.engine.definition, d.state, d.task("fin1").id, "fin1") == [
        "approve",
        "return",
        "transfer",
        "comment",
    ]
    d.act("fin2", data={"disbursement_account_no": "6222020000000001"})
    assert d.state.data["disbursement_account_no"] == "6222020000000001"
    assert d.state.current == "disburse"
    d.step_done({"loan_id": 1, "contract_no": "HT202611280001"})
    assert d.state.status == "approved"
    assert d.state.data["loan"]["loan_id"] == 1
    cc = d.t.of_type(NotifyCc)
    assert [(e.node_id, e.user_ids) for e in cc] == [("cc_branch_head", ("branch_head",))]
    assert [e.result for e in d.t.of_type(Finished)] == ["approved"]
    # the fin1 sibling task was cancelled, not approved
    assert d.state.tasks["disbursement:1:1"].status == "cancelled"
    assert d.state.tasks["disbursement:1:2"].status == "approved"
    statuses = {
        i.node_id: i.status for i in progress(d.engine.definition, d.state, history=d.history)
    }
    assert set(statuses.values()) == {"done"}
    page = borrower_progress(d.engine.definition, d.state)
    assert page["summary"] == "您的申请已通过。"
    assert [(s["label"], s["status"]) for s in page["steps"]] == [
        ("提交申请", "done"),
        ("初审", "done"),
        ("风险评估", "done"),
        ("风控审核", "done"),
        ("终审", "done"),
        ("合同生成", "done"),
        ("放款", "done"),
    ]


def test_100k_skips_gm() -> None:
    d = submit(100000)
    run_to_end(d)
    assert d.state.current == "contract"
    items = {i.node_id: i for i in progress(d.engine.definition, d.state, history=d.history)}
    assert items["gm_review"].status == "skipped"
    assert items["amount_check"].chosen_branch == "normal_amount"
    d.step_done({"document_id": "doc-1"})
    d.act("fin1")
    d.step_done({"loan_id": 2})
    assert d.state.status == "approved"
    assert "gm_review" not in d.state.visits
    page = borrower_progress(d.engine.definition, d.state, "en-US")
    assert "终审" not in [s["label"] for s in page["steps"]]
    assert page["summary"] == "Your application has been approved."


def test_prediction_of_the_branch_before_it_is_reached() -> None:
    d = submit(100000)
    items = {
        i.node_id: i.status
        for i in progress(
            d.engine.definition, d.state, history=d.history, evaluate_condition=evaluate
        )
    }
    assert items["gm_review"] == "skipped"
    plain = {i.node_id: i.status for i in progress(d.engine.definition, d.state, history=d.history)}
    assert plain["gm_review"] == "pending"
    assert plain["manager_review"] == "current"


def test_risk_returns_then_officer_resubmits_and_conditions_use_new_data() -> None:
    d = submit(600000)
    d.act("manager1")
    d.step_done({"score": 600})
    d.act("risk1", "return", target="initiator", comment="请补充收入证明")
    assert d.state.status == "returned"
    assert d.state.open_tasks() == []
    page = borrower_progress(d.engine.definition, d.state)
    assert page["summary"].startswith("您的申请需要补充")
    with pytest.raises(FlowError) as err:
        d.engine.resubmit(d.state, user_id="officer2", data={}, now=d.now())
    assert err.value.code == "flow.not_initiator"
    d.apply(
        d.engine.resubmit(
            d.state,
            user_id="officer1",
            data={**APPLICATION, "amount": 300000, "income_proof": "att-7"},
            now=d.now(),
        )
    )
    assert d.state.round == 2
    # restarts from the first node with fresh tasks
    assert d.users() == ["manager1"]
    assert d.task("manager1").id == "manager_review:2:1"
    d.act("manager1")
    d.step_done({"score": 700})
    d.act("risk2")
    assert d.state.current == "contract", "300,000 now takes the default branch"


def test_risk_edits_amount_which_drives_the_condition() -> None:
    d = submit(600000)
    d.act("manager1")
    d.step_done({"score": 650})
    d.act("risk1", data={"amount": 450000}, comment="降额")
    assert d.state.data["amount"] == 450000
    assert d.state.current == "contract"
    d.step_done({})
    with pytest.raises(FlowError) as err:
        d.act("fin1", data={"amount": 1})
    assert err.value.code == "flow.field_not_editable"


def test_manager_is_escalated_after_deadline() -> None:
    d = submit(100000)
    task = d.task("manager1")
    # 8 working hours from Monday 09:00 Shanghai: Monday 17:00; reminder 2 h before
    assert task.due_at is not None and task.due_at.isoformat() == "2026-03-02T09:00:00+00:00"
    assert sorted(d.state.timers) == [f"{task.id}:remind", f"{task.id}:timeout"]
    d.fire(f"{task.id}:remind")
    assert [e.kind for e in d.t.of_type(Notify)] == ["reminder"]
    d.fire(f"{task.id}:timeout")
    # manager1 heads team1 himself: escalation goes one level up, to the branch head
    assert d.users() == ["branch_head"]
    assert d.state.tasks[task.id].status == "escalated"
    d.act("branch_head")
    assert d.state.current == "risk_scorecard"
