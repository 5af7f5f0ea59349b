"""Pre-aggregated facts for the report engine (ADR 0012).

`reports_portfoliofact` holds the live book (loans active or overdue) as signed delta rows per
(department, owner, product, bucket, classification, days-past-due class), written by database
triggers on lending_loan in the same transaction as every loan write. The stock metrics
(loans on book, outstanding and overdue principal, overdue rate, PAR30/90) are answered from
it — a few thousand rows instead of a scan of every loan — whenever the query's dimensions and
filters are ones the fact key carries; any other query (a channel or region breakdown, a
custom metric) reads the loans as before. Both paths give identical answers (tests/reports/
test_facts.py); nothing is cached, so the answer is as live as the loans table.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum

from loandesk.accounts.scoping import ScopeSpec
from loandesk.reports.metrics import Metric, Source

PORTFOLIO_FACTS = Source(
    "portfolio_facts",
    "reports.PortfolioFact",
    ScopeSpec(),  # owner / department: the loan's, as on the loans table
    None,
    dims={"product": "product_id", "bucket": "bucket", "classification": "classification"},
    records="loans",
)

# Customers, application records and decided approvals count on their local date in this zone
# (the triggers of migrations 0005 and 0007).
FACT_TIME_ZONE = "Asia/Shanghai"


def _business_date() -> Any:
    from loandesk.core.services import get_business_date

    return get_business_date()


def _daily(key: str, dims: Mapping[str, str], base: Callable[[], Q]) -> Source:
    return Source(key, "reports.DailyFact", ScopeSpec(), "day", False, dims=dims, base=base)


CUSTOMER_FACTS = _daily(
    "customer_facts",
    {"channel": "channel", "region": "region"},
    lambda: Q(source="customer"),
)
# The same customers by month (day = the month's first day): long periods read these.
CUSTOMER_MONTH_FACTS = _daily(
    "customer_month_facts",
    {"channel": "channel", "region": "region"},
    lambda: Q(source="customer_m"),
)
DISBURSEMENT_FACTS = _daily(
    "disbursement_facts",
    {"product": "product_id"},
    lambda: Q(source="disbursement"),
)
# Only installments already due on the business date count (as metrics.SOURCES).
DUE_FACTS = _daily(
    "due_facts",
    {"product": "product_id"},
    lambda: Q(source="due", day__lte=_business_date()),
)

# Application-form records by the local date of created_at, keyed by the record's department
# and owner; approvals decided (approved or rejected) by the local date of finished_at, keyed by
# the instance's department and initiator, `ok` = approved (migration 0007).
APPLICATION_FACTS = _daily("application_facts", {}, lambda: Q(source="applied"))
APPLICATION_MONTH_FACTS = _daily("application_month_facts", {}, lambda: Q(source="applied_m"))
DECISION_FACTS = _daily("decision_facts", {}, lambda: Q(source="decided"))
DECISION_MONTH_FACTS = _daily("decision_month_facts", {}, lambda: Q(source="decided_m"))

_OVERDUE = Q(dpd_class__gte=1)


def _live() -> dict[str, Any]:
    return {
        "o": Sum("outstanding_fen"),
        "d": Sum("outstanding_fen", filter=_OVERDUE),
        "p30": Sum("outstanding_fen", filter=Q(dpd_class__gte=2)),
        "p90": Sum("outstanding_fen", filter=Q(dpd_class__gte=3)),
    }


@dataclass(frozen=True)
class Plan:
    """How the facts answer the metrics of one raw source."""

    source: Source
    # metric key → its parts over the fact table (the same part names as metrics.py's)
    parts: Mapping[str, Callable[[], dict[str, Any]]]
    # the SUM that says a group holds at least one underlying row
    present: Callable[[], Any]
    zone: str | None = None  # the facts hold local dates of this zone
    monthly: Source | None = None  # the same facts by month, for the whole months of a period


_SCOPE_KEYS = frozenset({"org", "officer"})
_SCOPE_FILTERS = frozenset({"org", "department_exact", "officer"})

PLANS: dict[str, Plan] = {
    "portfolio": Plan(
        PORTFOLIO_FACTS,
        {
            "active_loans": lambda: {"v": Sum("loans")},
            "outstanding_principal": lambda: {"v": Sum("outstanding_fen")},
            "overdue_loans": lambda: {"v": Sum("loans", filter=_OVERDUE)},
            "overdue_principal": lambda: {"v": Sum("outstanding_fen", filter=_OVERDUE)},
            "overdue_rate": _live,
            "par30": _live,
            "par90": _live,
        },
        lambda: Sum("loans"),
    ),
    "customers": Plan(
        CUSTOMER_FACTS,
        {"new_customers": lambda: {"v": Sum("n")}},
        lambda: Sum("n"),
        zone=FACT_TIME_ZONE,
        monthly=CUSTOMER_MONTH_FACTS,
    ),
    "applications": Plan(
        APPLICATION_FACTS,
        {"applications": lambda: {"v": Sum("n")}},
        lambda: Sum("n"),
        zone=FACT_TIME_ZONE,
        monthly=APPLICATION_MONTH_FACTS,
    ),
    "approvals": Plan(
        DECISION_FACTS,
        {
            "approvals_decided": lambda: {"v": Sum("n")},
            "approvals_approved": lambda: {"v": Sum("ok")},
            "approval_rate": lambda: {"ok": Sum("ok"), "n": Sum("n")},
        },
        lambda: Sum("n"),
        zone=FACT_TIME_ZONE,
        monthly=DECISION_MONTH_FACTS,
    ),
    "disbursements": Plan(
        DISBURSEMENT_FACTS,
        {
            "disbursement_count": lambda: {"v": Sum("n")},
            "disbursement_amount": lambda: {"v": Sum("amount_fen")},
        },
        lambda: Sum("n"),
    ),
    "installments": Plan(
        DUE_FACTS,
        {
            "due_installments": lambda: {"v": Sum("n")},
            "on_time_rate": lambda: {"ok": Sum("ok"), "n": Sum("n")},
        },
        lambda: Sum("n"),
    ),
}
PRESENT = "_facts_n"


def enabled() -> bool:
    return bool(getattr(settings, "LOANDESK_REPORT_FACTS", True))


def plan_for(
    src: Source, metrics: list[Metric], dim_keys: list[str], filters: Mapping[str, Any]
) -> Plan | None:
    """The facts that answer these metrics of `src` exactly, or None (read the raw rows)."""
    if not enabled():
        return None
    plan = PLANS.get(src.key)
    if plan is None or (plan.zone is not None and plan.zone != settings.TIME_ZONE):
        return None
    fact = plan.source
    dims = _SCOPE_KEYS | set(fact.dims) | ({"time"} if fact.date_field else set())
    if not (
        all(m.key in plan.parts and m.custom_source is None and m.stat is None for m in metrics)
        and all(k in dims for k in dim_keys)
        and all(k in _SCOPE_FILTERS or k in fact.dims for k in filters)
    ):
        return None
    return plan


_PORTFOLIO_KEY = "department_id, owner_id, product_id, bucket, classification, dpd_class"
_DAILY_KEY = "source, day, department_id, owner_id, product_id, channel, region"
# (table, key columns, summed columns)
_TABLES = (
    ("reports_portfoliofact", _PORTFOLIO_KEY, ("loans", "outstanding_fen")),
    ("reports_dailyfact", _DAILY_KEY, ("n", "amount_fen", "ok")),
)
# The daily facts are folded per (source, day) group that has delta rows (folded IS NULL):
# COB's day touches today's due installments and a few back-dated days, not every day on file.
_GROUPS = {"reports_dailyfact": "source, day"}


def _fold_sql(table: str, key: str, sums: tuple[str, ...], pg: bool) -> str:
    """PostgreSQL: one statement, so exactly the rows it summed are the rows it removed,
    whatever commits meanwhile. SQLite: the INSERT of the sums; the DELETE follows."""
    cols = ", ".join(sums)
    summed = ", ".join(f"SUM({c})" for c in sums)
    nonzero = " OR ".join(f"SUM({c}) <> 0" for c in sums)
    group = _GROUPS.get(table)
    flag, mark = ("folded", ", true") if group else ("", "")
    into = f"INSERT INTO {table} ({key}, {cols}{', ' + flag if flag else ''})"
    if pg:
        where = (
            f" WHERE ({group}) IN (SELECT DISTINCT {group} FROM {table} WHERE folded IS NULL)"  # noqa: S608
            if group
            else ""
        )
        return (
            f"WITH gone AS (DELETE FROM {table}{where} RETURNING {key}, {cols})"  # noqa: S608
            f" {into} SELECT {key}, {summed}{mark} FROM gone GROUP BY {key} HAVING {nonzero}"
        )
    return (
        f"{into} SELECT {key}, {summed}{mark} FROM {table}"  # noqa: S608
        f" WHERE {_sqlite_scope(table)} GROUP BY {key} HAVING {nonzero}"
    )


def _sqlite_scope(table: str) -> str:
    """The rows one SQLite compaction folds: those up to the `top` id read first (the rows it
    inserts come after), in the groups that have deltas."""
    group = _GROUPS.get(table)
    if group is None:
        return "id <= %s"
    return (
        f"id <= %s AND ({group}) IN"  # noqa: S608
        f" (SELECT DISTINCT {group} FROM {table} WHERE folded IS NULL AND id <= %s)"
    )


def compact() -> dict[str, int]:
    """Folds the delta rows into one row per key (sums unchanged); returns the rows left per
    table.

    PostgreSQL: one statement per table (DELETE … RETURNING feeding the INSERT), so concurrent
    writers are never blocked (they only insert). SQLite: one write transaction (a single
    writer). The daily facts refold only the days that changed since the last compaction."""
    left: dict[str, int] = {}
    pg = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        for table, key, sums in _TABLES:
            if pg:
                cursor.execute(_fold_sql(table, key, sums, pg))
            else:
                cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608
                top = cursor.fetchone()[0] or 0
                params = [top] * _sqlite_scope(table).count("%s")
                cursor.execute(_fold_sql(table, key, sums, pg), params)
                cursor.execute(f"DELETE FROM {table} WHERE {_sqlite_scope(table)}", params)  # noqa: S608
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
            left[table] = int(cursor.fetchone()[0])
    return left


# --- rebuilding the facts from the tables they summarise -------------------------------------
# The same sums the triggers of migrations 0004, 0005 and 0007 keep (their backfill statements),
# written already folded: for after a bulk load that ran with the triggers suspended
# (bench/generate), or to repair the facts after a restore from an older backup.

_LIVE = "('active', 'overdue')"
_DPD_CLASS = (
    "(CASE WHEN days_past_due > 90 THEN 3 WHEN days_past_due > 30 THEN 2"
    " WHEN days_past_due > 0 THEN 1 ELSE 0 END)"
)
_DAILY_COLS = _DAILY_KEY + ", n, amount_fen, ok, folded"
_ON_TIME = "(CASE WHEN i.status = 'paid' AND i.paid_off_on <= i.due_date THEN 1 ELSE 0 END)"
# SQLite has no time zones: the triggers use China's fixed offset (no daylight saving).
_SQLITE_OFFSET = "+8 hours"


def _local_days(column: str, pg: bool) -> tuple[str, str]:
    """SQL for the local date of a timestamp column and its month's first day."""
    if pg:
        day = f"({column} AT TIME ZONE '{FACT_TIME_ZONE}')::date"
        return day, f"date_trunc('month', {day})::date"
    day = f"date({column}, '{_SQLITE_OFFSET}')"
    return day, f"date({day}, 'start of month')"


