"""Flow commands through the service layer: start on record creation, every command and its
refusals (status + translated message, nothing written), batch, optimistic versions, field
edit permissions, and edits reaching the form record."""

from typing import Any

import pytest
from django.utils import translation

from loandesk.core.errors import LoanDeskError, ValidationFailed
from loandesk.core.models import AuditEntry, OutboxEvent
from loandesk.flows import services
from loandesk.flows.models import FlowCc, FlowHistory, FlowInstance, FlowStepRun, FlowTask
from loandesk.forms import storage
from loandesk.forms.services import compiled_version
from tests.flows.conftest import Flows


def plain(instance: FlowInstance) -> dict[str, Any]:
    record = instance.record
    record.refresh_from_db()
    return storage.unseal(compiled_version(record.version), record.data)


def refused(code: str, status: int, call: Any) -> LoanDeskError:
    with pytest.raises(LoanDeskError) as err:
        call()
    assert err.value.code == code
    assert err.value.status == status
    assert err.value.message != code  # translated
    return err.value


def test_creating_a_record_starts_the_bound_flow_in_the_same_transaction(flows: Flows) -> None:
    inst = flows.submit(amount="120000")
    assert inst.status == "running"
    assert inst.current_node_id == "manager_review"
    assert inst.initiator.username == "officer1"
    assert inst.amount_fen == 12_000_000
    assert "个人消费贷" in inst.title and "¥120,000.00" in inst.title
    # officer1's team has no head: the nearest head above (北京分公司's manager) reviews
    assert flows.open_users(inst) == ["manager"]
    assert FlowHistory.objects.filter(instance=inst, action="submitted").count() == 1
    topics = set(OutboxEvent.objects.values_list("topic", flat=True))
    assert {"record.created", "flows.instance_started", "flows.task_assigned"} <= topics
    assert inst.state_version == 1 and inst.state["version"] == 1


def test_officer2_is_reviewed_by_the_nearest_head_above(flows: Flows) -> None:
    inst = flows.submit(owner="officer2")
    assert flows.open_users(inst) == ["gm"]


def test_full_approval_books_the_loan_and_ccs_the_branch_head(flows: Flows) -> None:
    from loandesk.lending.models import Loan

    inst = flows.submit(amount="150000")
    inst = flows.act(inst, "manager", comment="同意")
    assert inst.current_node_id == "risk_review"
    assert isinstance(inst.state["data"].get("risk"), dict)
    inst = flows.act(inst, "risk")
    assert inst.current_node_id == "disbursement"  # 150,000 skips the GM
    payee = {
        "disbursement_account_name": "张三",
        "disbursement_account_no": "6222020200112233440",
        "disbursement_bank": "工商银行",
    }
    # luhn-valid number
    payee["disbursement_account_no"] = _luhn("622202020011223344")
    inst = flows.act(inst, "finance", data=payee)
    assert inst.status == "approved", inst.state["error"]
    loan = Loan.objects.get(source_record_id=inst.record_id)
    assert inst.state["data"]["loan"]["loan_id"] == loan.pk
    assert loan.principal_fen == 15_000_000 and loan.periods == 24
    assert plain(inst)["disbursement_bank"] == "工商银行"
    assert FlowCc.objects.filter(instance=inst, user__username="manager").exists()
    assert FlowTask.objects.filter(instance=inst, status="open").count() == 0
    assert OutboxEvent.objects.filter(topic="flows.instance_finished").count() == 1
    assert set(FlowStepRun.objects.filter(instance=inst).values_list("status", flat=True)) == {
        "done"
    }


def _luhn(prefix: str) -> str:
    from loandesk.flows.demo import _luhn as luhn

    return luhn(prefix)


