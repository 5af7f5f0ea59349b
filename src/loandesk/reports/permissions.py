"""Report permissions: viewing dashboards and designing them (metrics, charts, sharing)."""

from loandesk.accounts.permissions import register_permissions

VIEW = "reports.view"
DESIGN = "reports.design"

register_permissions(
    ("数据看板", "Dashboards"),
    {
        VIEW: ("查看数据看板", "View dashboards"),
        DESIGN: ("设计看板与自定义指标", "Design dashboards and custom metrics"),
    },
)

# Demo role → report permissions (the admin role holds every code anyway).
DEMO_ROLE_GRANTS: dict[str, list[str]] = {
    role: [VIEW] for role in ("gm", "manager", "risk", "finance", "officer", "collector")
}