def _rebuild_sql(pg: bool) -> list[str]:
    day, month = _local_days("created_at", pg)
    customers = [
        f"INSERT INTO reports_dailyfact ({_DAILY_COLS})"  # noqa: S608
        f" SELECT '{source}', {when}, department_id, owner_id, NULL, source_channel,"
        " province_code, COUNT(*), 0, 0, true"
        " FROM customers_customer WHERE status <> 'merged'"
        f" GROUP BY {when}, department_id, owner_id, source_channel, province_code"
        for source, when in (("customer", day), ("customer_m", month))
    ]
    applied = [
        f"INSERT INTO reports_dailyfact ({_DAILY_COLS})"  # noqa: S608
        f" SELECT '{source}', {when}, r.department_id, r.owner_id, NULL, '', '',"
        " COUNT(*), 0, 0, true"
        " FROM forms_record r JOIN forms_formdefinition f ON f.id = r.form_id"
        " WHERE f.kind = 'application'"
        f" GROUP BY {when}, r.department_id, r.owner_id"
        for source, when in zip(
            ("applied", "applied_m"), _local_days("r.created_at", pg), strict=True
        )
    ]
    decided = [
        f"INSERT INTO reports_dailyfact ({_DAILY_COLS})"  # noqa: S608
        f" SELECT '{source}', {when}, department_id, initiator_id, NULL, '', '',"
        " COUNT(*), 0, SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), true"
        " FROM flows_flowinstance"
        " WHERE status IN ('approved', 'rejected') AND finished_at IS NOT NULL"
        f" GROUP BY {when}, department_id, initiator_id"
        for source, when in zip(
            ("decided", "decided_m"), _local_days("finished_at", pg), strict=True
        )
    ]
    return [
        "DELETE FROM reports_portfoliofact",
        "DELETE FROM reports_dailyfact",
        f"INSERT INTO reports_portfoliofact ({_PORTFOLIO_KEY}, loans, outstanding_fen)"  # noqa: S608
        f" SELECT department_id, owner_id, product_id, bucket, classification, {_DPD_CLASS},"
        " COUNT(*), SUM(outstanding_principal_fen)"
        f" FROM lending_loan WHERE status IN {_LIVE}"
        f" GROUP BY department_id, owner_id, product_id, bucket, classification, {_DPD_CLASS}",
        *customers,
        f"INSERT INTO reports_dailyfact ({_DAILY_COLS})"  # noqa: S608
        " SELECT 'disbursement', start_date, department_id, owner_id, product_id, '', '',"
        " COUNT(*), SUM(principal_fen), 0, true"
        " FROM lending_loan GROUP BY start_date, department_id, owner_id, product_id",
        f"INSERT INTO reports_dailyfact ({_DAILY_COLS})"  # noqa: S608
        " SELECT 'due', i.due_date, l.department_id, l.owner_id, l.product_id, '', '',"
        f" COUNT(*), 0, SUM({_ON_TIME}), true"
        " FROM lending_installment i JOIN lending_loan l ON l.id = i.loan_id"
        " GROUP BY i.due_date, l.department_id, l.owner_id, l.product_id",
        *applied,
        *decided,
    ]


