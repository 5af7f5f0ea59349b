"""Vintage and roll-rate analysis from loan-level month-end states.

The COB portfolio snapshot is department-level, so a loan's state at a month end E is derived
from its installments (set-based SQL, one GROUP BY statement per month end, both engines):

- written_off: the loan is written off and its closed_at falls on or before E (local time);
- closed: every installment was paid off on or before E;
- otherwise a delinquency bucket by days past due at E, where the oldest installment due on or
  before E and not paid off by E sets the DPD (E − its due date; 0 when there is none). The
  thresholds are the DelinquencyBucket rows (min_dpd), compared as dates: DPD ≥ n ⇔ due ≤ E − n.

Loans without installments have no state and are left out. Vintage shares count loans:
M1+ = DPD ≥ the M1 threshold or written off, M3+ = DPD ≥ the M3 threshold or written off.

The analyses read these states from the month-end facts (reports.month_end, ADR 0013: each
closed month end taken once, as loans per cohort, department, owner, product and state) when
the filters are ones the facts carry; with any other filter, and for drill-downs, they restate
them here per request (`month_states`).
"""

import re
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, CharField, Count, Min, Q, QuerySet, Sum, Value, When

from loandesk.accounts.models import User
from loandesk.accounts.scoping import ScopeSpec, require_perm
from loandesk.core.errors import ValidationFailed
from loandesk.core.i18n import EN, current_language
from loandesk.lending.models import Installment
from loandesk.reports import facts
from loandesk.reports import month_end as month_end_facts
from loandesk.reports import query as q
from loandesk.reports.metrics import SOURCES, Source, ratio
from loandesk.reports.permissions import VIEW

CLOSED = "closed"
WRITTEN_OFF = "written_off"
MAX_MONTHS = 24
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def month_end(month_start: date) -> date:
    return q._month_start(month_start, -1) - timedelta(days=1)


def add_months(month_start: date, n: int) -> date:
    return q._month_start(month_start, -n)


def buckets() -> list[tuple[str, int]]:
    """(code, min_dpd) in order, from the delinquency bucket table."""
    from loandesk.postloan.models import DelinquencyBucket

    rows = list(DelinquencyBucket.objects.order_by("min_dpd").values_list("code", "min_dpd"))
    return rows or [("M0", 0), ("M1", 1), ("M2", 31), ("M3", 61), ("M3+", 91)]


def _threshold(code: str, default: int) -> int:
    return dict(buckets()).get(code, default)


def states() -> list[str]:
    return [code for code, _ in buckets()] + [CLOSED, WRITTEN_OFF]


def state_label(key: str) -> str:
    en = current_language() == EN
    if key == CLOSED:
        return "Closed" if en else "已结清"
    if key == WRITTEN_OFF:
        return "Written off" if en else "已核销"
    return key


def loans_queryset(*, actor: User, filters: Mapping[str, Any]) -> QuerySet[Any]:
    """The viewer's loans (data scope) narrowed by the chart filters."""
    return q.base_queryset(
        SOURCES["disbursements"], actor=actor, filters=filters, period=None, ignored=set()
    )


def month_states(loans: QuerySet[Any], end: date) -> QuerySet[Any]:
    """One row per loan on book at `end`: loan_id, start_date, state (computed in SQL)."""
    unpaid = Q(paid_off_on__isnull=True) | Q(paid_off_on__gt=end)
    local_next_day = datetime.combine(end + timedelta(days=1), time.min, tzinfo=q._tz())
    whens = [
        When(
            Q(loan__status=WRITTEN_OFF, loan__closed_at__lt=local_next_day),
            then=Value(WRITTEN_OFF),
        ),
        When(open_n=0, then=Value(CLOSED)),
    ]
    for code, min_dpd in reversed(buckets()):
        if min_dpd > 0:
            whens.append(When(oldest__lte=end - timedelta(days=min_dpd), then=Value(code)))
    first = buckets()[0][0]
    return (
        Installment.objects.filter(loan__in=loans.filter(start_date__lte=end).values("pk"))
        .values("loan_id", "loan__start_date", "loan__status", "loan__closed_at")
        .annotate(
            oldest=Min("due_date", filter=Q(due_date__lte=end) & unpaid),
            open_n=Count("pk", filter=unpaid),
        )
        .annotate(state=Case(*whens, default=Value(first), output_field=CharField()))
        .order_by()
    )


