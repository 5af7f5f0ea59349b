"""Report writes: dashboards (create, edit, share, delete), custom metrics, channel costs.
Transactional, keyword-only, validated before anything is written; audited."""

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from loandesk.accounts.models import Role, User
from loandesk.accounts.scoping import require_perm
from loandesk.core import audit
from loandesk.core.errors import Conflict, NotFound, ValidationFailed
from loandesk.reports import query as q
from loandesk.reports.custom import clean_metric
from loandesk.reports.models import ChannelCost, CustomMetric, Dashboard
from loandesk.reports.permissions import DESIGN
from loandesk.reports.selectors import ANALYSIS_CHARTS, CHART_TYPES, dashboards_using

MAX_WIDGETS = 40
GRID_COLUMNS = 12
REFRESH_MIN, REFRESH_MAX = 30, 3600
MAX_COSTS = 200
MAX_COST = Decimal("1000000000")  # yuan per channel and month (10 亿): more is a typo
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_WIDGET_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def _int(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def clean_widgets(raw: Any) -> list[dict[str, Any]]:
    """Each widget: id, title, chart type, a valid chart query and a grid cell."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationFailed.field("widgets", "reports.bad_layout")
    if len(raw) > MAX_WIDGETS:
        raise ValidationFailed.field("widgets", "reports.too_many_widgets", max=MAX_WIDGETS)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        name = f"widgets[{i}]"
        if not isinstance(item, Mapping):
            raise ValidationFailed.field(name, "reports.bad_layout")
        wid = item.get("id")
        if not isinstance(wid, str) or not _WIDGET_ID.match(wid) or wid in seen:
            raise ValidationFailed.field(f"{name}.id", "reports.bad_layout")
        seen.add(wid)
        chart = item.get("chart")
        if chart not in CHART_TYPES:
            raise ValidationFailed.field(f"{name}.chart", "reports.bad_chart", key=str(chart)[:30])
        title = item.get("title") or ""
        if not isinstance(title, str) or len(title) > 100:
            raise ValidationFailed.field(f"{name}.title", "reports.bad_layout")
        x, y, w, h = (item.get(k) for k in ("x", "y", "w", "h"))
        if not (
            _int(x, 0, GRID_COLUMNS - 1)
            and _int(w, 1, GRID_COLUMNS)
            and _int(y, 0, 1000)
            and _int(h, 1, 12)
            and x + w <= GRID_COLUMNS  # type: ignore[operator]
        ):
            raise ValidationFailed.field(f"{name}.layout", "reports.bad_layout")
        query = item.get("query")
        if not isinstance(query, Mapping):
            raise ValidationFailed.field(f"{name}.query", "reports.metrics_required")
        try:
            if chart in ANALYSIS_CHARTS:
                q.parse_period(query.get("period"))
                q._clean_filters(query.get("filters"))
            else:
                q.parse_query(query)
        except ValidationFailed as exc:
            fields = exc.details.get("fields", {})
            raise ValidationFailed(
                {f"{name}.query.{k}": v for k, v in fields.items()}, code=exc.code
            ) from None
        keep: tuple[str, ...] = ("metrics", "dimension", "grain", "node", "series", "series_grain")
        if chart in ANALYSIS_CHARTS:
            keep = ()
        clean_query = {k: query[k] for k in keep if query.get(k) not in (None, "", [])}
        for k in ("filters", "period", "compare", "sort", "limit"):
            if chart in ANALYSIS_CHARTS and k not in ("filters", "period"):
                continue
            if query.get(k) not in (None, "", [], {}):
                clean_query[k] = query[k]
        options = item.get("options") or {}
        if not isinstance(options, Mapping) or len(str(options)) > 2000:
            raise ValidationFailed.field(f"{name}.options", "reports.bad_layout")
        out.append(
            {
                "id": wid,
                "title": title,
                "chart": chart,
                "query": clean_query,
                "x": x,
                "y": y,
                "w": w,
                "h": h,
                "options": dict(options),
            }
        )
    return out


def _roles(codes: Any) -> list[Role]:
    if codes is None:
        return []
    if not isinstance(codes, list) or len(codes) > 100:
        raise ValidationFailed.field("shared_with", "reports.unknown_role", code="?")
    roles = {r.code: r for r in Role.objects.filter(code__in=[str(c) for c in codes])}
    for code in codes:
        if code not in roles:
            raise ValidationFailed.field("shared_with", "reports.unknown_role", code=str(code)[:50])
    return list(roles.values())


def _clean_dashboard(data: Mapping[str, Any]) -> dict[str, Any]:
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed.field("name", "reports.name_required")
    name_en = str(data.get("name_en") or "").strip()[:100]
    description = str(data.get("description") or "").strip()[:500]
    refresh = data.get("refresh_seconds", 0) or 0
    if not (_int(refresh, 0, 0) or _int(refresh, REFRESH_MIN, REFRESH_MAX)):
        raise ValidationFailed.field(
            "refresh_seconds", "reports.refresh_invalid", min=REFRESH_MIN, max=REFRESH_MAX
        )
    sort = data.get("sort", 100)
    if not _int(sort, 0, 100_000):
        raise ValidationFailed.field("sort", "reports.bad_layout")
    return {
        "name": name,
        "name_en": name_en,
        "description": description,
        "refresh_seconds": refresh,
        "sort": sort,
        "widgets": clean_widgets(data.get("widgets")),
    }


@transaction.atomic
def create_dashboard(*, actor: User, data: Mapping[str, Any]) -> Dashboard:
    require_perm(actor, DESIGN)
    values = _clean_dashboard(data)
    roles = _roles(data.get("shared_with"))
    dashboard = Dashboard.objects.create(**values, created_by=actor, updated_by=actor)
    dashboard.shared_with.set(roles)
    audit.record(
        action="reports.dashboard_created",
        actor=actor,
        target=dashboard,
        extra={"widgets": len(values["widgets"]), "shared_with": [r.code for r in roles]},
    )
    return dashboard


@transaction.atomic
def update_dashboard(*, actor: User, dashboard_id: int, data: Mapping[str, Any]) -> Dashboard:
    require_perm(actor, DESIGN)
    dashboard = (
        Dashboard.objects.select_for_update().filter(pk=dashboard_id).first()
        if 0 < dashboard_id < q.MAX_ID
        else None
    )
    if dashboard is None:
        raise NotFound()
    values = _clean_dashboard(data)
    roles = _roles(data.get("shared_with"))
    before = audit.snapshot(dashboard, ["name", "refresh_seconds"])
    before["shared_with"] = sorted(r.code for r in dashboard.shared_with.all())
    for key, value in values.items():
        setattr(dashboard, key, value)
    dashboard.updated_by = actor
    dashboard.save()
    dashboard.shared_with.set(roles)
    after = audit.snapshot(dashboard, ["name", "refresh_seconds"])
    after["shared_with"] = sorted(r.code for r in roles)
    audit.record(
        action="reports.dashboard_updated",
        actor=actor,
        target=dashboard,
        changes=audit.diff(before, after),
        extra={"widgets": len(values["widgets"])},
    )
    return dashboard


@transaction.atomic
def delete_dashboard(*, actor: User, dashboard_id: int) -> None:
    require_perm(actor, DESIGN)
    dashboard = (
        Dashboard.objects.filter(pk=dashboard_id).first() if 0 < dashboard_id < q.MAX_ID else None
    )
    if dashboard is None:
        raise NotFound()
    audit.record(action="reports.dashboard_deleted", actor=actor, target=dashboard)
    dashboard.delete()


# --- custom metrics ------------------------------------------------------------------------


@transaction.atomic
def create_custom_metric(*, actor: User, data: Mapping[str, Any]) -> CustomMetric:
    require_perm(actor, DESIGN)
    key = str(data.get("key") or "")
    if not _KEY.match(key):
        raise ValidationFailed.field("key", "reports.key_invalid")
    if CustomMetric.objects.filter(key=key).exists():
        raise Conflict("reports.key_taken", params={"key": key}, details={"key": key})
    row = CustomMetric.objects.create(key=key, created_by=actor, **clean_metric(data))
    audit.record(action="reports.metric_created", actor=actor, target=row)
    return row


@transaction.atomic
def update_custom_metric(*, actor: User, metric_id: int, data: Mapping[str, Any]) -> CustomMetric:
    require_perm(actor, DESIGN)
    row = (
        CustomMetric.objects.select_for_update().filter(pk=metric_id).first()
        if 0 < metric_id < q.MAX_ID
        else None
    )
    if row is None:
        raise NotFound()
    for key, value in clean_metric(data).items():
        setattr(row, key, value)
    row.save()
    audit.record(action="reports.metric_updated", actor=actor, target=row)
    return row


@transaction.atomic
def delete_custom_metric(*, actor: User, metric_id: int) -> None:
    require_perm(actor, DESIGN)
    row = CustomMetric.objects.filter(pk=metric_id).first() if 0 < metric_id < q.MAX_ID else None
    if row is None:
        raise NotFound()
    users = dashboards_using(f"custom.{row.key}")
    if users:
        # Deleting it would break those charts: the admin removes them from the dashboards first.
        names = "、".join(users[:5])
        raise Conflict(
            "reports.metric_in_use", params={"names": names}, details={"dashboards": users}
        )
    audit.record(action="reports.metric_deleted", actor=actor, target=row)
    row.delete()


# --- channel costs -------------------------------------------------------------------------


def _month(value: Any, name: str) -> date:
    month = str(value or "")
    if not _MONTH.match(month):
        raise ValidationFailed.field(name, "reports.bad_month")
    try:
        return date(int(month[:4]), int(month[5:]), 1)
    except ValueError:
        raise ValidationFailed.field(name, "reports.bad_month") from None


def _channel(value: Any, name: str) -> str:
    from loandesk.customers.messages import CHOICES

    channel = str(value or "").strip()
    if channel not in CHOICES["source_channel"]:
        raise ValidationFailed.field(name, "reports.unknown_channel", channel=channel[:30])
    return channel


def clean_cost(value: Any, name: str) -> int:
    """A cost in yuan (a decimal string or an integer, at most 2 places, 0 to MAX_COST) → fen."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValidationFailed.field(name, "reports.cost_not_number")
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationFailed.field(name, "reports.cost_not_number") from None
    if not amount.is_finite():
        raise ValidationFailed.field(name, "reports.cost_not_number")
    if amount < 0:
        raise ValidationFailed.field(name, "reports.cost_negative")
    if amount > MAX_COST:
        raise ValidationFailed.field(name, "reports.cost_too_large", max=f"{MAX_COST:,}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValidationFailed.field(name, "reports.cost_precision")
    return int(fen)


@transaction.atomic
def set_channel_costs(*, actor: User, costs: list[Mapping[str, Any]]) -> int:
    """Upserts {channel, month: YYYY-MM, cost: yuan} rows; all or nothing."""
    require_perm(actor, DESIGN)
    if len(costs) > MAX_COSTS:
        raise ValidationFailed.field("costs", "reports.too_many_costs", max=MAX_COSTS)
    clean: list[tuple[str, date, int]] = []
    for i, item in enumerate(costs):
        channel = _channel(item.get("channel"), f"costs[{i}].channel")
        first = _month(item.get("month"), f"costs[{i}].month")
        clean.append((channel, first, clean_cost(item.get("cost"), f"costs[{i}].cost")))
    for channel, month_start, cost_fen in clean:
        ChannelCost.objects.update_or_create(
            channel=channel, month=month_start, defaults={"cost_fen": cost_fen, "updated_by": actor}
        )
    audit.record(
        action="reports.channel_costs_set",
        actor=actor,
        target_type="reports.channelcost",
        target_label=f"{len(clean)} rows",
        extra={
            "count": len(clean),
            "rows": [f"{c} {m:%Y-%m} {f}" for c, m, f in clean[:20]],
        },
    )
    return len(clean)


@transaction.atomic
def delete_channel_cost(*, actor: User, channel: str, month: str) -> None:
    require_perm(actor, DESIGN)
    first = _month(month, "month")
    row = ChannelCost.objects.filter(channel=str(channel)[:30], month=first).first()
    if row is None:
        raise NotFound()
    audit.record(
        action="reports.channel_cost_deleted",
        actor=actor,
        target_type="reports.channelcost",
        target_label=f"{row.channel} {row.month:%Y-%m}",
        extra={"cost_fen": row.cost_fen},
    )
    row.delete()
