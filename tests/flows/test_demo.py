"""The flows demo seed: the published 贷款审批 flow, and sample applications in every state."""

from typing import Any

from loandesk.flows import demo as flow_demo
from loandesk.flows.models import FlowDefinition, FlowInstance
from loandesk.lending.models import Loan


def test_the_demo_flow_is_published_and_bound(demo: dict[str, Any]) -> None:
    flow = FlowDefinition.objects.get(key="loan_approval")
    assert flow.form.code == "loan_application" and flow.is_active
    assert flow.versions.get().version == 1


def test_samples_cover_every_state_and_are_idempotent(demo: dict[str, Any]) -> None:
    assert flow_demo.seed_samples() == 10
    states = list(FlowInstance.objects.values_list("status", "current_node_id"))
    assert ("running", "manager_review") in states
    assert ("running", "risk_review") in states
    assert ("running", "gm_review") in states
    assert ("running", "disbursement") in states
    for status in ("returned", "approved", "rejected", "withdrawn", "error"):
        assert any(s == status for s, _ in states), status
    approved = FlowInstance.objects.get(status="approved")
    assert Loan.objects.get(source_record_id=approved.record_id)
    assert flow_demo.seed_samples() == 0
    assert FlowInstance.objects.count() == 10