def _last_month_end(today: date) -> date:
    """The latest closed month end: before the business date (ADR 0013: the last day of a
    month is observed once its close of business has run)."""
    return month_end_facts.last_closed(today)


# Filters the month-end facts carry (the loan's department, owner and product at the month
# end); any other (channel, region, bucket, classification) restates from the installments.
_FACT_FILTERS = frozenset({"org", "department_exact", "officer", "product"})
MONTH_END_FACTS = Source(
    "month_end_facts",
    "reports.MonthEndFact",
    ScopeSpec(),
    "month_end",
    date_is_datetime=False,
    dims={"product": "product_id"},
)


def _use_facts(filters: Mapping[str, Any]) -> bool:
    return facts.enabled() and all(k in _FACT_FILTERS for k in filters)


def _fact_rows(actor: User, filters: Mapping[str, Any], ends: list[date]) -> QuerySet[Any]:
    """The viewer's month-end fact rows of these month ends, taking any not yet taken."""
    month_end_facts.ensure(ends, buckets())
    return q.base_queryset(
        MONTH_END_FACTS, actor=actor, filters=filters, period=None, ignored=set()
    ).filter(month_end__in=ends)


def _months(period: q.Period) -> list[date]:
    """The months of the period, the latest MAX_MONTHS of them."""
    months: list[date] = []
    m = q._month_start(period.start)
    while m <= period.end:
        months.append(m)
        m = add_months(m, 1)
    return months[-MAX_MONTHS:]


def _parse_month(value: Any, name: str) -> date:
    if not isinstance(value, str) or not _MONTH.match(value):
        raise ValidationFailed.field(name, "reports.bad_month")
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise ValidationFailed.field(name, "reports.bad_month") from None


def _codes_from(min_dpd: int) -> set[str]:
    return {code for code, lo in buckets() if lo >= min_dpd and lo > 0}


# --- vintage -------------------------------------------------------------------------------


def vintage(*, actor: User, period: Any, filters: Any) -> dict[str, Any]:
    """Per disbursement month (cohort) in the period: loans, and the M1+ / M3+ share of them at
    each month on book (MOB k = the end of the k-th month after the disbursement month)."""
    require_perm(actor, VIEW)
    parsed = q.parse_period(period)
    clean = q._clean_filters(filters)
    cohorts = _months(parsed)
    loans = loans_queryset(actor=actor, filters=clean).filter(
        start_date__gte=cohorts[0], start_date__lte=month_end(cohorts[-1])
    )
    last = _last_month_end(q._today())
    m1_codes = _codes_from(_threshold("M1", 1)) | {WRITTEN_OFF}
    m3_codes = _codes_from(_threshold("M3", 61)) | {WRITTEN_OFF}
    ends: list[date] = []
    month = add_months(cohorts[0], 1)
    while month_end(month) <= last and month <= add_months(cohorts[-1], MAX_MONTHS):
        ends.append(month_end(month))
        month = add_months(month, 1)
    if _use_facts(clean):
        sizes = _cohort_sizes(actor, clean, cohorts)
        counts = _vintage_counts_from_facts(actor, clean, cohorts, ends, m1_codes, m3_codes)
    else:
        sizes = defaultdict(int)
        for start in loans.values_list("start_date", flat=True):
            sizes[f"{start:%Y-%m}"] += 1
        counts = defaultdict(lambda: {"m1": 0, "m3": 0, "n": 0})
        for end in ends:
            states_at = month_states(loans, end).values_list("loan__start_date", "state")
            for start, state in states_at:
                cohort = q._month_start(start)
                mob = _mob(cohort, end)
                if mob < 1:
                    continue
                cell = counts[(f"{cohort:%Y-%m}", mob)]
                cell["m1"] += state in m1_codes
                cell["m3"] += state in m3_codes
                cell["n"] += 1
    # A cohort is observed at MOB k only when that month end is closed. Each share is of the
    # cohort's loans with a state at that month end (the facts' own total: a loan counted
    # under another officer at that month end counts in neither part of that officer's share).
    rows: list[dict[str, Any]] = []
    for cohort in cohorts:
        key = f"{cohort:%Y-%m}"
        observed = [k for k in range(1, MAX_MONTHS + 1) if month_end(add_months(cohort, k)) <= last]
        n = sizes.get(key, 0)
        rows.append(
            {
                "key": key,
                "label": key,
                "loans": n,
                "m1": {str(k): _share(counts[(key, k)], "m1") for k in observed},
                "m3": {str(k): _share(counts[(key, k)], "m3") for k in observed},
            }
        )
    max_mob = max((len(r["m1"]) for r in rows), default=0)
    return {
        "period": parsed.as_dict(),
        "as_of": last.isoformat(),
        "mobs": list(range(1, max_mob + 1)),
        "cohorts": rows,
    }


