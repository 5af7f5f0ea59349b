"""The pure COB rules (hypothesis), and the SQL CASE expressions agreeing with them."""

import itertools
from datetime import date, timedelta

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from loandesk.postloan import cob, rules
from loandesk.postloan.rules import Bucket, RuleError, Threshold


@st.composite
def bucket_sets(draw: st.DrawFn) -> tuple[Bucket, ...]:
    widths = draw(st.lists(st.integers(1, 200), min_size=0, max_size=8))
    out = [Bucket("M0", 0, 0)]
    lo = 1
    for n, w in enumerate(widths):
        out.append(Bucket(f"B{n}", lo, lo + w - 1))
        lo += w
    out.append(Bucket("X", lo, None))
    return tuple(out)


@st.composite
def threshold_sets(draw: st.DrawFn) -> tuple[Threshold, ...]:
    steps = draw(st.lists(st.integers(1, 400), min_size=4, max_size=4))
    mins = [0]
    for s in steps:
        mins.append(mins[-1] + s)
    return tuple(Threshold(c, m) for c, m in zip(rules.CLASSIFICATIONS, mins, strict=True))


@given(bucket_sets(), st.integers(0, 5000))
def test_every_dpd_is_in_exactly_one_bucket(buckets: tuple[Bucket, ...], dpd: int) -> None:
    ordered = rules.validate_buckets(list(reversed(buckets)))
    hits = [b for b in ordered if b.min_dpd <= dpd and (b.max_dpd is None or dpd <= b.max_dpd)]
    assert len(hits) == 1
    assert rules.bucket_for(dpd, ordered) == hits[0].code
    assert rules.bucket_for(0, ordered) == "M0"


@given(threshold_sets(), st.integers(0, 3000), st.integers(0, 3000))
def test_classification_is_monotone_in_dpd(ts: tuple[Threshold, ...], a: int, b: int) -> None:
    ordered = rules.validate_thresholds(ts)
    rank = {c: i for i, c in enumerate(rules.CLASSIFICATIONS)}
    lo, hi = sorted((a, b))
    assert rank[rules.classify(lo, ordered)] <= rank[rules.classify(hi, ordered)]
    assert rules.classify(0, ordered) == "normal"
    assert rules.classify(ordered[-1].min_dpd, ordered) == "loss"


def test_default_settings() -> None:
    b = rules.DEFAULT_BUCKETS
    assert [rules.bucket_for(d, b) for d in (0, 1, 30, 31, 60, 61, 90, 91, 9999)] == [
        "M0",
        "M1",
        "M1",
        "M2",
        "M2",
        "M3",
        "M3",
        "M3+",
        "M3+",
    ]
    t = rules.DEFAULT_THRESHOLDS
    assert [rules.classify(d, t) for d in (0, 1, 90, 91, 180, 181, 360, 361)] == [
        "normal",
        "special_mention",
        "special_mention",
        "substandard",
        "substandard",
        "doubtful",
        "doubtful",
        "loss",
    ]


@pytest.mark.parametrize(
    ("buckets", "code"),
    [
        ([], "postloan.buckets_empty"),
        ([Bucket("M0", 0, 0), Bucket("M1", 2, None)], "postloan.buckets_gap"),
        ([Bucket("M0", 0, 0), Bucket("M1", 1, 30)], "postloan.buckets_open_end"),
        ([Bucket("M0", 0, 5), Bucket("M1", 6, None)], "postloan.bucket_current_invalid"),
        ([Bucket("M0", 0, 0), Bucket("M0", 1, None)], "postloan.bucket_code_duplicate"),
        (
            [Bucket("M0", 0, 0), Bucket("M1", 1, 0), Bucket("M2", 1, None)],
            "postloan.bucket_range_invalid",
        ),
    ],
)
def test_bad_buckets_are_refused(buckets: list[Bucket], code: str) -> None:
    with pytest.raises(RuleError) as err:
        rules.validate_buckets(buckets)
    assert err.value.code == code


def test_bad_thresholds_are_refused() -> None:
    good = list(rules.DEFAULT_THRESHOLDS)
    with pytest.raises(RuleError, match="thresholds_incomplete"):
        rules.validate_thresholds(good[:4])
    with pytest.raises(RuleError, match="normal_zero"):
        rules.validate_thresholds([Threshold("normal", 1), *good[1:]])
    with pytest.raises(RuleError, match="not_increasing"):
        rules.validate_thresholds([*good[:2], Threshold("substandard", 1), *good[3:]])


@given(
    st.sampled_from(["pending", "due", "overdue", "paid"]),
    st.integers(-40, 40),
    st.integers(0, 10),
    st.booleans(),
)
def test_installment_status(status: str, offset: int, grace: int, settled: bool) -> None:
    due = date(2026, 3, 15)
    on = due + timedelta(days=offset)
    new = rules.installment_status(
        status=status, due_date=due, grace_days=grace, on=on, settled=settled
    )
    if status == "paid":
        assert new == "paid"
    elif offset < 0:
        assert new == status
    elif settled:
        assert new == "paid"
    elif offset > grace:
        assert new == "overdue"
    else:
        assert new in ("due", "overdue") and (new == "overdue") == (status == "overdue")
    # Applying the rule again on the same day changes nothing (idempotent).
    again = rules.installment_status(
        status=new, due_date=due, grace_days=grace, on=on, settled=settled
    )
    assert again == new


@given(st.lists(st.integers(1, 10_000), unique=True, max_size=60), st.integers(1, 8))
def test_id_ranges_cover_every_id_once(ids: list[int], parts: int) -> None:
    ids.sort()
    ranges = rules.id_ranges(ids, parts)
    assert 1 <= len(ranges) <= parts
    assert ranges[0][0] == 0 and ranges[-1][1] is None
    for (_, hi), (lo, _) in itertools.pairwise(ranges):
        assert hi is not None and lo == hi + 1
    for i in [*ids, 10**9]:
        assert sum(lo <= i and (hi is None or i <= hi) for lo, hi in ranges) == 1


@pytest.mark.django_db
@settings(max_examples=25, deadline=None)
@given(bucket_sets(), threshold_sets(), st.lists(st.integers(0, 3000), min_size=1, max_size=20))
def test_sql_case_equals_the_pure_rules(
    buckets: tuple[Bucket, ...], ts: tuple[Threshold, ...], dpds: list[int]
) -> None:
    bcase, bp = cob.bucket_case("v", buckets)
    ccase, cp = cob.classification_case("v", ts)
    values = " UNION ALL ".join("SELECT %s AS v" for _ in dpds)
    with connection.cursor() as cur:
        cur.execute(f"SELECT v, {bcase}, {ccase} FROM ({values}) t", [*bp, *cp, *dpds])
        got = {(int(v), b, c) for v, b, c in cur.fetchall()}
    assert got == {(d, rules.bucket_for(d, buckets), rules.classify(d, ts)) for d in dpds}
