from loandesk.accounts.permissions import register_permissions

RUN_COB = "postloan.run_cob"
MANAGE_SETTINGS = "postloan.manage_settings"
COLLECTIONS_WORK = "collections.work"
COLLECTIONS_MANAGE = "collections.manage"

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
register_permissions(
    ("催收", "Collections"),
    {
        COLLECTIONS_WORK: (
            "催收作业(本人的催收案件)",
            "Work collection cases (own cases)",
        ),
        COLLECTIONS_MANAGE: (
            "催收管理(团队、分配、改派、数据范围内全部案件)",
            "Manage collections (teams, assignment, reassigning, all cases in scope)",
        ),
    },
)

# Demo role → post-loan permissions (the admin role holds every code anyway). A collector sees
# the customer of a case through the case itself (collections.work), so customers.view (granted
# by the customers app) is not widened.
DEMO_ROLE_GRANTS: dict[str, list[str]] = {
    "finance": [RUN_COB],
    "collector": [COLLECTIONS_WORK],
    "manager": [COLLECTIONS_MANAGE, COLLECTIONS_WORK],  # works M2 cases in the demo too
    "gm": [COLLECTIONS_MANAGE],
}
