# ruff: noqa: S608  (SQL text is built from table names and fixed clauses; values are parameters)
"""Close of business (COB): the ordered, idempotent, resumable daily steps.

COB for business date D records D's closing position, then moves the business date to D + 1:

1. ``installments`` — pending → due on the due date; due/overdue installments whose principal,
   interest, fee and posted penalty are all paid → paid; due → overdue once D - due > grace.
2. ``loans`` — overdue_since (oldest unsettled overdue installment), days past due, bucket,
   five-category classification, status active ↔ overdue; publishes ``loan.became_overdue``
   and ``loan.bucket_changed`` in the same transaction.
3. ``penalty`` — penalty interest is computed on demand (docs/adr/0006); on a month end the
   accrued amount is posted into Installment.penalty_fen.
4. ``reminders`` — ``loan.installment_due_soon`` for installments due in N days.
4b. ``collections`` — promises to pay due by D - 1 are decided kept / broken (publishing
   ``collections.promise_broken``), cases of closed / written-off loans close, and open cases
   get the loan's DPD, bucket, overdue amount and priority.
5. ``snapshot`` — PortfolioSnapshot rows for D (department × product × bucket).

Steps 1–4 run per loan-id partition; 5 once. Each (step, partition) runs in ONE transaction that
also marks its CobStepRun done, so a crash at any point rolls back to the last finished
(step, partition), and re-running continues from there. Every step is a function of the
database and D only (never the wall clock), which is why a resumed run ends in the state of a
clean run. The business date moves in the same transaction that marks the run done.

The work is set-based SQL (UPDATE … WHERE with conditions) over the (status, due_date)
installment index and the (status, overdue_since) loan index: a day touches newly due or
overdue installments and delinquent loans, not the whole book.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import re
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from loandesk.core import audit
from loandesk.core.errors import Conflict, ValidationFailed
from loandesk.core.models import BusinessDate, OutboxEvent
from loandesk.core.services import get_business_date, today_local
from loandesk.lending.finance.penalty import OverdueInstallment, PenaltyTerms, accrue_penalty
from loandesk.lending.models import Installment, Loan
from loandesk.postloan import rules
from loandesk.postloan.models import (
    ClassificationThreshold,
    CobEventKey,
    CobRun,
    CobStepRun,
    DelinquencyBucket,
    PenaltyPosting,
    PortfolioSnapshot,
)

logger = logging.getLogger(__name__)

PARTITIONED_STEPS: tuple[str, ...] = (
    "installments",
    "loans",
    "penalty",
    "reminders",
    "collections",
)
GLOBAL_STEPS: tuple[str, ...] = ("snapshot",)
STEPS: tuple[str, ...] = PARTITIONED_STEPS + GLOBAL_STEPS
MAX_CATCH_UP_DAYS = 366
SQLITE_CACHE_KIB = 256 * 1024  # SQLite page cache of a COB step's connection

TOPIC_DUE_SOON = "loan.installment_due_soon"
TOPIC_OVERDUE = "loan.became_overdue"
TOPIC_BUCKET = "loan.bucket_changed"
TOPIC_PROMISE_BROKEN = "collections.promise_broken"
TOPIC_CASE_UPDATED = "collections.case_updated"

# interrupt(point, step_run) is called at every crash point: "before_commit" (the step's SQL
# has run, its transaction is still open) and "after_commit". Tests raise from it to simulate
# kill -9 (a BaseException, so nothing is cleaned up, exactly like a killed process).
Interrupt = Callable[[str, CobStepRun], None]

LIVE = ("active", "overdue")
LOAN = Loan._meta.db_table
INST = Installment._meta.db_table


def due_soon_days() -> int:
    return int(getattr(settings, "LOANDESK_COB_DUE_SOON_DAYS", 3))


def stale_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "LOANDESK_COB_STALE_SECONDS", 900)))


# --- configuration ----------------------------------------------------------------------------


def current_config() -> dict[str, Any]:
    buckets = [
        {"code": b.code, "min_dpd": b.min_dpd, "max_dpd": b.max_dpd}
        for b in DelinquencyBucket.objects.order_by("min_dpd")
    ] or [
        {"code": b.code, "min_dpd": b.min_dpd, "max_dpd": b.max_dpd} for b in rules.DEFAULT_BUCKETS
    ]
    thresholds = [
        {"classification": t.classification, "min_dpd": t.min_dpd}
        for t in ClassificationThreshold.objects.order_by("min_dpd")
    ] or [
        {"classification": t.classification, "min_dpd": t.min_dpd} for t in rules.DEFAULT_THRESHOLDS
    ]
    return {"buckets": buckets, "thresholds": thresholds, "due_soon_days": due_soon_days()}


@dataclass(frozen=True)
class Config:
    buckets: tuple[rules.Bucket, ...]
    thresholds: tuple[rules.Threshold, ...]
    due_soon_days: int

    @classmethod
    def of(cls, data: dict[str, Any]) -> Config:
        return cls(
            buckets=rules.validate_buckets([rules.Bucket(**b) for b in data["buckets"]]),
            thresholds=rules.validate_thresholds(
                [rules.Threshold(**t) for t in data["thresholds"]]
            ),
            due_soon_days=int(data.get("due_soon_days", 3)),
        )


# --- SQL helpers (SQLite and PostgreSQL) ------------------------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _date_param() -> str:
    return "%s::date" if _pg() else "%s"


def _days_between(param_sql: str, column: str) -> str:
    """Whole days from `column` to the date parameter."""
    if _pg():
        return f"({param_sql} - {column})"
    return f"CAST(julianday({param_sql}) - julianday({column}) AS INTEGER)"


def _plus_days(column: str, days_sql: str) -> str:
    if _pg():
        return f"({column} + {days_sql})"
    return f"date({column}, '+' || ({days_sql}) || ' days')"


def _range_q(step: CobStepRun, field: str = "loan_id") -> Q:
    if step.hi_id is None and step.lo_id <= 0:
        return Q()  # the whole book: see _range
    q = Q(**{f"{field}__gte": step.lo_id})
    return q if step.hi_id is None else q & Q(**{f"{field}__lte": step.hi_id})


def _range(column: str, step: CobStepRun) -> tuple[str, list[Any]]:
    if step.hi_id is None and step.lo_id <= 0:
        # The whole book (one partition): no predicate, so the planner picks the status index
        # rather than a scan of the loan_id index (SQLite has no histogram to see `>= 0`).
        return "1 = 1", []
    if step.hi_id is None:
        return f"{column} >= %s", [step.lo_id]
    return f"{column} BETWEEN %s AND %s", [step.lo_id, step.hi_id]


def bucket_case(column: str, buckets: Sequence[rules.Bucket]) -> tuple[str, list[Any]]:
    """CASE expression giving the bucket code for the DPD in `column` (same as rules.bucket_for)."""
    parts, params = [], []
    for b in buckets[:-1]:
        parts.append(f"WHEN {column} <= %s THEN %s")
        params += [b.max_dpd, b.code]
    params.append(buckets[-1].code)
    return f"(CASE {' '.join(parts)} ELSE %s END)", params


def classification_case(
    column: str, thresholds: Sequence[rules.Threshold]
) -> tuple[str, list[Any]]:
    """CASE expression giving the classification for the DPD in `column` (= rules.classify)."""
    parts, params = [], []
    for t in reversed(thresholds[1:]):
        parts.append(f"WHEN {column} >= %s THEN %s")
        params += [t.min_dpd, t.classification]
    params.append(thresholds[0].classification)
    return f"(CASE {' '.join(parts)} ELSE %s END)", params


def _as_date(value: Any) -> date:
    """A DATE column read through a raw cursor: a date on PostgreSQL, maybe text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _execute(sql: str, params: Sequence[Any]) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return max(cur.rowcount, 0)


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


