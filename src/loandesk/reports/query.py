"""The query engine: a chart query (metrics × dimension [× series] × filters × period, with the
previous period for comparison) → rows, evaluated with SQL GROUP BY through the ORM on SQLite
and PostgreSQL alike, always inside the viewer's data scope.

Metrics of one source are evaluated in one statement (their parts carry their own FILTER), so a
KPI card with its comparison costs two or three queries. Nothing is cached: every answer is
read straight from the database.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    DateField,
    Max,
    Model,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Trunc

from loandesk.accounts.models import Department, User
from loandesk.accounts.scoping import require_perm, scoped
from loandesk.core.errors import NotFound, ValidationFailed
from loandesk.core.i18n import EN, current_language, message
from loandesk.reports import facts
from loandesk.reports.metrics import (
    DIMENSIONS,
    GRAINS,
    METRICS,
    NEXT_GRAIN,
    Metric,
    Number,
    Source,
)
from loandesk.reports.permissions import VIEW

MAX_METRICS = 12
MAX_FILTER_VALUES = 200
MAX_PERIOD_DAYS = 366 * 5
MAX_ROWS = 500
MAX_ID = 2**53  # larger integers overflow SQLite's INTEGER: refuse them as bad input
LIST_FILTERS = ("product", "channel", "bucket", "classification", "region", "officer")
ID_FILTERS = ("product", "officer")
PRESETS = (
    "today",
    "last_7_days",
    "last_30_days",
    "this_month",
    "last_month",
    "this_quarter",
    "this_year",
    "last_12_months",
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- input ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class ChartQuery:
    metrics: tuple[str, ...]
    period: Period
    dimension: str | None = None
    grain: str = "month"
    node: int | None = None
    series: str | None = None
    series_grain: str = "month"
    filters: Mapping[str, Any] = field(default_factory=dict)
    compare: bool = False
    sort: str = ""
    limit: int | None = None


def _today() -> date:
    from loandesk.core.services import get_business_date

    return get_business_date()


def _month_start(d: date, back: int = 0) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - back, 12)
    return date(y, m + 1, 1)


def resolve_preset(preset: str, today: date) -> Period:
    if preset == "today":
        return Period(today, today)
    if preset == "last_7_days":
        return Period(today - timedelta(days=6), today)
    if preset == "last_30_days":
        return Period(today - timedelta(days=29), today)
    if preset == "this_month":
        return Period(_month_start(today), today)
    if preset == "last_month":
        start = _month_start(today, 1)
        return Period(start, _month_start(today) - timedelta(days=1))
    if preset == "this_quarter":
        return Period(date(today.year, (today.month - 1) // 3 * 3 + 1, 1), today)
    if preset == "this_year":
        return Period(date(today.year, 1, 1), today)
    if preset == "last_12_months":
        return Period(_month_start(today, 11), today)
    raise ValidationFailed.field("period", "reports.bad_filter", key="preset")


def _parse_date(value: Any, name: str) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValidationFailed.field(name, "reports.bad_date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.field(name, "reports.bad_date") from None


def parse_period(raw: Any, today: date | None = None) -> Period:
    today = today or _today()
    if raw in (None, "", {}):
        return resolve_preset("last_30_days", today)
    if isinstance(raw, str):
        return resolve_preset(raw, today)
    if not isinstance(raw, Mapping):
        raise ValidationFailed.field("period", "reports.bad_date")
    if raw.get("preset"):
        return resolve_preset(str(raw["preset"]), today)
    start = _parse_date(raw.get("start"), "period.start")
    end = _parse_date(raw.get("end"), "period.end")
    if start > end:
        raise ValidationFailed.field("period", "reports.period_order")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed.field("period", "reports.period_too_long", max=MAX_PERIOD_DAYS)
    return Period(start, end)


def _clean_filters(raw: Any) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, Mapping):
        raise ValidationFailed.field("filters", "reports.bad_filter", key="filters")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if value in (None, "", []):
            continue
        if key in ("org", "department_exact"):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_ID:
                raise ValidationFailed.field(f"filters.{key}", "reports.bad_filter", key=key)
            out[key] = value
        elif key in LIST_FILTERS:
            values = value if isinstance(value, list) else [value]
            if len(values) > MAX_FILTER_VALUES:
                raise ValidationFailed.field(
                    f"filters.{key}", "reports.too_many_values", key=key, max=MAX_FILTER_VALUES
                )
            if key in ID_FILTERS:
                if not all(
                    isinstance(v, int) and not isinstance(v, bool) and abs(v) < MAX_ID
                    for v in values
                ):
                    raise ValidationFailed.field(f"filters.{key}", "reports.bad_filter", key=key)
            elif not all(isinstance(v, str) and len(v) <= 64 for v in values):
                raise ValidationFailed.field(f"filters.{key}", "reports.bad_filter", key=key)
            out[key] = list(values)
        else:
            raise ValidationFailed.field(f"filters.{key}", "reports.bad_filter", key=key)
    return out


def parse_query(payload: Mapping[str, Any]) -> ChartQuery:
    """Validates a chart query (API body or a dashboard widget's stored query)."""
    keys = payload.get("metrics") or []
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not keys:
        raise ValidationFailed.field("metrics", "reports.metrics_required")
    if len(keys) > MAX_METRICS:
        raise ValidationFailed.field("metrics", "reports.too_many_metrics", max=MAX_METRICS)
    for key in keys:
        if not isinstance(key, str):
            raise ValidationFailed.field("metrics", "reports.unknown_metric", key=str(key)[:40])
        resolve_metric(key)
    dimension = payload.get("dimension") or None
    series = payload.get("series") or None
    for name, dim in (("dimension", dimension), ("series", series)):
        if dim is not None and dim not in DIMENSIONS:
            raise ValidationFailed.field(name, "reports.unknown_dimension", key=str(dim)[:40])
    if series and len(keys) != 1:
        raise ValidationFailed.field("series", "reports.mixed_series")
    grain = payload.get("grain") or "month"
    series_grain = payload.get("series_grain") or "month"
    if grain not in GRAINS or series_grain not in GRAINS:
        raise ValidationFailed.field("grain", "reports.bad_grain")
    node = payload.get("node")
    if node is not None and (
        isinstance(node, bool) or not isinstance(node, int) or not 0 < node < MAX_ID
    ):
        raise ValidationFailed.field("node", "reports.bad_filter", key="node")
    limit = payload.get("limit")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_ROWS
    ):
        raise ValidationFailed.field("limit", "reports.bad_filter", key="limit")
    sort = payload.get("sort") or ""
    if sort not in ("", "key", "value_desc", "value_asc"):
        raise ValidationFailed.field("sort", "reports.bad_filter", key="sort")
    query = ChartQuery(
        metrics=tuple(keys),
        period=parse_period(payload.get("period")),
        dimension=dimension,
        grain=grain,
        node=node,
        series=series,
        series_grain=series_grain,
        filters=_clean_filters(payload.get("filters")),
        compare=bool(payload.get("compare")),
        sort=sort,
        limit=limit,
    )
    for key in keys:
        metric = resolve_metric(key)
        for dim in (dimension, series):
            if dim and dim not in metric.dimensions():
                raise ValidationFailed.field(
                    "dimension",
                    "reports.dimension_unsupported",
                    metric=metric.label(),
                    dimension=dim_label(dim),
                )
    return query


