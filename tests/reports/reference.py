"""An independent reference for the report metrics: raw rows fetched with plain .values() and
aggregated in Python (loops, statistics), never through the engine's SQL aggregation."""

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from loandesk.accounts.models import Department, User
from loandesk.customers.models import Customer
from loandesk.flows.models import FlowInstance
from loandesk.forms.models import Record
from loandesk.lending.models import Installment, Loan
from loandesk.postloan.models import PortfolioSnapshot
from loandesk.reports.models import ChannelCost

TZ = ZoneInfo("Asia/Shanghai")
Row = dict[str, Any]


def local_day(value: datetime) -> date:
    return timezone.localtime(value, TZ).date()


def money(fen: int | Decimal) -> str:
    return str((Decimal(fen) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP))


def pct(num: int | Decimal, den: int | Decimal) -> str | None:
    if not den:
        return None
    return str((Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def one(value: Decimal | float | None) -> str | None:
    if value is None:
        return None
    return str(Decimal(str(value)).quantize(Decimal("0.1"), ROUND_HALF_UP))


class Viewer:
    """Who may see a row: the data-scope rule restated over plain values."""

    def __init__(self, user: User) -> None:
        roles = list(user.roles.values_list("data_scope", flat=True))
        rank = ["self", "department", "department_tree", "all"]
        self.scope = "all" if user.is_superuser else max(roles, key=rank.index, default="self")
        self.user_id = user.pk
        self.dept_id = user.department_id
        self.paths = dict(Department.objects.values_list("pk", "path"))
        self.my_path = self.paths.get(user.department_id or -1, "")

    def sees(self, owner_id: int | None, dept_id: int | None) -> bool:
        if self.scope == "all":
            return True
        if owner_id == self.user_id:
            return True
        if self.scope == "self" or self.dept_id is None:
            return False
        if self.scope == "department":
            return dept_id == self.dept_id
        return self.paths.get(dept_id or -1, "").startswith(self.my_path)


def in_period(d: date | None, start: date, end: date) -> bool:
    return d is not None and start <= d <= end


def loans(viewer: Viewer) -> list[Row]:
    rows = Loan.objects.values(
        "id",
        "owner_id",
        "department_id",
        "product_id",
        "principal_fen",
        "outstanding_principal_fen",
        "status",
        "days_past_due",
        "bucket",
        "classification",
        "start_date",
        "customer__source_channel",
        "customer__province_code",
    )
    return [r for r in rows if viewer.sees(r["owner_id"], r["department_id"])]


def live(rows: Iterable[Row]) -> list[Row]:
    return [r for r in rows if r["status"] in ("active", "overdue")]


def customers(viewer: Viewer, start: date, end: date) -> list[Row]:
    rows = Customer.objects.exclude(status="merged").values(
        "id", "owner_id", "department_id", "created_at", "source_channel", "province_code"
    )
    return [
        r
        for r in rows
        if viewer.sees(r["owner_id"], r["department_id"])
        and in_period(local_day(r["created_at"]), start, end)
    ]


def applications(viewer: Viewer, start: date, end: date) -> list[Row]:
    rows = Record.objects.filter(form__kind="application").values(
        "id", "owner_id", "department_id", "created_at"
    )
    return [
        r
        for r in rows
        if viewer.sees(r["owner_id"], r["department_id"])
        and in_period(local_day(r["created_at"]), start, end)
    ]


def decided(viewer: Viewer, start: date, end: date) -> list[Row]:
    rows = FlowInstance.objects.values(
        "id", "initiator_id", "department_id", "status", "started_at", "finished_at"
    )
    return [
        r
        for r in rows
        if r["status"] in ("approved", "rejected")
        and r["finished_at"] is not None
        and viewer.sees(r["initiator_id"], r["department_id"])
        and in_period(local_day(r["finished_at"]), start, end)
    ]


def installments(viewer: Viewer, start: date, end: date, today: date) -> list[Row]:
    rows = Installment.objects.values(
        "id", "due_date", "status", "paid_off_on", "loan__owner_id", "loan__department_id"
    )
    return [
        r
        for r in rows
        if viewer.sees(r["loan__owner_id"], r["loan__department_id"])
        and in_period(r["due_date"], start, end)
        and r["due_date"] <= today
    ]


def seconds(r: Row) -> Decimal:
    """The approval's duration in exact seconds (microseconds kept)."""
    return Decimal((r["finished_at"] - r["started_at"]) // timedelta(microseconds=1)) / 1_000_000


def quantile_hours(values: list[Decimal], q: int) -> str | None:
    """statistics' inclusive method is the linear interpolation percentile_cont uses; over
    exact seconds (Decimal all the way), in hours to 0.1 half up."""
    if not values:
        return None
    if len(values) == 1:
        return one(values[0] / 3600)
    if q == 50:
        return one(statistics.median(values) / 3600)
    cuts = statistics.quantiles(values, n=10, method="inclusive")
    return one(cuts[8] / 3600)


def snapshot_rows(viewer: Viewer, start: date, end: date) -> list[Row]:
    rows = [
        r
        for r in PortfolioSnapshot.objects.values(
            "date", "department_id", "outstanding_principal_fen", "overdue_principal_fen"
        )
        if in_period(r["date"], start, end) and viewer.sees(None, r["department_id"])
    ]
    if not rows:
        return []
    last = max(r["date"] for r in rows)
    return [r for r in rows if r["date"] == last]


def channel_costs(viewer: Viewer, start: date, end: date) -> list[Row]:
    if viewer.scope != "all":
        return []
    return [
        r
        for r in ChannelCost.objects.values("channel", "month", "cost_fen")
        if in_period(r["month"], start, end)
    ]


def collection_values(viewer: Viewer, start: date, end: date) -> dict[str, Any]:
    from loandesk.lending.models import Repayment
    from loandesk.postloan.models import CollectionCase, PromiseToPay

    pays = [
        r
        for r in Repayment.objects.values(
            "amount_fen", "value_date", "status", "loan__owner_id", "loan__department_id"
        )
        if r["status"] == "posted"
        and in_period(r["value_date"], start, end)
        and viewer.sees(r["loan__owner_id"], r["loan__department_id"])
    ]
    cases = [
        c
        for c in CollectionCase.objects.values(
            "collector_id", "department_id", "opened_at", "status", "close_reason"
        )
        if in_period(local_day(c["opened_at"]), start, end)
        and viewer.sees(c["collector_id"], c["department_id"])
    ]
    recovered = [c for c in cases if c["status"] == "closed" and c["close_reason"] == "paid"]
    promises = [
        p
        for p in PromiseToPay.objects.values(
            "status", "decided_on", "case__collector_id", "case__department_id"
        )
        if p["status"] in ("kept", "broken")
        and in_period(p["decided_on"], start, end)
        and viewer.sees(p["case__collector_id"], p["case__department_id"])
    ]
    kept = [p for p in promises if p["status"] == "kept"]
    return {
        "repayment_amount": money(sum(r["amount_fen"] for r in pays)),
        "collection_cases": len(cases),
        "collection_recovery_rate": pct(len(recovered), len(cases)),
        "ptp_kept_rate": pct(len(kept), len(promises)),
    }


def metric_values(viewer: Viewer, start: date, end: date, today: date) -> dict[str, Any]:
    """Every built-in metric's total, formatted as the API formats it."""
    book = loans(viewer)
    disbursed = [r for r in book if in_period(r["start_date"], start, end)]
    on_book = live(book)
    outstanding = sum(r["outstanding_principal_fen"] for r in on_book)

    def over(days: int) -> int:
        return sum(r["outstanding_principal_fen"] for r in on_book if r["days_past_due"] > days)

    decisions = decided(viewer, start, end)
    durations = [seconds(r) for r in decisions]
    due = installments(viewer, start, end, today)
    on_time = [r for r in due if r["status"] == "paid" and r["paid_off_on"] <= r["due_date"]]
    snaps = snapshot_rows(viewer, start, end)
    snap_out = sum(r["outstanding_principal_fen"] for r in snaps)
    snap_over = sum(r["overdue_principal_fen"] for r in snaps)
    costs = sum(r["cost_fen"] for r in channel_costs(viewer, start, end))
    new = len(customers(viewer, start, end))
    approved = [r for r in decisions if r["status"] == "approved"]
    return {
        "new_customers": new,
        "applications": len(applications(viewer, start, end)),
        "approvals_decided": len(decisions),
        "approvals_approved": len(approved),
        "approval_rate": pct(len(approved), len(decisions)),
        "approval_hours_median": quantile_hours(durations, 50),
        "approval_hours_p90": quantile_hours(durations, 90),
        "disbursement_count": len(disbursed),
        "disbursement_amount": money(sum(r["principal_fen"] for r in disbursed)),
        "active_loans": len(on_book),
        "outstanding_principal": money(outstanding),
        "overdue_loans": len([r for r in on_book if r["days_past_due"] > 0]),
        "overdue_principal": money(over(0)),
        "overdue_rate": pct(over(0), outstanding),
        "par30": pct(over(30), outstanding),
        "par90": pct(over(90), outstanding),
        "due_installments": len(due),
        "on_time_rate": pct(len(on_time), len(due)),
        "snapshot_outstanding": money(snap_out),
        "snapshot_overdue_rate": pct(snap_over, snap_out),
        "channel_cost": money(costs),
        "acquisition_cost": money(Decimal(costs) / new) if new else None,
        **collection_values(viewer, start, end),
    }


def group(rows: Iterable[Row], key: Callable[[Row], Any]) -> dict[Any, list[Row]]:
    out: dict[Any, list[Row]] = defaultdict(list)
    for r in rows:
        out[key(r)].append(r)
    return out


def month_start(d: date) -> date:
    return d.replace(day=1)


def days_before(d: date, n: int) -> date:
    return d - timedelta(days=n)


# --- vintage and roll rate: loan states at month ends, restated over plain rows --------------

BUCKET_FLOORS = [("M0", 0), ("M1", 1), ("M2", 31), ("M3", 61), ("M3+", 91)]


def month_end_of(first: date) -> date:
    y, m = divmod(first.year * 12 + first.month, 12)
    return date(y, m + 1, 1) - timedelta(days=1)


def shift_month(first: date, n: int) -> date:
    y, m = divmod(first.year * 12 + first.month - 1 + n, 12)
    return date(y, m + 1, 1)


def installments_by_loan() -> dict[int, list[Row]]:
    rows = Installment.objects.values("loan_id", "due_date", "paid_off_on")
    return group(rows, lambda r: r["loan_id"])


def loan_state(loan: Row, insts: list[Row], end: date) -> str | None:
    """A loan's state at the end of a day: None before it starts or without installments."""
    if loan["start_date"] > end or not insts:
        return None
    closed_at = loan.get("closed_at")
    if loan["status"] == "written_off" and closed_at and local_day(closed_at) <= end:
        return "written_off"

    def paid_by_end(r: Row) -> bool:
        return r["paid_off_on"] is not None and r["paid_off_on"] <= end

    if all(paid_by_end(r) for r in insts):
        return "closed"
    late = [r["due_date"] for r in insts if r["due_date"] <= end and not paid_by_end(r)]
    dpd = (end - min(late)).days if late else 0
    return [code for code, floor in BUCKET_FLOORS if dpd >= floor][-1]


def loans_with_dates(viewer: Viewer) -> list[Row]:
    rows = Loan.objects.values(
        "id", "owner_id", "department_id", "product_id", "status", "start_date", "closed_at"
    )
    return [r for r in rows if viewer.sees(r["owner_id"], r["department_id"])]


def vintage(viewer: Viewer, cohorts: list[date], last_end: date) -> dict[str, Any]:
    """{cohort: {"loans": n, "m1": {mob: pct}, "m3": {mob: pct}}}."""
    insts = installments_by_loan()
    out: dict[str, Any] = {}
    for cohort in cohorts:
        members = [r for r in loans_with_dates(viewer) if month_start(r["start_date"]) == cohort]
        m1: dict[str, str | None] = {}
        m3: dict[str, str | None] = {}
        for mob in range(1, 25):
            end = month_end_of(shift_month(cohort, mob))
            if end > last_end:
                break
            got = [loan_state(r, insts.get(r["id"], []), end) for r in members]
            m1[str(mob)] = pct(
                sum(s in ("M1", "M2", "M3", "M3+", "written_off") for s in got), len(members)
            )
            m3[str(mob)] = pct(sum(s in ("M3", "M3+", "written_off") for s in got), len(members))
        out[f"{cohort:%Y-%m}"] = {"loans": len(members), "m1": m1, "m3": m3}
    return out


def roll_rate(viewer: Viewer, months: list[date]) -> dict[tuple[str, str], list[int]]:
    """(from, to) → loan ids moving between consecutive month ends, over the months."""
    insts = installments_by_loan()
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for month in months:
        before_end = month - timedelta(days=1)
        after_end = month_end_of(month)
        for r in loans_with_dates(viewer):
            rows = insts.get(r["id"], [])
            before = loan_state(r, rows, before_end)
            if before in (None, "closed", "written_off"):
                continue
            after = loan_state(r, rows, after_end)
            assert after is not None
            out[(str(before), after)].append(r["id"])
    return out