def rebuild(*, month_ends: bool = True) -> dict[str, int]:
    """Recomputes both fact tables from the loans, installments, customers, application records
    and flow instances, folded (one row per key), and restates every closed month end's
    analysis facts (reports.month_end); returns the rows written per table. One transaction:
    readers see the old facts or the new ones. Writers of the six source tables wait until it
    commits (PostgreSQL: they are locked in SHARE mode, so new records, approval decisions and
    repayments queue for the minute or so a rebuild takes at 1m): run it in a quiet hour, or
    after a bulk load (triggers_suspended).

    `month_ends=False` leaves the month-end facts as they are, for a caller that restates them
    itself right after (the bench generator's load takes them on two connections,
    bench/generate/bulkload.py `rebuild_facts`)."""
    pg = connection.vendor == "postgresql"
    written: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if pg:
            # The loans' and installments' triggers append to the facts: no write may slip
            # between the DELETE and the INSERT … SELECT that already counted it.
            cursor.execute(f"LOCK TABLE {', '.join(_TRIGGER_TABLES)} IN SHARE MODE")
        for sql in _rebuild_sql(pg):
            cursor.execute(sql)
        for table, _, _ in _TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
            written[table] = int(cursor.fetchone()[0])
        if month_ends:
            from loandesk.reports import month_end, vintage

            month_end.retake_all(_business_date(), vintage.buckets())
            written["reports_monthendfact"] = month_end.MonthEndFact.objects.count()
    return written


