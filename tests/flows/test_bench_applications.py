"""The bench application generator (bench/generate/applications.py): cloned applications and
flow instances in every state, tied to the generated loans, that the real services and
selectors work on."""

from collections.abc import Iterator
from typing import Any

import pytest
from bench.generate import loans as portfolio
from django.db import transaction

from loandesk.accounts.models import User
from loandesk.flows import demo as flow_demo
from loandesk.flows import selectors, services
from loandesk.flows.engine import InstanceState
from loandesk.flows.models import FlowHistory, FlowInstance, FlowTask
from loandesk.forms.models import Record
from loandesk.lending.models import Loan

COUNT = 300


pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def generated(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, int]]:
    """One portfolio for the whole module, in a transaction that each test's own (rolled back)
    transaction nests in; rolled back after the last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield portfolio.generate(COUNT, log=False)
        transaction.set_rollback(True)


def _by_state() -> dict[str, list[FlowInstance]]:
    out: dict[str, list[FlowInstance]] = {}
    for inst in FlowInstance.objects.order_by("id"):
        key = inst.current_node_id if inst.status == "running" else inst.status
        out.setdefault(key, []).append(inst)
    return out


def test_every_state_and_one_approved_application_per_loan(generated: dict[str, int]) -> None:
    found = _by_state()
    assert set(found) == {
        "manager_review", "risk_review", "gm_review", "disbursement", "returned", "rejected",
        "withdrawn", "cancelled", "approved",
    }  # fmt: skip
    loans = list(Loan.objects.filter(contract_no__startswith="BL"))
    assert len(found["approved"]) == len(loans) == COUNT
    by_record = {i.record_id: i for i in found["approved"]}
    for loan in loans:
        inst = by_record[loan.source_record_id]
        record = Record.objects.get(pk=loan.source_record_id)
        assert record.customer_id == inst.customer_id == loan.customer_id
        assert inst.initiator_id == record.owner_id == loan.owner_id
        assert inst.amount_fen == loan.principal_fen
        assert inst.finished_at is not None and inst.finished_at.date() == loan.start_date
        data = inst.state["data"]
        assert data["loan"] == {
            "loan_id": loan.pk, "contract_no": loan.contract_no, "created": True
        }  # fmt: skip
        assert data["product"] == loan.product.code
        assert data["term"] == str(loan.periods)
        assert data["disbursement_date"] == loan.start_date.isoformat()
        assert data["application_no"] == record.serial_no
        assert record.data["customer"] == loan.customer_id
    for inst in FlowInstance.objects.all():
        state = InstanceState.from_json(inst.state)
        assert state.status == inst.status and state.initiator == str(inst.initiator_id)
        open_rows = sorted(
            inst.tasks.filter(status="open").values_list("engine_task_id", "user_id")
        )
        assert open_rows == sorted(
            (t.id, int(t.user_id)) for t in state.tasks.values() if t.status == "open"
        )
        seqs = list(inst.history.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, state.history_seq + 1))
        assert "history" not in inst.state  # the rows are the only copy (ADR 0015)
        pending = set(inst.timers.filter(status="pending").values_list("timer_id", flat=True))
        assert pending == set(state.timers)
        assert inst.started_at <= inst.updated_at
    # Application numbers are unique, times of each instance in order.
    serials = list(Record.objects.values_list("serial_no", flat=True))
    assert len(serials) == len(set(serials))
    for h in FlowHistory.objects.order_by("instance_id", "seq").values_list("instance_id", "at"):
        assert h[1] is not None


def _open_task(state_key: str) -> tuple[FlowInstance, FlowTask]:
    inst = _by_state()[state_key][0]
    return inst, inst.tasks.get(status="open")


def test_a_generated_running_instance_is_approved_by_its_assignee(
    generated: dict[str, int],
) -> None:
    inst, task = _open_task("manager_review")
    services.act(
        actor=task.user, instance_id=inst.pk, task_id=task.pk, action="approve", comment="同意"
    )
    inst = flow_demo._run_steps(inst)
    assert inst.status == "running" and inst.current_node_id == "risk_review"
    assert inst.tasks.filter(status="open", node_id="risk_review").count() == 1
    # And the last approval of a generated instance waiting at 财务放款 (with the payee data)
    inst, task = _open_task("disbursement")
    customer = inst.customer
    assert customer is not None
    data = flow_demo._disbursement_data(customer, 7)
    services.act(actor=task.user, instance_id=inst.pk, task_id=task.pk, action="approve", data=data)
    inst = flow_demo._run_steps(inst)
    assert inst.status == "approved"
    assert Loan.objects.filter(source_record_id=inst.record_id).exists()


def test_a_generated_returned_instance_is_resubmitted(generated: dict[str, int]) -> None:
    inst = _by_state()["returned"][0]
    initiator = inst.initiator
    services.resubmit(actor=initiator, instance_id=inst.pk, data={}, comment="已补充")
    inst = flow_demo._run_steps(inst)
    assert inst.status == "running"
    assert inst.tasks.filter(status="open").exists()


def test_the_inbox_and_process_analytics_read_them(generated: dict[str, int]) -> None:
    inst, task = _open_task("risk_review")
    approver = task.user
    inbox = selectors.todo(actor=approver)
    open_for_him = FlowTask.objects.filter(user=approver, status="open").count()
    assert open_for_him > 0
    assert task.pk in {i["task_id"] for i in inbox["items"]} or len(inbox["items"]) == 20
    assert selectors.counts(actor=approver)["todo"] == open_for_him
    detail = selectors.instance_detail(actor=approver, instance_id=inst.pk)
    assert detail["id"] == inst.pk
    admin = User.objects.get(username="admin")
    stats: dict[str, Any] = selectors.analytics(actor=admin, flow_key="loan_approval")
    counts = stats["instances"]
    assert counts["approved"] >= COUNT and counts["running"] > 0 and counts["rejected"] > 0
    assert stats["turnaround_hours"]["median"] > 0  # re-spaced: hours, not the template's ms
    nodes = {n["node_id"]: n for n in stats["nodes"]}
    assert {"manager_review", "risk_review", "disbursement"} <= set(nodes)
    assert nodes["manager_review"]["median_hours"] > 0
