"""Report reads: the catalog for the designer, dashboards the caller may open, and the records
behind a number (drill-down), always inside the caller's data scope."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from loandesk.accounts.models import Role, User
from loandesk.accounts.scoping import has_perm, require_perm
from loandesk.core.errors import NotFound, ValidationFailed
from loandesk.core.i18n import EN, current_language
from loandesk.reports import query as q
from loandesk.reports.metrics import DIMENSIONS, GRAINS, METRICS
from loandesk.reports.models import ChannelCost, CustomMetric, Dashboard
from loandesk.reports.permissions import DESIGN, VIEW

CHART_TYPES = (
    "kpi",
    "line",
    "area",
    "stacked_line",
    "bar",
    "hbar",
    "stacked_bar",
    "percent_bar",
    "bar_line",
    "pie",
    "donut",
    "rose",
    "funnel",
    "gauge",
    "radar",
    "scatter",
    "bubble",
    "calendar",
    "treemap",
    "sunburst",
    "sankey",
    "waterfall",
    "map",
    "table",
    "pivot",
    "ranking",
    # Loan-level month-end analyses (reports.vintage): their query is only period and filters.
    "vintage",
    "roll_rate",
)
ANALYSIS_CHARTS = ("vintage", "roll_rate")
MAX_PAGE_SIZE = 100


def _en() -> bool:
    return current_language() == EN


def catalog(*, actor: User) -> dict[str, Any]:
    require_perm(actor, VIEW)
    metrics = [
        {
            "key": m.key,
            "label": m.label(),
            "unit": m.unit,
            "group": m.group,
            "dimensions": m.dimensions(),
            "default_dimension": m.default_dimension
            if m.default_dimension in m.dimensions()
            else next(iter(m.dimensions()), None),
            "default_chart": m.default_chart,
            "time": m.supports_time,
            "higher_is_better": m.higher_is_better,
            "description": m.description_en if _en() else m.description_zh,
        }
        for m in METRICS.values()
    ]
    for row in CustomMetric.objects.select_related("form__current_version").order_by("id"):
        try:
            m = q.resolve_metric(f"custom.{row.key}")
        except ValidationFailed:
            continue  # a key field removed since: the metric is shown in its admin page only
        metrics.append(
            {
                "key": m.key,
                "label": m.label(),
                "unit": m.unit,
                "group": "custom",
                "dimensions": m.dimensions(),
                "default_dimension": "time",
                "default_chart": "line",
                "time": True,
                "higher_is_better": True,
                "description": "",
            }
        )
    return {
        "metrics": metrics,
        "dimensions": [{"key": k, "label": q.dim_label(k)} for k in DIMENSIONS],
        "grains": list(GRAINS),
        "presets": list(q.PRESETS),
        "charts": list(CHART_TYPES),
        "roles": [{"code": r.code, "name": r.name} for r in Role.objects.order_by("id")]
        if has_perm(actor, DESIGN)
        else [],
        "can_design": has_perm(actor, DESIGN),
    }


# --- dashboards ------------------------------------------------------------------------------


def visible_dashboards(actor: User) -> QuerySet[Dashboard]:
    require_perm(actor, VIEW)
    qs = Dashboard.objects.all()
    if not has_perm(actor, DESIGN):
        roles = list(actor.roles.values_list("pk", flat=True))
        qs = qs.filter(Q(shared_with__in=roles) | Q(created_by=actor)).distinct()
    return qs.prefetch_related("shared_with").order_by("sort", "id")


def dashboard_for(*, actor: User, dashboard_id: int) -> Dashboard:
    if not 0 < dashboard_id < q.MAX_ID:
        raise NotFound()
    found = visible_dashboards(actor).filter(pk=dashboard_id).first()
    if found is None:
        raise NotFound()
    return found


def dashboard_out(d: Dashboard, *, actor: User, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.pk,
        "code": d.code,
        "name": (d.name_en or d.name) if _en() else d.name,
        "name_zh": d.name,
        "name_en": d.name_en,
        "description": d.description,
        "refresh_seconds": d.refresh_seconds,
        "shared_with": sorted(r.code for r in d.shared_with.all()),
        "is_system": d.is_system,
        "sort": d.sort,
        "can_edit": has_perm(actor, DESIGN),
        # Scheduled e-mails: designers, and the owner of their own dashboard.
        "can_subscribe": has_perm(actor, DESIGN) or d.created_by_id == actor.pk,
        "widget_count": len(d.widgets or []),
        "updated_at": d.updated_at,
    }
    if full:
        out["widgets"] = d.widgets or []
    return out


def dashboards(*, actor: User) -> list[dict[str, Any]]:
    return [dashboard_out(d, actor=actor, full=False) for d in visible_dashboards(actor)]


def custom_metrics(*, actor: User) -> list[dict[str, Any]]:
    require_perm(actor, DESIGN)
    used = metrics_in_use()
    return [custom_metric_out(m, used) for m in CustomMetric.objects.select_related("form")]


def metrics_in_use() -> dict[str, list[str]]:
    """Metric key → names of the dashboards with a widget querying it."""
    out: dict[str, list[str]] = {}
    for d in Dashboard.objects.order_by("sort", "id").only("name", "widgets"):
        for key in {
            k for w in d.widgets or [] for k in (w.get("query") or {}).get("metrics") or []
        }:
            out.setdefault(str(key), []).append(d.name)
    return out


def dashboards_using(metric_key: str) -> list[str]:
    return metrics_in_use().get(metric_key, [])


def custom_metric_out(
    m: CustomMetric, used: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    used_by = (used if used is not None else metrics_in_use()).get(f"custom.{m.key}", [])
    return {
        "id": m.pk,
        "key": m.key,
        "metric": f"custom.{m.key}",
        "label": m.label,
        "label_en": m.label_en,
        "form": m.form.code,
        "form_name": m.form.name,
        "aggregation": m.aggregation,
        "field": m.field,
        "filters": m.filters,
        "unit": m.unit,
        "used_by": used_by,
    }


def metric_forms(*, actor: User) -> list[dict[str, Any]]:
    """Forms and their key fields, for the custom-metric editor."""
    from loandesk.forms.models import FormDefinition
    from loandesk.reports.custom import key_fields

    require_perm(actor, DESIGN)
    return [
        {"code": f.code, "name": f.name, "fields": key_fields(f)}
        for f in FormDefinition.objects.filter(is_active=True).select_related("current_version")
        if f.current_version_id
    ]


def channel_costs(*, actor: User) -> list[dict[str, Any]]:
    from loandesk.customers.messages import choice_label

    require_perm(actor, DESIGN)
    return [
        {
            "channel": c.channel,
            "channel_label": choice_label("source_channel", c.channel) or c.channel,
            "month": f"{c.month:%Y-%m}",
            "cost": q.fmt("money", c.cost_fen),
        }
        for c in ChannelCost.objects.all()[:500]
    ]


def channel_options(*, actor: User) -> list[dict[str, str]]:
    """The customer source channels a cost can be entered for."""
    from loandesk.customers.messages import CHOICES, choice_label

    require_perm(actor, DESIGN)
    return [
        {"value": k, "label": choice_label("source_channel", k)} for k in CHOICES["source_channel"]
    ]


def preview_custom_metric(
    *, actor: User, data: Mapping[str, Any], period: Any = None
) -> dict[str, Any]:
    """The value of an unsaved custom metric over the period (default: last 30 days) and the
    previous period, inside the caller's data scope: what the designer sees before saving."""
    from loandesk.reports.custom import PREVIEW_KEY, build_metric, clean_metric, transient_metric

    require_perm(actor, DESIGN)
    row = CustomMetric(key=PREVIEW_KEY, **clean_metric(data))
    metric = build_metric(row)
    with transient_metric(metric):
        query = q.parse_query(
            {
                "metrics": [metric.key],
                "period": period or {"preset": "last_30_days"},
                "compare": True,
            }
        )
        result = q.run_query(actor=actor, query=query)
    return {
        "value": result["totals"].get(metric.key),
        "previous": (result["previous_totals"] or {}).get(metric.key),
        "unit": metric.unit,
        "period": result["period"],
        "previous_period": result["previous_period"],
    }


