"""Accounting demo data: role grants, the shipped form 核销申请 and its flow 核销审批 (risk review
→ GM approval → automated `write_off_loan`). Idempotent; runs after the flows seeder."""

from typing import Any

from django.db import transaction

from loandesk.accounting.permissions import DEMO_ROLE_GRANTS
from loandesk.accounting.writeoff import FLOW_KEY, FORM_CODE
from loandesk.accounts.models import Role, User

WRITE_OFF_FORM: dict[str, Any] = {
    "fields": [
        {
            "key": "write_off_no",
            "type": "serial",
            "label": "申请编号",
            "label_en": "Request number",
            "settings": {"pattern": "HX{yyyyMMdd}{0000}"},
        },
        {
            "key": "customer",
            "type": "relation",
            "label": "客户",
            "label_en": "Customer",
            "settings": {"target": "customer"},
            "internal": True,
            "indexed": True,
            "required": True,
        },
        {
            "key": "contract_no",
            "type": "text",
            "label": "合同编号",
            "label_en": "Contract number",
            "required": True,
            "indexed": True,
            "validation": {"max_length": 40},
        },
        {
            "key": "loan_id",
            "type": "number",
            "label": "贷款编号",
            "label_en": "Loan id",
            "required": True,
            "settings": {"precision": 0},
        },
        {
            "key": "amount",
            "type": "money",
            "label": "核销合计",
            "label_en": "Total written off",
            "required": True,
            "indexed": True,
        },
        {"key": "principal", "type": "money", "label": "剩余本金", "label_en": "Principal"},
        {"key": "interest", "type": "money", "label": "欠息", "label_en": "Interest due"},
        {"key": "fee", "type": "money", "label": "欠费", "label_en": "Fees due"},
        {"key": "penalty", "type": "money", "label": "罚息", "label_en": "Penalty interest"},
        {"key": "owed_on", "type": "date", "label": "计算日", "label_en": "Amounts as of"},
        {
            "key": "reason",
            "type": "textarea",
            "label": "核销原因",
            "label_en": "Reason",
            "required": True,
            "validation": {"max_length": 500},
        },
    ],
    "list_columns": ["write_off_no", "contract_no", "customer", "amount", "owner", "created_at"],
}

WRITE_OFF_FLOW: dict[str, Any] = {
    "key": FLOW_KEY,
    "name": "核销审批",
    "version": 1,
    "settings": {"resubmit_from": "start"},
    "nodes": [
        {"id": "start", "kind": "start", "name": "发起核销"},
        {
            "id": "risk_review",
            "kind": "approval",
            "name": "风控审核",
            "assignees": [{"kind": "role", "role": "risk"}],
            "mode": "any",
            "on_empty": "to_admin",
            "actions": ["approve", "reject", "return", "comment"],
            "return_targets": ["initiator"],
        },
        {
            "id": "gm_review",
            "kind": "approval",
            "name": "总经理审批",
            "assignees": [{"kind": "role", "role": "gm"}],
            "mode": "any",
            "on_empty": "to_admin",
            "actions": ["approve", "reject", "return", "comment"],
            "return_targets": ["initiator", "risk_review"],
        },
        {
            "id": "write_off",
            "kind": "automated",
            "name": "核销入账",
            "action": "write_off_loan",
            "params": {},
            "on_failure": "stop",
            "result_key": "write_off",
        },
        {"id": "end", "kind": "end", "name": "结束"},
    ],
}


def grant_demo_permissions() -> int:
    changed = 0
    for code, perms in DEMO_ROLE_GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None and set(perms) - set(role.permissions):
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])
            changed += 1
    return changed


def ensure_write_off_flow(admin: User) -> bool:
    """The 核销申请 form and its published 核销审批 flow; True when something was created."""
    from loandesk.flows import services as flow_services
    from loandesk.flows.models import FlowDefinition
    from loandesk.forms import services as form_services
    from loandesk.forms.models import FormDefinition

    created = False
    if not FormDefinition.objects.filter(code=FORM_CODE).exists():
        form_services.create_form(
            actor=admin,
            code=FORM_CODE,
            name="核销申请",
            kind="generic",
            description="贷款核销申请(由贷款页的「申请核销」发起)",
            schema=WRITE_OFF_FORM,
        )
        form_services.publish(actor=admin, code=FORM_CODE)
        created = True
    flow = FlowDefinition.objects.filter(key=FLOW_KEY).first()
    if flow is None:
        flow_services.create_definition(
            actor=admin,
            key=FLOW_KEY,
            name="核销审批",
            form_code=FORM_CODE,
            description="风控审核 → 总经理审批 → 核销入账",
        )
        flow_services.save_draft(actor=admin, key=FLOW_KEY, definition=WRITE_OFF_FLOW)
        created = True
    if not FlowDefinition.objects.get(key=FLOW_KEY).versions.exists():
        flow_services.publish(actor=admin, key=FLOW_KEY)
        created = True
    return created


@transaction.atomic
def seed(context: dict[str, Any]) -> int:
    grant_demo_permissions()
    users: dict[str, User] = context.get("users", {})
    admin = users.get("admin") or User.objects.filter(is_superuser=True).first()
    if admin is None:
        return 0
    return int(ensure_write_off_flow(admin))
