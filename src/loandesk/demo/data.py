"""The demo organisation: departments, roles and one user per role, with stable usernames."""

DEPARTMENTS: list[tuple[str, str | None]] = [
    # (name, parent name) in creation order
    ("总部", None),
    ("风控部", "总部"),
    ("财务部", "总部"),
    ("北京分公司", "总部"),
    ("北京一组", "北京分公司"),
    ("北京二组", "北京分公司"),
    ("上海分公司", "总部"),
    ("上海一组", "上海分公司"),
    ("上海二组", "上海分公司"),
]

_ORG_READ = ["accounts.view_users"]

ROLES: list[dict[str, object]] = [
    {
        "code": "admin",
        "name": "系统管理员",
        "data_scope": "all",
        "permissions": "*",
    },
    {
        "code": "gm",
        "name": "总经理",
        "data_scope": "all",
        "permissions": [*_ORG_READ, "audit.view"],
    },
    {
        "code": "manager",
        "name": "业务经理",
        "data_scope": "department_tree",
        "permissions": _ORG_READ,
    },
    {"code": "risk", "name": "风控专员", "data_scope": "all", "permissions": _ORG_READ},
    {"code": "finance", "name": "财务", "data_scope": "all", "permissions": _ORG_READ},
    {"code": "officer", "name": "客户经理", "data_scope": "self", "permissions": []},
    {"code": "collector", "name": "催收员", "data_scope": "self", "permissions": []},
]

# username, full name, role code, department, phone, heads department
USERS: list[tuple[str, str, str, str, str, str | None]] = [
    ("admin", "系统管理员", "admin", "总部", "13910000000", None),
    ("gm", "赵总", "gm", "总部", "13910000001", "总部"),
    ("manager", "李经理", "manager", "北京分公司", "13910000002", "北京分公司"),
    ("risk", "孙风控", "risk", "风控部", "13910000003", "风控部"),
    ("finance", "钱会计", "finance", "财务部", "13910000004", "财务部"),
    ("officer1", "王小明", "officer", "北京一组", "13910000005", None),
    ("officer2", "陈晓燕", "officer", "上海一组", "13910000006", None),
    ("collector", "周催收", "collector", "风控部", "13910000007", None),
]