SETTLED = (
    "paid_principal_fen >= principal_fen AND paid_interest_fen >= interest_fen"
    " AND paid_fee_fen >= fee_fen AND paid_penalty_fen >= penalty_fen"
)
SETTLED_I = "(" + re.sub(r"\b(\w+_fen)\b", r"i.\1", SETTLED) + ")"  # on installment alias i


# --- steps ------------------------------------------------------------------------------------


def step_installments(step: CobStepRun, on: date, cfg: Config) -> int:
    """Installments of D: the states they should be in (rules.installment_status).

    Pending installments of live loans that are due by D are decided in ONE statement —
    paid when settled, overdue past the grace, due otherwise — so each is written once even
    when a whole book is (re)computed; then due/overdue installments that were settled since
    become paid, and due ones past their grace become overdue. Every statement only matches
    rows whose state is wrong, so a rerun changes nothing."""
    d = _date_param()
    rng, rp = _range("i.loan_id", step)
    iso = on.isoformat()
    late = f"{_plus_days('i.due_date', 'l.grace_days')} < {d}"
    touched = 0
    # The oldest pending due date bounds the range from below: with `due_date <= D` alone
    # PostgreSQL's planner multiplies the two columns' selectivities (half the rows are
    # pending, half are due by D), expects millions of rows and scans the whole table, when
    # in a steady state only the day's newly due installments match.
    oldest = _fetch(f"SELECT MIN(due_date) FROM {INST} WHERE status = 'pending'", [])[0][0]
    if oldest is not None and _as_date(oldest) <= on:
        touched += _execute(
            f"UPDATE {INST} AS i SET"
            f" status = CASE WHEN {SETTLED_I} THEN 'paid' WHEN {late} THEN 'overdue'"
            " ELSE 'due' END,"
            f" paid_off_on = CASE WHEN {SETTLED_I} THEN COALESCE(i.paid_off_on, {d})"
            " ELSE i.paid_off_on END"
            f" FROM {LOAN} AS l WHERE l.id = i.loan_id AND l.status IN ('active', 'overdue')"
            f" AND i.status = 'pending' AND i.due_date >= {d} AND i.due_date <= {d} AND {rng}",
            [iso, iso, _as_date(oldest).isoformat(), iso, *rp],
        )
    rng, rp = _range("loan_id", step)
    touched += _execute(
        f"UPDATE {INST} SET status = 'paid', paid_off_on = COALESCE(paid_off_on, {d})"
        f" WHERE status IN ('due', 'overdue') AND {rng} AND {SETTLED}",
        [iso, *rp],
    )
    grace = f"(SELECT l.grace_days FROM {LOAN} l WHERE l.id = {INST}.loan_id)"
    touched += _execute(
        f"UPDATE {INST} SET status = 'overdue'"
        f" WHERE status = 'due' AND due_date < {d} AND {rng}"
        f" AND {_plus_days('due_date', grace)} < {d}",
        [iso, *rp, iso],
    )
    return touched


def _delinquent(step: CobStepRun) -> tuple[str, list[Any]]:
    """Loans COB must look at: overdue, or active with an overdue_since just set."""
    rng, rp = _range("id", step)
    if _pg():
        return (
            f"{rng} AND (status = 'overdue' OR (status = 'active' AND overdue_since IS NOT NULL))",
            rp,
        )
    # SQLite: its statistics say a third of the loans per status (no histograms), so the OR
    # above became a scan of every loan (0.8 s at 1m); the ids from the (status,
    # overdue_since) index, then a primary-key lookup each, touch only the ~24,000.
    return (
        f"id IN (SELECT id FROM {LOAN} WHERE status = 'overdue' AND {rng}"
        f" UNION ALL SELECT id FROM {LOAN} WHERE status = 'active'"
        f" AND overdue_since IS NOT NULL AND {rng})",
        [*rp, *rp],
    )


def step_loans(step: CobStepRun, on: date, cfg: Config) -> int:
    iso = on.isoformat()
    rng, rp = _range("id", step)
    irng, irp = _range("loan_id", step)
    oldest = (
        f"(SELECT MIN(i.due_date) FROM {INST} i WHERE i.loan_id = {LOAN}.id"
        " AND i.status = 'overdue')"
    )
    # Driven from the delinquent set (loans marked overdue, loans with an overdue
    # installment), not from every live loan: at 1m loans that is ~24,000 index lookups
    # instead of a walk over ~670,000 (docs/performance.md, COB at 1m).
    touched = _execute(
        f"UPDATE {LOAN} SET overdue_since = {oldest}"
        f" WHERE id IN (SELECT loan_id FROM {INST} WHERE status = 'overdue' AND {irng}"
        f" UNION SELECT id FROM {LOAN} WHERE status = 'overdue' AND {rng})"
        f" AND status IN ('active', 'overdue')"
        f" AND overdue_since IS DISTINCT FROM {oldest}",
        [*irp, *rp],
    )
    where, wp = _delinquent(step)
    # DPD, status, bucket and classification in one UPDATE (each delinquent loan written once a
    # day, not twice). The date is a literal here: it recurs in every branch of both CASEs.
    on_sql = f"DATE '{iso}'" if _pg() else f"'{iso}'"
    dpd = (
        f"(CASE WHEN overdue_since IS NULL THEN 0"
        f" ELSE {_days_between(on_sql, 'overdue_since')} END)"
    )
    bcase, bp = bucket_case(dpd, cfg.buckets)
    ccase, cp = classification_case(dpd, cfg.thresholds)
    scase = "(CASE WHEN overdue_since IS NULL THEN 'active' ELSE 'overdue' END)"
    # Events from the rows about to change, before the UPDATE that changes them.
    common = [
        *_loan_payload(on),
        ("days_past_due", dpd, []),
        ("overdue_since", _iso_date("overdue_since"), []),
    ]
    _insert_events(
        on,
        TOPIC_OVERDUE,
        source=f"FROM {LOAN} WHERE {where} AND status = 'active' AND overdue_since IS NOT NULL",
        params=wp,
        lid=f"{LOAN}.id",
        payload=common,
    )
    _insert_events(
        on,
        TOPIC_BUCKET,
        source=f"FROM {LOAN} WHERE {where} AND bucket <> {bcase}",
        params=[*wp, *bp],
        lid=f"{LOAN}.id",
        payload=[
            *common,
            ("from", "bucket", []),
            ("to", bcase, bp),
            ("classification", _json_array("classification", ccase), cp),
        ],
    )
    touched += _execute(
        f"UPDATE {LOAN} SET days_past_due = {dpd}, status = {scase}, bucket = {bcase},"
        f" classification = {ccase}"
        f" WHERE {where} AND (days_past_due <> {dpd} OR status <> {scase} OR bucket <> {bcase}"
        f" OR classification <> {ccase})",
        [*bp, *cp, *wp, *bp, *cp],
    )
    return touched


