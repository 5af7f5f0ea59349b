"""Every catalog metric against the Python reference, for several viewers and periods, with
the demo flow's sample approvals on top of the book; the previous period."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loandesk.accounts.models import User
from loandesk.flows.models import FlowInstance
from loandesk.reports.metrics import METRICS
from tests.reports import reference as ref
from tests.reports.conftest import TODAY
from tests.reports.test_metrics import PERIODS, _query

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_module_book", "_module_approvals")]


@pytest.fixture(scope="module")
def _module_approvals(_module_book: dict[str, Any], django_db_blocker: Any) -> None:
    """The demo flow's sample approvals, plus decided instances with known durations: made
    once, inside the module's shared book (tests/reports/conftest.py)."""
    from loandesk.flows.demo import seed_samples
    from loandesk.forms.models import Record

    with django_db_blocker.unblock():
        seed_samples()
        # The samples were filed on the wall clock: spread them over the year before the
        # business date.
        for i, pk in enumerate(Record.objects.order_by("id").values_list("pk", flat=True)):
            Record.objects.filter(pk=pk).update(
                created_at=datetime(2026, 11, 15, 3, tzinfo=UTC) - timedelta(days=i * 23)
            )
        first = FlowInstance.objects.order_by("id").first()
        assert first is not None
        users = [User.objects.get(username=u) for u in ("officer1", "officer2", "officer3")]
        base = datetime(2026, 11, 10, 2, tzinfo=UTC)
        for i in range(14):
            owner = users[i % 3]
            started = base - timedelta(days=i * 9, hours=i * 3)
            FlowInstance.objects.create(
                version=first.version,
                record=first.record,
                initiator=owner,
                department=owner.department,
                customer=first.customer,
                title=f"样例 {i}",
                status="approved" if i % 4 else "rejected",
                started_at=started,
                finished_at=started + timedelta(hours=2 + i * 5, minutes=i * 7),
            )


@pytest.fixture
def approvals(book: dict[str, Any]) -> dict[str, Any]:
    return book


@pytest.mark.parametrize("username", ["gm", "manager", "officer1", "officer2"])
@pytest.mark.parametrize("period", PERIODS)
def test_every_metric_total_matches_the_reference(
    approvals: dict[str, Any], username: str, period: tuple[date, date]
) -> None:
    user = User.objects.get(username=username)
    start, end = period
    expected = ref.metric_values(ref.Viewer(user), start, end, TODAY)
    keys = sorted(METRICS)
    assert set(keys) <= set(expected), "every catalog metric has a reference"
    got: dict[str, Any] = {}
    for chunk in range(0, len(keys), 12):
        result = _query(
            user,
            {"metrics": keys[chunk : chunk + 12], "period": {"start": str(start), "end": str(end)}},
        )
        got |= result["totals"]
    assert got == {k: expected[k] for k in keys}


def test_the_data_is_not_trivial(approvals: dict[str, Any]) -> None:
    """The reference check above compares real numbers, not zeros."""
    gm = User.objects.get(username="gm")
    values = ref.metric_values(ref.Viewer(gm), date(2026, 1, 1), TODAY, TODAY)
    for key in (
        "new_customers",
        "applications",
        "approvals_decided",
        "disbursement_count",
        "overdue_loans",
        "due_installments",
        "approval_hours_median",
        "repayment_amount",
        "collection_cases",
        "collection_recovery_rate",
        "ptp_kept_rate",
    ):
        assert values[key], key
    assert values["par30"] != values["par90"] != values["overdue_rate"]


def test_compare_with_the_previous_period(approvals: dict[str, Any]) -> None:
    gm = User.objects.get(username="gm")
    start, end = date(2026, 10, 1), date(2026, 10, 31)
    result = _query(
        gm,
        {
            "metrics": ["new_customers", "disbursement_amount", "approval_rate"],
            "dimension": "officer",
            "compare": True,
            "period": {"start": str(start), "end": str(end)},
        },
    )
    prev_start, prev_end = date(2026, 8, 31), date(2026, 9, 30)
    assert result["previous_period"] == {"start": str(prev_start), "end": str(prev_end)}
    expected = ref.metric_values(ref.Viewer(gm), prev_start, prev_end, TODAY)
    assert result["previous_totals"] == {
        k: expected[k] for k in ("new_customers", "disbursement_amount", "approval_rate")
    }
    rows = [
        r for r in ref.loans(ref.Viewer(gm)) if ref.in_period(r["start_date"], prev_start, prev_end)
    ]
    for row in result["rows"]:
        mine = [r for r in rows if str(r["owner_id"]) == row["key"]]
        assert row["previous"]["disbursement_amount"] == ref.money(
            sum(r["principal_fen"] for r in mine)
        )


