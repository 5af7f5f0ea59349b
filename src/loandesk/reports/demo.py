"""Reports demo data: the demo roles' report permissions and the four shipped dashboards
(经营驾驶舱, 风险看板, 催收看板, 我的业绩). Idempotent: dashboards are matched by code and never
overwritten once they exist (an admin may have edited them)."""

from typing import Any

from django.db import transaction

from loandesk.accounts.models import Role
from loandesk.reports.metrics import METRICS
from loandesk.reports.models import Dashboard
from loandesk.reports.permissions import DEMO_ROLE_GRANTS


def _kpi(
    wid: str, metric: str, x: int, y: int, *, trend: bool = True, **query: Any
) -> dict[str, Any]:
    q: dict[str, Any] = {"metrics": [metric], "period": {"preset": "last_30_days"}}
    if trend:
        q |= {"dimension": "time", "grain": "day", "compare": True}
    q |= query
    return {"id": wid, "title": "", "chart": "kpi", "query": q, "x": x, "y": y, "w": 3, "h": 2}


def _chart(
    wid: str, title: str, chart: str, x: int, y: int, w: int = 6, h: int = 4, **query: Any
) -> dict[str, Any]:
    return {
        "id": wid,
        "title": title,
        "chart": chart,
        "query": query,
        "x": x,
        "y": y,
        "w": w,
        "h": h,
    }


_YEAR = {"preset": "last_12_months"}

# Vintage and roll rate on the risk dashboard; migration 0002 adds the same widgets (by id) to a
# risk dashboard seeded before they existed.
ANALYSIS_WIDGETS: tuple[dict[str, Any], ...] = (
    _chart("v1", "账龄分析 Vintage(M1+ / M3+)", "vintage", 0, 14, 12, 5, period=_YEAR),
    _chart("v2", "迁徙率矩阵", "roll_rate", 0, 19, 12, 5, period=_YEAR),
)

MANAGEMENT = [
    _kpi("k1", "new_customers", 0, 0),
    _kpi("k2", "applications", 3, 0),
    _kpi("k3", "approval_rate", 6, 0, grain="week"),
    _kpi("k4", "approval_hours_median", 9, 0, grain="week"),
    _kpi("k5", "disbursement_count", 0, 2),
    _kpi("k6", "disbursement_amount", 3, 2),
    _kpi("k7", "outstanding_principal", 6, 2, trend=False),
    _kpi("k8", "overdue_rate", 9, 2, trend=False),
    _kpi("k9", "par30", 0, 4, trend=False),
    _kpi("k10", "on_time_rate", 3, 4, grain="week"),
    _chart(
        "c1",
        "贷款余额 · 按组织",
        "bar",
        0,
        6,
        metrics=["outstanding_principal"],
        dimension="org",
    ),
    _chart(
        "c2",
        "放款趋势",
        "bar_line",
        6,
        6,
        metrics=["disbursement_amount", "disbursement_count"],
        dimension="time",
        grain="month",
        period=_YEAR,
    ),
    _chart(
        "c3",
        "转化漏斗",
        "funnel",
        0,
        10,
        metrics=["new_customers", "applications", "approvals_approved", "disbursement_count"],
        period=_YEAR,
    ),
    _chart(
        "c4",
        "产品结构",
        "donut",
        6,
        10,
        metrics=["outstanding_principal"],
        dimension="product",
    ),
    _chart(
        "c5",
        "客户经理排行",
        "ranking",
        0,
        14,
        metrics=["disbursement_amount"],
        dimension="officer",
        period=_YEAR,
        limit=10,
    ),
    _chart(
        "c6",
        "客户地区分布",
        "map",
        6,
        14,
        metrics=["new_customers"],
        dimension="region",
        period=_YEAR,
    ),
]

RISK = [
    _kpi("k1", "overdue_principal", 0, 0, trend=False),
    _kpi("k2", "overdue_rate", 3, 0, trend=False),
    _kpi("k3", "par30", 6, 0, trend=False),
    _kpi("k4", "par90", 9, 0, trend=False),
    _chart(
        "c1",
        "逾期余额 · 按分档",
        "bar",
        0,
        2,
        metrics=["overdue_principal"],
        dimension="bucket",
    ),
    _chart(
        "c2",
        "产品 × 分档 余额",
        "stacked_bar",
        6,
        2,
        metrics=["outstanding_principal"],
        dimension="product",
        series="bucket",
    ),
    _chart(
        "c3",
        "逾期率 · 按组织",
        "hbar",
        0,
        6,
        metrics=["overdue_rate"],
        dimension="org",
    ),
    _chart(
        "c4",
        "五级分类",
        "rose",
        6,
        6,
        metrics=["outstanding_principal"],
        dimension="classification",
    ),
    _chart(
        "c5",
        "逾期率趋势(日终快照)",
        "line",
        0,
        10,
        metrics=["snapshot_overdue_rate"],
        dimension="time",
        grain="week",
        period={"preset": "last_12_months"},
    ),
    _chart("c6", "PAR30", "gauge", 6, 10, metrics=["par30"]),
    *[dict(w) for w in ANALYSIS_WIDGETS],
]

