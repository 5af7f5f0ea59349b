"""Permission codes of the finance back office."""

from loandesk.accounts.permissions import register_permissions

MANAGE = "accounting.manage"
EXPORT = "accounting.export"
IMPORT_STATEMENTS = "accounting.import_statements"
REQUEST_WRITE_OFF = "lending.request_write_off"

register_permissions(
    ("财务", "Accounting"),
    {
        MANAGE: ("维护会计科目与记账规则", "Maintain the chart of accounts and the posting map"),
        EXPORT: ("查看凭证并导出(金蝶/用友)", "View and export vouchers (Kingdee / Yonyou)"),
        IMPORT_STATEMENTS: ("导入银行流水并入账", "Import bank statements and post them"),
        REQUEST_WRITE_OFF: ("发起贷款核销", "Request a loan write-off"),
    },
)

# Demo role → accounting permissions (the admin role holds every code anyway).
DEMO_ROLE_GRANTS: dict[str, list[str]] = {
    "finance": [MANAGE, EXPORT, IMPORT_STATEMENTS, REQUEST_WRITE_OFF],
    "manager": [REQUEST_WRITE_OFF],
}