def resolve_metric(key: str) -> Metric:
    metric = METRICS.get(key)
    if metric is not None:
        return metric
    if key.startswith("custom."):
        from loandesk.reports.custom import custom_metric

        found = custom_metric(key.removeprefix("custom."))
        if found is not None:
            return found
    raise ValidationFailed.field("metrics", "reports.unknown_metric", key=key[:40])


def dim_label(key: str) -> str:
    zh, en = DIMENSIONS[key]
    return en if current_language() == EN else zh


# --- SQL building --------------------------------------------------------------------------


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _model(src: Source) -> type[Model]:
    return apps.get_model(src.model)


def _dept_path(src: Source) -> str:
    assert src.scope.department
    return src.scope.department


def _owner_path(src: Source) -> str:
    assert src.scope.owner
    return src.scope.owner


def _filters_q(src: Source, filters: Mapping[str, Any], ignored: set[str]) -> Q:
    q = Q()
    for key, value in filters.items():
        if key in ("org", "department_exact"):
            if not src.scope.department:
                ignored.add(key)
                continue
            if key == "department_exact":
                q &= Q(**{_dept_path(src): value})
                continue
            dept = Department.objects.filter(pk=value).only("path").first()
            if dept is None:
                raise ValidationFailed.field("filters.org", "reports.bad_filter", key="org")
            q &= Q(**{f"{_dept_path(src)}__path__startswith": dept.path})
        elif key == "officer":
            if not src.scope.owner:
                ignored.add(key)
                continue
            q &= Q(**{f"{_owner_path(src)}__in": value})
        elif key in src.dims:
            q &= Q(**{f"{src.dims[key]}__in": value})
        else:
            ignored.add(key)
    return q


