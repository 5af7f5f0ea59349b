"""The permission catalogue. Apps register their codes here; roles hold lists of codes."""

from dataclasses import dataclass

from loandesk.core.i18n import EN, current_language


@dataclass(frozen=True)
class PermissionDef:
    code: str
    name_zh: str
    name_en: str
    group_zh: str
    group_en: str

    def name(self, lang: str | None = None) -> str:
        return self.name_en if (lang or current_language()) == EN else self.name_zh

    def group(self, lang: str | None = None) -> str:
        return self.group_en if (lang or current_language()) == EN else self.group_zh


CATALOG: dict[str, PermissionDef] = {}


def register_permissions(group: tuple[str, str], items: dict[str, tuple[str, str]]) -> None:
    for code, (zh, en) in items.items():
        CATALOG[code] = PermissionDef(code, zh, en, group[0], group[1])


register_permissions(
    ("组织与权限", "Organisation"),
    {
        "accounts.view_users": ("查看用户", "View users"),
        "accounts.manage_users": ("管理用户", "Manage users"),
        "accounts.manage_departments": ("管理部门", "Manage departments"),
        "accounts.manage_roles": ("管理角色", "Manage roles"),
    },
)
register_permissions(
    ("系统", "System"),
    {
        "audit.view": ("查看审计日志", "View the audit log"),
        "core.set_business_date": ("设置营业日", "Set the business date"),
        "core.view_outbox": ("查看事件与死信", "View events and dead letters"),
    },
)
