"""Risk demo data: the "default" scorecard 默认个人贷款评分卡 and the risk role's grant.

The definition is a starting point for Chinese consumer lending; admins tune it in the app
(风险评分卡). Seeding only creates it when missing, so an admin's edits survive a re-seed.
"""

from typing import Any

from django.db import transaction

from loandesk.accounts.models import Role, User
from loandesk.risk.models import Scorecard
from loandesk.risk.permissions import DEMO_ROLE_GRANTS


def _band(
    low: str | None, high: str | None, points: int, reason: str, reason_en: str
) -> dict[str, Any]:
    return {"min": low, "max": high, "points": points, "reason": reason, "reason_en": reason_en}


DEFAULT_SCORECARD: dict[str, Any] = {
    "base_score": 600,
    "rules": [
        {
            "code": "age",
            "label": "年龄",
            "label_en": "Age",
            "factor": "age",
            "bands": [
                {**_band(None, "18", 0, "未满 18 周岁", "Under 18"), "force": "reject"},
                _band("18", "23", -30, "年龄偏小,收入稳定性不足", "Young, income not yet stable"),
                _band("23", "36", 20, "青壮年,收入上升期", "Young adult, rising income"),
                _band("36", "51", 40, "年龄适中,收入稳定", "Prime age, stable income"),
                _band("51", "61", 0, "临近退休", "Close to retirement"),
                {
                    **_band("61", None, -60, "超过 60 周岁", "Over 60"),
                    "force": "review",
                },
            ],
            "missing": {
                "points": -20,
                "reason": "无法确定年龄(缺少出生日期)",
                "reason_en": "Age unknown (no birth date)",
                "force": "review",
            },
        },
        {
            "code": "debt_to_income",
            "label": "月供收入比",
            "label_en": "Debt-to-income ratio",
            "factor": "debt_to_income",
            "bands": [
                _band(None, "30", 60, "月供低于家庭月收入的 30%", "Payment below 30% of income"),
                _band("30", "50", 20, "月供占家庭月收入 30%–50%", "Payment 30-50% of income"),
                _band("50", "70", -60, "月供负担较重", "Heavy payment burden"),
                {
                    **_band("70", None, -150, "月供超过家庭月收入的 70%", "Payment over 70%"),
                    "force": "review",
                },
            ],
            "missing": {
                "points": -40,
                "reason": "缺少收入或月供数据",
                "reason_en": "Income or payment missing",
                "force": "review",
            },
        },
        {
            "code": "amount_income",
            "label": "贷款金额/家庭年收入",
            "label_en": "Amount to annual income",
            "factor": "amount_to_annual_income",
            "bands": [
                _band(None, "1", 30, "金额不超过家庭年收入", "Amount within a year's income"),
                _band("1", "3", 0, "金额为家庭年收入的 1–3 倍", "1-3 years of income"),
                _band("3", "5", -40, "金额偏高", "High amount for the income"),
                _band("5", None, -100, "金额远超收入水平", "Amount far above the income"),
            ],
            "missing": {"points": -20, "reason": "缺少收入数据", "reason_en": "Income missing"},
        },
        {
            "code": "credit_level",
            "label": "信用等级",
            "label_en": "Credit level",
            "factor": "credit_level",
            "bands": [
                {"values": ["A"], "points": 80, "reason": "信用优良", "reason_en": "Excellent"},
                {"values": ["B"], "points": 40, "reason": "信用良好", "reason_en": "Good"},
                {"values": ["none"], "points": 0, "reason": "未评级", "reason_en": "Not rated"},
                {"values": ["C"], "points": -40, "reason": "信用一般", "reason_en": "Fair"},
                {
                    "values": ["watch"],
                    "points": -80,
                    "reason": "关注客户",
                    "reason_en": "On the watch list",
                    "force": "review",
                },
                {
                    "values": ["blacklist"],
                    "points": -200,
                    "reason": "黑名单客户",
                    "reason_en": "Blacklisted",
                    "force": "reject",
                },
            ],
        },
        {
            "code": "blacklist",
            "label": "黑名单",
            "label_en": "Blacklist",
            "factor": "blacklisted",
            "bands": [
                {"values": ["no"], "points": 0, "reason": "未命中黑名单", "reason_en": "No hit"},
                {
                    "values": ["yes"],
                    "points": -300,
                    "reason": "命中黑名单",
                    "reason_en": "Blacklist hit",
                    "force": "reject",
                },
            ],
        },
        {
            "code": "applications_30d",
            "label": "近 30 天申请次数",
            "label_en": "Applications in 30 days",
            "factor": "applications_30d",
            "bands": [
                _band("0", "1", 0, "近 30 天无其他申请", "No other application"),
                _band("1", "3", -20, "近 30 天有其他申请", "Other recent applications"),
                {
                    **_band("3", None, -80, "近 30 天申请频繁(多头借贷嫌疑)", "Many applications"),
                    "force": "review",
                },
            ],
        },
        {
            "code": "outstanding",
            "label": "在贷余额",
            "label_en": "Outstanding loans",
            "factor": "existing_loans_outstanding",
            "bands": [
                _band("0", "0.01", 20, "无在贷余额", "No outstanding loan"),
                _band("0.01", "200000", 0, "在贷余额 20 万元以内", "Up to 200,000 yuan"),
                _band("200000", None, -50, "在贷余额较高", "High outstanding balance"),
            ],
        },
    ],
    "grades": [
        {"grade": "A", "min": 700, "decision": "approve"},
        {"grade": "B", "min": 620, "decision": "approve"},
        {"grade": "C", "min": 540, "decision": "review"},
        {"grade": "D", "min": None, "decision": "reject"},
    ],
}

DEFAULT_CODE = "default"
DEFAULT_NAME = "默认个人贷款评分卡"
DEFAULT_DESCRIPTION = "个人消费贷款的默认评分卡:年龄、负债、收入、信用等级、黑名单与多头借贷"


def grant_demo_permissions() -> None:
    for code, perms in DEMO_ROLE_GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None and set(perms) - set(role.permissions):
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])


@transaction.atomic
def seed(context: dict[str, Any]) -> int:
    """Idempotent: the scorecard is created only when its code is missing."""
    grant_demo_permissions()
    if Scorecard.objects.filter(code=DEFAULT_CODE).exists():
        return 0
    users: dict[str, User] = context.get("users", {})
    admin = users.get("admin") or User.objects.filter(is_superuser=True).first()
    Scorecard.objects.create(
        code=DEFAULT_CODE,
        name=DEFAULT_NAME,
        description=DEFAULT_DESCRIPTION,
        definition=DEFAULT_SCORECARD,
        created_by=admin,
        updated_by=admin,
    )
    return 1