def _period_q(src: Source, period: Period) -> Q:
    assert src.date_field
    if src.date_is_datetime:
        tz = _tz()
        lo = datetime.combine(period.start, time.min, tzinfo=tz)
        hi = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)
        return Q(**{f"{src.date_field}__gte": lo, f"{src.date_field}__lt": hi})
    return Q(**{f"{src.date_field}__gte": period.start, f"{src.date_field}__lte": period.end})


def base_queryset(
    src: Source,
    *,
    actor: User,
    filters: Mapping[str, Any],
    period: Period | None,
    ignored: set[str],
    where: Q | None = None,
) -> QuerySet[Any]:
    qs = _model(src)._default_manager.filter(src.base())
    if where is not None:
        qs = qs.filter(where)
    qs = scoped(qs, actor, src.scope)
    qs = qs.filter(_filters_q(src, filters, ignored))
    if period is not None and src.date_field:
        qs = qs.filter(_period_q(src, period))
    return qs.order_by()


@dataclass
class Dim:
    """How a dimension groups rows: an expression, labels for its keys and what a tap does."""

    key: str
    expr: Any
    grain: str | None = None
    node: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # keys in their natural order, if any


def _time_expr(src: Source, grain: str) -> Any:
    assert src.date_field
    if src.date_is_datetime:
        return Trunc(src.date_field, grain, output_field=DateField(), tzinfo=_tz())
    return Trunc(src.date_field, grain, output_field=DateField())


def _org_children(node: int | None) -> tuple[Department | None, list[Department]]:
    here = None
    if node is not None:
        here = Department.objects.filter(pk=node).first()
        if here is None:
            raise ValidationFailed.field("node", "reports.bad_filter", key="node")
    children = list(Department.objects.filter(parent_id=node).order_by("sort", "path"))
    return here, children


def _org_expr(src: Source, node: int | None) -> tuple[Any, dict[str, str], str]:
    """(expression, labels, level) for the org dimension at `node` (None: the top)."""
    here, children = _org_children(node)
    if not children:
        return Cast(_owner_path(src), CharField()), {}, "officer"
    dep = _dept_path(src)
    whens = [
        When(Q(**{f"{dep}__path__startswith": child.path}), then=Value(f"d{child.pk}"))
        for child in children
    ]
    labels = {f"d{c.pk}": c.name for c in children}
    if here is not None:
        whens.append(When(Q(**{dep: here.pk}), then=Value(f"h{here.pk}")))
        own = "(本级)" if current_language() != EN else " (direct)"
        labels[f"h{here.pk}"] = f"{here.name}{own}"
    labels["none"] = "未分配部门" if current_language() != EN else "No department"
    return Case(*whens, default=Value("none"), output_field=CharField()), labels, "department"


def build_dim(src: Source, key: str, grain: str, node: int | None) -> Dim:
    if key == "time":
        return Dim(key, _time_expr(src, grain), grain=grain)
    if key == "org":
        expr, labels, level = _org_expr(src, node)
        return Dim(key if level == "department" else "officer", expr, node=node, labels=labels)
    if key == "officer":
        return Dim(key, Cast(_owner_path(src), CharField()))
    return Dim(key, Cast(src.dims[key], CharField()))


# --- evaluation ----------------------------------------------------------------------------


GroupKey = tuple[str, str]  # (row key, series key); "" when absent
PARTS = "__parts:"  # grouped results also keep each metric's raw parts under this prefix
Values = dict[GroupKey, dict[str, Any]]