def _json_object(pairs: Sequence[tuple[str, str, list[Any]]]) -> tuple[str, list[Any]]:
    fn = "jsonb_build_object" if _pg() else "json_object"
    params = [p for _, _, ps in pairs for p in ps]
    args = ", ".join(f"'{k}', {v}" for k, v, _ in pairs)
    return f"{fn}({args})", params


def _json_array(*values: str) -> str:
    return f"{'jsonb_build_array' if _pg() else 'json_array'}({', '.join(values)})"


def _text(sql: str) -> str:
    return f"CAST({sql} AS TEXT)"


def _new_uuid() -> str:
    """A random (version 4) UUID in the column's format: uuid on PostgreSQL, 32 hex on SQLite."""
    if _pg():
        return "gen_random_uuid()"
    return (
        "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2)"
        " || substr('89ab', 1 + (abs(random()) %% 4), 1) || substr(hex(randomblob(2)), 2)"
        " || hex(randomblob(6)))"
    )


def _insert_events(
    on: date,
    topic: str,
    *,
    source: str,
    params: Sequence[Any],
    lid: str,
    payload: Sequence[tuple[str, str, list[Any]]],
) -> int:
    """publish_events, set-based: one INSERT … SELECT of the outbox rows and one of the
    CobEventKey rows over `source` ("FROM … WHERE …", one row per loan, the loan id in `lid`),
    skipping loans that already have the (topic, loan, D) key — the same once-per-key rule, in
    the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("COB events must be published inside the step's transaction")
    outbox = OutboxEvent._meta.db_table
    keys = CobEventKey._meta.db_table
    d = _date_param()
    iso = on.isoformat()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    fresh = (
        f"{source} AND NOT EXISTS (SELECT 1 FROM {keys} k"
        f" WHERE k.business_date = {d} AND k.topic = %s AND k.loan_id = {lid})"
    )
    fresh_params = [*params, iso, topic]
    body, body_params = _json_object(
        [
            *payload,
            (
                "dedupe_key",
                f"{_text('%s')} || {_text(lid)} || {_text('%s')}",
                [f"{topic}:", f":{iso}"],
            ),
        ]
    )
    published = _execute(
        f"INSERT INTO {outbox} (id, topic, aggregate_type, aggregate_id, payload,"
        " created_at, status, attempts, next_attempt_at, last_error, processed_at)"
        f" SELECT {_new_uuid()}, %s, 'lending.loan', {_text(lid)}, {body},"
        f" %s, 'pending', 0, NULL, '', NULL {fresh} ORDER BY {lid}",
        [topic, *body_params, now, *fresh_params],
    )
    if published:
        _execute(
            f"INSERT INTO {keys} (topic, loan_id, business_date, created_at)"
            f" SELECT %s, {lid}, {d}, %s {fresh}",
            [topic, iso, now, *fresh_params],
        )
        transaction.on_commit(_nudge_outbox)
    return published


def _loan_payload(on: date, prefix: str = "") -> list[tuple[str, str, list[Any]]]:
    """The loan part every loan event carries (columns of the loan row, `prefix` its alias)."""
    return [
        ("loan_id", f"{prefix}id", []),
        ("contract_no", f"{prefix}contract_no", []),
        ("customer_id", f"{prefix}customer_id", []),
        ("owner_id", f"{prefix}owner_id", []),
        ("department_id", f"{prefix}department_id", []),
        ("business_date", _text("%s"), [on.isoformat()]),
    ]


def _iso_date(column: str) -> str:
    """A date column as 'YYYY-MM-DD' text (SQLite stores dates that way already)."""
    return f"to_char({column}, 'YYYY-MM-DD')" if _pg() else column


def _penalty_terms(loan: Loan) -> PenaltyTerms:
    return PenaltyTerms(
        contract_rate=loan.annual_rate,
        penalty_rate=loan.penalty_rate,
        grace_days=loan.grace_days,
        compound=bool((loan.terms or {}).get("compound_penalty", False)),
    )


def accrued_penalty_fen(inst: Installment, loan: Loan, *, through: date | None, on: date) -> int:
    """Penalty (and compound interest) accrued on `inst` for (through, on], exact to the fen."""
    if through is not None and through >= on:
        return 0
    item = OverdueInstallment(
        seq=inst.seq,
        due_date=inst.due_date,
        principal=Decimal(inst.principal_fen - inst.paid_principal_fen) / 100,
        interest=Decimal(inst.interest_fen - inst.paid_interest_fen) / 100,
    )
    accrual = accrue_penalty(item, _penalty_terms(loan), end=on, start=through)
    return int(accrual.total * 100)


def post_penalties(installments: Iterable[Installment], *, on: date) -> int:
    """Post penalty accrued up to `on` into penalty_fen and move each checkpoint to `on`.

    Call in the transaction that changes an installment's penalty base (a repayment), before
    the change; COB calls it at month end. Installments need `loan` and `penalty_posting`
    loaded (or they are fetched)."""
    changed: list[Installment] = []
    postings: list[PenaltyPosting] = []
    for inst in installments:
        posting = getattr(inst, "_posting_cache", None)
        if posting is None:
            posting = PenaltyPosting.objects.filter(installment_id=inst.pk).first()
        through = posting.through if posting else None
        if through is not None and through >= on:
            continue
        amount = accrued_penalty_fen(inst, inst.loan, through=through, on=on)
        if amount:
            inst.penalty_fen += amount
            changed.append(inst)
        postings.append(PenaltyPosting(installment_id=inst.pk, through=on))
    if changed:
        Installment.objects.bulk_update(changed, ["penalty_fen"], batch_size=500)
    if postings:
        PenaltyPosting.objects.bulk_create(
            postings,
            update_conflicts=True,
            unique_fields=["installment"],
            update_fields=["through", "updated_at"],
            batch_size=500,
        )
    return len(changed)


def step_penalty(step: CobStepRun, on: date, cfg: Config) -> int:
    """Month end only: post the month's accrued penalty of every overdue installment."""
    if (on + timedelta(days=1)).day != 1:
        return 0
    # Locked: post_penalties writes absolute penalty_fen values, so a repayment committing
    # between this read and that write would lose its change. The repayment service locks the
    # loan, then its installments; this locks installments only, in id order: no cycle.
    qs = (
        Installment.objects.filter(_range_q(step), status="overdue", loan__status__in=LIVE)
        .select_related("loan")
        .select_for_update(of=("self",))
        .order_by("id")
    )
    total = 0
    batch: list[Installment] = []
    for inst in qs.iterator(chunk_size=2000):
        batch.append(inst)
        if len(batch) >= 2000:
            total += _post_batch(batch, on)
            batch = []
    if batch:
        total += _post_batch(batch, on)
    return total


def _post_batch(batch: list[Installment], on: date) -> int:
    postings = {
        p.installment_id: p
        for p in PenaltyPosting.objects.filter(installment_id__in=[i.pk for i in batch])
    }
    for inst in batch:
        inst._posting_cache = postings.get(inst.pk)  # type: ignore[attr-defined]
    return post_penalties(batch, on=on)


