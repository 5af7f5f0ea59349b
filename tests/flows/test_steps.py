"""Automated steps: built-in actions, failure policies, unknown actions, retry after an error,
and the disbursement step booking exactly one loan."""

from typing import Any

import pytest

from loandesk.core.models import OutboxEvent
from loandesk.flows import automation, services
from loandesk.flows.automation import AutomatedContext, AutomatedStepFailed
from loandesk.flows.models import FlowStepRun
from loandesk.lending import flow_steps
from loandesk.lending.models import Loan
from tests.flows.conftest import Flows, approval, custom_flow
from tests.flows.test_services import _luhn, plain


def auto(
    node_id: str, action: str, params: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": node_id,
        "kind": "automated",
        "name": node_id,
        "action": action,
        "params": params or {},
        **extra,
    }


def test_builtin_actions_run_and_update_the_record(flows: Flows) -> None:
    manager = flows.user("manager")
    custom_flow(
        [
            auto("msg", "send_message", {"text": "已受理"}),
            auto(
                "upd", "update_record", {"fields": {"remark": "自动审核通过"}}, result_key="updated"
            ),
            auto("hook", "webhook", {"url": "https://example.invalid/hook", "payload": {"a": 1}}),
            approval("a1", [manager.pk]),
        ]
    )
    inst = flows.submit()
    assert FlowStepRun.objects.get(instance=inst).status == "pending"
    assert services.run_pending_steps() == 3
    inst.refresh_from_db()
    assert inst.current_node_id == "a1"
    assert plain(inst)["remark"] == "自动审核通过"
    assert inst.state["data"]["remark"] == "自动审核通过"  # the flow sees the new value
    assert inst.state["data"]["updated"] == {"updated": ["remark"]}
    topics = list(OutboxEvent.objects.values_list("topic", flat=True))
    assert "flows.message" in topics and "flows.webhook" in topics


def test_failure_stops_or_skips(flows: Flows) -> None:
    manager = flows.user("manager")
    custom_flow(
        [
            auto("skip_me", "update_record", {"fields": {"amount": "abc"}}, on_failure="skip"),
            auto("stop_me", "update_record", {"fields": {"nope": 1}}),
            approval("a1", [manager.pk]),
        ]
    )
    inst = flows.submit()
    services.run_pending_steps()
    inst.refresh_from_db()
    assert inst.status == "error" and inst.current_node_id == "stop_me"
    runs = {r.step_id: r for r in FlowStepRun.objects.filter(instance=inst)}
    assert runs["skip_me:1"].status == "failed" and runs["stop_me:1"].status == "failed"
    assert "nope" in runs["stop_me:1"].error
    assert OutboxEvent.objects.filter(
        topic="flows.notify", payload__kind="automated_failed"
    ).exists()


