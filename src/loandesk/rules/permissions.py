from loandesk.accounts.permissions import register_permissions

DESIGN = "rules.design"

register_permissions(
    ("规则引擎", "Rules"),
    {DESIGN: ("设计规则、查看与重试执行记录", "Design rules, see and retry their firings")},
)

# Demo role → rule permissions (the admin is a superuser and holds every code anyway).
DEMO_ROLE_GRANTS: dict[str, list[str]] = {}
