"""Month-end facts for the vintage and roll-rate analyses (ADR 0013).

A loan's state at a month end E (reports.vintage's definition: written off, closed, or the
delinquency bucket of the oldest installment due by E and unpaid at E) only changes after E
through a correction dated into the past. So each closed month end is computed once, by one
set-based statement over the loans and installments, and kept as counts per (month end,
disbursement month, department, owner, product, state at the previous month end, state at E) in
reports_monthendfact, and, for the roll rate, the same without the disbursement month for the
loans whose previous state is a bucket (cohort NULL). The analyses then sum a few thousand rows
instead of restating every installment of the book at every month end of the period (tens of
seconds at a million loans).

Who takes a month end: COB's snapshot step on the last day of the month (`take([E])` after the
day's repayments and states are in), and `ensure()` for any month end an analysis needs that
nobody took yet (a fresh install, a restore, a bulk load) or that was taken with other
delinquency buckets. `reports.facts.rebuild()` takes them all again (a restatement).

The statement, per month end E with P the month end before it:
- `loan_x`: each loan with installments, with the date its last installment was paid off
  (NULL while any is unpaid) — closed at E ⇔ that date ≤ E;
- `late`: per (loan, month end d) the oldest installment due by d and unpaid at d. Only an
  installment still unpaid after its due month can be late at any month end, so the others are
  filtered out before the range join (most of the book pays within the month);
- written off at d ⇔ status written_off and closed_at before the local midnight after d
  (computed here in Python per month end, so the SQL needs no time zones).
"""

import time as clock
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from loandesk.reports.models import MonthEndClose, MonthEndFact

CLOSED = "closed"
WRITTEN_OFF = "written_off"
NOT_ON_BOOK = ""  # `previous` of a loan disbursed after the previous month end
_COLUMNS = "month_end, cohort, department_id, owner_id, product_id, previous, state, loans"


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end_of(d: date) -> date:
    """The last day of d's month."""
    first = month_start(d)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def previous_month_end(end: date) -> date:
    return month_start(end) - timedelta(days=1)


def last_closed(business_date: date) -> date:
    """The latest month end whose close of business has run: strictly before the business
    date (on the last day of a month that day is still open)."""
    return month_start(business_date) - timedelta(days=1)


def signature(buckets: Sequence[tuple[str, int]]) -> str:
    return ",".join(f"{code}:{floor}" for code, floor in buckets)


def _next_local_midnight(end: date) -> datetime:
    tz = timezone.get_default_timezone()
    return datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)


def _sql(ends: Sequence[date], buckets: Sequence[tuple[str, int]]) -> tuple[str, list[Any]]:
    pg = connection.vendor == "postgresql"
    needed = sorted(set(ends) | {previous_month_end(e) for e in ends})
    params: list[Any] = []
    cast = "::date" if pg else ""
    stamp = "::timestamptz" if pg else ""
    adapt = connection.ops.adapt_datetimefield_value

    ends_rows = []
    for e in ends:
        p = previous_month_end(e)
        ends_rows.append(f"(%s{cast}, %s{cast}, %s{stamp}, %s{stamp})")
        params += [e.isoformat(), p.isoformat(), adapt(_next_local_midnight(e))]
        params += [adapt(_next_local_midnight(p))]
    needed_rows = ", ".join([f"(%s{cast})"] * len(needed))
    params += [d.isoformat() for d in needed]
    params.append(needed[-1].isoformat())
    if pg:
        later_month = "date_trunc('month', i.paid_off_on) > date_trunc('month', i.due_date)"
        cohort = "date_trunc('month', x.start_date)::date"

        def days(later: str, earlier: str) -> str:
            return f"({later} - {earlier})"

        range_join = "JOIN"
    else:
        later_month = "strftime('%%Y-%%m', i.paid_off_on) > strftime('%%Y-%%m', i.due_date)"
        cohort = "date(x.start_date, 'start of month')"

        def days(later: str, earlier: str) -> str:
            return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

        # SQLite: the installments outside, the few month ends inside (not a scan per date).
        range_join = "CROSS JOIN"

    def state(at: str, at_next: str, late: str) -> tuple[str, list[Any]]:
        whens = [
            f"WHEN x.written_off AND x.closed_at < {at_next} THEN %s",
            f"WHEN x.all_paid IS NOT NULL AND x.all_paid <= {at} THEN %s",
        ]
        args: list[Any] = [WRITTEN_OFF, CLOSED]
        for code, floor in reversed(buckets):
            if floor > 0:
                whens.append(f"WHEN {days(at, late + '.oldest')} >= %s THEN %s")
                args += [floor, code]
        return f"CASE {' '.join(whens)} ELSE %s END", [*args, buckets[0][0]]

    now_state, now_args = state("e.e", "e.e_next", "a")
    before_state, before_args = state("e.p", "e.p_next", "b")
    sql = f"""
        WITH ends (e, p, e_next, p_next) AS (VALUES {", ".join(ends_rows)}),
        needed (d) AS (VALUES {needed_rows}),
        paid AS (
            SELECT loan_id,
                   CASE WHEN COUNT(paid_off_on) = COUNT(*) THEN MAX(paid_off_on) END AS all_paid
            FROM lending_installment GROUP BY loan_id
        ),
        loan_x AS (
            SELECT l.id, l.start_date, l.department_id, l.owner_id, l.product_id, l.closed_at,
                   (l.status = 'written_off' AND l.closed_at IS NOT NULL) AS written_off,
                   paid.all_paid
            FROM lending_loan l JOIN paid ON paid.loan_id = l.id
        ),
        late AS (
            SELECT i.loan_id, n.d, MIN(i.due_date) AS oldest
            FROM lending_installment i
            {range_join} needed n
                ON i.due_date <= n.d AND (i.paid_off_on IS NULL OR i.paid_off_on > n.d)
            WHERE (i.paid_off_on IS NULL OR {later_month}) AND i.due_date <= %s
            GROUP BY i.loan_id, n.d
        )
        SELECT e.e, {cohort}, x.department_id, x.owner_id, x.product_id,
               CASE WHEN x.start_date > e.p THEN %s ELSE {before_state} END,
               {now_state}, COUNT(*)
        FROM loan_x x
        JOIN ends e ON x.start_date <= e.e
        LEFT JOIN late a ON a.loan_id = x.id AND a.d = e.e
        LEFT JOIN late b ON b.loan_id = x.id AND b.d = e.p
        GROUP BY 1, 2, 3, 4, 5, 6, 7
    """  # noqa: S608 - table names and SQL fragments are ours; every value is a parameter
    return sql, [*params, NOT_ON_BOOK, *before_args, *now_args]


