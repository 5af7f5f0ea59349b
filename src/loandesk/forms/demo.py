"""Demo data of the form engine: role grants, the two published demo forms (客户档案, 贷款申请)
and one shared application link of officer1. Idempotent."""

from typing import Any

from loandesk.accounts.models import Role, User
from loandesk.forms import services
from loandesk.forms.models import FormDefinition, PublicLink
from loandesk.forms.permissions import EXPORT, MANAGE_LINKS, SUBMIT, VIEW_PII, VIEW_RECORDS

# Demo role → form permissions (the admin role holds every code anyway; designing is admin-only).
DEMO_ROLE_GRANTS: dict[str, list[str]] = {
    "gm": [VIEW_RECORDS, EXPORT, VIEW_PII],
    "manager": [VIEW_RECORDS, SUBMIT, MANAGE_LINKS, EXPORT, VIEW_PII],
    "risk": [VIEW_RECORDS, SUBMIT, EXPORT, VIEW_PII],
    "finance": [VIEW_RECORDS],
    "officer": [VIEW_RECORDS, SUBMIT, MANAGE_LINKS],
}

_NO_CUSTOMER = {"!": {"var": "customer"}}
# Filled by finance at the 财务放款 step: everyone else reads them.
_FINANCE_ONLY = {"finance": "editable", "*": "readonly"}

CUSTOMER_PROFILE: dict[str, Any] = {
    "fields": [
        {
            "key": "housing",
            "type": "select",
            "label": "住房情况",
            "label_en": "Housing",
            "options": [
                {"value": "own", "label": "自有住房", "label_en": "Owned"},
                {"value": "mortgage", "label": "按揭购房", "label_en": "Mortgaged"},
                {"value": "rent", "label": "租房", "label_en": "Rented"},
                {"value": "family", "label": "与父母同住", "label_en": "With parents"},
                {"value": "other", "label": "其他", "label_en": "Other"},
            ],
            "indexed": True,
        },
        {
            "key": "work_years",
            "type": "number",
            "label": "工作年限",
            "label_en": "Years in work",
            "settings": {"precision": 0, "unit": "年"},
            "validation": {"min": 0, "max": 60},
        },
        {
            "key": "employer",
            "type": "text",
            "label": "工作单位",
            "label_en": "Employer",
            "validation": {"max_length": 100},
        },
        {
            "key": "social_insurance",
            "type": "switch",
            "label": "社保缴纳",
            "label_en": "Pays social insurance",
        },
        {
            "key": "emergency_contacts",
            "type": "subtable",
            "label": "紧急联系人",
            "label_en": "Emergency contacts",
            "validation": {"max_rows": 5},
            "children": [
                {
                    "key": "name",
                    "type": "text",
                    "label": "姓名",
                    "label_en": "Name",
                    "required": True,
                },
                {
                    "key": "relation",
                    "type": "select",
                    "label": "关系",
                    "label_en": "Relation",
                    "required": True,
                    "options": [
                        {"value": "spouse", "label": "配偶", "label_en": "Spouse"},
                        {"value": "parent", "label": "父母", "label_en": "Parent"},
                        {"value": "child", "label": "子女", "label_en": "Child"},
                        {"value": "sibling", "label": "兄弟姐妹", "label_en": "Sibling"},
                        {"value": "friend", "label": "朋友", "label_en": "Friend"},
                        {"value": "colleague", "label": "同事", "label_en": "Colleague"},
                    ],
                },
                {
                    "key": "phone",
                    "type": "phone",
                    "label": "手机号",
                    "label_en": "Mobile",
                    "required": True,
                },
            ],
        },
    ],
    "list_columns": ["housing", "work_years", "social_insurance"],
}