def _key_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _snapshot_dates(
    src: Source, qs: QuerySet[Any], period: Period, grain: str | None
) -> list[date]:
    """The last snapshot date of the period, or of each time bucket of it."""
    assert src.date_field
    if grain is None:
        last = qs.aggregate(d=Max(src.date_field))["d"]
        return [last] if last else []
    rows = qs.values(b=_time_expr(src, grain)).annotate(d=Max(src.date_field)).order_by()
    return [r["d"] for r in rows]


def _evaluate_source(
    src: Source,
    metrics: list[Metric],
    *,
    actor: User,
    query: ChartQuery,
    period: Period,
    dims: list[Dim],
    ignored: set[str],
) -> Values:
    """{(row key, series key): {metric key: value}} for the metrics of one source."""
    out: Values = defaultdict(dict)
    plan = facts.plan_for(
        src, metrics, [k for k in (query.dimension, query.series) if k], query.filters
    )
    if plan is not None:
        src = plan.source
        if dims:  # the same breakdown over the fact table's columns
            dims = [build_dim(src, query.dimension or "", query.grain, query.node)]
            if query.series:
                dims.append(build_dim(src, query.series, query.series_grain, None))
    use_period = period if src.date_field else None
    qs = base_queryset(src, actor=actor, filters=query.filters, period=use_period, ignored=ignored)
    if src.snapshot:
        time_dim = next((d for d in dims if d.key == "time"), None)
        dates = _snapshot_dates(src, qs, period, time_dim.grain if time_dim else None)
        qs = qs.filter(**{f"{src.date_field}__in": dates})
    names = [f"_g{i}" for i in range(len(dims))]
    grouped = qs.values(**dict(zip(names, (d.expr for d in dims), strict=True))) if dims else qs
    sql_metrics = [m for m in metrics if m.stat is None]
    parts: dict[str, Any] = {}
    for metric in sql_metrics:
        metric_parts = plan.parts[metric.key] if plan is not None else metric.parts
        for name, agg in metric_parts().items():
            parts[f"{metric.key}__{name}"] = agg
    if parts:
        result: Iterable[Mapping[str, Any]]
        if plan is not None:
            result = _fact_rows(
                plan,
                src,
                dims,
                names,
                parts,
                actor=actor,
                query=query,
                period=use_period,
                ignored=ignored,
            )
        elif dims:
            result = grouped.annotate(**parts).order_by()
        else:
            result = [qs.aggregate(**parts)]
        for row in result:
            gk = _group_key(row, names)
            for metric in sql_metrics:
                prefix = f"{metric.key}__"
                got = {k.removeprefix(prefix): v for k, v in row.items() if k.startswith(prefix)}
                out[gk][metric.key] = metric.value(got)
                out[gk][PARTS + metric.key] = got
    for metric in (m for m in metrics if m.stat is not None):
        assert metric.stat is not None
        fetch = qs.filter(metric.where())
        if metric.sql_stat is not None and connection.vendor == "postgresql":
            # One aggregate per group in the database instead of every sample row in Python.
            if dims:
                exprs = dict(zip(names, (d.expr for d in dims), strict=True))
                for row in fetch.values(**exprs).annotate(_stat=metric.sql_stat()).order_by():
                    out[_group_key(row, names)][metric.key] = row["_stat"]
            else:
                value = fetch.aggregate(_stat=metric.sql_stat())["_stat"]
                if value is not None:  # no rows: no group, as in Python
                    out[("", "")][metric.key] = value
            continue
        samples: dict[GroupKey, list[tuple[Any, ...]]] = defaultdict(list)
        fields = list(metric.samples)
        rows = (
            fetch.values_list(*(d.expr for d in dims), *fields)
            if not dims
            else fetch.annotate(
                **dict(zip(names, (d.expr for d in dims), strict=True))
            ).values_list(*names, *fields)
        )
        for values in rows.iterator(chunk_size=5000):
            gk = (
                _key_text(values[0]) if dims else "",
                _key_text(values[1]) if len(dims) > 1 else "",
            )
            samples[gk].append(tuple(values[len(dims) :]))
        for gk, items in samples.items():
            out[gk][metric.key] = metric.stat(items)
    return out