def step_reminders(step: CobStepRun, on: date, cfg: Config) -> int:
    """``loan.installment_due_soon`` for each live loan with something owed on installments due
    in N days: one INSERT … SELECT grouping those installments by loan (seqs, amount owed)."""
    target = (on + timedelta(days=cfg.due_soon_days)).isoformat()
    d = _date_param()
    rng, rp = _range("loan_id", step)
    owed = (
        "(principal_fen - paid_principal_fen) + (interest_fen - paid_interest_fen)"
        " + (fee_fen - paid_fee_fen)"
    )
    due = (
        f"SELECT loan_id, seq, {owed} AS owed FROM {INST}"
        f" WHERE status = 'pending' AND due_date = {d} AND {rng} AND {owed} > 0"
    )
    if _pg():
        seqs = "jsonb_agg(i.seq ORDER BY i.seq)"
    else:  # SQLite aggregates in the subquery's order; json() keeps the array an array
        seqs, due = "json(json_group_array(i.seq))", f"{due} ORDER BY loan_id, seq"
    return _insert_events(
        on,
        TOPIC_DUE_SOON,
        source=(
            f"FROM (SELECT i.loan_id, {seqs} AS seqs, SUM(i.owed) AS amount_fen"
            f" FROM ({due}) i GROUP BY i.loan_id) s JOIN {LOAN} l ON l.id = s.loan_id"
            " WHERE l.status IN ('active', 'overdue')"
        ),
        params=[target, *rp],
        lid="l.id",
        payload=[
            *_loan_payload(on, "l."),
            ("due_date", _text("%s"), [target]),
            ("days_before", "CAST(%s AS INTEGER)", [cfg.due_soon_days]),
            ("seqs", "s.seqs" if _pg() else "json(s.seqs)", []),
            ("amount_fen", "s.amount_fen", []),
        ],
    )


def step_snapshot(step: CobStepRun, on: date, cfg: Config) -> int:
    from loandesk.reports import facts, month_end, vintage
    from loandesk.reports.models import PortfolioFact

    # The day's loan steps wrote delta rows into the report facts: fold them (sums unchanged,
    # so a rerun or a crash here is harmless; see reports.facts and ADR 0012).
    facts.compact()
    if on == month_end.month_end_of(on):
        # The month is closed: the vintage and roll-rate analyses' states at its end (ADR 0013;
        # a rerun takes them again).
        month_end.take([on], vintage.buckets())
    PortfolioSnapshot.objects.filter(date=on).delete()
    snap = PortfolioSnapshot._meta.db_table
    d = _date_param()
    # Loan counts and outstanding from the folded portfolio facts (kept exact by the triggers
    # on every loan write: a few thousand rows, not a scan of the live book); the overdue
    # principal from the overdue installments of the delinquent loans.
    return _execute(
        f"INSERT INTO {snap} (date, department_id, product_id, bucket, loan_count,"
        " outstanding_principal_fen, overdue_principal_fen)"
        f" SELECT {d}, f.department_id, f.product_id, f.bucket, f.n, f.o, COALESCE(od.fen, 0)"
        " FROM (SELECT department_id, product_id, bucket, SUM(loans) AS n,"
        f" SUM(outstanding_fen) AS o FROM {PortfolioFact._meta.db_table}"
        " GROUP BY department_id, product_id, bucket HAVING SUM(loans) <> 0) f"
        " LEFT JOIN (SELECT l.department_id, l.product_id, l.bucket,"
        " SUM(i.principal_fen - i.paid_principal_fen) AS fen"
        f" FROM {INST} i JOIN {LOAN} l ON l.id = i.loan_id"
        " WHERE i.status = 'overdue' AND l.status IN ('active', 'overdue')"
        " GROUP BY l.department_id, l.product_id, l.bucket) od"
        " ON od.department_id IS NOT DISTINCT FROM f.department_id"
        " AND od.product_id = f.product_id AND od.bucket = f.bucket",
        [on.isoformat()],
    )


# --- collections: promises to pay and open cases (owned with postloan/collections.py) ---------


def _promise_paid_sql(table: str) -> str:
    """What was paid on the promise's loan since it was made (the loan's paid total then)."""
    return (
        "(COALESCE((SELECT SUM(i.paid_principal_fen + i.paid_interest_fen + i.paid_fee_fen"
        f" + i.paid_penalty_fen) FROM {INST} i WHERE i.loan_id = {table}.loan_id), 0)"
        f" - {table}.paid_before_fen)"
    )


def step_collections(step: CobStepRun, on: date, cfg: Config) -> int:
    """Decide the promises to pay due by D - 1 (and those of loans that ended), close the cases
    of closed / written-off loans, and refresh the open cases' DPD, bucket, overdue amount and
    priority (collections.priority_score, the same formula in SQL)."""
    from loandesk.postloan.collections import (
        AMOUNT_POINT_FEN,
        AMOUNT_POINTS_MAX,
        DPD_CAP,
        DPD_POINTS_PER_DAY,
    )
    from loandesk.postloan.models import CollectionAction, CollectionCase, PromiseToPay

    promise = PromiseToPay._meta.db_table
    case = CollectionCase._meta.db_table
    d = _date_param()
    iso = on.isoformat()
    cutoff = (on - timedelta(days=1)).isoformat()
    rng, rp = _range("loan_id", step)
    # Whether the row's loan has ended, looked up per row through the loan's primary key: the
    # rows are the pending promises and the open cases (tens of thousands at 1m), while the
    # ended loans are a third of the book, which an IN (…) or a semi-join would hash nightly.
    ended = "(SELECT l.status FROM {LOAN} l WHERE l.id = {t}.loan_id) IN ('closed', 'written_off')"
    paid = _promise_paid_sql(promise)
    decided = _fetch(
        f"UPDATE {promise} SET paid_fen = (CASE WHEN {paid} > 0 THEN {paid} ELSE 0 END),"
        f" status = (CASE WHEN {paid} >= amount_fen THEN 'kept' ELSE 'broken' END),"
        f" decided_on = {d}"
        f" WHERE status = 'pending' AND {rng}"
        f" AND (date <= {d} OR {ended.format(LOAN=LOAN, t=promise)})"
        " RETURNING id, case_id, loan_id, date, amount_fen, paid_fen, status",
        [iso, *rp, cutoff],
    )
    touched = len(decided)
    touched += _execute(
        f"UPDATE {case} SET status = 'open', promise_date = NULL"
        f" WHERE status = 'promised' AND {rng} AND NOT EXISTS (SELECT 1 FROM {promise} p"
        f" WHERE p.case_id = {case}.id AND p.status = 'pending')",
        rp,
    )
    now = timezone.now()
    closed = _fetch(
        f"UPDATE {case} SET status = 'closed', promise_date = NULL, closed_at = %s,"
        f" close_reason = (SELECT CASE WHEN l.status = 'written_off' THEN 'written_off'"
        f" ELSE 'paid' END FROM {LOAN} l WHERE l.id = {case}.loan_id)"
        f" WHERE status IN ('open', 'promised') AND {rng}"
        f" AND {ended.format(LOAN=LOAN, t=case)}"
        " RETURNING id, loan_id, customer_id, collector_id, close_reason",
        [connection.ops.adapt_datetimefield_value(now), *rp],
    )
    touched += len(closed)
    # One pass over the open cases: the loan's DPD and bucket, the amount overdue on its
    # installments due by D, and the priority from those (collections.priority_score), written
    # only where one of them moved. Each is a lookup by the case's own loan (primary key, the
    # installments' loan index), taken once per case: as joins, PostgreSQL's planner hashed the
    # whole loan table and scanned every unpaid installment at 1m (3.4 s for 24,500 cases).
    crng, crp = _range("c.loan_id", step)
    owed = (
        "i.principal_fen + i.interest_fen + i.fee_fen + i.penalty_fen"
        " - i.paid_principal_fen - i.paid_interest_fen - i.paid_fee_fen - i.paid_penalty_fen"
    )
    fresh = (
        f"SELECT c.id, (SELECT l.days_past_due FROM {LOAN} l WHERE l.id = c.loan_id) AS dpd,"
        f" (SELECT l.bucket FROM {LOAN} l WHERE l.id = c.loan_id) AS bucket,"
        # BIGINT: PostgreSQL's SUM of bigints is numeric, and the score divides as integers.
        f" CAST(COALESCE((SELECT SUM({owed}) FROM {INST} i WHERE i.loan_id = c.loan_id"
        f" AND i.status <> 'paid' AND i.due_date <= {d}), 0) AS BIGINT) AS fen"
        f" FROM {case} c WHERE c.status IN ('open', 'promised') AND {crng}"
        # PostgreSQL: OFFSET 0 keeps the sub-query whole, so its lookups run once per case
        # rather than again in the UPDATE's SET and WHERE (SQLite: the MATERIALIZED CTE below).
        + (" OFFSET 0" if _pg() else "")
    )
    score = (
        f"((CASE WHEN x.fen / {AMOUNT_POINT_FEN} > {AMOUNT_POINTS_MAX}"
        f" THEN {AMOUNT_POINTS_MAX} ELSE x.fen / {AMOUNT_POINT_FEN} END)"
        f" + {DPD_POINTS_PER_DAY} * (CASE WHEN x.dpd > {DPD_CAP} THEN {DPD_CAP} ELSE x.dpd END))"
    )
    update, source = ("", f"({fresh}) x") if _pg() else (f"WITH x AS MATERIALIZED ({fresh}) ", "x")
    touched += _execute(
        f"{update}UPDATE {case} SET dpd = x.dpd, bucket = x.bucket, overdue_fen = x.fen,"
        f" priority = {score} FROM {source} WHERE {case}.id = x.id"
        f" AND ({case}.dpd <> x.dpd OR {case}.bucket <> x.bucket"
        f" OR {case}.overdue_fen <> x.fen OR {case}.priority <> {score})",
        [iso, *crp],
    )
    _collection_history(on, step, decided, closed, now, CollectionAction)
    return touched


