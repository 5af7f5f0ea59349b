"""The reports API: catalog, chart queries, drill-down to the next level and to records (scoped,
paginated), Excel exports (formula-injection safe), dashboards CRUD and sharing, custom metrics,
channel costs, and bad input → 4xx with nothing written."""

import io
from typing import Any

import pytest
from django.conf import settings
from openpyxl import load_workbook

from loandesk.accounts.models import Role, User
from loandesk.core.models import AuditEntry
from loandesk.customers.models import Customer
from loandesk.lending.models import Loan
from loandesk.reports.demo import DASHBOARDS
from loandesk.reports.models import CustomMetric, Dashboard
from tests.reports import reference as ref

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_module_book")]
Q = "/api/v1/reports/query"


def _xlsx(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def test_anonymous_401_and_no_permission_403(book: dict[str, Any], anon: Any) -> None:
    assert anon.get("/api/v1/reports/catalog").status_code == 401
    assert anon.post(Q, {"metrics": ["new_customers"]}).status_code == 401
    Role.objects.filter(code="officer").update(permissions=[])
    officer = User.objects.get(username="officer1")
    from tests.factories import ApiClient

    client = ApiClient()
    client.login_as(officer.username, settings.LOANDESK_DEMO_PASSWORD)
    res = client.post(Q, {"metrics": ["new_customers"]})
    assert res.status_code == 403
    assert client.get("/api/v1/reports/dashboards").status_code == 403


def test_catalog_lists_metrics_dimensions_and_charts(book: dict[str, Any], client_for: Any) -> None:
    body = client_for("gm").get("/api/v1/reports/catalog").json()
    keys = {m["key"] for m in body["metrics"]}
    assert {"new_customers", "approval_rate", "par30", "acquisition_cost"} <= keys
    assert len(body["charts"]) >= 26
    assert {d["key"] for d in body["dimensions"]} >= {"time", "org", "product", "region"}
    par = next(m for m in body["metrics"] if m["key"] == "par30")
    assert "time" not in par["dimensions"] and par["time"] is False
    assert body["can_design"] is False and body["roles"] == []
    en = client_for("gm")
    en.language = "en-US"
    assert any(
        m["label"] == "New customers" for m in en.get("/api/v1/reports/catalog").json()["metrics"]
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metrics": ["nope"]}, "metrics"),
        ({"metrics": []}, "metrics"),
        ({"metrics": ["new_customers"], "dimension": "planet"}, "dimension"),
        ({"metrics": ["par30"], "dimension": "time"}, "dimension"),
        ({"metrics": ["new_customers"], "dimension": "product"}, "dimension"),
        (
            {"metrics": ["new_customers"], "period": {"start": "2026-13-01", "end": "2026-12-31"}},
            "period.start",
        ),
        (
            {"metrics": ["new_customers"], "period": {"start": "yesterday", "end": "2026-12-31"}},
            "period.start",
        ),
        (
            {"metrics": ["new_customers"], "period": {"start": "2026-05-01", "end": "2026-04-01"}},
            "period",
        ),
        (
            {"metrics": ["new_customers"], "period": {"start": "1900-01-01", "end": "2026-04-01"}},
            "period",
        ),
        ({"metrics": ["new_customers"], "period": {"preset": "forever"}}, "period"),
        ({"metrics": ["new_customers"], "grain": "decade", "dimension": "time"}, "grain"),
        ({"metrics": ["new_customers"], "filters": {"officer": ["x"]}}, "filters.officer"),
        ({"metrics": ["new_customers"], "filters": {"org": -3}}, "filters.org"),
        ({"metrics": ["new_customers"], "filters": {"org": 99999999}}, "filters.org"),
        ({"metrics": ["new_customers"], "filters": {"colour": ["red"]}}, "filters.colour"),
        ({"metrics": ["new_customers"], "filters": {"channel": ["a"] * 201}}, "filters.channel"),
        ({"metrics": ["new_customers"], "dimension": "org", "node": 99999999}, "node"),
        ({"metrics": ["new_customers"], "dimension": "org", "node": 10**30}, "node"),
        ({"metrics": ["new_customers"], "filters": {"officer": [10**30]}}, "filters.officer"),
        (
            {
                "metrics": ["new_customers", "applications"],
                "dimension": "time",
                "series": "channel",
            },
            "series",
        ),
        ({"metrics": ["new_customers"], "limit": 0, "dimension": "channel"}, "limit"),
        ({"metrics": ["new_customers"], "sort": "random"}, "sort"),
    ],
)
def test_bad_queries_are_422_in_the_users_language(
    book: dict[str, Any], client_for: Any, body: dict[str, Any], field: str
) -> None:
    res = client_for("gm").post(Q, body)
    assert res.status_code == 422, res.json()
    assert field in res.json()["details"]["fields"], res.json()
    assert res.json()["message"]


