"""The default chart of accounts and posting map (a Chinese small lender's usual set)."""

from typing import Any

from django.db import migrations

# Copied here on purpose: a migration must not change when the code's defaults change later.
CHART = [
    ("1001", "库存现金", "Cash on hand", "asset", None),
    ("1002", "银行存款", "Bank deposits", "asset", None),
    ("1132", "应收利息", "Interest receivable", "asset", None),
    ("1221", "其他应收款", "Other receivables", "asset", None),
    ("1303", "贷款", "Loans", "asset", None),
    ("130301", "贷款—本金", "Loans — principal", "asset", "1303"),
    ("1304", "贷款损失准备", "Loan loss provision", "asset", None),
    ("2221", "应交税费", "Taxes payable", "liability", None),
    ("2241", "其他应付款", "Other payables", "liability", None),
    ("224101", "其他应付款—溢缴款", "Other payables — overpayments", "liability", "2241"),
    ("4001", "实收资本", "Paid-in capital", "equity", None),
    ("4103", "本年利润", "Profit for the year", "equity", None),
    ("6011", "利息收入", "Interest income", "income", None),
    ("6021", "手续费及佣金收入", "Fee and commission income", "income", None),
    ("6051", "其他业务收入", "Other operating income", "income", None),
    ("605101", "其他业务收入—罚息", "Other operating income — penalty interest", "income", "6051"),
    ("6602", "管理费用", "Administrative expenses", "expense", None),
    ("6701", "资产减值损失", "Impairment losses", "expense", None),
]
RULES = {
    "disbursement.principal": ("130301", "1002"),
    "disbursement.fee": ("1002", "6021"),
    "repayment.principal": ("1002", "130301"),
    "repayment.interest": ("1002", "6011"),
    "repayment.fee": ("1002", "6021"),
    "repayment.penalty": ("1002", "605101"),
    "repayment.credit": ("1002", "224101"),
    "write_off.principal": ("1304", "130301"),
}


def seed(apps: Any, schema_editor: Any) -> None:
    Account = apps.get_model("accounting", "Account")
    PostingRule = apps.get_model("accounting", "PostingRule")
    by_code: dict[str, Any] = {}
    for code, name, name_en, type_, parent in CHART:
        account, _ = Account.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "type": type_,
                "parent": by_code.get(parent) if parent else None,
            },
        )
        by_code[code] = account
    for component, (debit, credit) in RULES.items():
        PostingRule.objects.get_or_create(
            component=component,
            defaults={"debit_account": by_code[debit], "credit_account": by_code[credit]},
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("accounting", "PostingRule").objects.filter(component__in=RULES).delete()
    Account = apps.get_model("accounting", "Account")
    codes = [c[0] for c in CHART]
    Account.objects.filter(code__in=codes, parent__isnull=False).delete()
    Account.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("accounting", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
