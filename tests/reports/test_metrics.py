"""The breakdowns (org levels, officers, products, channels, regions, buckets, time) against
grouped reference rows; officer1 sees only officer1's loans. (Every catalog metric against the
reference: test_metrics_reference.py.)"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from loandesk.accounts.models import Department, User
from loandesk.reports.query import parse_query, run_query
from tests.reports import reference as ref
from tests.reports.conftest import TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_module_book")]

PERIODS = [
    (date(2026, 10, 22), TODAY),
    (date(2026, 1, 1), TODAY),
    (date(2025, 11, 1), date(2026, 3, 31)),
    (date(2026, 10, 1), date(2026, 10, 31)),
]


def _query(user: User, body: dict[str, Any]) -> dict[str, Any]:
    return run_query(actor=user, query=parse_query(body))


def test_officer1_sees_only_officer1_loans(book: dict[str, Any]) -> None:
    officer1 = book["users"]["officer1"]
    mine = [r for r in ref.loans(ref.Viewer(officer1))]
    assert mine and {r["owner_id"] for r in mine} == {officer1.pk}
    result = _query(
        officer1,
        {
            "metrics": ["disbursement_amount", "disbursement_count"],
            "dimension": "officer",
            "period": {"start": "2025-01-01", "end": str(TODAY)},
        },
    )
    assert [r["key"] for r in result["rows"]] == [str(officer1.pk)]
    assert result["totals"]["disbursement_count"] == len(mine)
    assert result["totals"]["disbursement_amount"] == ref.money(
        sum(r["principal_fen"] for r in mine)
    )
    everyone = _query(
        User.objects.get(username="gm"),
        {"metrics": ["disbursement_count"], "period": {"start": "2025-01-01", "end": str(TODAY)}},
    )
    assert everyone["totals"]["disbursement_count"] > len(mine)


def test_a_manager_sees_the_branch_subtree(book: dict[str, Any]) -> None:
    manager = User.objects.get(username="manager")
    result = _query(manager, {"metrics": ["outstanding_principal"], "dimension": "officer"})
    officers = {int(r["key"]) for r in result["rows"]}
    assert book["users"]["officer2"].pk not in officers  # 上海
    assert {book["users"]["officer1"].pk, book["officer3"].pk} <= officers


@pytest.mark.parametrize(
    "metric", ["disbursement_amount", "outstanding_principal", "overdue_rate", "par30"]
)
@pytest.mark.parametrize("dimension", ["officer", "product", "channel", "region", "bucket"])
def test_breakdowns_match_grouped_reference_rows(
    book: dict[str, Any], metric: str, dimension: str
) -> None:
    gm = User.objects.get(username="gm")
    start, end = date(2025, 11, 1), TODAY
    result = _query(
        gm,
        {
            "metrics": [metric],
            "dimension": dimension,
            "period": {"start": str(start), "end": str(end)},
        },
    )
    column = {
        "officer": "owner_id",
        "product": "product_id",
        "channel": "customer__source_channel",
        "region": "customer__province_code",
        "bucket": "bucket",
    }[dimension]
    rows = ref.loans(ref.Viewer(gm))
    if metric == "disbursement_amount":
        rows = [r for r in rows if ref.in_period(r["start_date"], start, end)]
    else:
        rows = ref.live(rows)
    expected = {}
    for key, items in ref.group(rows, lambda r: str(r[column])).items():
        out = sum(r["outstanding_principal_fen"] for r in items)
        expected[key] = {
            "disbursement_amount": ref.money(sum(r["principal_fen"] for r in items)),
            "outstanding_principal": ref.money(out),
            "overdue_rate": ref.pct(
                sum(r["outstanding_principal_fen"] for r in items if r["days_past_due"] > 0), out
            ),
            "par30": ref.pct(
                sum(r["outstanding_principal_fen"] for r in items if r["days_past_due"] > 30), out
            ),
        }[metric]
    got = {r["key"]: r["values"][metric] for r in result["rows"]}
    assert got == expected
    assert all(r["label"] for r in result["rows"])


def test_org_levels_company_branch_team_officer(book: dict[str, Any]) -> None:
    gm = User.objects.get(username="gm")
    depts = book["departments"]
    rows = ref.live(ref.loans(ref.Viewer(gm)))
    paths = dict(Department.objects.values_list("pk", "path"))

    def under(dept: Department) -> int:
        return sum(
            r["outstanding_principal_fen"]
            for r in rows
            if paths.get(r["department_id"], "").startswith(dept.path)
        )

    top = _query(gm, {"metrics": ["outstanding_principal"], "dimension": "org"})
    assert [(r["label"], r["values"]["outstanding_principal"]) for r in top["rows"]] == [
        ("总部", ref.money(under(depts["总部"])))
    ]
    branches = _query(
        gm, {"metrics": ["outstanding_principal"], "dimension": "org", "node": depts["总部"].pk}
    )
    got = {r["label"]: r["values"]["outstanding_principal"] for r in branches["rows"]}
    assert got == {
        name: ref.money(under(depts[name]))
        for name in ("北京分公司", "上海分公司")
        if under(depts[name])
    }
    assert branches["dimension"]["path"] == [{"node": depts["总部"].pk, "label": "总部"}]
    team = depts["北京一组"]
    officers = _query(
        gm, {"metrics": ["outstanding_principal"], "dimension": "org", "node": team.pk}
    )
    assert officers["dimension"]["key"] == "officer"
    assert {r["key"]: r["values"]["outstanding_principal"] for r in officers["rows"]} == {
        str(owner): ref.money(sum(r["outstanding_principal_fen"] for r in items))
        for owner, items in ref.group(
            [r for r in rows if r["department_id"] == team.pk], lambda r: r["owner_id"]
        ).items()
    }


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year"])
def test_time_buckets_in_local_time(book: dict[str, Any], grain: str) -> None:
    gm = User.objects.get(username="gm")
    start, end = date(2025, 12, 1), TODAY
    result = _query(
        gm,
        {
            "metrics": ["disbursement_count", "disbursement_amount"],
            "dimension": "time",
            "grain": grain,
            "period": {"start": str(start), "end": str(end)},
        },
    )

    def bucket(d: date) -> date:
        if grain == "day":
            return d
        if grain == "week":
            return d - timedelta(days=d.weekday())
        if grain == "month":
            return d.replace(day=1)
        if grain == "quarter":
            return date(d.year, (d.month - 1) // 3 * 3 + 1, 1)
        return date(d.year, 1, 1)

    rows = [r for r in ref.loans(ref.Viewer(gm)) if ref.in_period(r["start_date"], start, end)]
    expected = {
        key.isoformat(): len(items)
        for key, items in ref.group(rows, lambda r: bucket(r["start_date"])).items()
    }
    got = {r["key"]: r["values"]["disbursement_count"] for r in result["rows"]}
    assert {k: v for k, v in got.items() if v} == expected
    assert list(got) == sorted(got)  # empty buckets are filled, in order
    assert sum(got.values()) == result["totals"]["disbursement_count"]


def test_two_dimensions_product_by_bucket(book: dict[str, Any]) -> None:
    gm = User.objects.get(username="gm")
    result = _query(
        gm, {"metrics": ["outstanding_principal"], "dimension": "product", "series": "bucket"}
    )
    rows = ref.live(ref.loans(ref.Viewer(gm)))
    assert [i["key"] for i in result["series"]["items"]] == [
        b for b in ("M0", "M1", "M2", "M3", "M3+") if any(r["bucket"] == b for r in rows)
    ]
    for row in result["rows"]:
        for bucket, value in row["values"].items():
            mine = [r for r in rows if str(r["product_id"]) == row["key"] and r["bucket"] == bucket]
            assert value == ref.money(sum(r["outstanding_principal_fen"] for r in mine))


def test_acquisition_cost_by_channel(book: dict[str, Any]) -> None:
    gm = User.objects.get(username="gm")
    start, end = date(2026, 10, 1), date(2026, 11, 30)
    result = _query(
        gm,
        {
            "metrics": ["acquisition_cost", "channel_cost", "new_customers"],
            "dimension": "channel",
            "period": {"start": str(start), "end": str(end)},
        },
    )
    custs = ref.customers(ref.Viewer(gm), start, end)
    costs = ref.channel_costs(ref.Viewer(gm), start, end)
    for row in result["rows"]:
        n = len([c for c in custs if c["source_channel"] == row["key"]])
        cost = sum(c["cost_fen"] for c in costs if c["channel"] == row["key"])
        assert row["values"]["new_customers"] == n
        assert row["values"]["channel_cost"] == ref.money(cost)
        assert row["values"]["acquisition_cost"] == (ref.money(Decimal(cost) / n) if n else None)
    # An officer cannot see company costs.
    officer = _query(
        book["users"]["officer1"],
        {"metrics": ["channel_cost"], "period": {"start": str(start), "end": str(end)}},
    )
    assert officer["totals"]["channel_cost"] == "0.00"


def test_a_day_boundary_is_local_midnight(book: dict[str, Any]) -> None:
    """A customer created at 23:30 UTC on the 1st belongs to the 2nd in Shanghai."""
    from loandesk.customers.models import Customer

    customer = Customer.objects.filter(owner=book["users"]["officer1"]).first()
    assert customer is not None
    Customer.objects.filter(pk=customer.pk).update(
        created_at=datetime(2026, 2, 1, 23, 30, tzinfo=UTC)
    )
    gm = User.objects.get(username="gm")
    day = _query(
        gm,
        {"metrics": ["new_customers"], "period": {"start": "2026-02-02", "end": "2026-02-02"}},
    )
    before = _query(
        gm,
        {"metrics": ["new_customers"], "period": {"start": "2026-02-01", "end": "2026-02-01"}},
    )
    expected = len(ref.customers(ref.Viewer(gm), date(2026, 2, 2), date(2026, 2, 2)))
    assert day["totals"]["new_customers"] == expected >= 1
    assert before["totals"]["new_customers"] == len(
        ref.customers(ref.Viewer(gm), date(2026, 2, 1), date(2026, 2, 1))
    )
    assert timezone.localtime(datetime(2026, 2, 1, 23, 30, tzinfo=UTC)).date() == date(2026, 2, 2)


@pytest.mark.parametrize("sort", ["", "value_asc", "value_desc"])
@pytest.mark.parametrize("series", [False, True])
def test_rows_tied_on_the_value_keep_key_order_whatever_order_they_came_in(
    sort: str, series: bool
) -> None:
    """The same chart answered from the fact tables and from the loans listed two products
    with equal overdue rates in different orders on PostgreSQL: ties are broken by key."""
    from dataclasses import replace

    from loandesk.reports.query import METRICS, Dim, _sorted

    query = parse_query({"metrics": ["overdue_rate"], "dimension": "product", "sort": sort})
    if series:
        query = replace(query, series="bucket")
    value_key = "M1" if series else "overdue_rate"
    rows = [
        {"key": key, "values": {value_key: value}}
        for key, value in [
            ("3510", "100.00"),
            ("3509", "100.00"),
            ("3511", "50.00"),
            ("9", "100.00"),
        ]
    ]
    dim = Dim(key="product", expr=None)
    ordered = [
        [r["key"] for r in _sorted(seq, dim, query, METRICS["overdue_rate"])]
        for seq in (rows, rows[::-1])
    ]
    assert ordered[0] == ordered[1]
    tied = [k for k in ordered[0] if k != "3511"]
    assert tied == ["9", "3509", "3510"]  # ids as numbers, not as text
