"""Customer-center permission codes, and what the demo roles get."""

from loandesk.accounts.permissions import register_permissions

register_permissions(
    ("客户", "Customers"),
    {
        "customers.view": ("查看客户", "View customers"),
        "customers.create": ("新建客户", "Create customers"),
        "customers.update": (
            "编辑客户(含跟进、资料、银行卡)",
            "Edit customers (incl. follow-ups, documents, bank cards)",
        ),
        "customers.delete": ("归档/恢复客户", "Archive and restore customers"),
        "customers.view_pii": (
            "查看敏感信息明文(身份证、手机、银行卡)",
            "See personal data unmasked (ID, phone, bank card)",
        ),
        "customers.merge": ("合并重复客户", "Merge duplicate customers"),
        "customers.import": ("Excel 导入客户", "Import customers from Excel"),
        "customers.export": ("导出客户", "Export customers"),
        "customers.manage_tags": ("管理客户标签", "Manage customer tags"),
    },
)

# Demo role → customer permissions (the admin role holds every code anyway).
DEMO_ROLE_GRANTS: dict[str, list[str]] = {
    "officer": ["customers.view", "customers.create", "customers.update", "customers.import"],
    "manager": [
        "customers.view",
        "customers.create",
        "customers.update",
        "customers.export",
        "customers.view_pii",
        "customers.manage_tags",
    ],
    "risk": ["customers.view", "customers.view_pii"],
    "gm": ["customers.view", "customers.export"],
    "collector": ["customers.view"],
}
