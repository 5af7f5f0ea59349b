"""Write-off (核销) end to end: request → 风控审核 → 总经理审批 → write_off_loan; the loan is
written off once, the journal booked once, whatever re-runs."""

from datetime import date
from typing import Any

import pytest

from loandesk.accounting import writeoff
from loandesk.accounting.models import JournalEntry, WriteOffRequest
from loandesk.core.models import OutboxEvent
from loandesk.flows import services as flow_services
from loandesk.flows.automation import AutomatedContext
from loandesk.flows.models import FlowInstance, FlowTask
from loandesk.lending.models import Installment, Loan
from tests.accounting.conftest import assert_all_balanced, balance, dispatch, make_loan, set_date


@pytest.fixture
def overdue(lending: dict[str, Any]) -> Loan:
    set_date(date(2025, 10, 10))
    loan = make_loan(lending, start=date(2025, 10, 10), amount="10000", periods=12)
    set_date(date(2026, 3, 1))
    dispatch()
    return loan


def act(instance: FlowInstance, username: str, action: str = "approve") -> FlowInstance:
    task = FlowTask.objects.get(instance=instance, user__username=username, status="open")
    flow_services.act(
        actor=task.user, instance_id=instance.pk, task_id=task.pk, action=action, comment="同意"
    )
    flow_services.run_pending_steps()
    instance.refresh_from_db()
    return instance


def test_request_approve_write_off_books_once(lending: dict[str, Any], overdue: Loan) -> None:
    finance = lending["users"]["finance"]
    preview = writeoff.preview(actor=finance, loan_id=overdue.pk)
    assert preview["can_request"] and preview["principal"] == "10000.00"
    assert preview["interest"] != "0.00"  # four months overdue
    req = writeoff.request_write_off(
        actor=finance, loan_id=overdue.pk, reason="借款人失联,诉讼无果"
    )
    assert req.instance is not None and req.instance.current_node_id == "risk_review"
    assert req.principal_fen == 1_000_000
    # One open request per loan.
    with pytest.raises(Exception) as exc:
        writeoff.request_write_off(actor=finance, loan_id=overdue.pk, reason="again")
    assert getattr(exc.value, "code", "") == "accounting.write_off.pending"

    instance = act(req.instance, "risk")
    assert instance.current_node_id == "gm_review"
    overdue.refresh_from_db()
    assert overdue.status in ("active", "overdue")
    instance = act(instance, "gm")
    assert instance.status == "approved", instance.state.get("error")

    overdue.refresh_from_db()
    req.refresh_from_db()
    assert overdue.status == Loan.Status.WRITTEN_OFF and overdue.closed_at is not None
    assert req.status == "written_off"
    entry = JournalEntry.objects.get(source_topic="loan.written_off")
    assert entry.total_debit_fen == 1_000_000
    assert {line.account.code for line in entry.lines.all()} == {"1304", "130301"}
    event = OutboxEvent.objects.get(topic="loan.written_off")
    assert event.payload["principal_fen"] == 1_000_000
    assert set(event.payload) >= {
        "loan_id",
        "contract_no",
        "customer_id",
        "value_date",
        "interest_fen",
        "fee_fen",
        "penalty_fen",
    }
    assert entry.memo["off_books"]["interest"] == event.payload["interest_fen"] > 0
    # No paid column was invented.
    assert all(
        i.paid_principal_fen == 0 and i.paid_interest_fen == 0
        for i in Installment.objects.filter(loan=overdue)
    )

    # The outbox delivers the event: already booked by id, nothing new.
    dispatch()
    assert JournalEntry.objects.filter(source_topic="loan.written_off").count() == 1
    # The step re-runs (worker killed before its result was saved): nothing changes.
    before = (
        JournalEntry.objects.count(),
        OutboxEvent.objects.filter(topic="loan.written_off").count(),
    )
    ctx = AutomatedContext(
        instance_id=instance.pk,
        step_id="again",
        node_id="write_off",
        action="write_off_loan",
        params={},
        data={},
        record_id=req.record_id,
        form_code="loan_write_off",
        customer_id=overdue.customer_id,
        initiator_id=finance.pk,
        actor_id=lending["users"]["gm"].pk,
        now=instance.started_at,
    )
    from django.db import transaction

    with transaction.atomic():
        again = writeoff.write_off_loan(ctx)
    assert again == req.result
    after = (
        JournalEntry.objects.count(),
        OutboxEvent.objects.filter(topic="loan.written_off").count(),
    )
    assert after == before
    assert_all_balanced()
    assert balance("1303") == 0  # the only loan on the books is written off
    # A written-off loan cannot be written off again.
    preview = writeoff.preview(actor=finance, loan_id=overdue.pk)
    assert not preview["can_request"] and preview["latest"]["status"] == "written_off"