# --- records behind a number ---------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else None


def _name(user: Any) -> str:
    return (user.full_name or user.username) if user else ""


def _loan_rows(qs: QuerySet[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": loan.pk,
            "link": f"/loans/{loan.pk}",
            "contract_no": loan.contract_no,
            "customer": loan.customer.name,
            "product": loan.product.name,
            "owner": _name(loan.owner),
            "principal": q.fmt("money", loan.principal_fen),
            "outstanding": q.fmt("money", loan.outstanding_principal_fen),
            "bucket": loan.bucket,
            "days_past_due": loan.days_past_due,
            "status": loan.status,
            "start_date": loan.start_date.isoformat(),
        }
        for loan in qs.select_related("customer", "product", "owner")
    ]


def _customer_rows(qs: QuerySet[Any]) -> list[dict[str, Any]]:
    from loandesk.customers.messages import choice_label

    return [
        {
            "id": c.pk,
            "link": f"/customers/{c.pk}",
            "name": c.name,
            "owner": _name(c.owner),
            "channel": choice_label("source_channel", c.source_channel) if c.source_channel else "",
            "province": c.province_name,
            "created_at": _when(c.created_at),
        }
        for c in qs.select_related("owner")
    ]


def _record_rows(qs: QuerySet[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.pk,
            "link": f"/forms/{r.form.code}/records/{r.pk}",
            "serial_no": r.serial_no or f"#{r.pk}",
            "form": r.form.name,
            "customer": r.customer.name if r.customer else "",
            "owner": _name(r.owner),
            "created_at": _when(r.created_at),
        }
        for r in qs.select_related("form", "customer", "owner")
    ]