def test_unknown_action_fails_clearly_and_retry_recovers(
    flows: Flows, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = flows.user("manager")
    custom_flow([auto("risk", "risk_scorecard", result_key="risk"), approval("a1", [manager.pk])])
    monkeypatch.delitem(automation._actions, "risk_scorecard", raising=False)
    inst = flows.submit()
    services.run_pending_steps()
    inst.refresh_from_db()
    assert inst.status == "error"
    run = FlowStepRun.objects.get(instance=inst)
    assert run.result["error"]["code"] == "flow.unknown_action"
    # an admin fixes it (the action is registered again) and retries
    monkeypatch.setitem(automation._actions, "risk_scorecard", lambda ctx: {"score": 700})
    services.retry(actor=flows.user("admin"), instance_id=inst.pk)
    services.run_pending_steps()
    inst.refresh_from_db()
    assert inst.status == "running" and inst.current_node_id == "a1"
    assert inst.state["data"]["risk"] == {"score": 700}
    assert FlowStepRun.objects.filter(instance=inst, status="done").count() == 1


def test_a_step_run_twice_is_run_once(flows: Flows) -> None:
    manager = flows.user("manager")
    custom_flow([auto("msg", "send_message", {"text": "x"}), approval("a1", [manager.pk])])
    inst = flows.submit()
    run = FlowStepRun.objects.get(instance=inst)
    assert services.run_step(run.pk) == "done"
    assert services.run_step(run.pk) == "skipped"
    assert OutboxEvent.objects.filter(topic="flows.message").count() == 1


def _to_disbursement(flows: Flows, amount: str = "150000") -> Any:
    inst = flows.submit(amount=amount)
    inst = flows.act(inst, "manager")
    return flows.act(inst, "risk")


def test_disbursement_refusal_stops_in_error_and_retry_books_one_loan(flows: Flows) -> None:
    inst = _to_disbursement(flows)
    inst = flows.act(inst, "finance")  # no payee account
    assert inst.status == "error" and inst.current_node_id == "disburse"
    from loandesk.flows.selectors import instance_detail

    detail = instance_detail(actor=flows.user("admin"), instance_id=inst.pk)
    assert "account_name" in detail["error"]["message"] and detail["can_retry"]
    assert not Loan.objects.exists()
    # finance's fields are fixed on the record (as an admin would), then retried
    from loandesk.flows import records

    records.write_changes(
        record=inst.record,
        changes={
            "disbursement_account_name": "张三",
            "disbursement_account_no": _luhn("622202020011223344"),
        },
        actor=flows.user("admin"),
        sealed=False,
    )
    services.retry(actor=flows.user("admin"), instance_id=inst.pk)
    services.run_pending_steps()
    inst.refresh_from_db()
    assert inst.status == "approved", inst.state["error"]
    assert Loan.objects.count() == 1


def test_the_disburse_action_is_idempotent(flows: Flows) -> None:
    inst = _to_disbursement(flows)
    finance = flows.user("finance")
    payee = {
        "disbursement_account_name": "张三",
        "disbursement_account_no": _luhn("622202020011223344"),
    }
    inst = flows.act(inst, "finance", data=payee)
    assert inst.status == "approved"
    loan = Loan.objects.get()
    ctx = AutomatedContext(
        instance_id=inst.pk,
        step_id="disburse:1",
        node_id="disburse",
        action="disburse",
        params={},
        data=inst.state["data"],
        record_id=inst.record_id,
        form_code="loan_application",
        customer_id=inst.customer_id,
        initiator_id=inst.initiator_id,
        actor_id=finance.pk,
        now=inst.started_at,
    )
    again = flow_steps.disburse(ctx)
    assert again["loan_id"] == loan.pk and again["created"] is False
    assert Loan.objects.count() == 1
    assert loan.contract_no == inst.state["data"]["loan"]["contract_no"]


def test_disburse_uses_the_reserved_contract_number(flows: Flows) -> None:
    inst = _to_disbursement(flows)
    data = dict(inst.state["data"])
    data["contract"] = {"contract_no": "HT-DEMO-0001"}
    ctx = AutomatedContext(
        instance_id=inst.pk,
        step_id="disburse:9",
        node_id="disburse",
        action="disburse",
        params={},
        data=data,
        record_id=inst.record_id,
        form_code="loan_application",
        customer_id=inst.customer_id,
        initiator_id=inst.initiator_id,
        actor_id=flows.user("finance").pk,
        now=inst.started_at,
    )
    from loandesk.flows import records

    records.write_changes(
        record=inst.record,
        changes={
            "disbursement_account_name": "张三",
            "disbursement_account_no": _luhn("622202020011223344"),
        },
        actor=None,
        sealed=False,
    )
    result = flow_steps.disburse(ctx)
    assert result["contract_no"] == "HT-DEMO-0001"
    with pytest.raises(AutomatedStepFailed) as err:  # the number is now taken
        flow_steps.disburse(AutomatedContext(**{**ctx.__dict__, "step_id": "disburse:10"}))
    assert err.value.code == "lending.flow.refused"


def test_a_step_acts_as_the_last_approver_else_the_initiator(
    flows: Flows, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, risk = flows.user("manager"), flows.user("risk")
    actors: list[int] = []
    # A known action (the designer checks the names), standing in to note who it acts as.
    monkeypatch.setitem(
        automation._actions, "send_message", lambda ctx: actors.append(ctx.actor_id) or {}
    )
    custom_flow(
        [
            auto("first", "send_message", {"text": "x"}),  # nobody approved yet: the initiator
            approval("a1", [manager.pk]),
            approval("a2", [risk.pk]),
            auto("after", "send_message", {"text": "x"}),  # the last approver, from the rows
            approval("a3", [manager.pk]),
        ]
    )
    inst = flows.submit()
    services.run_pending_steps()
    inst = flows.act(flows.refresh(inst), "manager")
    inst = flows.act(inst, "risk")
    services.run_pending_steps()
    assert actors == [flows.user("officer1").pk, risk.pk]