def _collection_history(
    on: date,
    step: CobStepRun,
    decided: list[tuple[Any, ...]],
    closed: list[tuple[Any, ...]],
    now: Any,
    action_model: Any,
) -> None:
    """System entries on each case's log, and the events, for what the step decided."""

    def yuan(fen: int) -> str:
        return str((Decimal(int(fen)) / 100).quantize(Decimal("0.01")))

    actions = []
    events: list[tuple[str, int, dict[str, Any]]] = []
    for pid, case_id, loan_id, day, amount, paid_fen, status in decided:
        params = {"date": str(day), "amount": yuan(amount), "paid": yuan(paid_fen)}
        actions.append(
            action_model(
                case_id=case_id, kind="system", event=f"promise_{status}", params=params, at=now
            )
        )
        if status == "broken":
            events.append(
                (
                    TOPIC_PROMISE_BROKEN,
                    loan_id,
                    {
                        "case_id": case_id,
                        "promise_id": pid,
                        "loan_id": loan_id,
                        "promise_date": str(day),
                        "amount_fen": int(amount),
                        "paid_fen": int(paid_fen),
                        "business_date": on.isoformat(),
                    },
                )
            )
    for case_id, loan_id, customer_id, collector_id, reason in closed:
        actions.append(
            action_model(
                case_id=case_id, kind="system", event="closed", params={"reason": reason}, at=now
            )
        )
        events.append(
            (
                TOPIC_CASE_UPDATED,
                loan_id,
                {
                    "case_id": case_id,
                    "loan_id": loan_id,
                    "customer_id": customer_id,
                    "collector_id": collector_id,
                    "status": "closed",
                    "change": "closed",
                    "reason": reason,
                    "business_date": on.isoformat(),
                },
            )
        )
    if actions:
        action_model.objects.bulk_create(actions, batch_size=1000)
    publish_events(on, step, events)


STEP_FUNCS: dict[str, Callable[[CobStepRun, date, Config], int]] = {
    "installments": step_installments,
    "loans": step_loans,
    "penalty": step_penalty,
    "reminders": step_reminders,
    "collections": step_collections,
    "snapshot": step_snapshot,
}


# --- events -----------------------------------------------------------------------------------


def publish_events(
    on: date, step: CobStepRun, events: Sequence[tuple[str, int, dict[str, Any]]]
) -> int:
    """Write events to the outbox, once per (topic, loan, business date), in the caller's
    transaction: the CobEventKey row and the outbox row commit (or vanish) together."""
    if not events:
        return 0
    if not connection.in_atomic_block:
        raise RuntimeError("COB events must be published inside the step's transaction")
    lo_q = CobEventKey.objects.filter(business_date=on, loan_id__gte=step.lo_id)
    if step.hi_id is not None:
        lo_q = lo_q.filter(loan_id__lte=step.hi_id)
    seen = set(lo_q.values_list("topic", "loan_id"))
    fresh = [(t, lid, p) for t, lid, p in events if (t, lid) not in seen]
    if not fresh:
        return 0
    CobEventKey.objects.bulk_create(
        [CobEventKey(topic=t, loan_id=lid, business_date=on) for t, lid, _ in fresh],
        batch_size=1000,
    )
    OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                topic=t,
                aggregate_type="lending.loan",
                aggregate_id=str(lid),
                payload={**p, "dedupe_key": f"{t}:{lid}:{on.isoformat()}"},
            )
            for t, lid, p in fresh
        ],
        batch_size=1000,
    )
    transaction.on_commit(_nudge_outbox)
    return len(fresh)


def _nudge_outbox() -> None:
    from loandesk.core.tasks import dispatch_outbox

    try:
        dispatch_outbox.enqueue()
    except Exception:  # the scheduler's sweep delivers it anyway
        logger.exception("could not enqueue outbox dispatch")


# --- runs -------------------------------------------------------------------------------------


def last_done_date() -> date | None:
    return (
        CobRun.objects.filter(status=CobRun.Status.DONE)
        .order_by("-business_date")
        .values_list("business_date", flat=True)
        .first()
    )


def next_date() -> date:
    """The first date not yet closed: the day after the last finished run, else the business
    date."""
    done = last_done_date()
    current = get_business_date()
    return max(done + timedelta(days=1), current) if done else current


def dates_to_run(*, start: date | None, until: date | None) -> list[date]:
    first = next_date()
    start = start or first
    end = until or start
    if end < start:
        raise ValidationFailed.field("until", "postloan.until_before_date")
    if start > first and last_done_date() is not None:
        raise ValidationFailed.field(
            "date", "postloan.date_gap", next=first.isoformat(), date=start.isoformat()
        )
    if not getattr(settings, "LOANDESK_COB_ALLOW_FUTURE", False) and end > today_local():
        raise ValidationFailed.field("until", "postloan.date_future", today=today_local())
    if (end - start).days >= MAX_CATCH_UP_DAYS:
        raise ValidationFailed.field("until", "postloan.too_many_days", max=MAX_CATCH_UP_DAYS)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    done = set(
        CobRun.objects.filter(business_date__in=days, status=CobRun.Status.DONE).values_list(
            "business_date", flat=True
        )
    )
    return [d for d in days if d not in done]


