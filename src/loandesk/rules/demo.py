"""Shipped rules, enabled: a lender wants reminders and overdue handling from day one.

1. 还款提醒 — installments, 3 days before the due date at 09:00: SMS to the customer.
2. 逾期首日 — on loan.became_overdue: the customer's credit level → 关注, a collection case
   for the loan's owner, and a firmer SMS.
3. 逾期 30 天升级 — when a loan's bucket changes to M2 (DPD 31+): escalate its collection case.

Idempotent (rules are found by `code`). Actions of apps still being built are stored as
written; until the app registers them a firing fails with "unknown action", and the admin can
retry it later.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from loandesk.accounts.models import Role, User
from loandesk.rules import registry
from loandesk.rules.models import Rule
from loandesk.rules.permissions import DEMO_ROLE_GRANTS


def _fit(action: str, wanted: dict[str, Any]) -> dict[str, Any]:
    """Params as the registered action declares them: unknown keys dropped, defaults kept."""
    try:
        spec = registry.get_action(action)
    except registry.UnknownAction:
        return wanted
    out = {p.key: wanted[p.key] for p in spec.params if p.key in wanted}
    for p in spec.params:
        if p.key not in out and p.default is not None:
            out[p.key] = p.default
    return out


def _sms(template: str, text: str) -> dict[str, Any]:
    return {
        "action": "send_message",
        "params": _fit(
            "send_message",
            {
                "channel": "sms",
                "recipient": "customer",
                "to": "customer",
                "template": template,
                "text": text,
            },
        ),
    }


SHIPPED: list[dict[str, Any]] = [
    {
        "code": "repayment_reminder",
        "name": "还款提醒(到期前 3 天)",
        "description": "到期日前 3 天 09:00 给客户发还款提醒短信(未还清的期次)",
        "record_type": "installment",
        "trigger_type": "date",
        "trigger": {"field": "due_date", "days": -3, "at": "09:00"},
        "condition": {
            "and": [
                {"in": [{"var": "status"}, ["pending", "due"]]},
                {">": [{"var": "amount_owed"}, 0]},
            ]
        },
        "actions": lambda: [_sms("repayment_reminder", "您的贷款即将到期,请按时还款。")],
    },
    {
        "code": "overdue_day_1",
        "name": "逾期首日处置",
        "description": "贷款转逾期当天:客户信用等级改为关注、为客户经理开催收案件、发逾期提醒短信",
        "record_type": "loan",
        "trigger_type": "event",
        "trigger": {"kind": "event", "topic": "loan.became_overdue"},
        "condition": None,
        "actions": lambda: [
            {
                "action": "update_fields",
                "params": {"target": "customer", "fields": {"credit_level": "watch"}},
            },
            {
                "action": "open_collection_case",
                "params": _fit("open_collection_case", {"assign_to": "owner"}),
            },
            _sms("overdue_notice", "您的贷款已逾期,请尽快还款,以免影响您的信用。"),
        ],
    },
    {
        "code": "dpd30_escalation",
        "name": "逾期 30 天升级催收",
        "description": "逾期分档变为 M2(逾期超过 30 天)时升级催收案件",
        "record_type": "loan",
        "trigger_type": "event",
        "trigger": {"kind": "field_changed", "field": "bucket", "to": "M2"},
        "condition": None,
        "actions": lambda: [{"action": "escalate_collection_case", "params": {}}],
    },
]


@transaction.atomic
def seed(context: dict[str, Any]) -> int:
    """Create the shipped rules that do not exist yet (never overwrites an admin's edits)."""
    changed = 0
    for code, perms in DEMO_ROLE_GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None and set(perms) - set(role.permissions):
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])
            changed += 1
    admin = context.get("users", {}).get("admin") or User.objects.filter(is_superuser=True).first()
    if admin is None:
        return changed
    existing = set(Rule.objects.filter(code__isnull=False).values_list("code", flat=True))
    now = timezone.now()
    for item in SHIPPED:
        if item["code"] in existing:
            continue
        Rule.objects.create(
            code=item["code"],
            name=item["name"],
            description=item["description"],
            enabled=True,
            record_type=item["record_type"],
            trigger_type=item["trigger_type"],
            trigger=item["trigger"],
            condition=item["condition"],
            actions=item["actions"](),
            watermark=now,
            run_as=admin,
            created_by=admin,
            updated_by=admin,
        )
        changed += 1
    return changed
