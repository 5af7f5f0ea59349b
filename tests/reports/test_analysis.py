"""Vintage and roll-rate analysis against the Python reference (loan states at month ends
restated from raw installments), within each viewer's data scope; drill to the loans; bad input."""

from datetime import UTC, date, datetime
from typing import Any

import pytest

from loandesk.lending.models import Loan
from loandesk.reports import vintage as v
from tests.reports import reference as ref

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_module_book")]

PERIOD = {"start": "2025-10-01", "end": "2026-11-20"}
LAST_END = date(2026, 10, 31)  # the business date is 2026-11-20
COHORTS = [ref.shift_month(date(2025, 10, 1), k) for k in range(14)]
ROLL_MONTHS = [ref.shift_month(date(2025, 10, 1), k) for k in range(13)]  # through 2026-10


@pytest.fixture
def written_off(book: dict[str, Any]) -> dict[str, Any]:
    """A few loans written off at known moments (one at 23:30 local on a month end)."""
    picks = list(
        Loan.objects.filter(
            status="overdue",
            start_date__lt=date(2026, 2, 1),
            installments__paid_off_on__isnull=True,
        )
        .distinct()
        .order_by("id")[:4]
    )
    moments = [
        datetime(2026, 5, 31, 15, 30, tzinfo=UTC),  # 2026-05-31 23:30 in Shanghai
        datetime(2026, 5, 31, 16, 30, tzinfo=UTC),  # 2026-06-01 00:30 in Shanghai
        datetime(2026, 8, 10, 4, tzinfo=UTC),
        datetime(2026, 11, 2, 4, tzinfo=UTC),
    ]
    for loan, at in zip(picks, moments, strict=True):
        Loan.objects.filter(pk=loan.pk).update(status="written_off", closed_at=at)
    return book


@pytest.mark.parametrize("username", ["gm", "manager", "officer1"])
def test_vintage_matches_the_reference(written_off: dict[str, Any], username: str) -> None:
    user = written_off["users"][username]
    got = v.vintage(actor=user, period=PERIOD, filters={})
    expected = ref.vintage(ref.Viewer(user), COHORTS, LAST_END)
    assert got["as_of"] == LAST_END.isoformat()
    assert [c["key"] for c in got["cohorts"]] == list(expected)
    for cohort in got["cohorts"]:
        want = expected[cohort["key"]]
        assert cohort["loans"] == want["loans"], cohort["key"]
        assert cohort["m1"] == want["m1"], cohort["key"]
        assert cohort["m3"] == want["m3"], cohort["key"]
    # The oldest cohort is observed for 12 months, the last two not at all.
    assert got["mobs"] == list(range(1, 13))
    assert got["cohorts"][-1]["m1"] == {} and got["cohorts"][-2]["m1"] == {}


def test_vintage_is_not_trivial(written_off: dict[str, Any]) -> None:
    gm = written_off["users"]["gm"]
    got = v.vintage(actor=gm, period=PERIOD, filters={})
    shares = [x for c in got["cohorts"] for x in c["m1"].values() if x is not None]
    assert any(s != "0.00" for s in shares) and any(s == "0.00" for s in shares)
    assert any(x not in (None, "0.00") for c in got["cohorts"] for x in c["m3"].values())


@pytest.mark.parametrize("username", ["gm", "officer1"])
def test_roll_rate_matches_the_reference(written_off: dict[str, Any], username: str) -> None:
    user = written_off["users"][username]
    got = v.roll_rate(actor=user, period=PERIOD, filters={})
    expected = ref.roll_rate(ref.Viewer(user), ROLL_MONTHS)
    assert got["months"] == [f"{m:%Y-%m}" for m in ROLL_MONTHS]
    assert [s["key"] for s in got["states"]] == [
        "M0",
        "M1",
        "M2",
        "M3",
        "M3+",
        "closed",
        "written_off",
    ]
    for row in got["rows"]:
        for to, cell in row["cells"].items():
            assert cell["count"] == len(expected.get((row["from"], to), [])), (row["from"], to)
        total = sum(len(expected.get((row["from"], to), [])) for to in row["cells"])
        assert row["total"] == total
        if total:
            want = ref.pct(len(expected.get((row["from"], "M0"), [])), total)
            assert row["cells"]["M0"]["percent"] == want
    links = {(x["from"], x["to"]): x["count"] for x in got["links"]}
    assert links == {k: len(ids) for k, ids in expected.items()}
    if username == "gm":
        assert links.get(("M0", "M1")) and links.get(("M1", "M2"))
        assert any(to == "written_off" for _, to in links)


def test_filters_narrow_the_analysis(written_off: dict[str, Any]) -> None:
    gm = written_off["users"]["gm"]
    officer1 = written_off["users"]["officer1"]
    mine = v.vintage(actor=gm, period=PERIOD, filters={"officer": [officer1.pk]})
    own = v.vintage(actor=officer1, period=PERIOD, filters={})
    assert mine["cohorts"] == own["cohorts"]