def _fact_rows(
    plan: facts.Plan,
    src: Source,
    dims: list[Dim],
    names: list[str],
    parts: dict[str, Any],
    *,
    actor: User,
    query: ChartQuery,
    period: Period | None,
    ignored: set[str],
) -> list[dict[str, Any]]:
    """Grouped (or total) parts from the fact tables: the whole months of the period from the
    monthly facts when there are any (and no breakdown finer than a month), the rest from the
    daily ones; the pieces' SUMs are added. A group exists when it holds an underlying row, as
    a raw group does (the delta rows of a key may sum to nothing)."""
    pieces: list[QuerySet[Any]] = []
    by_month = (
        plan.monthly is not None
        and period is not None
        and all(d.key != "time" or d.grain in ("month", "quarter", "year") for d in dims)
    )
    if by_month and period is not None and plan.monthly is not None:
        first = period.start if period.start.day == 1 else _month_start(period.start, -1)
        after = _month_start(period.end + timedelta(days=1))  # the month after the last whole one
        if first < after:
            months = Period(first, after - timedelta(days=1))
            pieces.append(
                base_queryset(
                    plan.monthly, actor=actor, filters=query.filters, period=months, ignored=ignored
                )
            )
            rest = Q(day__lt=first) | Q(day__gte=after)
            pieces.append(
                base_queryset(
                    src,
                    actor=actor,
                    filters=query.filters,
                    period=period,
                    ignored=ignored,
                    where=rest,
                )
            )
    if not pieces:
        pieces.append(
            base_queryset(src, actor=actor, filters=query.filters, period=period, ignored=ignored)
        )
    exprs = dict(zip(names, (d.expr for d in dims), strict=True))
    aggregates = {**parts, facts.PRESENT: plan.present()}
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for qs in pieces:
        rows = (
            qs.values(**exprs).annotate(**aggregates).order_by()
            if dims
            else [qs.aggregate(**aggregates)]
        )
        for row in rows:
            key = tuple(row.get(n) for n in names)
            into = merged.setdefault(key, {n: row.get(n) for n in names})
            for name in aggregates:
                value = row.get(name)
                if value is not None:
                    into[name] = (into.get(name) or 0) + value
                else:
                    into.setdefault(name, None)
    return [r for r in merged.values() if not dims or (r.get(facts.PRESENT) or 0) > 0]


def _group_key(row: Mapping[str, Any], names: list[str]) -> GroupKey:
    first = _key_text(row.get(names[0])) if names else ""
    second = _key_text(row.get(names[1])) if len(names) > 1 else ""
    return first, second


def _evaluate(
    metrics: list[Metric],
    *,
    actor: User,
    query: ChartQuery,
    period: Period,
    dims_for: dict[str, list[Dim]],
    ignored: set[str],
) -> Values:
    """Every metric (ratios of other metrics included) for one period."""
    needed: dict[str, Metric] = {}
    for metric in metrics:
        if metric.ratio_of:
            for k in metric.ratio_of:
                needed[k] = METRICS[k]
        else:
            needed[metric.key] = metric
    by_source: dict[str, list[Metric]] = defaultdict(list)
    for metric in needed.values():
        by_source[metric.src.key].append(metric)
    out: Values = defaultdict(dict)
    for src_key, group in by_source.items():
        src = group[0].src
        got = _evaluate_source(
            src,
            group,
            actor=actor,
            query=query,
            period=period,
            dims=dims_for[src_key],
            ignored=ignored,
        )
        for gk, values in got.items():
            out[gk].update(values)
    for metric in (m for m in metrics if m.ratio_of):
        assert metric.ratio_of
        num_key, den_key = metric.ratio_of
        for values in out.values():
            num, den = values.get(num_key), values.get(den_key)
            values[metric.key] = (Decimal(num or 0) / Decimal(den)) if den else None
    return out


def _totals_from_groups(current: Values, metrics: list[Metric]) -> dict[str, Any]:
    """Totals as the sum of the groups' parts (SUM and COUNT add up; ratios are recomputed)."""
    out: dict[str, Any] = {}
    components: dict[str, Metric] = {}
    for metric in metrics:
        for key in metric.ratio_of or (metric.key,):
            components[key] = METRICS[key] if metric.ratio_of else metric
    for key, metric in components.items():
        summed: dict[str, Any] = {}
        for values in current.values():
            for name, value in (values.get(PARTS + key) or {}).items():
                summed[name] = (summed.get(name) or 0) + (value or 0)
        out[key] = metric.value(summed)
    for metric in (m for m in metrics if m.ratio_of):
        assert metric.ratio_of
        num, den = (out.get(k) for k in metric.ratio_of)
        out[metric.key] = (Decimal(num or 0) / Decimal(den)) if den else None
    return out


