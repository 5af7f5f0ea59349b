from loandesk.accounts.permissions import register_permissions

register_permissions(
    ("贷款", "Lending"),
    {
        "lending.manage_calendar": ("维护节假日日历", "Maintain the holiday calendar"),
    },
)