# --- liveness: which process runs COB --------------------------------------------------------
#
# A process that runs COB holds the liveness lock for as long as it runs; the database server
# (PostgreSQL: a session advisory lock on a connection of its own) or the kernel (SQLite: an
# flock on a file beside the database) releases it when the process ends, however it ends —
# kill -9 and power loss included. So a run left 'running' by a dead process is seen as dead at
# once, and a rerun resumes it right away instead of waiting for the heartbeat to go stale.

LOCK_KEY = 0x10AD_C0B  # the advisory-lock key of COB (any constant of our own)


def _lock_path() -> Path:
    name = str(connection.settings_dict.get("NAME") or "")
    if name and not name.startswith("file:") and name != ":memory:":
        return Path(name).with_name(Path(name).name + ".cob-lock")
    return Path(settings.VAR_DIR) / "cob.lock"  # an in-memory database (tests)


def _try_lock() -> Any:
    """Take the liveness lock without waiting: a handle to pass to _unlock, or None when a
    live process holds it."""
    if _pg():
        conn = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
                taken = bool(cur.fetchone()[0])
        except Exception:
            conn.close()
            raise
        if not taken:
            conn.close()
            return None
        return conn
    fd = os.open(_lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _unlock(handle: Any) -> None:
    if isinstance(handle, int):
        os.close(handle)  # closing the descriptor drops the flock
        return
    try:
        # Unlock before closing: a closed session's backend drops its locks only as it exits,
        # a moment later, and a rerun right after would find the lock still held.
        with handle.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    finally:
        handle.close()


@contextmanager
def liveness_lock(wait: float = 2.0) -> Iterator[None]:
    """Hold the liveness lock while running; 409 postloan.cob_running when a live process
    still holds it after `wait` seconds (a probe or a just-killed process's session may hold
    it for a moment)."""
    deadline = time.monotonic() + wait
    handle = _try_lock()
    while handle is None and time.monotonic() < deadline:
        time.sleep(0.05)
        handle = _try_lock()
    if handle is None:
        raise Conflict("postloan.cob_running")
    try:
        yield
    finally:
        _unlock(handle)


def runner_alive() -> bool:
    """True when some live process holds the liveness lock (runs COB right now). On
    PostgreSQL it reads pg_locks rather than trying the lock, so a probe never gets in a
    starting run's way."""
    if _pg():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND classid = %s AND objid = %s AND objsubid = 1 AND granted)",
                [LOCK_KEY >> 32, LOCK_KEY & 0xFFFFFFFF],
            )
            return bool(cur.fetchone()[0])
    handle = _try_lock()  # SQLite: held for microseconds; liveness_lock waits that out
    if handle is None:
        return True
    _unlock(handle)
    return False


def in_progress() -> CobRun | None:
    """A run that is queued (heartbeat within the stale limit) or running in a live process
    (one holds the liveness lock). A 'running' run whose process died — kill -9, power loss —
    is not in progress: a rerun resumes it at once."""
    fresh = timezone.now() - stale_after()
    alive: bool | None = None
    for run in CobRun.objects.filter(
        status__in=[CobRun.Status.QUEUED, CobRun.Status.RUNNING]
    ).order_by("business_date"):
        if run.status == CobRun.Status.RUNNING:
            if alive is None:
                alive = runner_alive()
            if alive:
                return run
            continue
        beat = run.heartbeat_at or run.started_at or run.created_at
        if beat >= fresh:
            return run
    return None


class _LoanIds(Sequence[int]):
    """The sorted loan ids as a sequence that reads only the ids asked for (rules.id_ranges
    looks at a few of them: one partition bound per worker), not a million of them."""

    def __init__(self) -> None:
        self._ids = Loan.objects.order_by("id").values_list("id", flat=True)
        self._len: int | None = None

    def __bool__(self) -> bool:
        # One partition needs no bounds: an EXISTS, not a COUNT of the book (0.3 s at 1m).
        return self._ids.exists() if self._len is None else self._len > 0

    def __len__(self) -> int:
        if self._len is None:
            self._len = self._ids.count()
        return self._len

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(self._ids[index])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._ids[index]


def _loan_ids() -> Sequence[int]:
    return _LoanIds()


def prepare(day: date, *, workers: int, trigger: str = "cli", actor: Any = None) -> CobRun:
    """The run row of `day` with its step rows (created once: reruns reuse the partitions)."""
    with transaction.atomic():
        run, _ = CobRun.objects.get_or_create(
            business_date=day,
            defaults={"trigger": trigger, "requested_by": actor, "workers": workers},
        )
        if run.status == CobRun.Status.DONE:
            return run
        if not run.config:
            run.config = current_config()
            Config.of(run.config)  # settings must be valid before a run starts
            run.save(update_fields=["config"])
        if not run.steps.exists():
            ranges = rules.id_ranges(_loan_ids(), workers)
            rows = [
                CobStepRun(run=run, step=name, order=i, partition=p, lo_id=lo, hi_id=hi)
                for p, (lo, hi) in enumerate(ranges)
                for i, name in enumerate(PARTITIONED_STEPS)
            ] + [
                CobStepRun(
                    run=run,
                    step=name,
                    order=len(PARTITIONED_STEPS) + i,
                    partition=0,
                    lo_id=0,
                    hi_id=None,
                )
                for i, name in enumerate(GLOBAL_STEPS)
            ]
            CobStepRun.objects.bulk_create(rows)
    return run


def execute_step(step_id: int, *, interrupt: Interrupt | None = None) -> bool:
    """Run one (step, partition) unless done; True if this call did the work."""
    step = CobStepRun.objects.select_related("run").get(pk=step_id)
    if step.status == CobStepRun.Status.DONE:
        return False
    CobStepRun.objects.filter(pk=step_id).exclude(status=CobStepRun.Status.DONE).update(
        status=CobStepRun.Status.RUNNING, started_at=timezone.now(), error=""
    )
    on = step.run.business_date
    cfg = Config.of(step.run.config)
    if connection.vendor == "sqlite":
        # A batch that walks indexes of millions of rows: SQLite's default page cache (2 MB
        # per connection) re-read the same interior pages from the OS for every row (a 1m
        # steady day 4.9 → 4.1 s). Left set: this connection is a COB runner's.
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        with transaction.atomic():
            # Claim inside the transaction: on PostgreSQL the row lock makes a second worker
            # wait and then see "done"; on SQLite the write lock serialises anyway.
            claimed = (
                CobStepRun.objects.filter(pk=step_id)
                .exclude(status=CobStepRun.Status.DONE)
                .update(status=CobStepRun.Status.DONE)
            )
            if not claimed:
                return False
            rows = STEP_FUNCS[step.step](step, on, cfg)
            CobStepRun.objects.filter(pk=step_id).update(rows=rows, finished_at=timezone.now())
            if interrupt:
                interrupt("before_commit", step)
    except Exception as exc:
        CobStepRun.objects.filter(pk=step_id).update(
            status=CobStepRun.Status.FAILED, error=repr(exc)[:2000]
        )
        raise
    CobRun.objects.filter(pk=step.run_id).update(heartbeat_at=timezone.now())
    if interrupt:
        interrupt("after_commit", step)
    return True