def test_drill_to_the_loans_of_a_cell(written_off: dict[str, Any], client_for: Any) -> None:
    officer1 = written_off["users"]["officer1"]
    viewer = ref.Viewer(officer1)
    api = client_for("officer1")
    expected = ref.roll_rate(viewer, [date(2026, 9, 1)])
    (frm, to), ids = max(expected.items(), key=lambda kv: len(kv[1]))
    res = api.post(
        "/api/v1/reports/analysis/loans",
        {
            "kind": "roll_rate",
            "month": "2026-09",
            "from_state": frm,
            "to_state": to,
            "page_size": 100,
        },
    )
    assert res.status_code == 200, res.json()
    assert res.json()["total"] == len(ids)
    assert sorted(i["id"] for i in res.json()["items"]) == sorted(ids)
    # Over a period: the distinct loans of the cell in any of its months.
    over = ref.roll_rate(viewer, [date(2026, 8, 1), date(2026, 9, 1)])
    res = api.post(
        "/api/v1/reports/analysis/loans",
        {
            "kind": "roll_rate",
            "period": {"start": "2026-08-01", "end": "2026-09-30"},
            "from_state": "M0",
            "to_state": "M0",
            "page_size": 100,
        },
    )
    assert res.json()["total"] == len(set(over[("M0", "M0")])) > 0
    insts = ref.installments_by_loan()
    cohort = date(2026, 3, 1)
    members = [
        r for r in ref.loans_with_dates(viewer) if ref.month_start(r["start_date"]) == cohort
    ]
    end = ref.month_end_of(ref.shift_month(cohort, 4))
    want = sorted(
        r["id"]
        for r in members
        if ref.loan_state(r, insts.get(r["id"], []), end)
        in ("M1", "M2", "M3", "M3+", "written_off")
    )
    res = api.post(
        "/api/v1/reports/analysis/loans",
        {"kind": "vintage", "cohort": "2026-03", "mob": 4, "level": "m1", "page_size": 100},
    )
    assert res.status_code == 200
    assert sorted(i["id"] for i in res.json()["items"]) == want
    assert {i["owner"] for i in res.json()["items"]} <= {officer1.full_name}


def test_endpoints_and_bad_input(written_off: dict[str, Any], client_for: Any, anon: Any) -> None:
    gm = client_for("gm")
    res = gm.post("/api/v1/reports/vintage", {"period": PERIOD})
    assert res.status_code == 200 and res.json()["cohorts"]
    res = gm.post("/api/v1/reports/roll-rate", {"period": "last_12_months"})
    assert res.status_code == 200 and res.json()["rows"]
    assert anon.post("/api/v1/reports/vintage", {}).status_code == 401
    bad = [
        ("/api/v1/reports/vintage", {"period": {"start": "2026-13-01", "end": "2026-01-01"}}),
        ("/api/v1/reports/roll-rate", {"filters": {"nope": 1}}),
        ("/api/v1/reports/analysis/loans", {"kind": "pie"}),
        (
            "/api/v1/reports/analysis/loans",
            {"kind": "vintage", "cohort": "2026-3", "mob": 1, "level": "m1"},
        ),
        (
            "/api/v1/reports/analysis/loans",
            {"kind": "vintage", "cohort": "2026-03", "mob": 0, "level": "m1"},
        ),
        (
            "/api/v1/reports/analysis/loans",
            {"kind": "vintage", "cohort": "2026-03", "mob": 2, "level": "m9"},
        ),
        (
            "/api/v1/reports/analysis/loans",
            {"kind": "roll_rate", "month": "2026-09", "from_state": "closed", "to_state": "M1"},
        ),
        (
            "/api/v1/reports/analysis/loans",
            {"kind": "roll_rate", "month": "2026-09", "from_state": "M0", "to_state": "gone"},
        ),
        (
            "/api/v1/reports/analysis/loans",
            {"kind": "roll_rate", "month": "2026-99", "from_state": "M0", "to_state": "M1"},
        ),
        (
            "/api/v1/reports/analysis/loans",
            {
                "kind": "roll_rate",
                "month": "2026-09",
                "from_state": "M0",
                "to_state": "M1",
                "page_size": 1000,
            },
        ),
    ]
    for url, body in bad:
        res = gm.post(url, body)
        assert res.status_code == 422, (url, body, res.json())
        assert res.json()["message"]
    assert (
        gm.post("/api/v1/reports/analysis/loans", {"kind": "vintage", "mob": "x"}).status_code
        == 422
    )


def test_risk_dashboard_gets_the_analysis_charts_once(book: dict[str, Any]) -> None:
    from importlib import import_module

    from django.apps import apps

    from loandesk.reports.models import Dashboard

    migration = import_module("loandesk.reports.migrations.0002_risk_dashboard_vintage_roll_rate")
    risk = Dashboard.objects.get(code="risk")
    assert {"v1", "v2"} <= {w["id"] for w in risk.widgets}  # a fresh seed has them
    risk.widgets = [w for w in risk.widgets if w["chart"] not in ("vintage", "roll_rate")]
    risk.save()
    bottom = max(w["y"] + w["h"] for w in risk.widgets)
    for _ in range(2):
        migration.add_widgets(apps, None)
    risk.refresh_from_db()
    added = [w for w in risk.widgets if w["id"] in ("v1", "v2")]
    assert [w["chart"] for w in added] == ["vintage", "roll_rate"]
    assert added[0]["y"] == bottom
    from loandesk.reports.services import clean_widgets

    assert len(clean_widgets(risk.widgets)) == len(risk.widgets)  # still valid widgets


def test_analysis_widgets_are_validated(book: dict[str, Any], client_for: Any) -> None:
    admin = client_for("admin")
    base = {"id": "v9", "title": "", "chart": "vintage", "x": 0, "y": 0, "w": 12, "h": 5}
    ok = admin.post(
        "/api/v1/reports/dashboards",
        {"name": "Vintage", "widgets": [{**base, "query": {"period": "last_12_months"}}]},
    )
    assert ok.status_code == 201, ok.json()
    bad = admin.post(
        "/api/v1/reports/dashboards",
        {"name": "Bad", "widgets": [{**base, "query": {"period": {"start": "x"}}}]},
    )
    assert bad.status_code == 422
    assert "widgets[0].query.period.start" in bad.json()["details"]["fields"]