def _roll_rows_sql(
    ends: Sequence[date], buckets: Sequence[tuple[str, int]]
) -> tuple[str, list[Any]]:
    """The roll-rate rows of these month ends: the loans whose previous state is a bucket,
    summed over the disbursement months (cohort NULL)."""
    table = MonthEndFact._meta.db_table
    end_marks = ", ".join(["%s"] * len(ends))
    code_marks = ", ".join(["%s"] * len(buckets))
    sql = (
        f"INSERT INTO {table} ({_COLUMNS})"  # noqa: S608 - our table; values are parameters
        " SELECT month_end, NULL, department_id, owner_id, product_id, previous, state,"
        f" SUM(loans) FROM {table}"
        f" WHERE month_end IN ({end_marks}) AND cohort IS NOT NULL AND previous IN ({code_marks})"
        " GROUP BY month_end, department_id, owner_id, product_id, previous, state"
    )
    return sql, [*(e.isoformat() for e in ends), *(code for code, _ in buckets)]


_ATTEMPTS = 3  # optimistic takes before one that locks out back-dated writers meanwhile


def take(ends: Iterable[date], buckets: Sequence[tuple[str, int]]) -> int:
    """(Re)writes the facts of these month ends from the loans and installments as they stand;
    returns the loans counted (summed over the month ends).

    Without holding locks while it computes: each month end's close row is claimed first (its
    `version` read), the states of all the month ends are computed in one statement, and each
    month end's rows are written in a short transaction only if its version is unchanged — a
    back-dated write meanwhile bumped it (migration 0008's triggers), and that month end is
    computed again. The last attempt, and a call inside a caller's transaction (whose claims
    the triggers of other sessions cannot see yet), hold the lock of `_lock` instead."""
    pending = sorted(set(ends))
    for e in pending:
        if e != month_end_of(e):
            raise ValueError(f"not a month end: {e}")  # the `late` prefilter relies on it
    total = 0
    for attempt in range(_ATTEMPTS):
        if not pending:
            break
        locked = attempt == _ATTEMPTS - 1 or connection.in_atomic_block
        with transaction.atomic() if locked else nullcontext():
            if locked:
                _lock()
            versions = _claim(pending)
            if not locked:
                _barrier()
            started = clock.perf_counter()
            sql, params = _sql(pending, buckets)
            with connection.cursor() as cursor:
                # SELECT, then INSERT the few thousand rows per month end: PostgreSQL runs the
                # SELECT of an INSERT … SELECT without parallel workers (one month end at 1m
                # took 51 s that way, 12 s this way).
                cursor.execute(sql, params)
                rows = cursor.fetchall()
            spent = clock.perf_counter() - started
            by_end: dict[str, list[Any]] = {}
            for row in rows:
                by_end.setdefault(str(row[0])[:10], []).append(row)
            retry = []
            for e in pending:
                written = _write(e, by_end.get(e.isoformat(), []), versions[e], buckets, spent)
                if written is None:
                    retry.append(e)
                else:
                    total += written
            pending = retry
        if locked:
            break
    return total