def test_risk_edits_reach_the_record_and_drive_the_gm_branch(flows: Flows) -> None:
    inst = flows.submit(amount="300000", product="sme_operating")
    inst = flows.act(inst, "manager")
    inst = flows.act(inst, "risk", data={"amount": "600000", "term": 36, "guarantee": "pledge"})
    assert inst.current_node_id == "gm_review"
    assert plain(inst)["term"] == "36" and plain(inst)["guarantee"] == "pledge"
    assert flows.open_users(inst) == ["gm"]


def test_approver_edit_permissions(flows: Flows) -> None:
    inst = flows.submit(amount="300000", product="sme_operating")
    inst = flows.act(inst, "manager")
    task = flows.task(inst, "risk")
    risk = flows.user("risk")
    # purpose is read-only at 风控审核 → 422, nothing written
    refused(
        "flow.field_not_editable",
        422,
        lambda: services.act(
            actor=risk,
            instance_id=inst.pk,
            task_id=task.pk,
            action="approve",
            data={"purpose": "medical"},
        ),
    )
    assert plain(inst)["purpose"] == "consumption"
    assert flows.task(inst, "risk").status == "open"
    # a bad value → 422 with the field's message
    with pytest.raises(ValidationFailed) as err:
        services.act(
            actor=risk,
            instance_id=inst.pk,
            task_id=task.pk,
            action="approve",
            data={"amount": "abc"},
        )
    assert "amount" in err.value.details["fields"]
    # editing with reject is refused
    refused(
        "flow.edit_not_allowed",
        422,
        lambda: services.act(
            actor=risk,
            instance_id=inst.pk,
            task_id=task.pk,
            action="reject",
            data={"amount": "1000"},
        ),
    )
    # posting the whole record back unchanged is no edit
    services.act(
        actor=risk,
        instance_id=inst.pk,
        task_id=task.pk,
        action="comment",
        comment="看一下",
        data={"amount": "300000", "purpose": "consumption"},
    )
    # an allowed edit reaches the record, with formulas recomputed
    before = plain(inst)["monthly_payment"]
    services.act(
        actor=risk,
        instance_id=inst.pk,
        task_id=task.pk,
        action="approve",
        data={"amount": "600000", "guarantee": "collateral"},
    )
    inst.refresh_from_db()
    assert plain(inst)["amount"] == "600000.00"
    assert plain(inst)["monthly_payment"] != before
    assert inst.current_node_id == "gm_review"
    assert inst.amount_fen == 60_000_000
    assert AuditEntry.objects.filter(action="record.update", target_id=str(inst.record_id)).exists()


def test_officer_cannot_edit_finance_fields_on_resubmit(flows: Flows) -> None:
    inst = flows.submit()
    inst = flows.act(inst, "manager", "return", target="initiator", comment="补充材料")
    assert inst.status == "returned"
    officer = flows.user("officer1")
    refused(
        "flow.field_not_editable",
        422,
        lambda: services.resubmit(
            actor=officer, instance_id=inst.pk, data={"disbursement_bank": "假银行"}
        ),
    )
    inst = services.resubmit(
        actor=officer, instance_id=inst.pk, data={"amount": "90000"}, comment="已补充"
    )
    assert inst.status == "running" and inst.current_node_id == "manager_review"
    assert plain(inst)["amount"] == "90000.00"
    assert inst.state["round"] == 2