def test_a_rejected_request_leaves_the_loan_and_allows_a_new_one(
    lending: dict[str, Any], overdue: Loan
) -> None:
    finance = lending["users"]["finance"]
    req = writeoff.request_write_off(actor=finance, loan_id=overdue.pk, reason="试一试")
    assert req.instance is not None
    instance = act(req.instance, "risk", "reject")
    assert instance.status == "rejected"
    overdue.refresh_from_db()
    assert overdue.status != "written_off"
    assert writeoff.preview(actor=finance, loan_id=overdue.pk)["can_request"]
    assert writeoff.get_request(actor=finance, request_id=req.pk)["status"] == "closed"
    writeoff.request_write_off(actor=finance, loan_id=overdue.pk, reason="第二次")
    assert WriteOffRequest.objects.filter(loan=overdue).count() == 2


def test_write_off_api_permissions_scope_and_bad_input(
    lending: dict[str, Any], overdue: Loan, client_for: Any
) -> None:
    officer = client_for("officer1")
    r = officer.get(f"accounting/write-offs/preview?loan_id={overdue.pk}")
    assert r.status_code == 403
    manager = client_for("manager")  # 北京分公司: the loan of officer1 is in scope
    r = manager.get(f"accounting/write-offs/preview?loan_id={overdue.pk}")
    assert r.status_code == 200, r.content
    other = make_loan(lending, customer="c2", start=date(2026, 1, 10))  # officer2 (上海)
    r = manager.get(f"accounting/write-offs/preview?loan_id={other.pk}")
    assert r.status_code == 404
    r = manager.post("accounting/write-offs", {"loan_id": other.pk, "reason": "x"})
    assert r.status_code == 404
    finance = client_for("finance")
    r = finance.post("accounting/write-offs", {"loan_id": overdue.pk, "reason": "   "})
    assert r.status_code == 422 and "reason" in r.json()["details"]["fields"]
    r = finance.post("accounting/write-offs", {"loan_id": "x", "reason": "ok"})
    assert r.status_code == 422
    r = finance.post("accounting/write-offs", {"loan_id": 10**12, "reason": "ok"})
    assert r.status_code == 404
    r = finance.post("accounting/write-offs", {"loan_id": overdue.pk, "reason": "坏账"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "pending" and body["instance"]["current_node_name"] == "风控审核"
    assert finance.get(f"accounting/write-offs/{body['id']}").status_code == 200
    assert officer.get(f"accounting/write-offs/{body['id']}").status_code == 403
    r = finance.post("accounting/write-offs", {"loan_id": overdue.pk, "reason": "再来"})
    assert r.status_code == 409


def test_the_demo_seed_ships_the_form_and_flow_once(demo: dict[str, Any]) -> None:
    from loandesk.demo.services import seed_demo
    from loandesk.flows.models import FlowDefinition, FlowVersion
    from loandesk.forms.models import FormDefinition

    seed_demo()
    assert FormDefinition.objects.filter(code="loan_write_off").count() == 1
    flow = FlowDefinition.objects.get(key="loan_write_off")
    assert flow.form.code == "loan_write_off" and flow.is_active
    assert FlowVersion.objects.filter(definition=flow).count() == 1
    finance = demo["users"]["finance"]  # type: ignore[index]
    from loandesk.accounts.scoping import has_perm

    finance.refresh_from_db()
    for perm in ("accounting.manage", "accounting.export", "accounting.import_statements"):
        assert has_perm(finance, perm)
