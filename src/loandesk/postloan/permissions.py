from loandesk.accounts.permissions import register_permissions

RUN_COB = "postloan.run_cob"
MANAGE_SETTINGS = "postloan.manage_settings"

register_permissions(
    ("贷后", "Post-loan"),
    {
        RUN_COB: ("运行日终批处理", "Run close of business"),
        MANAGE_SETTINGS: (
            "维护逾期分档与五级分类",
            "Maintain delinquency buckets and the five-category thresholds",
        ),
    },
)

# Demo role → post-loan permissions (the admin role holds every code anyway).
DEMO_ROLE_GRANTS: dict[str, list[str]] = {"finance": [RUN_COB]}