def test_wrong_users_and_states_are_refused_with_nothing_written(flows: Flows) -> None:
    inst = flows.submit()
    task = flows.task(inst, "manager")
    before = (FlowHistory.objects.count(), OutboxEvent.objects.count(), inst.state_version)
    refused(
        "flow.not_your_task",
        403,
        lambda: services.act(
            actor=flows.user("officer1"), instance_id=inst.pk, task_id=task.pk, action="approve"
        ),
    )
    refused(  # risk cannot see the instance at all yet... risk has forms.view_records + all scope
        "flow.not_your_task",
        403,
        lambda: services.act(
            actor=flows.user("risk"), instance_id=inst.pk, task_id=task.pk, action="approve"
        ),
    )
    with pytest.raises(LoanDeskError) as err:  # officer2 cannot see officer1's instance
        services.act(
            actor=flows.user("officer2"), instance_id=inst.pk, task_id=task.pk, action="approve"
        )
    assert err.value.status == 404
    refused(
        "flow.action_not_allowed",
        422,
        lambda: services.act(
            actor=flows.user("manager"), instance_id=inst.pk, task_id=task.pk, action="explode"
        ),
    )
    refused(
        "flow.task_not_found",
        404,
        lambda: services.act(
            actor=flows.user("manager"),
            instance_id=inst.pk,
            task_id=task.pk + 999,
            action="approve",
        ),
    )
    refused(
        "flow.invalid_target",
        422,
        lambda: services.act(
            actor=flows.user("manager"),
            instance_id=inst.pk,
            task_id=task.pk,
            action="transfer",
            target="999999",
        ),
    )
    refused(
        "flow.invalid_target",
        422,
        lambda: services.act(
            actor=flows.user("manager"),
            instance_id=inst.pk,
            task_id=task.pk,
            action="return",
            target="risk_review",
        ),
    )
    refused(
        "flow.not_initiator",
        403,
        lambda: services.withdraw(actor=flows.user("manager"), instance_id=inst.pk),
    )
    refused(
        "flow.not_returned",
        409,
        lambda: services.resubmit(actor=flows.user("officer1"), instance_id=inst.pk, data={}),
    )
    refused(
        "permission_denied",
        403,
        lambda: services.retry(actor=flows.user("manager"), instance_id=inst.pk),
    )
    refused(
        "permission_denied",
        403,
        lambda: services.cancel(actor=flows.user("officer1"), instance_id=inst.pk),
    )
    refused(
        "flow.not_in_error",
        409,
        lambda: services.retry(actor=flows.user("admin"), instance_id=inst.pk),
    )
    inst.refresh_from_db()
    assert (FlowHistory.objects.count(), OutboxEvent.objects.count(), inst.state_version) == before


def test_messages_follow_the_language(flows: Flows) -> None:
    inst = flows.submit()
    task = flows.task(inst, "manager")
    call = lambda: services.act(  # noqa: E731
        actor=flows.user("officer1"), instance_id=inst.pk, task_id=task.pk, action="approve"
    )
    with translation.override("en-us"):
        assert refused("flow.not_your_task", 403, call).message == "This task is not yours"
    with translation.override("zh-hans"):
        assert refused("flow.not_your_task", 403, call).message == "这不是您的待办"


def test_acting_twice_and_stale_versions(flows: Flows) -> None:
    inst = flows.submit()
    task = flows.task(inst, "manager")
    manager = flows.user("manager")
    refused(
        "flow.conflict",
        409,
        lambda: services.act(
            actor=manager,
            instance_id=inst.pk,
            task_id=task.pk,
            action="approve",
            expected_version=0,
        ),
    )
    services.act(
        actor=manager, instance_id=inst.pk, task_id=task.pk, action="approve", expected_version=1
    )
    refused(
        "flow.task_closed",
        409,
        lambda: services.act(actor=manager, instance_id=inst.pk, task_id=task.pk, action="approve"),
    )


def test_withdraw_urge_cancel_and_finished_instances(flows: Flows) -> None:
    inst = flows.submit()
    officer = flows.user("officer1")
    inst = services.urge(actor=officer, instance_id=inst.pk)
    assert FlowTask.objects.get(instance=inst, status="open").urged_at is not None
    assert OutboxEvent.objects.filter(topic="flows.notify", payload__kind="urge").count() == 1
    refused("flow.urge_too_soon", 429, lambda: services.urge(actor=officer, instance_id=inst.pk))
    inst = services.withdraw(actor=officer, instance_id=inst.pk, comment="不需要了")
    assert inst.status == "withdrawn" and inst.finished_at is not None
    assert FlowTask.objects.get(instance=inst).status == "cancelled"
    refused(
        "flow.instance_finished", 409, lambda: services.withdraw(actor=officer, instance_id=inst.pk)
    )
    # a finished instance lets the record start a new one
    second = services.start(actor=officer, record_id=inst.record_id)
    assert second.pk != inst.pk and second.status == "running"
    refused(
        "flow.already_started", 409, lambda: services.start(actor=officer, record_id=inst.record_id)
    )
    second = services.cancel(actor=flows.user("admin"), instance_id=second.pk, comment="测试")
    assert second.status == "cancelled"