LOAN_APPLICATION: dict[str, Any] = {
    "fields": [
        {"key": "basic", "type": "section", "label": "申请人", "label_en": "Applicant"},
        {
            "key": "application_no",
            "type": "serial",
            "label": "申请编号",
            "label_en": "Application number",
            "settings": {"pattern": "SQ{yyyyMMdd}{0000}"},
        },
        {
            "key": "customer",
            "type": "relation",
            "label": "客户",
            "label_en": "Customer",
            "settings": {"target": "customer"},
            "internal": True,
            "indexed": True,
            "help": "选择已有客户;新客户请填写下面的姓名、身份证号和手机号",
        },
        {
            "key": "applicant_name",
            "type": "text",
            "label": "申请人姓名",
            "label_en": "Applicant name",
            "required": True,
            "validation": {"max_length": 50},
            "visible_when": _NO_CUSTOMER,
        },
        {
            "key": "applicant_id_number",
            "type": "id_number",
            "label": "身份证号",
            "label_en": "Resident ID number",
            "required": True,
            "visible_when": _NO_CUSTOMER,
        },
        {
            "key": "applicant_phone",
            "type": "phone",
            "label": "手机号",
            "label_en": "Mobile number",
            "required": True,
            "visible_when": _NO_CUSTOMER,
        },
        {
            "key": "customer_name",
            "type": "lookup",
            "label": "客户姓名",
            "label_en": "Customer name",
            "settings": {"relation": "customer", "field": "name"},
            "indexed": True,
        },
        {"key": "loan", "type": "section", "label": "贷款信息", "label_en": "Loan"},
        {
            "key": "product",
            "type": "select",
            "label": "产品",
            "label_en": "Product",
            "required": True,
            "indexed": True,
            "options": [
                # Values are lending Product codes (lending.products.DEMO_PRODUCTS): the flow's
                # disbursement step books the loan on that product.
                {"value": "consumer", "label": "个人消费贷", "label_en": "Consumer loan"},
                {"value": "sme_operating", "label": "小微经营贷", "label_en": "SME operating loan"},
                {"value": "short_bridge", "label": "短期周转贷", "label_en": "Short bridge loan"},
            ],
        },
        {
            "key": "amount",
            "type": "money",
            "label": "申请金额",
            "label_en": "Amount",
            "required": True,
            "indexed": True,
            "validation": {"min": "1000", "max": "10000000"},
        },
        {
            "key": "amount_in_words",
            "type": "amount_capital",
            "label": "大写金额",
            "label_en": "Amount in words",
            "settings": {"source": "amount"},
        },
        {
            "key": "term",
            "type": "number",
            "label": "期限(月)",
            "label_en": "Term (months)",
            "required": True,
            "indexed": True,
            "settings": {"precision": 0, "unit": "个月"},
            "validation": {"min": 1, "max": 360},
        },
        {
            "key": "annual_rate",
            "type": "percent",
            "label": "年利率",
            "label_en": "Annual rate",
            "required": True,
            "default": "12",
            "validation": {"min": "0.01", "max": "36"},
        },
        {
            "key": "monthly_payment",
            "type": "formula",
            "label": "月供",
            "label_en": "Monthly payment",
            "formula": "ROUND(PMT(annual_rate / 12, term, -amount), 2)",
            "settings": {"result_type": "money"},
            "indexed": True,
        },
        {
            "key": "purpose",
            "type": "select",
            "label": "用途",
            "label_en": "Purpose",
            "required": True,
            "options": [
                {"value": "consumption", "label": "日常消费", "label_en": "Consumption"},
                {"value": "business", "label": "经营周转", "label_en": "Working capital"},
                {"value": "education", "label": "教育", "label_en": "Education"},
                {"value": "medical", "label": "医疗", "label_en": "Medical"},
                {"value": "decoration", "label": "装修", "label_en": "Home improvement"},
                {"value": "other", "label": "其他", "label_en": "Other"},
            ],
        },
        {
            "key": "guarantee",
            "type": "select",
            "label": "担保方式",
            "label_en": "Guarantee",
            "required": True,
            "help": "申请金额超过 50 万元时填写",
            "visible_when": {">": [{"var": "amount"}, 500000]},
            "options": [
                {"value": "guarantor", "label": "保证", "label_en": "Guarantor"},
                {"value": "collateral", "label": "抵押", "label_en": "Collateral"},
                {"value": "pledge", "label": "质押", "label_en": "Pledge"},
            ],
        },
        {"key": "income", "type": "section", "label": "收入情况", "label_en": "Income"},
        {
            "key": "applicant_income",
            "type": "money",
            "label": "申请人月收入",
            "label_en": "Applicant's monthly income",
            "required": True,
        },
        {
            "key": "co_borrowers",
            "type": "subtable",
            "label": "共同借款人",
            "label_en": "Co-borrowers",
            "validation": {"max_rows": 5},
            "children": [
                {
                    "key": "name",
                    "type": "text",
                    "label": "姓名",
                    "label_en": "Name",
                    "required": True,
                },
                {
                    "key": "id_number",
                    "type": "id_number",
                    "label": "身份证号",
                    "label_en": "Resident ID number",
                    "required": True,
                },
                {
                    "key": "monthly_income",
                    "type": "money",
                    "label": "月收入",
                    "label_en": "Monthly income",
                    "required": True,
                },
            ],
        },
        {
            "key": "household_income",
            "type": "formula",
            "label": "家庭月收入",
            "label_en": "Household monthly income",
            "formula": "applicant_income + SUM(co_borrowers.monthly_income)",
            "settings": {"result_type": "money"},
        },
        {
            "key": "debt_ratio",
            "type": "formula",
            "label": "月供收入比",
            "label_en": "Payment-to-income ratio",
            "formula": "IF(household_income > 0, monthly_payment / household_income, 0)",
            "settings": {"result_type": "percent", "precision": 2},
        },
        {
            "key": "income_proof",
            "type": "attachment",
            "label": "收入证明",
            "label_en": "Proof of income",
            "validation": {"max_count": 5},
        },
        {"key": "remark", "type": "textarea", "label": "备注", "label_en": "Remarks"},
        {
            "key": "disbursement",
            "type": "section",
            "label": "放款信息",
            "label_en": "Disbursement",
            "help": "财务放款时填写",
        },
        {
            "key": "disbursement_account_name",
            "type": "text",
            "label": "收款户名",
            "label_en": "Payee account name",
            "validation": {"max_length": 100},
            "permissions": _FINANCE_ONLY,
            "internal": True,
        },
        {
            "key": "disbursement_account_no",
            "type": "bank_card",
            "label": "收款账号",
            "label_en": "Payee account number",
            "permissions": _FINANCE_ONLY,
            "internal": True,
        },
        {
            "key": "disbursement_bank",
            "type": "text",
            "label": "开户行",
            "label_en": "Bank",
            "validation": {"max_length": 100},
            "permissions": _FINANCE_ONLY,
            "internal": True,
        },
        {
            "key": "disbursement_date",
            "type": "date",
            "label": "放款日期",
            "label_en": "Disbursement date",
            "permissions": _FINANCE_ONLY,
            "internal": True,
        },
        {
            "key": "risk_opinion",
            "type": "textarea",
            "label": "风控意见",
            "label_en": "Risk opinion",
            "permissions": {
                "risk": "editable",
                "manager": "readonly",
                "officer": "readonly",
                "*": "hidden",
            },
            "internal": True,
        },
    ],
    "list_columns": [
        "serial_no",
        "customer",
        "product",
        "amount",
        "term",
        "monthly_payment",
        "owner",
        "created_at",
    ],
    "customer_fields": {
        "relation": "customer",
        "name": "applicant_name",
        "id_number": "applicant_id_number",
        "phone": "applicant_phone",
    },
}

DEMO_FORMS = [
    ("customer_profile", "客户档案", "profile", "客户基本资料之外的扩展信息", CUSTOMER_PROFILE),
    ("loan_application", "贷款申请", "application", "个人贷款申请表", LOAN_APPLICATION),
]


def grant_demo_permissions() -> None:
    for code, perms in DEMO_ROLE_GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None and set(perms) - set(role.permissions):
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])


def seed(context: dict[str, Any]) -> int:
    grant_demo_permissions()
    users: dict[str, User] = context.get("users", {})
    admin = users.get("admin") or User.objects.filter(is_superuser=True).first()
    if admin is None:
        return 0
    created = 0
    for code, name, kind, description, schema in DEMO_FORMS:
        if FormDefinition.objects.filter(code=code).exists():
            continue
        services.create_form(
            actor=admin, code=code, name=name, kind=kind, description=description, schema=schema
        )
        services.publish(actor=admin, code=code)
        created += 1
    officer = users.get("officer1")
    form = FormDefinition.objects.filter(code="loan_application").first()
    shared = PublicLink.objects.filter(form=form, created_by=officer).exists()
    if officer is not None and form is not None and not shared:
        services.create_link(actor=officer, form_code="loan_application")
    return created