def _approval_rows(qs: QuerySet[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": i.pk,
            "link": f"/approvals/{i.pk}",
            "title": i.title,
            "status": i.status,
            "initiator": _name(i.initiator),
            "amount": q.fmt("money", i.amount_fen) if i.amount_fen is not None else None,
            "started_at": _when(i.started_at),
            "finished_at": _when(i.finished_at),
        }
        for i in qs.select_related("initiator")
    ]


def _installment_rows(qs: QuerySet[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": i.pk,
            "link": f"/loans/{i.loan_id}",
            "contract_no": i.loan.contract_no,
            "seq": i.seq,
            "due_date": i.due_date.isoformat(),
            "status": i.status,
            "paid_off_on": i.paid_off_on.isoformat() if i.paid_off_on else None,
            "principal": q.fmt("money", i.principal_fen),
        }
        for i in qs.select_related("loan")
    ]


def _repayment_rows(qs: QuerySet[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.pk,
            "link": f"/loans/{r.loan_id}",
            "contract_no": r.loan.contract_no,
            "amount": q.fmt("money", r.amount_fen),
            "value_date": r.value_date.isoformat(),
            "owner": _name(r.loan.owner),
        }
        for r in qs.select_related("loan__owner")
    ]


def _case_rows(qs: QuerySet[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "link": f"/loans/{c.loan_id}",
            "contract_no": c.loan.contract_no,
            "customer": c.customer.name,
            "collector": _name(c.collector),
            "bucket": c.bucket,
            "status": c.status,
            "opened_at": _when(c.opened_at),
        }
        for c in qs.select_related("loan", "customer", "collector")
    ]


RECORD_KINDS: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...]]] = {
    "repayments": (
        _repayment_rows,
        ("contract_no", "amount", "value_date", "owner"),
        ("-value_date", "-id"),
    ),
    "cases": (
        _case_rows,
        ("contract_no", "customer", "collector", "bucket", "status", "opened_at"),
        ("-opened_at", "-id"),
    ),
    # kind: (row builder, columns, order)
    "loans": (
        _loan_rows,
        (
            "contract_no",
            "customer",
            "product",
            "owner",
            "principal",
            "outstanding",
            "bucket",
            "days_past_due",
            "start_date",
        ),
        ("-start_date", "-id"),
    ),
    "customers": (
        _customer_rows,
        ("name", "owner", "channel", "province", "created_at"),
        ("-created_at", "-id"),
    ),
    "applications": (
        _record_rows,
        ("serial_no", "form", "customer", "owner", "created_at"),
        ("-created_at", "-id"),
    ),
    "records": (
        _record_rows,
        ("serial_no", "form", "customer", "owner", "created_at"),
        ("-created_at", "-id"),
    ),
    "approvals": (
        _approval_rows,
        ("title", "status", "initiator", "amount", "started_at", "finished_at"),
        ("-finished_at", "-id"),
    ),
    "installments": (
        _installment_rows,
        ("contract_no", "seq", "due_date", "status", "paid_off_on", "principal"),
        ("-due_date", "-id"),
    ),
}

COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "contract_no": ("合同号", "Contract"),
    "customer": ("客户", "Customer"),
    "product": ("产品", "Product"),
    "owner": ("客户经理", "Officer"),
    "principal": ("本金(元)", "Principal (yuan)"),
    "outstanding": ("余额(元)", "Outstanding (yuan)"),
    "bucket": ("分档", "Bucket"),
    "days_past_due": ("逾期天数", "Days past due"),
    "start_date": ("放款日", "Disbursed on"),
    "name": ("姓名", "Name"),
    "channel": ("渠道", "Channel"),
    "province": ("省份", "Province"),
    "created_at": ("创建时间", "Created"),
    "serial_no": ("编号", "Number"),
    "form": ("表单", "Form"),
    "title": ("标题", "Title"),
    "status": ("状态", "Status"),
    "initiator": ("发起人", "Initiator"),
    "amount": ("金额(元)", "Amount (yuan)"),
    "started_at": ("发起时间", "Started"),
    "finished_at": ("办结时间", "Finished"),
    "seq": ("期次", "Installment"),
    "due_date": ("到期日", "Due date"),
    "paid_off_on": ("还清日", "Paid off"),
    "value_date": ("入账日", "Value date"),
    "collector": ("催收员", "Collector"),
    "opened_at": ("立案时间", "Opened"),
}


def column_label(key: str) -> str:
    zh, en = COLUMN_LABELS.get(key, (key, key))
    return en if _en() else zh


def records_queryset(
    *, actor: User, metric_key: str, filters: Mapping[str, Any], period: Any
) -> tuple[str, QuerySet[Any]]:
    require_perm(actor, VIEW)
    metric = q.resolve_metric(metric_key)
    if metric.ratio_of:
        metric = METRICS[metric.ratio_of[1]]
    src = metric.src
    if not src.records:
        raise ValidationFailed.field("metric", "reports.no_records", metric=metric.label())
    parsed_period = q.parse_period(period) if src.date_field else None
    qs = q.base_queryset(
        src,
        actor=actor,
        filters=q._clean_filters(filters),
        period=parsed_period,
        ignored=set(),
        where=metric.where(),
    )
    order = RECORD_KINDS[src.records][2]
    return src.records, qs.order_by(*order)


def records(
    *,
    actor: User,
    metric_key: str,
    filters: Mapping[str, Any],
    period: Any,
    page: int = 1,
    page_size: int = 20,
) -> dict[str, Any]:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed.field("page_size", "reports.bad_filter", key="page_size")
    if page < 1 or page > 100_000:
        raise ValidationFailed.field("page", "reports.bad_filter", key="page")
    kind, qs = records_queryset(actor=actor, metric_key=metric_key, filters=filters, period=period)
    builder, columns, _ = RECORD_KINDS[kind]
    total = qs.count()
    start = (page - 1) * page_size
    return {
        "kind": kind,
        "columns": [{"key": c, "label": column_label(c)} for c in columns],
        "items": builder(qs[start : start + page_size]),
        "total": total,
        "page": page,
        "page_size": page_size,
    }


def analysis_loans(*, actor: User, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The loans behind a vintage or roll-rate cell, paged like the record lists."""
    from loandesk.lending.models import Loan
    from loandesk.reports.vintage import drill_loan_ids

    page, page_size = payload.get("page") or 1, payload.get("page_size") or 20
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed.field("page_size", "reports.bad_filter", key="page_size")
    if page < 1 or page > 100_000:
        raise ValidationFailed.field("page", "reports.bad_filter", key="page")
    ids = drill_loan_ids(actor=actor, payload=payload)
    start = (page - 1) * page_size
    chunk = ids[start : start + page_size]
    by_id = {row["id"]: row for row in _loan_rows(Loan.objects.filter(pk__in=chunk))}
    builder_columns = RECORD_KINDS["loans"][1]
    return {
        "kind": "loans",
        "columns": [{"key": c, "label": column_label(c)} for c in builder_columns],
        "items": [by_id[i] for i in chunk if i in by_id],
        "total": len(ids),
        "page": page,
        "page_size": page_size,
    }