def test_withdraw_after_a_decision_is_refused(flows: Flows) -> None:
    inst = flows.submit()
    inst = flows.act(inst, "manager")
    refused(
        "flow.withdraw_not_allowed",
        409,
        lambda: services.withdraw(actor=flows.user("officer1"), instance_id=inst.pk),
    )


def test_reject_ends_the_instance(flows: Flows) -> None:
    inst = flows.submit()
    inst = flows.act(inst, "manager", "reject", comment="不符合条件")
    assert inst.status == "rejected"
    assert FlowTask.objects.get(instance=inst).action == "reject"


def test_transfer_and_add_signer(flows: Flows) -> None:
    inst = flows.submit()
    gm = flows.user("gm")
    inst = flows.act(inst, "manager", "transfer", target=str(gm.pk), comment="请赵总看")
    assert flows.open_users(inst) == ["gm"]
    inst = flows.act(inst, "gm", "add_signer_before", target=str(flows.user("risk").pk))
    assert flows.open_users(inst) == ["risk"]
    inst = flows.act(inst, "risk")
    assert flows.open_users(inst) == ["gm"]  # the task comes back


def test_batch_approves_each_task_in_its_own_transaction(flows: Flows) -> None:
    a = flows.submit(customer_n=0)
    b = flows.submit(customer_n=1)
    c = flows.submit(owner="officer2")  # gm's task, not the manager's
    ta, tb, tc = flows.task(a, "manager"), flows.task(b, "manager"), flows.task(c, "gm")
    flows.act(b, "manager", "comment", comment="先看")
    results = services.batch_act(
        actor=flows.user("manager"),
        task_ids=[ta.pk, tb.pk, tc.pk],
        action="approve",
        comment="同意",
    )
    assert [r["ok"] for r in results] == [True, True, False]
    assert results[2]["code"] == "flow.task_not_found" and results[2]["message"]
    services.run_pending_steps()
    assert flows.refresh(a).current_node_id == "risk_review"
    assert flows.refresh(c).current_node_id == "manager_review"
    refused(
        "flow.action_not_allowed",
        422,
        lambda: services.batch_act(actor=flows.user("manager"), task_ids=[ta.pk], action="return"),
    )
    with pytest.raises(LoanDeskError) as err:
        services.batch_act(
            actor=flows.user("manager"), task_ids=list(range(1, 102)), action="approve"
        )
    assert err.value.status == 422


def test_start_for_a_record_outside_the_scope_is_not_found(flows: Flows) -> None:
    inst = flows.submit()
    inst = services.withdraw(actor=flows.user("officer1"), instance_id=inst.pk)
    with pytest.raises(LoanDeskError) as err:
        services.start(actor=flows.user("officer2"), record_id=inst.record_id)
    assert err.value.status == 404
    with pytest.raises(LoanDeskError) as err:
        services.start(actor=flows.user("officer1"), record_id="1")
    assert err.value.status == 422


