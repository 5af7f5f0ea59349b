from loandesk.accounts.permissions import register_permissions

MANAGE_SCORECARDS = "risk.manage_scorecards"

register_permissions(
    ("风险", "Risk"),
    {MANAGE_SCORECARDS: ("管理风险评分卡", "Manage risk scorecards")},
)

# Demo role → risk permissions (the admin role holds every code anyway).
DEMO_ROLE_GRANTS: dict[str, list[str]] = {"risk": [MANAGE_SCORECARDS]}