def _share(cell: Mapping[str, int], level: str) -> Any:
    return q.fmt("percent", ratio(cell[level], cell["n"]))


def _mob(cohort: date, end: date) -> int:
    """Months on book at the month end `end` of a loan disbursed in the `cohort` month."""
    return (end.year - cohort.year) * 12 + end.month - cohort.month


def _cohort_sizes(actor: User, filters: Mapping[str, Any], cohorts: list[date]) -> dict[str, int]:
    """Loans disbursed per month, from the disbursement facts (exact at any moment)."""
    rows = (
        q.base_queryset(
            facts.DISBURSEMENT_FACTS, actor=actor, filters=filters, period=None, ignored=set()
        )
        .filter(day__gte=cohorts[0], day__lte=month_end(cohorts[-1]))
        .values("day")
        .annotate(n=Sum("n"))
        .order_by()
    )
    sizes: dict[str, int] = defaultdict(int)
    for row in rows:
        sizes[f"{row['day']:%Y-%m}"] += int(row["n"] or 0)
    return sizes


def _vintage_counts_from_facts(
    actor: User,
    filters: Mapping[str, Any],
    cohorts: list[date],
    ends: list[date],
    m1_codes: set[str],
    m3_codes: set[str],
) -> dict[tuple[str, int], dict[str, int]]:
    counts: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: {"m1": 0, "m3": 0, "n": 0})
    if not ends:
        return counts
    rows = (
        _fact_rows(actor, filters, ends)
        .filter(cohort__gte=cohorts[0], cohort__lte=cohorts[-1])
        .values("cohort", "month_end")
        .annotate(
            m1=Sum("loans", filter=Q(state__in=m1_codes)),
            m3=Sum("loans", filter=Q(state__in=m3_codes)),
            n=Sum("loans"),
        )
        .order_by()
    )
    for row in rows:
        mob = _mob(row["cohort"], row["month_end"])
        if 1 <= mob <= MAX_MONTHS:
            cell = counts[(f"{row['cohort']:%Y-%m}", mob)]
            cell["m1"] += int(row["m1"] or 0)
            cell["m3"] += int(row["m3"] or 0)
            cell["n"] += int(row["n"] or 0)
    return counts


# --- roll rate -----------------------------------------------------------------------------


def roll_rate(*, actor: User, period: Any, filters: Any) -> dict[str, Any]:
    """Month-over-month transitions between states, summed over the months of the period whose
    end has passed: from each open bucket at the previous month end to the state at this one."""
    require_perm(actor, VIEW)
    parsed = q.parse_period(period)
    clean = q._clean_filters(filters)
    loans = loans_queryset(actor=actor, filters=clean)
    last = _last_month_end(q._today())
    months = [m for m in _months(parsed) if month_end(m) <= last]
    open_codes = [code for code, _ in buckets()]
    counts: dict[tuple[str, str], int] = defaultdict(int)
    if _use_facts(clean):
        moves = (
            _fact_rows(actor, clean, [month_end(m) for m in months])
            .filter(cohort__isnull=True)  # the roll-rate rows (reports.month_end)
            .values("previous", "state")
            .annotate(n=Sum("loans"))
            .order_by()
        )
        for move in moves:
            if move["n"]:
                counts[(move["previous"], move["state"])] += int(move["n"])
    else:
        cache: dict[date, dict[int, str]] = {}
        for month in months:
            for frm, to, _ in _transitions(loans, month, cache):
                counts[(frm, to)] += 1
    all_states = states()
    rows: list[dict[str, Any]] = []
    for frm in open_codes:
        total = sum(counts[(frm, to)] for to in all_states)
        rows.append(
            {
                "from": frm,
                "label": state_label(frm),
                "total": total,
                "cells": {
                    to: {
                        "count": counts[(frm, to)],
                        "percent": q.fmt("percent", ratio(counts[(frm, to)], total)),
                    }
                    for to in all_states
                },
            }
        )
    return {
        "period": parsed.as_dict(),
        "months": [f"{m:%Y-%m}" for m in months],
        "states": [{"key": s, "label": state_label(s)} for s in all_states],
        "rows": rows,
        "links": [
            {"from": frm, "to": to, "count": n} for (frm, to), n in sorted(counts.items()) if n
        ],
    }


