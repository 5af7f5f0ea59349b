"""The metric catalog: every metric defined once (key, labels, unit, source, SQL aggregation)
and reused by every chart, KPI card, drill-down and export.

A metric belongs to a *source*: a table reached through the ORM, its data-scope spec (the same
ScopeSpec the app's selectors use), the date column the period and the time dimension apply to,
and the ORM paths of the dimensions it can be broken down by. A metric's value is computed from
named SQL aggregates (`parts`, each with its own FILTER) so that several metrics of one source
are evaluated in one statement; ratios are finished in Python from the parts (never from
averaged ratios). Medians and percentiles are computed by PostgreSQL's percentile_cont where it
is the engine (`sql_stat`), and in Python from the fetched samples on SQLite (which has no
percentile aggregate): the same linear interpolation, rounded the same way, on both engines.

Money parts are integer fen; percents are Decimal percent (12.5 = 12.5 %).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
)

from loandesk.accounts.scoping import ScopeSpec
from loandesk.core.i18n import EN, current_language

Number = int | Decimal | None

UNITS = ("count", "money", "percent", "hours", "days", "number")


@dataclass(frozen=True)
class Source:
    key: str
    model: str  # "app_label.Model"
    scope: ScopeSpec
    # None: a stock measured as of now (outstanding principal); no period, no time dimension.
    date_field: str | None
    date_is_datetime: bool = True
    dims: Mapping[str, str] = field(default_factory=dict)
    base: Callable[[], Q] = lambda: Q()
    records: str | None = None  # the record list a drill-down shows (selectors.RECORD_KINDS)
    # Snapshot sources hold one row set per date: a period takes its last date, not the sum.
    snapshot: bool = False


def _business_date() -> date:
    from loandesk.core.services import get_business_date

    return get_business_date()


_CUSTOMER_DIMS = {"channel": "customer__source_channel", "region": "customer__province_code"}
_LOAN_DIMS = {
    "product": "product_id",
    "bucket": "bucket",
    "classification": "classification",
    **_CUSTOMER_DIMS,
}
_LIVE_LOAN = ("active", "overdue")

SOURCES: dict[str, Source] = {
    s.key: s
    for s in [
        Source(
            "customers",
            "customers.Customer",
            ScopeSpec(),
            "created_at",
            dims={"channel": "source_channel", "region": "province_code"},
            base=lambda: ~Q(status="merged"),
            records="customers",
        ),
        Source(
            "applications",
            "forms.Record",
            ScopeSpec(),
            "created_at",
            dims=_CUSTOMER_DIMS,
            base=lambda: Q(form__kind="application"),
            records="applications",
        ),
        Source(
            "approvals",
            "flows.FlowInstance",
            ScopeSpec(owner="initiator", department="department"),
            "finished_at",
            dims=_CUSTOMER_DIMS,
            base=lambda: Q(status__in=("approved", "rejected"), finished_at__isnull=False),
            records="approvals",
        ),
        Source(
            "disbursements",
            "lending.Loan",
            ScopeSpec(),
            # The value date (a business date), not the wall-clock moment of booking.
            "start_date",
            date_is_datetime=False,
            dims=_LOAN_DIMS,
            records="loans",
        ),
        Source(
            "portfolio",
            "lending.Loan",
            ScopeSpec(),
            None,
            dims=_LOAN_DIMS,
            base=lambda: Q(status__in=_LIVE_LOAN),
            records="loans",
        ),
        Source(
            "installments",
            "lending.Installment",
            ScopeSpec(owner="loan__owner", department="loan__department"),
            "due_date",
            date_is_datetime=False,
            dims={
                "product": "loan__product_id",
                "channel": "loan__customer__source_channel",
                "region": "loan__customer__province_code",
                "bucket": "loan__bucket",
            },
            # Only installments already due on the business date count.
            base=lambda: Q(due_date__lte=_business_date()),
            records="installments",
        ),
        Source(
            "snapshots",
            "postloan.PortfolioSnapshot",
            ScopeSpec(owner=None, department="department"),
            "date",
            date_is_datetime=False,
            dims={"product": "product_id", "bucket": "bucket"},
            snapshot=True,
        ),
        Source(
            "channel_costs",
            "reports.ChannelCost",
            ScopeSpec(owner=None, department=None),
            "month",
            date_is_datetime=False,
            dims={"channel": "channel"},
        ),
    ]
}


def ratio(num: Number, den: Number) -> Decimal | None:
    """num / den as a percent, None when there is nothing to divide by."""
    if not den:
        return None
    return (Decimal(num or 0) * 100 / Decimal(den)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _interpolate(values: list[Decimal], q: Decimal) -> Decimal | None:
    """Linear interpolation between closest ranks (PostgreSQL percentile_cont, Excel
    PERCENTILE.INC), exact in Decimal."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def hours_percentile(rows: list[tuple[Any, ...]], q: Decimal) -> Decimal | None:
    """The q-percentile of finished - started, in hours rounded half up to 0.1: interpolated
    on exact seconds and divided by 3600 once, as PostgreSQL's HoursPercentile does (dividing
    each sample first could turn an exact x.x5 into x.x4999… and round it down)."""
    seconds = [
        Decimal((finished - started) // timedelta(microseconds=1)) / 1_000_000
        for started, finished in rows
    ]
    value = _interpolate(seconds, q)
    return None if value is None else (value / 3600).quantize(Decimal("0.1"), ROUND_HALF_UP)


class HoursPercentile(Aggregate):
    """PostgreSQL: percentile_cont over the intervals `finished - started`, in hours rounded
    half up to 0.1 — `hours_percentile`, computed in the database."""

    template = (
        "ROUND(EXTRACT(EPOCH FROM percentile_cont(%(fraction)s) WITHIN GROUP"
        " (ORDER BY %(expressions)s)) / 3600, 1)"
    )
    output_field = DecimalField()

    def __init__(self, fraction: str, started: str, finished: str) -> None:
        span = ExpressionWrapper(F(finished) - F(started), output_field=DurationField())
        super().__init__(span, fraction=fraction)


@dataclass(frozen=True)
class Metric:
    key: str
    label_zh: str
    label_en: str
    unit: str
    source: str
    parts: Callable[[], dict[str, Any]] = lambda: {}
    value: Callable[[Mapping[str, Any]], Number] = lambda p: p.get("v") or 0
    where: Callable[[], Q] = lambda: Q()
    # Python statistics: fields fetched per row, reduced by `stat` for each group.
    samples: tuple[str, ...] = ()
    stat: Callable[[list[tuple[Any, ...]]], Number] | None = None
    # The same statistic as one SQL aggregate, used on PostgreSQL instead of fetching every
    # sample row (a 30-day median over a million approvals: ~100,000 rows to Python).
    sql_stat: Callable[[], Any] | None = None
    # num / den of two other metrics (possibly of different sources), per dimension row.
    ratio_of: tuple[str, str] | None = None
    ratio_unit_scale: int = 1
    default_dimension: str = "time"
    default_chart: str = "line"
    higher_is_better: bool = True
    description_zh: str = ""
    description_en: str = ""
    group: str = "business"
    # Admin-defined metrics over a form carry their own source (see query.custom_metric).
    custom_source: Source | None = None
    # Parts that add up across groups (SUM, COUNT): a total is the sum of the grouped parts.
    additive: bool = True

    def label(self, lang: str | None = None) -> str:
        return self.label_en if (lang or current_language()) == EN else self.label_zh

    @property
    def src(self) -> Source:
        if self.custom_source is not None:
            return self.custom_source
        if self.ratio_of:
            return SOURCES[METRICS[self.ratio_of[1]].source]
        return SOURCES[self.source]

    @property
    def sums_up(self) -> bool:
        """Whether the total over groups can be computed from the groups' parts."""
        if self.ratio_of:
            return all(METRICS[k].sums_up for k in self.ratio_of)
        return self.additive and self.stat is None and not self.src.snapshot

    @property
    def supports_time(self) -> bool:
        if self.ratio_of:
            return all(METRICS[k].supports_time for k in self.ratio_of)
        return self.src.date_field is not None

    def dimensions(self) -> list[str]:
        """The dimensions this metric can be broken down by."""
        if self.ratio_of:
            both = [set(METRICS[k].dimensions()) for k in self.ratio_of]
            return [d for d in METRICS[self.ratio_of[0]].dimensions() if d in both[1]]
        src = self.src
        dims: list[str] = []
        if src.date_field:
            dims.append("time")
        if src.scope.department:
            dims.append("org")
        if src.scope.owner:
            dims.append("officer")
        dims.extend(src.dims)
        return dims


def _count(where: Q | None = None) -> Callable[[], dict[str, Any]]:
    return lambda: {"v": Count("pk", filter=where)}


def _sum(column: str, where: Q | None = None) -> Callable[[], dict[str, Any]]:
    return lambda: {"v": Sum(column, filter=where)}


_DECIDED = Q(status__in=("approved", "rejected"))
_APPROVED = Q(status="approved")
_OVERDUE = Q(days_past_due__gt=0)


def _snapshot_parts() -> dict[str, Any]:
    return {"o": Sum("outstanding_principal_fen"), "d": Sum("overdue_principal_fen")}


def _on_time() -> dict[str, Any]:
    return {
        "ok": Count("pk", filter=Q(status="paid", paid_off_on__lte=F("due_date"))),
        "n": Count("pk"),
    }


def _live_loans() -> dict[str, Any]:
    return {
        "o": Sum("outstanding_principal_fen"),
        "d": Sum("outstanding_principal_fen", filter=_OVERDUE),
        "p30": Sum("outstanding_principal_fen", filter=Q(days_past_due__gt=30)),
        "p90": Sum("outstanding_principal_fen", filter=Q(days_past_due__gt=90)),
    }


CATALOG: list[Metric] = [
    Metric(
        "new_customers",
        "新增客户",
        "New customers",
        "count",
        "customers",
        parts=_count(),
        description_zh="期间内建档的客户数(不含已合并)",
        description_en="Customers created in the period (merged duplicates excluded)",
    ),
    Metric(
        "applications",
        "贷款申请",
        "Applications",
        "count",
        "applications",
        parts=_count(),
        description_zh="期间内提交的申请类表单记录数",
        description_en="Application-form records created in the period",
    ),
    Metric(
        "approvals_decided",
        "审批完成数",
        "Decided approvals",
        "count",
        "approvals",
        parts=_count(),
        group="approval",
    ),
    Metric(
        "approvals_approved",
        "审批通过数",
        "Approved",
        "count",
        "approvals",
        parts=_count(_APPROVED),
        where=lambda: _APPROVED,
        group="approval",
    ),
    Metric(
        "approval_rate",
        "审批通过率",
        "Approval rate",
        "percent",
        "approvals",
        parts=lambda: {"ok": Count("pk", filter=_APPROVED), "n": Count("pk")},
        value=lambda p: ratio(p.get("ok"), p.get("n")),
        default_dimension="org",
        default_chart="bar",
        description_zh="期间内办结的审批中通过的比例(通过 ÷ (通过 + 拒绝))",
        description_en="Approved ÷ (approved + rejected) among approvals finished in the period",
        group="approval",
    ),
    Metric(
        "approval_hours_median",
        "审批时长中位数",
        "Approval time (median)",
        "hours",
        "approvals",
        samples=("started_at", "finished_at"),
        stat=lambda rows: hours_percentile(rows, Decimal("0.5")),
        sql_stat=lambda: HoursPercentile("0.5", "started_at", "finished_at"),
        higher_is_better=False,
        default_dimension="org",
        default_chart="bar",
        description_zh="发起到办结的小时数,中位数",
        description_en="Hours from start to decision, median",
        group="approval",
    ),
    Metric(
        "approval_hours_p90",
        "审批时长 P90",
        "Approval time (p90)",
        "hours",
        "approvals",
        samples=("started_at", "finished_at"),
        stat=lambda rows: hours_percentile(rows, Decimal("0.9")),
        sql_stat=lambda: HoursPercentile("0.9", "started_at", "finished_at"),
        higher_is_better=False,
        default_dimension="org",
        default_chart="bar",
        group="approval",
    ),
    Metric(
        "disbursement_count",
        "放款笔数",
        "Loans disbursed",
        "count",
        "disbursements",
        parts=_count(),
        default_chart="bar",
    ),
    Metric(
        "disbursement_amount",
        "放款金额",
        "Amount disbursed",
        "money",
        "disbursements",
        parts=_sum("principal_fen"),
        default_chart="bar",
    ),
    Metric(
        "active_loans",
        "在贷笔数",
        "Loans on book",
        "count",
        "portfolio",
        parts=_count(),
        default_dimension="product",
        default_chart="pie",
        group="portfolio",
    ),
    Metric(
        "outstanding_principal",
        "贷款余额",
        "Outstanding principal",
        "money",
        "portfolio",
        parts=_sum("outstanding_principal_fen"),
        default_dimension="product",
        default_chart="pie",
        description_zh="还款中与逾期贷款的剩余本金(当前)",
        description_en="Principal still owed on active and overdue loans (now)",
        group="portfolio",
    ),
    Metric(
        "overdue_loans",
        "逾期笔数",
        "Overdue loans",
        "count",
        "portfolio",
        parts=_count(_OVERDUE),
        where=lambda: _OVERDUE,
        default_dimension="bucket",
        default_chart="bar",
        higher_is_better=False,
        group="risk",
    ),
    Metric(
        "overdue_principal",
        "逾期余额",
        "Overdue balance",
        "money",
        "portfolio",
        parts=_sum("outstanding_principal_fen", _OVERDUE),
        where=lambda: _OVERDUE,
        default_dimension="bucket",
        default_chart="bar",
        higher_is_better=False,
        description_zh="逾期天数大于 0 的贷款的剩余本金",
        description_en="Outstanding principal of loans more than 0 days past due",
        group="risk",
    ),
    Metric(
        "overdue_rate",
        "逾期率",
        "Overdue rate",
        "percent",
        "portfolio",
        parts=_live_loans,
        value=lambda p: ratio(p.get("d"), p.get("o")),
        default_dimension="org",
        default_chart="bar",
        higher_is_better=False,
        description_zh="逾期余额 ÷ 贷款余额",
        description_en="Overdue balance ÷ outstanding principal",
        group="risk",
    ),
    Metric(
        "par30",
        "PAR30",
        "PAR30",
        "percent",
        "portfolio",
        parts=_live_loans,
        value=lambda p: ratio(p.get("p30"), p.get("o")),
        default_dimension="product",
        default_chart="bar",
        higher_is_better=False,
        description_zh="逾期超过 30 天的贷款余额 ÷ 贷款余额",
        description_en="Outstanding of loans more than 30 days past due ÷ outstanding",
        group="risk",
    ),
    Metric(
        "par90",
        "PAR90",
        "PAR90",
        "percent",
        "portfolio",
        parts=_live_loans,
        value=lambda p: ratio(p.get("p90"), p.get("o")),
        default_dimension="product",
        default_chart="bar",
        higher_is_better=False,
        description_zh="逾期超过 90 天的贷款余额 ÷ 贷款余额",
        description_en="Outstanding of loans more than 90 days past due ÷ outstanding",
        group="risk",
    ),
    Metric(
        "due_installments",
        "到期期数",
        "Installments due",
        "count",
        "installments",
        parts=_count(),
        default_chart="bar",
        group="repayment",
    ),
    Metric(
        "on_time_rate",
        "按时还款率",
        "On-time repayment rate",
        "percent",
        "installments",
        parts=_on_time,
        value=lambda p: ratio(p.get("ok"), p.get("n")),
        description_zh="期间内到期的期次中,在到期日当天或之前还清的比例",
        description_en="Installments due in the period that were paid off on or before the due "
        "date",
        group="repayment",
    ),
    Metric(
        "snapshot_outstanding",
        "贷款余额(日终快照)",
        "Outstanding (COB snapshot)",
        "money",
        "snapshots",
        parts=_snapshot_parts,
        value=lambda p: p.get("o") or 0,
        description_zh="各期末最后一个日终快照的贷款余额",
        description_en="Outstanding principal in the last COB snapshot of each period",
        group="portfolio",
    ),
    Metric(
        "snapshot_overdue_rate",
        "逾期率(日终快照)",
        "Overdue rate (COB snapshot)",
        "percent",
        "snapshots",
        parts=_snapshot_parts,
        value=lambda p: ratio(p.get("d"), p.get("o")),
        higher_is_better=False,
        group="risk",
    ),
    Metric(
        "channel_cost",
        "渠道成本",
        "Channel cost",
        "money",
        "channel_costs",
        parts=_sum("cost_fen"),
        default_dimension="channel",
        default_chart="bar",
        higher_is_better=False,
        group="channel",
    ),
    Metric(
        "acquisition_cost",
        "获客成本",
        "Acquisition cost",
        "money",
        "",
        ratio_of=("channel_cost", "new_customers"),
        default_dimension="channel",
        default_chart="bar",
        higher_is_better=False,
        description_zh="渠道成本 ÷ 该渠道新增客户数(元/人)",
        description_en="Channel cost ÷ new customers of the channel (yuan per customer)",
        group="channel",
    ),
]

METRICS: dict[str, Metric] = {m.key: m for m in CATALOG}


def register(metric: Metric) -> None:
    """Other apps (repayments, collections) add their metrics here."""
    METRICS[metric.key] = metric


# Dimension key → (zh, en) labels. Drill paths: org goes company → branch → team → officer →
# records; time goes year → quarter → month → day → records; the others go to officers.
DIMENSIONS: dict[str, tuple[str, str]] = {
    "time": ("时间", "Time"),
    "org": ("组织", "Organisation"),
    "officer": ("客户经理", "Officer"),
    "product": ("产品", "Product"),
    "channel": ("渠道", "Channel"),
    "bucket": ("逾期分档", "Bucket"),
    "classification": ("五级分类", "Classification"),
    "region": ("地区(省)", "Region (province)"),
}

GRAINS = ("day", "week", "month", "quarter", "year")
NEXT_GRAIN = {"year": "quarter", "quarter": "month", "month": "day", "week": "day"}


# --- repayment and collection metrics (their tables come from the lending / postloan apps) ---


def _has_model(app_label: str, name: str) -> bool:
    from django.apps import apps

    try:
        apps.get_model(app_label, name)
    except LookupError:
        return False
    return True


def _register_collection_metrics() -> None:
    if _has_model("lending", "Repayment"):
        SOURCES["repayments"] = Source(
            "repayments",
            "lending.Repayment",
            ScopeSpec(owner="loan__owner", department="loan__department"),
            "value_date",
            date_is_datetime=False,
            dims={
                "product": "loan__product_id",
                "channel": "loan__customer__source_channel",
                "region": "loan__customer__province_code",
            },
            base=lambda: Q(status="posted"),
            records="repayments",
        )
        register(
            Metric(
                "repayment_amount",
                "回款金额",
                "Repayments received",
                "money",
                "repayments",
                parts=_sum("amount_fen"),
                default_chart="bar",
                description_zh="期间内入账(未红冲)的还款金额,按起息日",
                description_en="Posted (not reversed) repayments by value date",
                group="repayment",
            )
        )
    if _has_model("postloan", "CollectionCase"):
        case_dims = {
            "product": "loan__product_id",
            "bucket": "opened_bucket",
            "region": "loan__customer__province_code",
        }
        SOURCES["collection_cases"] = Source(
            "collection_cases",
            "postloan.CollectionCase",
            ScopeSpec(owner="collector", department="department"),
            "opened_at",
            dims=case_dims,
            records="cases",
        )
        paid = Q(status="closed", close_reason="paid")
        register(
            Metric(
                "collection_cases",
                "催收案件",
                "Collection cases",
                "count",
                "collection_cases",
                parts=_count(),
                default_dimension="officer",
                default_chart="bar",
                higher_is_better=False,
                description_zh="期间内新开的催收案件(客户经理维度为催收员)",
                description_en="Collection cases opened in the period (officer = collector)",
                group="collection",
            )
        )
        register(
            Metric(
                "collection_recovery_rate",
                "催收回收率",
                "Collection recovery rate",
                "percent",
                "collection_cases",
                parts=lambda: {"ok": Count("pk", filter=paid), "n": Count("pk")},
                value=lambda p: ratio(p.get("ok"), p.get("n")),
                default_dimension="officer",
                default_chart="bar",
                description_zh="期间内新开案件中已还清结案的比例",
                description_en="Cases opened in the period that closed as paid",
                group="collection",
            )
        )
    if _has_model("postloan", "PromiseToPay"):
        SOURCES["promises"] = Source(
            "promises",
            "postloan.PromiseToPay",
            ScopeSpec(owner="case__collector", department="case__department"),
            "decided_on",
            date_is_datetime=False,
            dims={"bucket": "case__opened_bucket"},
            base=lambda: Q(status__in=("kept", "broken")),
        )
        register(
            Metric(
                "ptp_kept_rate",
                "承诺还款兑现率",
                "Promise-to-pay kept rate",
                "percent",
                "promises",
                parts=lambda: {"ok": Count("pk", filter=Q(status="kept")), "n": Count("pk")},
                value=lambda p: ratio(p.get("ok"), p.get("n")),
                default_dimension="officer",
                default_chart="bar",
                description_zh="期间内判定的承诺中已兑现的比例(兑现 ÷ (兑现 + 违约))",
                description_en="Kept ÷ (kept + broken) among promises decided in the period",
                group="collection",
            )
        )


_register_collection_metrics()