COLLECTIONS = [
    _kpi("k1", "overdue_loans", 0, 0, trend=False),
    _kpi("k2", "overdue_principal", 3, 0, trend=False),
    _kpi("k3", "on_time_rate", 6, 0, grain="week"),
    _kpi("k4", "due_installments", 9, 0),
    _chart(
        "c1",
        "逾期笔数 · 按分档",
        "funnel",
        0,
        2,
        metrics=["overdue_loans"],
        dimension="bucket",
    ),
    _chart(
        "c2",
        "逾期余额 · 客户经理",
        "ranking",
        6,
        2,
        metrics=["overdue_principal"],
        dimension="officer",
        limit=10,
    ),
    _chart(
        "c3",
        "到期日历",
        "calendar",
        0,
        6,
        w=12,
        metrics=["due_installments"],
        dimension="time",
        grain="day",
        period={"preset": "last_12_months"},
    ),
    _chart(
        "c4",
        "按时还款率 · 按产品",
        "bar",
        0,
        10,
        metrics=["on_time_rate"],
        dimension="product",
        period=_YEAR,
    ),
    _chart(
        "c5",
        "逾期余额 · 按组织",
        "treemap",
        6,
        10,
        metrics=["overdue_principal"],
        dimension="org",
    ),
]

# Collection metrics exist when the collections app does (see metrics._register_collection_...).
if "collection_recovery_rate" in METRICS:
    COLLECTIONS += [
        _kpi("k5", "collection_recovery_rate", 0, 14, trend=False, period=_YEAR),
        _kpi("k6", "ptp_kept_rate", 3, 14, trend=False, period=_YEAR),
        _kpi("k7", "collection_cases", 6, 14, grain="week"),
        _kpi("k8", "repayment_amount", 9, 14),
        _chart(
            "c6",
            "催收回收率 · 催收员",
            "ranking",
            0,
            16,
            metrics=["collection_recovery_rate"],
            dimension="officer",
            period=_YEAR,
        ),
        _chart(
            "c7",
            "回款趋势",
            "line",
            6,
            16,
            metrics=["repayment_amount"],
            dimension="time",
            grain="month",
            period=_YEAR,
        ),
    ]

MINE = [
    _kpi("k1", "new_customers", 0, 0),
    _kpi("k2", "disbursement_amount", 3, 0),
    _kpi("k3", "outstanding_principal", 6, 0, trend=False),
    _kpi("k4", "overdue_rate", 9, 0, trend=False),
    _chart(
        "c1",
        "我的放款",
        "area",
        0,
        2,
        metrics=["disbursement_amount"],
        dimension="time",
        grain="month",
        period=_YEAR,
    ),
    _chart(
        "c2",
        "我的在贷 · 按产品",
        "pie",
        6,
        2,
        metrics=["outstanding_principal"],
        dimension="product",
    ),
    _chart(
        "c3",
        "我的客户来源",
        "rose",
        0,
        6,
        metrics=["new_customers"],
        dimension="channel",
        period=_YEAR,
    ),
    _chart(
        "c4",
        "按时还款率",
        "gauge",
        6,
        6,
        metrics=["on_time_rate"],
        period=_YEAR,
    ),
]

DASHBOARDS: list[dict[str, Any]] = [
    {
        "code": "management",
        "name": "经营驾驶舱",
        "name_en": "Management cockpit",
        "description": "经营全貌:客户、申请、审批、放款、余额与风险",
        "widgets": MANAGEMENT,
        "refresh_seconds": 300,
        "sort": 10,
        "roles": ["admin", "gm", "manager"],
    },
    {
        "code": "risk",
        "name": "风险看板",
        "name_en": "Risk",
        "description": "逾期、PAR、五级分类与趋势",
        "widgets": RISK,
        "refresh_seconds": 300,
        "sort": 20,
        "roles": ["admin", "gm", "manager", "risk"],
    },
    {
        "code": "collections",
        "name": "催收看板",
        "name_en": "Collections",
        "description": "逾期分档、到期与还款表现",
        "widgets": COLLECTIONS,
        "refresh_seconds": 300,
        "sort": 30,
        "roles": ["admin", "gm", "risk", "collector"],
    },
    {
        "code": "mine",
        "name": "我的业绩",
        "name_en": "My performance",
        "description": "本人的客户、放款、在贷与逾期",
        "widgets": MINE,
        "refresh_seconds": 0,
        "sort": 40,
        "roles": ["admin", "manager", "officer"],
    },
]


def _grant() -> None:
    for code, perms in DEMO_ROLE_GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None and set(perms) - set(role.permissions):
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])


@transaction.atomic
def seed(context: dict[str, Any]) -> int:
    _grant()
    created = 0
    for spec in DASHBOARDS:
        if Dashboard.objects.filter(code=spec["code"]).exists():
            continue
        dashboard = Dashboard.objects.create(
            code=spec["code"],
            name=spec["name"],
            name_en=spec["name_en"],
            description=spec["description"],
            widgets=spec["widgets"],
            refresh_seconds=spec["refresh_seconds"],
            sort=spec["sort"],
            is_system=True,
        )
        dashboard.shared_with.set(Role.objects.filter(code__in=spec["roles"]))
        created += 1
    return created