def test_an_approval_is_a_handful_of_statements_with_every_row_written(flows: Flows) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    inst = flows.submit()
    task = flows.task(inst, "manager")
    manager = flows.user("manager")
    audits = AuditEntry.objects.filter(action="flow.acted").count()
    with CaptureQueriesContext(connection) as ctx:
        done = services.act(
            actor=manager, instance_id=inst.pk, task_id=task.pk, action="approve", comment="ok"
        )
    sql = [q["sql"] for q in ctx.captured_queries]
    # The lock reads the acted-on task too; the outbox events of the command are one INSERT.
    assert sum("FROM" in s and "flows_flowtask" in s and s.startswith("SELECT") for s in sql) == 1
    assert sum(s.startswith("INSERT INTO") and "core_outboxevent" in s for s in sql) == 1
    assert len(sql) <= 12, sql
    assert done.state_version == 2 and done.current_node_id == "risk_scorecard"
    assert done.version.definition.key  # the version and definition came with the lock
    row = FlowInstance.objects.get(pk=inst.pk)
    assert row.state == done.state and row.state_version == 2
    assert row.status == done.status and row.current_node_id == done.current_node_id
    assert row.updated_at == done.updated_at
    closed = FlowTask.objects.get(pk=task.pk)
    assert (closed.status, closed.action) == ("approved", "approve")
    assert closed.closed_at is not None
    assert FlowHistory.objects.filter(instance=inst, action="approved", comment="ok").count() == 1
    assert AuditEntry.objects.filter(action="flow.acted").count() == audits + 1


def test_unknown_and_out_of_range_ids_are_not_found(flows: Flows) -> None:
    inst = flows.submit()
    other = flows.submit(customer_n=1)
    manager = flows.user("manager")
    for instance_id in (2**63, -(2**63) - 1, 10**9):
        with pytest.raises(LoanDeskError) as err:
            services.act(actor=manager, instance_id=instance_id, task_id=1, action="approve")
        assert err.value.status == 404
    # a task of another instance, or a task id out of range, is no task of this one
    for task_id in (flows.task(other, "manager").pk, 2**63, 0):
        refused(
            "flow.task_not_found",
            404,
            lambda t=task_id: services.act(
                actor=manager, instance_id=inst.pk, task_id=t, action="approve"
            ),
        )


# Queries per approval as Django logs them, the savepoint around the command included (the
# test's transaction turns the command's BEGIN/COMMIT into SAVEPOINT/RELEASE): on SQLite every
# statement (in-process, no round trips; 11 today); on PostgreSQL the command's row writes go
# as one multi-statement query, so this counts round trips to the server (4 today).
MAX_QUERIES_PER_APPROVAL = {"sqlite": 12, "postgresql": 5}


def test_approvals_stay_within_the_query_budget_with_every_row_written(flows: Flows) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.flows.conftest import approval, custom_flow

    manager, risk, gm = flows.user("manager"), flows.user("risk"), flows.user("gm")
    deadline = {"hours": 8, "reminder_before": 1}
    custom_flow(
        [
            approval("a1", [manager.pk], deadline=deadline),
            approval("a2", [risk.pk], deadline=deadline),
            approval("a3", [gm.pk], deadline=deadline),
        ],
        key="budget",
    )
    inst = flows.submit()
    limit = MAX_QUERIES_PER_APPROVAL[connection.vendor]
    audits = AuditEntry.objects.filter(action="flow.acted", target_id=str(inst.pk)).count()
    events = OutboxEvent.objects.filter(aggregate_id=str(inst.pk)).count()
    for n, user in enumerate((manager, risk, gm), 1):
        task = flows.task(inst, user.username)
        with CaptureQueriesContext(connection) as ctx:
            services.act(actor=user, instance_id=inst.pk, task_id=task.pk, action="approve")
        assert len(ctx) <= limit, [q["sql"][:120] for q in ctx.captured_queries]
        closed = FlowTask.objects.get(pk=task.pk)
        assert (closed.status, closed.action) == ("approved", "approve")
        assert FlowHistory.objects.filter(instance=inst, action="approved").count() == n
        assert (
            AuditEntry.objects.filter(action="flow.acted", target_id=str(inst.pk)).count()
            == audits + n
        )
    inst.refresh_from_db()
    assert inst.status == "approved" and inst.finished_at is not None
    assert not FlowTask.objects.filter(instance=inst, status="open").exists()
    topics = list(
        OutboxEvent.objects.filter(aggregate_id=str(inst.pk))
        .order_by("created_at", "topic")
        .values_list("topic", flat=True)[events:]
    )
    assert topics.count("flows.task_closed") == 3
    assert topics.count("flows.task_assigned") == 2
    assert topics.count("flows.instance_finished") == 1