def test_wrong_types_are_422_not_500(book: dict[str, Any], client_for: Any) -> None:
    gm = client_for("gm")
    assert gm.post(Q, {"metrics": "new_customers", "node": "abc"}).status_code == 422
    assert gm.post(Q, {"metrics": [1, 2]}).status_code == 422
    assert gm.post(Q, "not json").status_code in (400, 422)
    assert gm.post(Q, {"metrics": ["new_customers"], "filters": [1]}).status_code == 422
    msg = client_for("gm")
    msg.language = "en-US"
    res = msg.post(Q, {"metrics": ["nope"]})
    assert res.json()["details"]["fields"]["metrics"] == "Unknown metric: nope"


def test_drill_company_branch_team_officer_then_loans(
    book: dict[str, Any], client_for: Any
) -> None:
    manager = client_for("manager")
    query: dict[str, Any] = {"metrics": ["outstanding_principal"], "dimension": "org"}
    labels = []
    for _ in range(6):
        res = manager.post(Q, query)
        assert res.status_code == 200, res.json()
        body = res.json()
        row = max(body["rows"], key=lambda r: float(r["values"]["outstanding_principal"]))
        labels.append(row["label"])
        if row["drill"] is None:
            break
        filters = {**query.get("filters", {}), **row["filter"]}
        query = {**query, **row["drill"], "filters": filters}
    assert labels[:3] == ["总部", "北京分公司", labels[2]] and labels[2] in ("北京一组", "北京二组")
    officer = User.objects.get(pk=int(row["key"]))
    assert officer.department.name == labels[2]
    records = manager.post(
        "/api/v1/reports/records",
        {"metric": "outstanding_principal", "filters": {**query["filters"], **row["filter"]}},
    ).json()
    live = ref.live(ref.loans(ref.Viewer(officer)))
    assert records["kind"] == "loans"
    assert records["total"] == len(live)
    assert {i["owner"] for i in records["items"]} == {officer.full_name}
    assert {i["link"] for i in records["items"]} <= {f"/loans/{r['id']}" for r in live}


def test_records_are_paginated_and_scoped(book: dict[str, Any], client_for: Any) -> None:
    officer1 = client_for("officer1")
    other = book["users"]["officer2"]
    res = officer1.post(
        "/api/v1/reports/records",
        {
            "metric": "disbursement_count",
            "filters": {"officer": [other.pk]},
            "period": "last_12_months",
        },
    )
    assert res.status_code == 200 and res.json()["total"] == 0
    mine = officer1.post(
        "/api/v1/reports/records",
        {"metric": "outstanding_principal", "page": 1, "page_size": 5},
    ).json()
    expected = ref.live(ref.loans(ref.Viewer(book["users"]["officer1"])))
    assert mine["total"] == len(expected) > 5 and len(mine["items"]) == 5
    page2 = officer1.post(
        "/api/v1/reports/records", {"metric": "outstanding_principal", "page": 2, "page_size": 5}
    ).json()
    assert not {i["id"] for i in mine["items"]} & {i["id"] for i in page2["items"]}
    bad = [
        {"metric": "outstanding_principal", "page_size": 1000},
        {"metric": "outstanding_principal", "page": 0},
        {"metric": "snapshot_outstanding"},
        {"metric": "ghost"},
    ]
    for body in bad:
        assert officer1.post("/api/v1/reports/records", body).status_code == 422, body


def test_chart_export_matches_the_query_and_is_formula_safe(
    book: dict[str, Any], client_for: Any
) -> None:
    Customer.objects.filter(pk=book["loans"][0].customer_id).update(name="=HYPERLINK(1)")
    gm = client_for("gm")
    body = {"metrics": ["outstanding_principal", "overdue_rate"], "dimension": "product"}
    result = gm.post(Q, body).json()
    rows = _xlsx(gm.post("/api/v1/reports/export", {**body, "title": "+title"}))
    assert rows[0] == ["'+title"]
    assert rows[2] == ["产品", "贷款余额", "逾期率"]
    for row, expected in zip(rows[3:], result["rows"], strict=False):
        assert row[0] == expected["label"]
        assert str(row[1]) == str(float(expected["values"]["outstanding_principal"])) or float(
            row[1]
        ) == float(expected["values"]["outstanding_principal"])
    assert rows[-1][0] == "合计"
    records = _xlsx(
        gm.post(
            "/api/v1/reports/records/export",
            {
                "metric": "outstanding_principal",
                "filters": {"officer": [book["loans"][0].owner_id]},
            },
        )
    )
    names = [r[1] for r in records[1:]]
    assert "'=HYPERLINK(1)" in names or Loan.objects.get(pk=book["loans"][0].pk).status == "closed"
    assert AuditEntry.objects.filter(action="reports.exported").exists()
    assert AuditEntry.objects.filter(action="reports.records_exported").exists()