# --- output --------------------------------------------------------------------------------

_Q2 = Decimal("0.01")
_Q1 = Decimal("0.1")


def fmt(unit: str, value: Number) -> int | str | None:
    """JSON value of a metric: counts as integers, money as yuan strings (from fen), percent
    and durations as decimal strings. Never a float."""
    if value is None:
        return None
    if unit == "count":
        return int(value)
    if unit == "money":
        return str((Decimal(value) / 100).quantize(_Q2, ROUND_HALF_UP))
    if unit in ("percent", "number"):
        return str(Decimal(value).quantize(_Q2, ROUND_HALF_UP))
    return str(Decimal(value).quantize(_Q1, ROUND_HALF_UP))


def _zero_value(metric: Metric) -> Number:
    """What an empty group is worth: 0 for counts and sums, None (no data) for ratios."""
    if metric.ratio_of or metric.stat is not None or metric.unit in ("percent", "hours", "days"):
        return None
    return 0


def _time_buckets(period: Period, grain: str) -> list[date]:
    out: list[date] = []
    if grain == "day":
        d = period.start
        while d <= period.end:
            out.append(d)
            d += timedelta(days=1)
        return out
    if grain == "week":
        d = period.start - timedelta(days=period.start.weekday())
        while d <= period.end:
            out.append(d)
            d += timedelta(days=7)
        return out
    step = {"month": 1, "quarter": 3, "year": 12}[grain]
    d = _month_start(period.start)
    if grain == "quarter":
        d = date(d.year, (d.month - 1) // 3 * 3 + 1, 1)
    elif grain == "year":
        d = date(d.year, 1, 1)
    while d <= period.end:
        out.append(d)
        y, m = divmod(d.year * 12 + d.month - 1 + step, 12)
        d = date(y, m + 1, 1)
    return out


def bucket_period(start: date, grain: str, within: Period) -> Period:
    if grain == "day":
        end = start
    elif grain == "week":
        end = start + timedelta(days=6)
    else:
        step = {"month": 1, "quarter": 3, "year": 12}[grain]
        y, m = divmod(start.year * 12 + start.month - 1 + step, 12)
        end = date(y, m + 1, 1) - timedelta(days=1)
    return Period(max(start, within.start), min(end, within.end))


def time_label(start: date, grain: str) -> str:
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start:%Y-%m}"
    if grain == "quarter":
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def _labels(dim: Dim, keys: Iterable[str]) -> dict[str, str]:
    keys = [k for k in keys if k not in dim.labels]
    labels = dict(dim.labels)
    if dim.key == "time":
        for k in keys:
            labels[k] = time_label(date.fromisoformat(k), dim.grain or "day") if k else "-"
        return labels
    ids = [int(k) for k in keys if k.isdigit()]
    if dim.key == "officer":
        for user in User.objects.filter(pk__in=ids).only("full_name", "username"):
            labels[str(user.pk)] = user.full_name or user.username
    elif dim.key == "product":
        from loandesk.lending.models import Product

        for product in Product.objects.filter(pk__in=ids).only("name"):
            labels[str(product.pk)] = product.name
    elif dim.key == "channel":
        from loandesk.customers.messages import choice_label

        for k in keys:
            labels[k] = choice_label("source_channel", k) if k else _unfilled()
    elif dim.key == "region":
        from loandesk.customers.regions import name_of

        for k in keys:
            labels[k] = (name_of(k) or k) if k else _unfilled()
    elif dim.key == "classification":
        from loandesk.lending.models import Loan

        names = dict(Loan.Classification.choices)
        en = current_language() == EN
        for k in keys:
            labels[k] = k.replace("_", " ").title() if en else str(names.get(k, k))
    for k in keys:
        labels.setdefault(k, k or _unfilled())
    return labels


def _unfilled() -> str:
    return "Not set" if current_language() == EN else "未填写"


def _bucket_order() -> list[str]:
    from loandesk.postloan.models import DelinquencyBucket

    return list(DelinquencyBucket.objects.order_by("min_dpd").values_list("code", flat=True))


