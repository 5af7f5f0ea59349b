from loandesk.accounts.permissions import register_permissions

register_permissions(
    ("贷款", "Lending"),
    {
        "lending.manage_calendar": ("维护节假日日历", "Maintain the holiday calendar"),
        "lending.manage_products": ("管理贷款产品", "Manage loan products"),
        "lending.disburse": ("放款", "Disburse loans"),
        "lending.view_loans": ("查看贷款(按数据范围)", "View loans (within the data scope)"),
        "lending.post_repayment": (
            "登记还款与提前还款",
            "Post repayments and prepayments",
        ),
        "lending.reverse_repayment": ("红冲还款", "Reverse repayments (红冲)"),
    },
)

# Demo role → lending permissions (the admin role holds every code anyway). Finance also needs
# customers.view: a disbursement looks the customer up through the scoped customer selector.
DEMO_ROLE_GRANTS: dict[str, list[str]] = {
    "finance": [
        "lending.disburse",
        "lending.view_loans",
        "customers.view",
        "lending.post_repayment",
        "lending.reverse_repayment",
    ],
    "gm": ["lending.view_loans"],
    "risk": ["lending.view_loans"],
    "manager": ["lending.view_loans"],
    "officer": ["lending.view_loans"],
    "collector": ["lending.view_loans"],
}

register_permissions(
    ("合同", "Contracts"),
    {
        "contracts.manage_templates": (
            "管理合同模板(编辑、预览)",
            "Manage contract templates (edit, preview)",
        ),
    },
)
# Contract templates are an admin task: the demo admin role holds every code, no other role
# gets `contracts.manage_templates`. Generated contracts are customer documents, read with
# `customers.view` within the data scope.