def _partition_steps(run: CobRun, partitions: Iterable[int]) -> list[int]:
    return list(
        run.steps.filter(step__in=PARTITIONED_STEPS, partition__in=list(partitions))
        .order_by("partition", "order")
        .values_list("pk", flat=True)
    )


def _worker(run_id: int, partitions: list[int]) -> None:  # pragma: no cover - child process
    connections.close_all()
    run = CobRun.objects.get(pk=run_id)
    for step_id in _partition_steps(run, partitions):
        execute_step(step_id)
    connections.close_all()


def _run_partitions(
    run: CobRun, workers: int, interrupt: Interrupt | None, in_process: bool
) -> None:
    parts = sorted(set(run.steps.values_list("partition", flat=True)))
    if in_process or workers <= 1 or len(parts) <= 1 or interrupt is not None:
        for step_id in _partition_steps(run, parts):
            execute_step(step_id, interrupt=interrupt)
        return
    # One OS process per worker, each taking every workers-th partition. The database is the
    # only shared state; a child killed mid-step leaves its partition undone for the rerun.
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_worker, args=(run.pk, parts[w::workers]), daemon=False)
        for w in range(min(workers, len(parts)))
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"COB worker processes failed: exit codes {failed}")


# --- partitions as background tasks (any `loandesk db_worker`, any machine) ------------------
#
# With via_tasks the coordinator (whoever holds the COB liveness lock: `loandesk cob
# --via-tasks`, or the task that runs a scheduled / requested run) enqueues one
# `run_cob_partition_task` per undone partition, each running that partition's chain of steps
# in order, and waits until every partition step is done; then it runs the once-only steps and
# finishes the date as before. A partition task holds the partition's own liveness lock
# (PostgreSQL: a session advisory lock (PART_LOCK_CLASS, key) on a connection of its own;
# SQLite: an flock on a file beside the database), which the database / kernel drops with the
# process. A task whose worker was killed stays 'RUNNING' in django-tasks' table forever, so
# the coordinator, seeing an undone partition that no live process holds and no queued task
# covers, enqueues it again (the task is re-taken by any worker; the dead one's row is marked
# failed). Running a partition twice is harmless: each (step, partition) is claimed inside its
# own transaction (execute_step), and a duplicate waits for the partition lock first.

PART_LOCK_CLASS = 0x10AD  # classid of the two-key advisory locks of partitions
# How long a task may show 'RUNNING' without holding its partition lock before the coordinator
# takes its worker for dead: the moment between a worker's claim and the task's first query.
TASK_LOCK_GRACE_SECONDS = 5.0
MAX_PARTITION_RETRIES = 20  # re-enqueued partition tasks per date before the run fails
TASK_POLL_SECONDS = 0.05


def _partition_keys(run: CobRun) -> dict[int, int]:
    """partition → the id of its first step row: the key of the partition's liveness lock."""
    return dict(
        run.steps.filter(step=PARTITIONED_STEPS[0]).values_list("partition", "pk").order_by("pk")
    )


def _part_lock_path(key: int) -> Path:
    base = _lock_path()
    return base.with_name(f"{base.name}-p{key}")


@contextmanager
def partition_lock(key: int) -> Iterator[None]:
    """Hold the liveness lock of one partition (waiting while another live process holds it:
    a duplicate task then finds the partition done)."""
    if _pg():
        conn = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_lock(%s, %s)", [PART_LOCK_CLASS, key])
            yield
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", [PART_LOCK_CLASS, key])
        finally:
            conn.close()
        return
    fd = os.open(_part_lock_path(key), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def partitions_held(keys: Iterable[int]) -> set[int]:
    """The partition keys some live process holds the lock of right now (PostgreSQL reads
    pg_locks and takes nothing; SQLite tries each flock without waiting and lets go)."""
    keys = list(keys)
    if not keys:
        return set()
    if _pg():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT objid FROM pg_locks WHERE locktype = 'advisory'"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND classid = %s AND objsubid = 2 AND granted AND objid = ANY(%s)",
                [PART_LOCK_CLASS, keys],
            )
            return {int(r[0]) for r in cur.fetchall()}
    held = set()
    for key in keys:
        path = _part_lock_path(key)
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            held.add(key)
        finally:
            os.close(fd)
    return held


def _forget_partition_locks(run: CobRun) -> None:
    """SQLite: remove a finished date's partition lock files (nothing locks them any more)."""
    for key in _partition_keys(run).values():
        _part_lock_path(key).unlink(missing_ok=True)


def run_partition(run_id: int, partition: int, *, interrupt: Interrupt | None = None) -> int:
    """Run one partition's chain of steps in order (what a partition task does), holding the
    partition's liveness lock; the number of steps this call did (0: all were done)."""
    run = CobRun.objects.filter(pk=run_id).first()
    if run is None:  # deleted since (or a no-op task, as the benchmark's warm-up sends)
        return 0
    steps = _partition_steps(run, [partition])
    if not steps:
        return 0
    done = 0
    with partition_lock(steps[0]):
        for step_id in steps:
            done += execute_step(step_id, interrupt=interrupt)
    return done


def _enqueue_partition(run: CobRun, partition: int) -> str:
    from loandesk.postloan.tasks import run_cob_partition_task

    result = run_cob_partition_task.enqueue(run_id=run.pk, partition=partition)
    return str(result.id)


def _run_ready_task_here(task_ids: Sequence[str], worker_id: str) -> bool:
    """Take one of `task_ids` that no worker has taken yet and run it in this process, the way
    a db_worker would (claimed with SKIP LOCKED, marked successful / failed). True if one ran."""
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        row = DBTaskResult.objects.ready().filter(pk__in=list(task_ids)).get_locked()
        if row is None:
            return False
        row.claim(worker_id)
    try:
        value = run_partition(**row.task_result.kwargs)
    except Exception as exc:
        row.set_failed(exc)
        raise
    row.set_successful(value)
    return True