def _widget(**over: Any) -> dict[str, Any]:
    return {
        "id": "w1",
        "title": "放款",
        "chart": "bar",
        "query": {"metrics": ["disbursement_amount"], "dimension": "product"},
        "x": 0,
        "y": 0,
        "w": 6,
        "h": 4,
        **over,
    }


def test_dashboards_crud_and_sharing(book: dict[str, Any], client_for: Any) -> None:
    admin = client_for("admin")
    res = admin.post(
        "/api/v1/reports/dashboards",
        {
            "name": "放款看板",
            "shared_with": ["officer"],
            "refresh_seconds": 60,
            "widgets": [_widget()],
        },
    )
    assert res.status_code == 201, res.json()
    created = res.json()
    assert created["widgets"][0]["query"] == {
        "metrics": ["disbursement_amount"],
        "dimension": "product",
    }
    officer = client_for("officer1")
    assert created["id"] in [d["id"] for d in officer.get("/api/v1/reports/dashboards").json()]
    assert officer.get(f"/api/v1/reports/dashboards/{created['id']}").status_code == 200
    # Not shared with risk: 404, never confirmed.
    risk = client_for("risk")
    assert risk.get(f"/api/v1/reports/dashboards/{created['id']}").status_code == 404
    # Viewers cannot write.
    assert (
        officer.put(f"/api/v1/reports/dashboards/{created['id']}", {"name": "x"}).status_code == 403
    )
    assert officer.delete(f"/api/v1/reports/dashboards/{created['id']}").status_code == 403
    assert officer.post("/api/v1/reports/dashboards", {"name": "x"}).status_code == 403
    res = admin.put(
        f"/api/v1/reports/dashboards/{created['id']}",
        {
            "name": "放款看板2",
            "shared_with": ["risk"],
            "widgets": [_widget(), _widget(id="w2", x=6)],
        },
    )
    assert res.status_code == 200 and res.json()["widget_count"] == 2
    assert risk.get(f"/api/v1/reports/dashboards/{created['id']}").status_code == 200
    assert officer.get(f"/api/v1/reports/dashboards/{created['id']}").status_code == 404
    assert admin.delete(f"/api/v1/reports/dashboards/{created['id']}").status_code == 204
    assert admin.get(f"/api/v1/reports/dashboards/{created['id']}").status_code == 404
    assert admin.delete(f"/api/v1/reports/dashboards/{created['id']}").status_code == 404
    huge = 10**30
    assert admin.get(f"/api/v1/reports/dashboards/{huge}").status_code in (404, 422)
    assert admin.delete(f"/api/v1/reports/dashboards/{huge}").status_code in (404, 422)


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x", "shared_with": ["nobody"]},
        # found by the API fuzz test: PostgreSQL refuses NUL in text (was a 500 there)
        {"name": "x", "shared_with": ["\x00nobody"]},
        {"name": "x", "refresh_seconds": 5},
        {"name": "x", "widgets": [_widget(chart="hologram")]},
        {"name": "x", "widgets": [_widget(x=8, w=6)]},
        {"name": "x", "widgets": [_widget(h=0)]},
        {"name": "x", "widgets": [_widget(), _widget()]},
        {"name": "x", "widgets": [_widget(query={"metrics": ["ghost"]})]},
        {"name": "x", "widgets": [_widget(query={"metrics": ["par30"], "dimension": "time"})]},
        {"name": "x", "widgets": [_widget(id="bad id!")]},
        {"name": "x", "widgets": [_widget(id=f"w{i}") for i in range(41)]},
    ],
)
def test_bad_dashboards_are_422_and_write_nothing(
    book: dict[str, Any], client_for: Any, body: dict[str, Any]
) -> None:
    admin = client_for("admin")
    before = Dashboard.objects.count()
    res = admin.post("/api/v1/reports/dashboards", body)
    assert res.status_code == 422, res.json()
    assert Dashboard.objects.count() == before
    target = Dashboard.objects.get(code="management")
    widgets = list(target.widgets)
    res = admin.put(f"/api/v1/reports/dashboards/{target.pk}", body)
    assert res.status_code == 422
    target.refresh_from_db()
    assert target.widgets == widgets and target.name == "经营驾驶舱"