def _drill(dim: Dim, key: str, query: ChartQuery) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(next level or None, filter patch) for a tap on the row `key`."""
    if dim.key == "time":
        start = date.fromisoformat(key)
        sub = bucket_period(start, dim.grain or "day", query.period)
        nxt = NEXT_GRAIN.get(dim.grain or "day")
        patch = {"period": sub.as_dict()}
        return ({"dimension": "time", "grain": nxt} if nxt else None), patch
    if dim.key == "org":
        if key.startswith("d"):
            node = int(key[1:])
            return {"dimension": "org", "node": node}, {"org": node}
        if key.startswith("h"):
            return {"dimension": "officer"}, {"department_exact": int(key[1:])}
        return None, {}
    if dim.key == "officer":
        return None, {"officer": [int(key)]} if key.isdigit() else {}
    if dim.key in ("product",):
        return {"dimension": "officer"}, ({"product": [int(key)]} if key.isdigit() else {})
    return {"dimension": "officer"}, {dim.key: [key]}


def run_query(*, actor: User, query: ChartQuery) -> dict[str, Any]:
    require_perm(actor, VIEW)
    if query.dimension == "org" and query.node and "org" not in query.filters:
        # A level of the org tree shows only that node's subtree.
        query = replace(query, filters={**query.filters, "org": query.node})
    metrics = [resolve_metric(k) for k in query.metrics]
    ignored: set[str] = set()
    sources = {m.src.key: m.src for m in metrics}
    for metric in metrics:
        for k in metric.ratio_of or ():
            sources[METRICS[k].src.key] = METRICS[k].src
    main_dim: Dim | None = None
    series_dim: Dim | None = None
    dims_for: dict[str, list[Dim]] = {}
    for key, src in sources.items():
        dims: list[Dim] = []
        if query.dimension:
            dims.append(build_dim(src, query.dimension, query.grain, query.node))
        if query.series:
            dims.append(build_dim(src, query.series, query.series_grain, None))
        dims_for[key] = dims
        if dims:
            main_dim = main_dim or dims[0]
            if len(dims) > 1:
                series_dim = series_dim or dims[1]

    def evaluate(period: Period, *, grouped: bool) -> Values:
        return _evaluate(
            metrics,
            actor=actor,
            query=query,
            period=period,
            dims_for=dims_for if grouped else {k: [] for k in dims_for},
            ignored=ignored,
        )

    current = evaluate(query.period, grouped=bool(main_dim))
    if not main_dim:
        totals = current[("", "")]
    elif all(m.sums_up for m in metrics):
        totals = _totals_from_groups(current, metrics)  # saves a query per chart
    else:
        totals = evaluate(query.period, grouped=False)[("", "")]
    previous_period = query.period.previous() if query.compare else None
    prev_rows: Values = {}
    prev_totals: dict[str, Any] | None = None
    comparable = all(m.supports_time for m in metrics)
    if previous_period is not None and comparable:
        if main_dim and main_dim.key != "time" and not series_dim:
            prev_rows = evaluate(previous_period, grouped=True)
        prev_totals = evaluate(previous_period, grouped=False)[("", "")]

    def values_of(got: Mapping[str, Any]) -> dict[str, Any]:
        return {m.key: fmt(m.unit, got.get(m.key, _zero_value(m))) for m in metrics}

    out: dict[str, Any] = {
        "metrics": [
            {
                "key": m.key,
                "label": m.label(),
                "unit": m.unit,
                "higher_is_better": m.higher_is_better,
            }
            for m in metrics
        ],
        "dimension": None,
        "series": None,
        "rows": [],
        "totals": values_of(totals),
        "previous_totals": values_of(prev_totals) if prev_totals is not None else None,
        "period": query.period.as_dict(),
        "previous_period": previous_period.as_dict()
        if previous_period is not None and prev_totals is not None
        else None,
        "ignored_filters": [],
    }
    if main_dim is None:
        out["ignored_filters"] = sorted(ignored)
        return out

    row_keys = {gk[0] for gk in current}  # grouped: ("", "") is a real, empty-valued group
    series_keys = sorted({gk[1] for gk in current if gk[1]}) if series_dim else []
    if main_dim.key == "time":
        row_keys |= {d.isoformat() for d in _time_buckets(query.period, main_dim.grain or "day")}
    if series_dim is not None and series_dim.key == "time":
        buckets = _time_buckets(query.period, series_dim.grain or "day")
        series_keys = sorted(set(series_keys) | {d.isoformat() for d in buckets})
    if series_dim is not None and series_dim.key == "bucket":
        order = _bucket_order()
        series_keys.sort(key=lambda k: order.index(k) if k in order else len(order))
    labels = _labels(main_dim, row_keys)
    rows: list[dict[str, Any]] = []
    first = metrics[0]
    for key in row_keys:
        nxt, patch = _drill(main_dim, key, query)
        if series_dim is not None:
            values = {
                sk: fmt(first.unit, current.get((key, sk), {}).get(first.key, _zero_value(first)))
                for sk in series_keys
            }
        else:
            values = values_of(current.get((key, ""), {}))
        row: dict[str, Any] = {
            "key": key,
            "label": labels.get(key, key),
            "values": values,
            "drill": nxt,
            "filter": patch,
        }
        if prev_rows or (previous_period is not None and main_dim.key != "time" and comparable):
            row["previous"] = values_of(prev_rows.get((key, ""), {}))
        rows.append(row)
    rows = _sorted(rows, main_dim, query, first)
    if query.limit:
        rows = rows[: query.limit]
    out["rows"] = rows
    out["dimension"] = {
        "key": main_dim.key,
        "requested": query.dimension,
        "label": dim_label(main_dim.key),
        "grain": main_dim.grain,
        "node": query.node,
        "path": _org_path(query.node) if query.dimension == "org" else [],
    }
    if series_dim is not None:
        series_labels = _labels(series_dim, series_keys)
        out["series"] = {
            "key": series_dim.key,
            "label": dim_label(series_dim.key),
            "items": [{"key": k, "label": series_labels.get(k, k)} for k in series_keys],
        }
    out["ignored_filters"] = sorted(ignored)
    return out


def _sort_number(value: Any) -> Decimal:
    if value is None:
        return Decimal("-Infinity")
    return Decimal(str(value))


def _natural(row: Mapping[str, Any]) -> tuple[int, int, str]:
    """Numeric keys (ids) as numbers, before the others as text."""
    key = str(row["key"])
    return (0, int(key), "") if key.isascii() and key.isdigit() else (1, 0, key)


def _sorted(rows: list[dict[str, Any]], dim: Dim, query: ChartQuery, first: Metric) -> list[Any]:
    sort = query.sort or ("key" if dim.key in ("time", "bucket", "classification") else "")
    # Key order first, so that rows tied on a value keep one order (the sorts below are stable)
    # whatever order the groups came from the engine in: facts and loans differed on PostgreSQL.
    rows = sorted(rows, key=_natural)
    if sort == "key":
        if dim.key == "bucket":
            order = _bucket_order()
            return sorted(rows, key=lambda r: order.index(r["key"]) if r["key"] in order else 99)
        return sorted(rows, key=lambda r: r["key"])
    if query.series:
        return sorted(
            rows,
            key=lambda r: sum(
                (_sort_number(v) for v in r["values"].values() if v is not None), Decimal(0)
            ),
            reverse=sort != "value_asc",
        )
    return sorted(
        rows,
        key=lambda r: _sort_number(r["values"].get(first.key)),
        reverse=sort != "value_asc",
    )


def _org_path(node: int | None) -> list[dict[str, Any]]:
    """Breadcrumbs from the top to `node`."""
    if node is None:
        return []
    dept = Department.objects.filter(pk=node).first()
    if dept is None:
        raise NotFound()
    ids = [int(p) for p in dept.path.strip("/").split("/") if p.isdigit()]
    names = dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [{"node": i, "label": names.get(i, str(i))} for i in ids]


def with_patch(query: ChartQuery, patch: Mapping[str, Any]) -> ChartQuery:
    """The query narrowed by a row's filter patch (drill-down)."""
    filters = dict(query.filters)
    period = query.period
    for key, value in patch.items():
        if key == "period":
            period = parse_period(value)
        else:
            filters[key] = value
    return replace(query, filters=_clean_filters(filters), period=period)


__all__ = ["ChartQuery", "Period", "message", "parse_query", "run_query", "with_patch"]