@pytest.mark.django_db(transaction=True)
def test_each_approval_commits_its_worker_nudge_and_the_worker_delivers_the_events(
    flows: Flows,
) -> None:
    """The outbox nudge is written with the approval's batched rows: one READY
    dispatch_outbox task per approval transaction, which the real database worker runs."""
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from tests.flows.conftest import approval, custom_flow

    def nudges() -> int:
        return (
            DBTaskResult.objects.ready()
            .filter(task_path="loandesk.core.tasks.dispatch_outbox")
            .count()
        )

    manager, risk = flows.user("manager"), flows.user("risk")
    custom_flow([approval("a1", [manager.pk]), approval("a2", [risk.pk])], key="nudged")
    inst = flows.submit()
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    assert nudges() == 0
    for n, user in enumerate((manager, risk), 1):
        task = flows.task(inst, user.username)
        services.act(actor=user, instance_id=inst.pk, task_id=task.pk, action="approve")
        assert nudges() == n
    # Column for column the row enqueue() writes (on PostgreSQL it comes from a cached statement).
    from loandesk.core.tasks import dispatch_outbox

    columns = [
        "status", "args_kwargs", "priority", "task_path", "worker_ids", "queue_name",
        "backend_name", "run_after", "return_value", "exception_class_path", "traceback",
        "started_at", "finished_at",
    ]  # fmt: skip
    ours = list(DBTaskResult.objects.order_by("enqueued_at").values_list(*columns))
    reference = DBTaskResult.objects.filter(pk=dispatch_outbox.enqueue().id).values_list(*columns)
    assert ours[-2:] == [reference.get()] * 2
    pending = OutboxEvent.objects.filter(
        aggregate_id=str(inst.pk), status=OutboxEvent.Status.PENDING
    )
    assert pending.filter(topic="flows.instance_finished").exists()
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    assert nudges() == 0
    assert not pending.exists()


def test_text_written_with_a_transition_is_stored_exactly(flows: Flows) -> None:
    """On PostgreSQL the transition's rows are bound on the client (core.pgliteral): quotes,
    backslashes, SQL and placeholder look-alikes in a comment are data, read back unchanged."""
    comment = "同意'); DELETE FROM flows_flowhistory; -- \\' %s %% $$ 😀\nE'\\x41'"
    inst = flows.submit(amount="150000")
    inst = flows.act(inst, "manager", comment=comment)
    assert FlowHistory.objects.filter(instance=inst, comment=comment).count() == 1
    assert FlowHistory.objects.filter(instance=inst, action="submitted").count() == 1
    assert [h.comment for h in FlowHistory.objects.filter(instance=inst) if h.comment] == [comment]


@pytest.mark.postgres(reason="the batch is bound on the client only on PostgreSQL")
def test_an_approval_binds_every_row_write_without_psycopg_on_postgresql(
    flows: Flows, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg's adapters were a fifth of an approval's CPU: every statement of the batch a
    transition writes is bound by core.pgliteral (None would mean a fallback to mogrify)."""

    from loandesk.core import pgliteral

    bound: list[str | None] = []
    real = pgliteral.bind

    def bind(sql: str, params: Any) -> str | None:
        bound.append(real(sql, params))
        return bound[-1]

    monkeypatch.setattr(pgliteral, "bind", bind)
    inst = flows.submit(amount="150000")
    inst = flows.act(inst, "manager", comment="同意")
    assert len(bound) >= 5 and None not in bound
    # ... and what it bound is what is stored
    inst.refresh_from_db()
    assert inst.current_node_id == "risk_review"
    assert FlowHistory.objects.filter(instance=inst, comment="同意").count() == 1
    assert FlowTask.objects.filter(instance=inst, status="open").count() >= 1