def test_shipped_dashboards_run_for_every_viewer(book: dict[str, Any], client_for: Any) -> None:
    assert {d.code for d in Dashboard.objects.all()} == {d["code"] for d in DASHBOARDS}
    management = Dashboard.objects.get(code="management")
    kpis = [w for w in management.widgets if w["chart"] == "kpi"]
    assert len(kpis) == 10 and len(management.widgets) == 16
    for username in ("gm", "manager", "officer1", "risk", "collector"):
        client = client_for(username)
        for summary in client.get("/api/v1/reports/dashboards").json():
            dashboard = client.get(f"/api/v1/reports/dashboards/{summary['id']}").json()
            for widget in dashboard["widgets"]:
                if widget["chart"] in ("vintage", "roll_rate"):
                    url = "/api/v1/reports/" + widget["chart"].replace("_", "-")
                    res = client.post(url, widget["query"])
                else:
                    res = client.post(Q, widget["query"])
                assert res.status_code == 200, (username, widget["id"], res.json())
    names = {d["code"] for d in client_for("officer1").get("/api/v1/reports/dashboards").json()}
    assert names == {"mine"}


def test_custom_metric_over_form_key_fields(book: dict[str, Any], client_for: Any) -> None:
    from loandesk.flows.demo import seed_samples
    from loandesk.forms.models import Record

    seed_samples()
    from datetime import UTC, datetime

    Record.objects.update(created_at=datetime(2026, 6, 1, 4, tzinfo=UTC))
    admin = client_for("admin")
    body = {
        "key": "consumer_amount",
        "label": "消费贷申请金额",
        "form": "loan_application",
        "aggregation": "sum",
        "field": "amount",
        "filters": [{"field": "product", "op": "eq", "value": "consumer"}],
    }
    res = admin.post("/api/v1/reports/custom-metrics", body)
    assert res.status_code == 201, res.json()
    assert res.json()["unit"] == "money"
    assert admin.post("/api/v1/reports/custom-metrics", body).status_code == 409
    result = admin.post(
        Q,
        {
            "metrics": ["custom.consumer_amount"],
            "dimension": "officer",
            "period": {"start": "2026-01-01", "end": "2026-12-31"},
        },
    )
    assert result.status_code == 200, result.json()
    from decimal import Decimal

    rows = [
        r
        for r in Record.objects.filter(form__code="loan_application").values(
            "owner_id", "data", "created_at"
        )
        if r["data"].get("product") == "consumer" and ref.local_day(r["created_at"]).year == 2026
    ]
    expected = {
        str(owner): ref.money(sum(Decimal(str(r["data"]["amount"])) * 100 for r in items))
        for owner, items in ref.group(rows, lambda r: r["owner_id"]).items()
    }
    assert expected
    assert {
        r["key"]: r["values"]["custom.consumer_amount"] for r in result.json()["rows"]
    } == expected
    for bad in (
        {**body, "key": "Bad Key"},
        {**body, "key": "k2", "field": "purpose"},
        {**body, "key": "k3", "field": "applicant_phone"},
        {**body, "key": "k4", "aggregation": "median"},
        {**body, "key": "k5", "form": "ghost"},
        {**body, "key": "k6", "field": "product"},
        {**body, "key": "k7", "filters": [{"field": "product", "op": "like", "value": "x"}]},
    ):
        assert admin.post("/api/v1/reports/custom-metrics", bad).status_code == 422, bad
    assert CustomMetric.objects.count() == 1
    assert client_for("officer1").get("/api/v1/reports/custom-metrics").status_code == 403


def test_channel_costs(book: dict[str, Any], client_for: Any) -> None:
    admin = client_for("admin")
    res = admin.put(
        "/api/v1/reports/channel-costs",
        {"costs": [{"channel": "referral", "month": "2026-10", "cost": "1234.50"}]},
    )
    assert res.status_code == 200
    row = {"channel": "referral", "channel_label": "转介绍", "month": "2026-10", "cost": "1234.50"}
    assert row in res.json()
    for cost in ("-1", "abc", "1.234", "1e30", "NaN"):
        bad = {"costs": [{"channel": "referral", "month": "2026-11", "cost": cost}]}
        assert admin.put("/api/v1/reports/channel-costs", bad).status_code == 422, cost
    bad_month = {"costs": [{"channel": "referral", "month": "2026-13", "cost": "1"}]}
    assert admin.put("/api/v1/reports/channel-costs", bad_month).status_code == 422
    assert client_for("gm").put("/api/v1/reports/channel-costs", {"costs": []}).status_code == 403