@pytest.mark.postgres(reason="percentile_cont is PostgreSQL's; SQLite's run in Python")
def test_percentiles_in_the_database_equal_the_python_ones(
    approvals: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL answers the approval-time percentiles with percentile_cont (no sample rows
    fetched), exactly as the Python interpolation SQLite uses, per group and in total."""
    gm = User.objects.get(username="gm")
    keys = ["approval_hours_median", "approval_hours_p90"]
    payloads: list[dict[str, Any]] = [
        {"dimension": None},
        {"dimension": "org"},
        {"dimension": "officer"},
        {"dimension": "time", "grain": "month", "compare": True},
    ]
    answers = []
    for payload in payloads:
        body = {"metrics": keys, "period": {"start": "2026-01-01", "end": str(TODAY)}, **payload}
        with CaptureQueriesContext(connection) as q:
            answers.append(_query(gm, body))
        assert any("percentile_cont" in x["sql"] for x in q.captured_queries)
    assert answers[0]["totals"]["approval_hours_median"] is not None
    for key in keys:
        monkeypatch.setitem(METRICS, key, replace(METRICS[key], sql_stat=None))
    for payload, in_sql in zip(payloads, answers, strict=True):
        body = {"metrics": keys, "period": {"start": "2026-01-01", "end": str(TODAY)}, **payload}
        with CaptureQueriesContext(connection) as q:
            in_python = _query(gm, body)
        assert not any("percentile_cont" in x["sql"] for x in q.captured_queries)
        assert in_sql == in_python, payload
    expected = ref.metric_values(ref.Viewer(gm), date(2026, 1, 1), TODAY, TODAY)
    assert answers[0]["totals"] == {k: expected[k] for k in keys}


def test_hours_percentile_rounds_exact_ties_half_up() -> None:
    """334 s and 3,626 s: the median is exactly 1,980 s = 0.55 h, which rounds up to 0.6 (an
    hours-first division made it 0.5499… and 0.5); likewise (2,629 + 4,211) / 2 s = 0.95 h."""
    from loandesk.reports.metrics import hours_percentile

    start = datetime(2026, 3, 1, tzinfo=UTC)

    def rows(*secs: int) -> list[tuple[datetime, datetime]]:
        return [(start, start + timedelta(seconds=s)) for s in secs]

    assert hours_percentile(rows(334, 3626), Decimal("0.5")) == Decimal("0.6")
    assert hours_percentile(rows(2141, 2629, 4211, 17544), Decimal("0.5")) == Decimal("1.0")
    assert hours_percentile(rows(2141, 2629, 4211, 17544), Decimal("0.9")) == Decimal("3.8")
    assert hours_percentile(rows(5400), Decimal("0.9")) == Decimal("1.5")
    assert hours_percentile([], Decimal("0.5")) is None


@pytest.mark.postgres(reason="percentile_cont is PostgreSQL's; SQLite's run in Python")
def test_percentile_ties_in_the_database(approvals: dict[str, Any]) -> None:
    """The same ties through percentile_cont: PostgreSQL rounds them as Python does."""
    first = FlowInstance.objects.order_by("id").first()
    assert first is not None
    gm = User.objects.get(username="gm")
    for secs in (334, 3626):
        started = datetime(2025, 3, 10, 2, tzinfo=UTC)
        FlowInstance.objects.create(
            version=first.version,
            record=first.record,
            initiator=gm,
            department=gm.department,
            title="平局",
            status="approved",
            started_at=started,
            finished_at=started + timedelta(seconds=secs),
        )
    body = {
        "metrics": ["approval_hours_median"],
        "period": {"start": "2025-03-01", "end": "2025-03-31"},
    }
    assert _query(gm, body)["totals"]["approval_hours_median"] == "0.6"
