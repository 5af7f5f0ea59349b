"""Flows demo data: role grants, the published 贷款审批 flow bound to 贷款申请, and sample
applications of officer1 / officer2 in every state (waiting at each approval step, returned,
approved and disbursed, rejected, withdrawn, in error). Idempotent.

The samples are skipped when `settings.LOANDESK_DEMO_FLOW_SAMPLES` is false — the test suite
sets it, because every test using the demo organisation runs the seed and other apps' tests count
application records and loans. `seed_samples()` creates them on demand.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from loandesk.accounts.models import Role, User
from loandesk.flows import services
from loandesk.flows.automation import get_action
from loandesk.flows.engine import DEMO_LOAN_APPROVAL, Definition, InstanceState
from loandesk.flows.messages import ADMIN, ANALYTICS, DESIGN
from loandesk.flows.models import FlowDefinition, FlowInstance, FlowStepRun, FlowVersion

DEMO_ROLE_GRANTS: dict[str, list[str]] = {
    "admin": [DESIGN, ADMIN, ANALYTICS],
    "gm": [ANALYTICS],
    "manager": [ANALYTICS],
}
FORM_CODE = "loan_application"


def grant_demo_permissions() -> None:
    for code, perms in DEMO_ROLE_GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None and set(perms) - set(role.permissions):
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])


def publish_demo_flow(admin: User) -> FlowDefinition | None:
    from loandesk.forms.models import FormDefinition

    form = FormDefinition.objects.filter(code=FORM_CODE).first()
    if form is None or form.current_version_id is None:
        return None
    flow = FlowDefinition.objects.filter(key=DEMO_LOAN_APPROVAL["key"]).first()
    if flow is None:
        flow = FlowDefinition.objects.create(
            key=DEMO_LOAN_APPROVAL["key"],
            name=DEMO_LOAN_APPROVAL["name"],
            description="贷款申请从提交到放款的审批流程",
            form=form,
            draft=DEMO_LOAN_APPROVAL,
            created_by=admin,
            updated_by=admin,
        )
    if not flow.versions.exists():
        definition = Definition.from_json(DEMO_LOAN_APPROVAL)
        FlowVersion.objects.create(
            definition=flow,
            version=DEMO_LOAN_APPROVAL["version"],
            definition_json=definition.to_json(),
            published_by=admin,
            published_at=timezone.now(),
        )
    return flow


def samples_enabled() -> bool:
    return bool(settings.LOANDESK_DEMO_FLOW_SAMPLES)


@transaction.atomic
def seed(context: dict[str, Any]) -> int:
    grant_demo_permissions()
    users: dict[str, User] = context.get("users", {})
    admin = users.get("admin") or User.objects.filter(is_superuser=True).first()
    if admin is None:
        return 0
    flow = publish_demo_flow(admin)
    if flow is None or not samples_enabled():
        return 0
    return seed_samples()


# --- sample applications -----------------------------------------------------------------------


def _luhn(prefix: str) -> str:
    digits = [int(d) for d in prefix]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return prefix + str((10 - total % 10) % 10)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _finish_step_manually(instance: FlowInstance, result: dict[str, Any]) -> None:
    """For actions no app registered (the demo tolerates a missing risk scorecard)."""
    with transaction.atomic():
        locked = services._locked(instance.pk)
        state = InstanceState.from_json(locked.state)
        if state.step_id is None:
            return
        t = services._engine(locked).automated_done(
            state, step_id=state.step_id, result=result, now=services.now()
        )
        FlowStepRun.objects.filter(instance=locked, step_id=state.step_id).update(
            status=FlowStepRun.Status.DONE, result=result, finished_at=services.now()
        )
        services._apply(locked, t, actor=None)


def _run_steps(instance: FlowInstance) -> FlowInstance:
    for _ in range(5):
        instance.refresh_from_db()
        state = InstanceState.from_json(instance.state)
        if state.step_id is None or instance.status != "running":
            break
        step = state.steps[state.step_id]
        if get_action(step.action) is None:
            placeholder: dict[str, Any] = (
                {"score": 680, "grade": "B", "decision": "review", "scorecard": "default"}
                if step.action == "risk_scorecard"
                else {}
            )
            _finish_step_manually(instance, placeholder)
        else:
            pending = FlowStepRun.objects.filter(
                instance=instance, step_id=step.id, status=FlowStepRun.Status.PENDING
            ).first()
            if pending is None:
                break
            services.run_step(pending.pk)
    instance.refresh_from_db()
    return instance


def _act(instance: FlowInstance, username: str, action: str = "approve", **kw: Any) -> FlowInstance:
    user = _user(username)
    task = instance.tasks.filter(user=user, status="open").first()
    if task is None:
        return instance
    services.act(actor=user, instance_id=instance.pk, task_id=task.pk, action=action, **kw)
    return _run_steps(instance)


def _approve_to(instance: FlowInstance, stop_at: str) -> FlowInstance:
    """Approve node by node (whoever holds the task) until `stop_at` is current."""
    for _ in range(10):
        instance = _run_steps(instance)
        if instance.status != "running" or instance.current_node_id == stop_at:
            break
        task = instance.tasks.filter(status="open").order_by("id").first()
        if task is None:
            break
        instance = _act(instance, task.user.username, comment="同意")
    return instance


def _application(officer: User, customer: Any, product: str, amount: str, term: int) -> Any:
    from loandesk.forms.services import create_record

    record = create_record(
        actor=officer,
        form_code=FORM_CODE,
        data={
            "customer": customer.pk,
            "product": product,
            "amount": amount,
            "term": term,
            "annual_rate": "12",
            "purpose": "business" if product != "consumer" else "consumption",
            "guarantee": "guarantor" if Decimal(amount) > 500000 else None,
            "applicant_income": "30000",
            "remark": "演示数据",
        },
    )
    return FlowInstance.objects.get(record=record)


def _disbursement_data(customer: Any, n: int) -> dict[str, Any]:
    return {
        "disbursement_account_name": customer.name,
        "disbursement_account_no": _luhn(f"62220202001122{n:04d}"),
        "disbursement_bank": "中国工商银行北京分行",
        "disbursement_date": timezone.localdate().isoformat(),
    }


@transaction.atomic
def seed_samples() -> int:
    """Sample applications in every state; nothing when the demo flow already has instances."""
    from loandesk.customers.models import Customer

    flow = FlowDefinition.objects.filter(key=DEMO_LOAN_APPROVAL["key"]).first()
    if flow is None or FlowInstance.objects.filter(version__definition=flow).exists():
        return 0
    officer1, officer2 = _user("officer1"), _user("officer2")
    c1 = list(Customer.objects.filter(owner=officer1, status="active").order_by("id")[:8])
    c2 = list(Customer.objects.filter(owner=officer2, status="active").order_by("id")[:2])
    if len(c1) < 8 or len(c2) < 2:
        return 0
    created = 0

    # 1. waiting at 业务经理初审
    _application(officer1, c1[0], "consumer", "80000", 12)
    # 2. waiting at 风控审核 (with the scorecard's result)
    _approve_to(_application(officer1, c1[1], "consumer", "120000", 24), "risk_review")
    # 3. waiting at 总经理终审 (amount > 500,000)
    _approve_to(_application(officer1, c1[2], "sme_operating", "600000", 24), "gm_review")
    # 4. waiting at 财务放款
    _approve_to(_application(officer1, c1[3], "consumer", "150000", 24), "disbursement")
    # 5. returned to the initiator by risk
    returned = _approve_to(_application(officer1, c1[4], "consumer", "60000", 12), "risk_review")
    _act(returned, "risk", "return", target="initiator", comment="请补充收入证明")
    # 6. approved and disbursed: a real loan
    done = _approve_to(_application(officer1, c1[5], "sme_operating", "300000", 12), "disbursement")
    _act(done, "finance", data=_disbursement_data(c1[5], 1), comment="已放款")
    # 7. rejected at the first review
    rejected = _application(officer1, c1[6], "short_bridge", "50000", 6)
    _act(rejected, "manager", "reject", comment="负债率过高")
    # 8. withdrawn by officer2 right after submitting
    withdrawn = _application(officer2, c2[0], "consumer", "30000", 6)
    services.withdraw(actor=officer2, instance_id=withdrawn.pk, comment="客户暂不需要")
    # 9. in error: finance approved without the payee account, the disbursement was refused
    error = _approve_to(_application(officer1, c1[7], "consumer", "90000", 12), "disbursement")
    _act(error, "finance", comment="请核对")
    # officer2's waiting application (reviewed by the nearest head above 上海一组)
    _application(officer2, c2[1], "consumer", "45000", 12)
    created = FlowInstance.objects.filter(version__definition=flow).count()
    return created