def state_map(loans: QuerySet[Any], end: date) -> dict[int, str]:
    return dict(month_states(loans, end).values_list("loan_id", "state"))


def _transitions(
    loans: QuerySet[Any], month: date, cache: dict[date, dict[int, str]]
) -> list[tuple[str, str, int]]:
    """(state at the previous month end, state at this month end, loan id) of the loans open
    (in a bucket) at the former. Each month end's states are read once."""
    ends = (q._month_start(month) - timedelta(days=1), month_end(month))
    for end in ends:
        if end not in cache:
            cache[end] = state_map(loans, end)
    before, after = cache[ends[0]], cache[ends[1]]
    open_codes = {code for code, _ in buckets()}
    return [
        (state, after[loan_id], loan_id)
        for loan_id, state in before.items()
        if state in open_codes and loan_id in after
    ]


# --- drill to loans ------------------------------------------------------------------------


def drill_loan_ids(*, actor: User, payload: Mapping[str, Any]) -> list[int]:
    """The loans behind one vintage cell or one roll-rate cell."""
    require_perm(actor, VIEW)
    kind = payload.get("kind")
    loans = loans_queryset(actor=actor, filters=q._clean_filters(payload.get("filters")))
    last = _last_month_end(q._today())
    if kind == "vintage":
        cohort = _parse_month(payload.get("cohort"), "cohort")
        mob = payload.get("mob")
        if isinstance(mob, bool) or not isinstance(mob, int) or not 1 <= mob <= MAX_MONTHS:
            raise ValidationFailed.field("mob", "reports.bad_filter", key="mob")
        level = payload.get("level")
        if level not in ("m1", "m3"):
            raise ValidationFailed.field("level", "reports.bad_filter", key="level")
        end = month_end(add_months(cohort, mob))
        if end > last:
            return []
        codes = _codes_from(_threshold("M1" if level == "m1" else "M3", 1 if level == "m1" else 61))
        codes.add(WRITTEN_OFF)
        cohort_loans = loans.filter(start_date__gte=cohort, start_date__lte=month_end(cohort))
        return sorted(
            loan_id
            for loan_id, state in month_states(cohort_loans, end).values_list("loan_id", "state")
            if state in codes
        )
    if kind == "roll_rate":
        frm, to = payload.get("from_state"), payload.get("to_state")
        if frm not in {c for c, _ in buckets()}:
            raise ValidationFailed.field("from_state", "reports.bad_filter", key="from_state")
        if to not in states():
            raise ValidationFailed.field("to_state", "reports.bad_filter", key="to_state")
        # One month, or every month of the period (a loan that moved twice is listed once).
        if payload.get("month") is not None:
            months = [_parse_month(payload.get("month"), "month")]
        else:
            months = _months(q.parse_period(payload.get("period")))
        cache: dict[date, dict[int, str]] = {}
        found: set[int] = set()
        for month in months:
            if month_end(month) > last:
                continue
            found.update(
                loan_id
                for f, t, loan_id in _transitions(loans, month, cache)
                if (f, t) == (frm, to)
            )
        return sorted(found)
    raise ValidationFailed.field("kind", "reports.bad_filter", key="kind")


__all__ = ["drill_loan_ids", "month_states", "roll_rate", "vintage"]