def _close_orphaned_tasks(task_ids: list[str]) -> None:
    """Once every partition is done: a task of this run still 'RUNNING' whose partition no live
    process holds lost its worker after another task finished the partition (a worker slow to
    take its lock is taken for dead and its partition re-enqueued; then the slow one is
    killed). Nobody will ever finish it: mark it failed like any dead worker's task, rather
    than leave it 'RUNNING' in the task list for ever. `task_ids`: those whose partition lock
    nobody holds; a live worker that claimed one but has not locked yet finds its partition
    done and marks the task successful itself."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(pk__in=task_ids, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="loandesk.postloan.cob.TaskWorkerDied",
        traceback="the task worker died after another task had finished this COB partition",
    )


def _run_partitions_via_tasks(run: CobRun, *, work_here: bool) -> None:
    """Spread the undone partitions over the task workers and wait until all are done.

    work_here: this process is itself a task worker (a scheduled / requested run): it takes
    its own run's partition tasks too, so a single task worker never waits on itself."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    keys = _partition_keys(run)
    undone_q = run.steps.filter(step__in=PARTITIONED_STEPS).exclude(status=CobStepRun.Status.DONE)
    tasks = {
        partition: _enqueue_partition(run, partition)
        for partition in sorted(set(undone_q.values_list("partition", flat=True)))
    }
    # Every task this run enqueued, retries included: task id → partition.
    enqueued = {task_id: partition for partition, task_id in tasks.items()}
    unlocked_since: dict[str, float] = {}  # task id → first seen running without its lock
    retries = 0
    beat = warned = time.monotonic()
    worker_id = f"cob-coordinator-{os.getpid()}"
    while True:
        if work_here and _run_ready_task_here(list(tasks.values()), worker_id):
            continue
        # Read what covers each partition BEFORE whether it is done: a task finishing in
        # between then shows as done, never as a finished task with its partition undone.
        states = {
            str(pk): status
            for pk, status in DBTaskResult.objects.filter(pk__in=list(tasks.values())).values_list(
                "pk", "status"
            )
        }
        held = partitions_held(keys.values())
        undone = set(undone_q.values_list("partition", flat=True))
        if not undone:
            _close_orphaned_tasks(
                [t for t, partition in enqueued.items() if keys[partition] not in held]
            )
            return
        now = time.monotonic()
        for partition in sorted(undone):
            task_id = tasks[partition]
            status = states.get(task_id)
            if status == TaskResultStatus.FAILED:
                error = DBTaskResult.objects.filter(pk=task_id).values_list("traceback", flat=True)
                raise RuntimeError(
                    f"COB partition {partition} failed in a task worker:\n{error.first() or ''}"
                )
            if keys[partition] in held or status == TaskResultStatus.READY:
                unlocked_since.pop(task_id, None)
                continue
            if (
                status == TaskResultStatus.RUNNING
                and now - unlocked_since.setdefault(task_id, now) < TASK_LOCK_GRACE_SECONDS
            ):
                continue  # just claimed by a worker: its partition lock comes in a moment
            # Undone, no live process holds it, no task waits for a worker: the worker running
            # it died (kill -9, power loss). Mark that task failed and enqueue the partition again.
            retries += 1
            if retries > MAX_PARTITION_RETRIES:
                raise RuntimeError(
                    f"COB partition {partition}: gave up after {MAX_PARTITION_RETRIES} retries"
                )
            DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED,
                finished_at=timezone.now(),
                exception_class_path="loandesk.postloan.cob.TaskWorkerDied",
                traceback="the task worker died while running this COB partition; re-enqueued",
            )
            logger.warning(
                "COB %s partition %s: its task worker is gone; re-enqueued",
                run.business_date,
                partition,
            )
            tasks[partition] = _enqueue_partition(run, partition)
            enqueued[tasks[partition]] = partition
        if now - beat > 5:
            CobRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
            beat = now
        if now - warned > 60 and all(states.get(tasks[p]) == "READY" for p in undone):
            logger.warning(
                "COB %s: partition tasks are waiting for a task worker (loandesk db_worker)",
                run.business_date,
            )
            warned = now
        time.sleep(TASK_POLL_SECONDS)


def run_day(
    day: date,
    *,
    workers: int = 1,
    trigger: str = "cli",
    actor: Any = None,
    interrupt: Interrupt | None = None,
    in_process: bool = False,
    via_tasks: bool = False,
    work_here: bool = False,
) -> CobRun:
    """Close one business date (resuming whatever a previous attempt left undone), holding
    the liveness lock (409 postloan.cob_running while another live process runs COB).

    The partitions run in this process (in_process, or one partition), in `workers` forked
    processes, or (via_tasks) as background tasks taken by any task worker; work_here: this
    process is a task worker and takes partition tasks too (see _run_partitions_via_tasks)."""
    with liveness_lock():
        return _run_day(
            day,
            workers=workers,
            trigger=trigger,
            actor=actor,
            interrupt=interrupt,
            in_process=in_process,
            via_tasks=via_tasks,
            work_here=work_here,
        )


def _run_day(
    day: date,
    *,
    workers: int,
    trigger: str,
    actor: Any,
    interrupt: Interrupt | None,
    in_process: bool,
    via_tasks: bool = False,
    work_here: bool = False,
) -> CobRun:
    # Created (or taken from the queue) and marked running in ONE transaction: a process killed
    # in between must not leave a new run 'queued' with a fresh timestamp, which in_progress()
    # would count as alive for LOANDESK_COB_STALE_SECONDS (found by tests/postloan/
    # test_cob_kill.py); a 'running' run is alive only while its process holds the lock.
    with transaction.atomic():
        run = prepare(day, workers=workers, trigger=trigger, actor=actor)
        if run.status == CobRun.Status.DONE:
            return run
        now = timezone.now()
        CobRun.objects.filter(pk=run.pk).update(
            status=CobRun.Status.RUNNING,
            started_at=run.started_at or now,
            heartbeat_at=now,
            workers=workers,
            attempts=run.attempts + 1,
            error="",
        )
    try:
        if via_tasks and interrupt is None and not in_process:
            _run_partitions_via_tasks(run, work_here=work_here)
        else:
            _run_partitions(run, workers, interrupt, in_process)
        for step_id in (
            run.steps.filter(step__in=GLOBAL_STEPS).order_by("order").values_list("pk", flat=True)
        ):
            undone = run.steps.filter(step__in=PARTITIONED_STEPS).exclude(
                status=CobStepRun.Status.DONE
            )
            if undone.exists():
                raise RuntimeError("partition steps are not all done")
            execute_step(step_id, interrupt=interrupt)
        _finish(run, actor)
        if via_tasks and not _pg():
            _forget_partition_locks(run)
    except Exception:
        CobRun.objects.filter(pk=run.pk).update(
            status=CobRun.Status.FAILED, error=traceback.format_exc()[-4000:]
        )
        raise
    run.refresh_from_db()
    return run


@transaction.atomic
def _finish(run: CobRun, actor: Any) -> None:
    locked = CobRun.objects.select_for_update().get(pk=run.pk)
    if locked.status == CobRun.Status.DONE:
        return
    if locked.steps.exclude(status=CobStepRun.Status.DONE).exists():
        raise RuntimeError("COB steps are not all done")
    new_date = locked.business_date + timedelta(days=1)
    row = BusinessDate.objects.select_for_update().filter(pk=1).first()
    old = row.date if row else today_local()
    if new_date > old:
        BusinessDate.objects.update_or_create(pk=1, defaults={"date": new_date})
        audit.record(
            action="business_date.set",
            actor=actor,
            actor_username="" if actor else "cob",
            target_type="core.businessdate",
            target_id=1,
            target_label=new_date.isoformat(),
            changes={"date": [old.isoformat(), new_date.isoformat()]},
            extra={"cob_run": locked.pk},
        )
    CobRun.objects.filter(pk=run.pk).update(
        status=CobRun.Status.DONE, finished_at=timezone.now(), heartbeat_at=timezone.now()
    )


def run_cob(
    *,
    start: date | None = None,
    until: date | None = None,
    workers: int = 1,
    trigger: str = "cli",
    actor: Any = None,
    interrupt: Interrupt | None = None,
    in_process: bool = False,
    via_tasks: bool = False,
    work_here: bool = False,
) -> list[CobRun]:
    """Close every date from `start` (default: the next open date) to `until`, in order."""
    if workers < 1 or workers > 64:
        raise ValidationFailed.field("workers", "postloan.workers_invalid", max=64)
    runs = []
    for day in dates_to_run(start=start, until=until):
        runs.append(
            run_day(
                day,
                workers=workers,
                trigger=trigger,
                actor=actor,
                interrupt=interrupt,
                in_process=in_process,
                via_tasks=via_tasks,
                work_here=work_here,
            )
        )
    return runs


def ensure_not_running() -> None:
    if in_progress() is not None:
        raise Conflict("postloan.cob_running")
