"""COB's pure rules: delinquency buckets, the five-category classification, installment states.

Plain Python, no Django: the COB steps turn these same rules into SQL (see `cob_sql`), and the
tests check that both agree for every days-past-due value.

Conventions (the business date is D):

* An installment is *due* from its due date (due_date <= D) and *overdue* once the grace is
  exceeded: D - due_date > grace_days (the grace is a waiver for paying on time; matches
  `lending.finance.penalty.chargeable_days`).
* A loan's `overdue_since` is the due date of its oldest unsettled overdue installment, and
  days past due (DPD) = D - overdue_since (0 when nothing is overdue). A loan that has just
  become overdue therefore has DPD = grace_days + 1.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

PENDING, DUE, OVERDUE, PAID = "pending", "due", "overdue", "paid"

CLASSIFICATIONS: tuple[str, ...] = ("normal", "special_mention", "substandard", "doubtful", "loss")
MAX_DPD = 100_000


class RuleError(ValueError):
    """Settings that do not describe a partition of DPD; `code` is an i18n message code."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Bucket:
    """Loans with min_dpd <= DPD <= max_dpd (max_dpd None: no upper end)."""

    code: str
    min_dpd: int
    max_dpd: int | None


@dataclass(frozen=True)
class Threshold:
    """A loan is in `classification` from `min_dpd` days past due (until the next threshold)."""

    classification: str
    min_dpd: int


DEFAULT_BUCKETS: tuple[Bucket, ...] = (
    Bucket("M0", 0, 0),
    Bucket("M1", 1, 30),
    Bucket("M2", 31, 60),
    Bucket("M3", 61, 90),
    Bucket("M3+", 91, None),
)

# The common reading of the regulator's guidance on five-category classification by DPD.
DEFAULT_THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("normal", 0),
    Threshold("special_mention", 1),
    Threshold("substandard", 91),
    Threshold("doubtful", 181),
    Threshold("loss", 361),
)


def validate_buckets(buckets: Sequence[Bucket]) -> tuple[Bucket, ...]:
    """Buckets sorted by min_dpd; they must cover 0.. without gaps or overlaps, end open."""
    if not buckets:
        raise RuleError("postloan.buckets_empty")
    if len(buckets) > 20:
        raise RuleError("postloan.buckets_too_many", max=20)
    ordered = tuple(sorted(buckets, key=lambda b: b.min_dpd))
    codes = [b.code for b in ordered]
    if len(set(codes)) != len(codes):
        raise RuleError("postloan.bucket_code_duplicate")
    expected = 0
    for i, b in enumerate(ordered):
        if not b.code or len(b.code) > 8:
            raise RuleError("postloan.bucket_code_invalid", bucket=b.code)
        if b.min_dpd != expected:
            raise RuleError("postloan.buckets_gap", bucket=b.code, expected=expected)
        last = i == len(ordered) - 1
        if last:
            if b.max_dpd is not None:
                raise RuleError("postloan.buckets_open_end", bucket=b.code)
        else:
            if b.max_dpd is None or b.max_dpd < b.min_dpd or b.max_dpd >= MAX_DPD:
                raise RuleError("postloan.bucket_range_invalid", bucket=b.code)
            expected = b.max_dpd + 1
    if ordered[0].max_dpd != 0:
        raise RuleError("postloan.bucket_current_invalid")
    return ordered


def validate_thresholds(thresholds: Sequence[Threshold]) -> tuple[Threshold, ...]:
    """All five categories, in order, normal from 0, strictly increasing minimum DPD."""
    by_class = {t.classification: t for t in thresholds}
    if len(by_class) != len(thresholds) or set(by_class) != set(CLASSIFICATIONS):
        raise RuleError("postloan.thresholds_incomplete")
    ordered = tuple(by_class[c] for c in CLASSIFICATIONS)
    if ordered[0].min_dpd != 0:
        raise RuleError("postloan.thresholds_normal_zero")
    for prev, cur in itertools.pairwise(ordered):
        if cur.min_dpd <= prev.min_dpd or cur.min_dpd >= MAX_DPD:
            raise RuleError("postloan.thresholds_not_increasing", bucket=cur.classification)
    return ordered


def bucket_for(dpd: int, buckets: Sequence[Bucket]) -> str:
    for b in buckets:
        if dpd >= b.min_dpd and (b.max_dpd is None or dpd <= b.max_dpd):
            return b.code
    raise RuleError("postloan.buckets_gap", bucket="?", expected=dpd)


def classify(dpd: int, thresholds: Sequence[Threshold]) -> str:
    result = thresholds[0].classification
    for t in thresholds:
        if dpd >= t.min_dpd:
            result = t.classification
    return result


def days_past_due(overdue_since: date | None, on: date) -> int:
    return 0 if overdue_since is None else max(0, (on - overdue_since).days)


def installment_status(
    *, status: str, due_date: date, grace_days: int, on: date, settled: bool
) -> str:
    """The state an installment should be in on `on` (COB never moves paid back, and leaves
    pending installments alone until they fall due, even when prepaid)."""
    if status == PAID:
        return PAID
    if due_date > on:
        return status  # pending (not yet due)
    if settled:
        return PAID
    if (on - due_date).days > grace_days:
        return OVERDUE
    return OVERDUE if status == OVERDUE else DUE


@dataclass(frozen=True)
class LoanState:
    status: str
    overdue_since: date | None
    days_past_due: int
    bucket: str
    classification: str


def loan_state(
    *,
    oldest_overdue_due: date | None,
    on: date,
    buckets: Sequence[Bucket],
    thresholds: Sequence[Threshold],
) -> LoanState:
    """Delinquency of an active/overdue loan from its oldest unsettled overdue installment."""
    dpd = days_past_due(oldest_overdue_due, on)
    return LoanState(
        status="active" if oldest_overdue_due is None else "overdue",
        overdue_since=oldest_overdue_due,
        days_past_due=dpd,
        bucket=bucket_for(dpd, buckets),
        classification=classify(dpd, thresholds),
    )


def id_ranges(ids: Sequence[int], parts: int) -> list[tuple[int, int | None]]:
    """Split sorted loan ids into at most `parts` contiguous (lo, hi) ranges (hi inclusive; the
    last range is open-ended so loans created during a run still belong to a partition)."""
    parts = max(1, parts)
    if not ids:
        return [(0, None)]
    bounds: list[int] = []
    for k in range(1, parts):
        lo = ids[len(ids) * k // parts]
        if (not bounds or lo > bounds[-1]) and lo > ids[0]:
            bounds.append(lo)
    ranges: list[tuple[int, int | None]] = []
    start = 0
    for b in bounds:
        ranges.append((start, b - 1))
        start = b
    ranges.append((start, None))
    return ranges