def _claim(ends: Sequence[date]) -> dict[date, int]:
    """Each month end's close row (created stale when missing) and its current version."""
    versions = {}
    for e in ends:
        close, _ = MonthEndClose.objects.get_or_create(
            month_end=e,
            defaults={
                "buckets": "",
                "loans": 0,
                "taken_at": timezone.now(),
                "seconds": 0.0,
                "stale": True,
            },
        )
        versions[e] = close.version
    return versions


def _barrier() -> None:
    """PostgreSQL, after the claim: waits until every transaction whose trigger already marked
    month ends has committed (they hold ROW EXCLUSIVE on the close table; SHARE waits for
    them), so the computation sees their rows. A back-dated write whose trigger ran before a
    month end's first claim found no row to bump; without this it could commit after the
    computation started and never be counted. Later writers bump the claimed rows."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {MonthEndClose._meta.db_table} IN SHARE MODE")


_ROWS_PER_INSERT = 500  # 4,000 parameters


def _max_params() -> int:
    # Django's SQLite limit is 999 (what SQLite before 3.32 takes): 124 rows per INSERT there.
    return connection.features.max_query_params or 65535


def _write(
    end: date, rows: list[Any], version: int, buckets: Sequence[tuple[str, int]], spent: float
) -> int | None:
    """Replaces the month end's facts with `rows` unless its version moved since the claim
    (then None: compute it again)."""
    table = MonthEndFact._meta.db_table
    with transaction.atomic():
        close = MonthEndClose.objects.select_for_update().get(month_end=end)
        if close.version != version:
            return None
        MonthEndFact.objects.filter(month_end=end).delete()
        with connection.cursor() as cursor:
            # Many rows per statement: one INSERT per row was half of a month end's take.
            one = f"({', '.join(['%s'] * 8)})"
            per = max(1, min(_ROWS_PER_INSERT, _max_params() // 8))
            for start in range(0, len(rows), per):
                chunk = rows[start : start + per]
                cursor.execute(
                    f"INSERT INTO {table} ({_COLUMNS}) VALUES {', '.join([one] * len(chunk))}",  # noqa: S608
                    [value for row in chunk for value in row],
                )
            cursor.execute(*_roll_rows_sql([end], buckets))
        loans = sum(int(row[7]) for row in rows)  # the cohort rows; roll-rate rows repeat them
        close.buckets = signature(buckets)
        close.loans = loans
        close.stale = False
        close.taken_at = timezone.now()
        close.seconds = spent
        close.save()
    return loans


def _lock() -> None:
    """Inside the caller's transaction: one taker at a time, and no write into a closed month
    slips past a take. PostgreSQL: the close table in EXCLUSIVE mode (readers go on): the
    triggers of migration 0008 update it for such a write, so a write whose trigger ran first
    commits before the take reads (and is counted), and one whose trigger runs later waits and
    then marks the month end stale. Ordinary repayments never touch the table. SQLite: its
    write lock, taken at BEGIN (IMMEDIATE), already serialises every writer."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {MonthEndClose._meta.db_table} IN EXCLUSIVE MODE")


def missing(ends: Iterable[date], buckets: Sequence[tuple[str, int]]) -> list[date]:
    """The month ends among `ends` not taken, taken with other buckets, or marked stale."""
    wanted = set(ends)
    sign = signature(buckets)
    have = set(
        MonthEndClose.objects.filter(month_end__in=wanted, buckets=sign, stale=False).values_list(
            "month_end", flat=True
        )
    )
    return sorted(wanted - have)


def ensure(ends: Iterable[date], buckets: Sequence[tuple[str, int]]) -> list[date]:
    """Takes the month ends among `ends` that are missing (see `missing`); returns them. Two
    callers at once may both take one; the second writes the same rows again."""
    pending = missing(ends, buckets)
    if pending:
        take(pending, buckets)
    return pending


def all_closed_ends(business_date: date) -> list[date]:
    """Every month end from the first disbursement's through the last closed one."""
    from loandesk.lending.models import Loan

    first = Loan.objects.order_by("start_date").values_list("start_date", flat=True).first()
    last = last_closed(business_date)
    out: list[date] = []
    if first is None:
        return out
    end = month_end_of(first)
    while end <= last:
        out.append(end)
        end = month_end_of(end + timedelta(days=1))
    return out


def retake_all(business_date: date, buckets: Sequence[tuple[str, int]]) -> int:
    """Restates every closed month end from the data as it stands (reports.facts.rebuild)."""
    with transaction.atomic():
        forget_all()
        return take(all_closed_ends(business_date), buckets)


def forget_all() -> None:
    """Deletes every month end's facts and close row (the analyses take them again as they
    need them), after `_lock`: in the caller's transaction, or its own."""
    with transaction.atomic(savepoint=False):
        _lock()
        MonthEndFact.objects.all().delete()
        MonthEndClose.objects.all().delete()