_TRIGGER_TABLES = (
    "customers_customer",
    "lending_loan",
    "lending_installment",
    "forms_formdefinition",
    "forms_record",
    "flows_flowinstance",
)
# Those of migrations 0004, 0005, 0007 and 0008, all on _TRIGGER_TABLES.
TRIGGERS = frozenset(
    [f"reports_portfolio_fact_{op}" for op in ("insert", "update", "delete")]
    + [
        f"reports_daily_fact_{table}_{op}"
        for table in ("customer", "loan", "installment", "record", "instance")
        for op in ("insert", "update", "delete")
    ]
    + ["reports_daily_fact_form_update"]
    # migration 0008: month-end facts marked stale
    + [
        f"reports_month_end_{table}_{op}"
        for table in ("loan", "installment")
        for op in ("insert", "update", "delete")
    ]
)


@contextmanager
def triggers_suspended(
    rebuild_with: Callable[[], object] | None = None,
) -> Iterator[None]:
    """Bulk loads: the fact triggers do not fire inside (SQLite's row triggers cost a delta
    row per installment), and the facts are rebuilt once at the end (`rebuild`, or
    `rebuild_with` when given: the bench generator's, which restates the month ends on two
    connections). Nothing else may write those tables meanwhile. Call outside any transaction.

    A load that raises gets the triggers back but no rebuild (its facts are stale: generate
    into a fresh database). A process killed inside leaves PostgreSQL's triggers disabled (the
    next call finds and re-enables them) and SQLite's dropped: the next call refuses to run
    rather than leave the facts unmaintained for good."""
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if pg:
            cursor.execute(
                "SELECT tgname, tgrelid::regclass::text FROM pg_trigger"
                " WHERE NOT tgisinternal AND tgname LIKE 'reports\\_%%'"
                " AND tgrelid = ANY(%s::regclass[]) ORDER BY tgname",
                [list(_TRIGGER_TABLES)],
            )
            found = [(name, table) for name, table in cursor.fetchall()]
            for name, table in found:
                cursor.execute(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"')
        else:
            marks = ", ".join(["%s"] * len(_TRIGGER_TABLES))
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"  # noqa: S608
                f" AND name LIKE 'reports\\_%%' ESCAPE '\\' AND tbl_name IN ({marks})"
                " ORDER BY name",
                list(_TRIGGER_TABLES),
            )
            found = [(name, sql) for name, sql in cursor.fetchall()]
        missing = TRIGGERS - {name for name, _ in found}
        if missing:
            raise RuntimeError(
                "report fact triggers missing (a bulk load killed while they were suspended?):"
                f" {', '.join(sorted(missing))}; load into a fresh database"
            )
        if not pg:
            for name, _ in found:
                cursor.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, other in found:
                if pg:
                    cursor.execute(f'ALTER TABLE {other} ENABLE TRIGGER "{name}"')
                else:
                    cursor.execute(other)
    (rebuild_with or rebuild)()  # not after a failed load: its facts are not worth the minutes
