"""The custom-metric editor's backend: validation of a definition (numbers only for sum/avg,
filters by field type, display unit), the live preview (nothing written, the caller's data
scope), deleting a metric a dashboard uses, and the acquisition cost following channel costs."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from loandesk.accounts.models import Role, User
from loandesk.core.models import AuditEntry
from loandesk.customers.models import Customer
from loandesk.forms.models import Record
from loandesk.reports.models import ChannelCost, CustomMetric, Dashboard
from loandesk.reports.permissions import DESIGN, VIEW
from tests.forms.conftest import publish_form
from tests.reports import reference as ref

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_module_book")]
PREVIEW = "/api/v1/reports/custom-metrics/preview"
METRICS = "/api/v1/reports/custom-metrics"
COSTS = "/api/v1/reports/channel-costs"
YEAR = {"start": "2026-01-01", "end": "2026-12-31"}
BODY = {
    "key": "consumer_amount",
    "label": "消费贷申请金额",
    "label_en": "Consumer loan amount applied",
    "form": "loan_application",
    "aggregation": "sum",
    "field": "amount",
    "filters": [{"field": "product", "op": "eq", "value": "consumer"}],
}


@pytest.fixture
def applications(book: dict[str, Any]) -> list[dict[str, Any]]:
    """The sample applications (officer1 and officer2), all created on 2026-06-01."""
    from loandesk.flows.demo import seed_samples

    seed_samples()
    Record.objects.update(created_at=datetime(2026, 6, 1, 4, tzinfo=UTC))
    rows = list(Record.objects.filter(form__code="loan_application").values("owner_id", "data"))
    assert len({r["owner_id"] for r in rows}) > 1
    return rows


def _amount(rows: list[dict[str, Any]], product: str | None = "consumer") -> str:
    fen = sum(
        Decimal(str(r["data"]["amount"])) * 100
        for r in rows
        if product is None or r["data"].get("product") == product
    )
    return str(ref.money(fen))


def test_preview_is_the_value_the_saved_metric_has_and_writes_nothing(
    applications: list[dict[str, Any]], client_for: Any
) -> None:
    admin = client_for("admin")
    audits = AuditEntry.objects.count()
    res = admin.post(PREVIEW, {**BODY, "key": "", "period": YEAR})
    assert res.status_code == 200, res.json()
    preview = res.json()
    assert preview["value"] == _amount(applications)
    assert preview["unit"] == "money"
    assert preview["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert preview["previous"] == "0.00"  # nothing in 2025
    assert CustomMetric.objects.count() == 0
    assert AuditEntry.objects.count() == audits

    assert admin.post(METRICS, BODY).status_code == 201
    saved = admin.post(
        "/api/v1/reports/query", {"metrics": ["custom.consumer_amount"], "period": YEAR}
    )
    assert saved.json()["totals"]["custom.consumer_amount"] == preview["value"]


def test_preview_respects_the_callers_data_scope(
    applications: list[dict[str, Any]], client_for: Any
) -> None:
    # A designer whose data scope is "self" previews only their own records.
    role = Role.objects.get(code="officer")
    role.permissions = [*role.permissions, VIEW, DESIGN]
    role.save()
    officer1 = User.objects.get(username="officer1")
    mine = [r for r in applications if r["owner_id"] == officer1.pk]
    assert mine and len(mine) < len(applications)
    body = {**BODY, "filters": [], "period": YEAR}
    res = client_for("officer1").post(PREVIEW, body)
    assert res.status_code == 200, res.json()
    assert res.json()["value"] == _amount(mine, None)
    assert client_for("admin").post(PREVIEW, body).json()["value"] == _amount(applications, None)


def test_preview_and_writes_need_the_design_permission(
    applications: list[dict[str, Any]], client_for: Any
) -> None:
    gm = client_for("gm")  # views dashboards, does not design them
    assert gm.post(PREVIEW, BODY).status_code == 403
    assert gm.post(METRICS, BODY).status_code == 403
    assert gm.get(COSTS).status_code == 403
    assert gm.get("/api/v1/reports/channel-options").status_code == 403
    assert gm.delete(f"{COSTS}/online/2026-10").status_code == 403
    assert ChannelCost.objects.filter(channel="online", month="2026-10-01").exists()


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"aggregation": "sum", "field": "customer"}, "field", "数字"),  # a relation id
        ({"aggregation": "avg", "field": "product"}, "field", "数字"),
        ({"aggregation": "distinct", "field": ""}, "field", "请选择字段"),
        ({"aggregation": "count", "unit": "money"}, "unit", "格式"),
        ({"unit": "fahrenheit"}, "unit", "格式"),
        ({"filters": [{"field": "amount", "op": "gt", "value": "abc"}]}, "filters[0]", "数字"),
        ({"filters": [{"field": "amount", "op": "gt", "value": "NaN"}]}, "filters[0]", "数字"),
        ({"filters": [{"field": "amount", "op": "gt", "value": True}]}, "filters[0]", "数字"),
        (
            {"filters": [{"field": "product", "op": "eq", "value": "x"}, {"field": "ghost"}]},
            "filters[1]",
            "ghost",
        ),
        ({"filters": [{"field": "amount", "op": "contains", "value": "1"}]}, "filters[0]", ""),
        ({"form": "ghost"}, "form", "ghost"),
        ({"label": " "}, "label", "名称"),
    ],
)
def test_bad_definitions_name_the_field_in_the_callers_language(
    applications: list[dict[str, Any]],
    client_for: Any,
    change: dict[str, Any],
    field: str,
    text: str,
) -> None:
    admin = client_for("admin")
    for url in (PREVIEW, METRICS):
        res = admin.post(url, {**BODY, **change})
        assert res.status_code == 422, (url, res.json())
        fields = res.json()["details"]["fields"]
        assert list(fields) == [field]
        assert text in fields[field]
    assert CustomMetric.objects.count() == 0


def test_filters_on_a_date_key_field_are_dates(demo: Any, client_for: Any) -> None:
    publish_form(
        "visit_log",
        [
            {"key": "visited_on", "type": "date", "label": "拜访日期", "indexed": True},
            {"key": "minutes", "type": "number", "label": "时长", "indexed": True},
        ],
    )
    admin = client_for("admin")
    body = {"label": "拜访", "form": "visit_log", "aggregation": "count"}
    bad = admin.post(
        PREVIEW, {**body, "filters": [{"field": "visited_on", "op": "gte", "value": "June"}]}
    )
    assert bad.status_code == 422
    assert bad.json()["details"]["fields"] == {"filters[0]": "日期格式应为 YYYY-MM-DD"}
    good = admin.post(
        PREVIEW, {**body, "filters": [{"field": "visited_on", "op": "gte", "value": "2026-06-01"}]}
    )
    assert good.status_code == 200, good.json()
    assert good.json()["value"] == 0
    avg = admin.post(PREVIEW, {**body, "aggregation": "avg", "field": "minutes"})
    assert avg.json()["unit"] == "number"


def test_unit_choice_changes_how_the_value_is_shown(
    applications: list[dict[str, Any]], client_for: Any
) -> None:
    admin = client_for("admin")
    res = admin.post(
        METRICS, {**BODY, "key": "avg_term", "aggregation": "avg", "field": "term", "filters": []}
    )
    assert res.status_code == 201, res.json()
    assert res.json()["unit"] == "number"
    terms = [Decimal(str(r["data"]["term"])) for r in applications]
    expected = (sum(terms) / len(terms)).quantize(Decimal("0.01"))
    q = {"metrics": ["custom.avg_term"], "period": YEAR}
    assert admin.post("/api/v1/reports/query", q).json()["totals"]["custom.avg_term"] == str(
        expected
    )
    # The same sum shown as money (yuan) or as a plain number is the same amount.
    row_id = res.json()["id"]
    body = {**BODY, "aggregation": "sum", "field": "amount", "filters": [], "unit": "number"}
    updated = admin.put(f"{METRICS}/{row_id}", body)
    assert updated.status_code == 200, updated.json()
    assert updated.json()["unit"] == "number" and updated.json()["key"] == "avg_term"
    total = admin.post("/api/v1/reports/query", q).json()["totals"]["custom.avg_term"]
    assert total == _amount(applications, None)


def test_a_metric_a_dashboard_uses_cannot_be_deleted(
    applications: list[dict[str, Any]], client_for: Any
) -> None:
    admin = client_for("admin")
    metric = admin.post(METRICS, BODY).json()
    widget = {
        "id": "k1",
        "title": "",
        "chart": "kpi",
        "query": {"metrics": ["custom.consumer_amount"]},
        "x": 0,
        "y": 0,
        "w": 3,
        "h": 2,
    }
    made = admin.post("/api/v1/reports/dashboards", {"name": "申请看板", "widgets": [widget]})
    assert made.status_code == 201, made.json()
    listed = {m["key"]: m for m in admin.get(METRICS).json()}
    assert listed["consumer_amount"]["used_by"] == ["申请看板"]
    res = admin.delete(f"{METRICS}/{metric['id']}")
    assert res.status_code == 409
    assert "申请看板" in res.json()["message"]
    assert CustomMetric.objects.filter(pk=metric["id"]).exists()
    dashboard = Dashboard.objects.get(name="申请看板")
    assert (
        admin.put(
            f"/api/v1/reports/dashboards/{dashboard.pk}", {"name": "申请看板", "widgets": []}
        ).status_code
        == 200
    )
    assert admin.delete(f"{METRICS}/{metric['id']}").status_code == 204
    assert not CustomMetric.objects.exists()


# --- channel costs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cost", "text"),
    [
        ("-1", "不能为负数"),
        ("abc", "请输入数字金额"),
        ("", "请输入数字金额"),
        ("NaN", "请输入数字金额"),
        ("Infinity", "请输入数字金额"),
        ("1e30", "不能超过 1,000,000,000 元"),
        ("1000000000.01", "不能超过"),
        ("1.234", "两位小数"),
    ],
)
def test_bad_costs_say_what_is_wrong(
    book: dict[str, Any], client_for: Any, cost: str, text: str
) -> None:
    admin = client_for("admin")
    body = {
        "costs": [
            {"channel": "referral", "month": "2026-09", "cost": "100"},
            {"channel": "referral", "month": "2026-11", "cost": cost},
        ]
    }
    res = admin.put(COSTS, body)
    assert res.status_code == 422
    fields = res.json()["details"]["fields"]
    assert list(fields) == ["costs[1].cost"]
    assert text in fields["costs[1].cost"]
    assert not ChannelCost.objects.filter(channel="referral").exists()  # all or nothing


def test_costs_in_english_and_unknown_channels(book: dict[str, Any], client_for: Any) -> None:
    admin = client_for("admin")
    admin.language = "en-US"
    res = admin.put(COSTS, {"costs": [{"channel": "referral", "month": "2026-11", "cost": "-5"}]})
    assert res.json()["details"]["fields"] == {"costs[0].cost": "The cost cannot be negative"}
    res = admin.put(COSTS, {"costs": [{"channel": "tv", "month": "2026-11", "cost": "5"}]})
    assert res.json()["details"]["fields"] == {"costs[0].channel": "Unknown channel: tv"}
    options = admin.get("/api/v1/reports/channel-options").json()
    assert {"value": "referral", "label": "Referral"} in options


def test_entering_editing_and_deleting_a_cost_moves_the_acquisition_cost(
    book: dict[str, Any], client_for: Any
) -> None:
    admin = client_for("admin")
    november = {"start": "2026-11-01", "end": "2026-11-30"}
    query = {"metrics": ["acquisition_cost"], "dimension": "channel", "period": november}

    def acquisition(channel: str) -> Any:
        rows = admin.post("/api/v1/reports/query", query).json()["rows"]
        return next((r["values"]["acquisition_cost"] for r in rows if r["key"] == channel), None)

    new = [
        c
        for c in Customer.objects.exclude(status="merged").values("source_channel", "created_at")
        if c["source_channel"] == "referral"
        and november["start"] <= ref.local_day(c["created_at"]).isoformat() <= november["end"]
    ]
    if not new:  # make sure the channel has new customers in November
        Customer.objects.filter(pk=Customer.objects.order_by("id").first().pk).update(  # type: ignore[union-attr]
            source_channel="referral", created_at=datetime(2026, 11, 10, 4, tzinfo=UTC)
        )
        new = [1]
    n = len(new)
    assert acquisition("referral") == "0.00"  # no cost entered yet

    res = admin.put(
        COSTS, {"costs": [{"channel": "referral", "month": "2026-11", "cost": "1234.5"}]}
    )
    assert res.status_code == 200, res.json()
    row = {"channel": "referral", "channel_label": "转介绍", "month": "2026-11", "cost": "1234.50"}
    assert row in res.json()
    assert acquisition("referral") == str(ref.money(Decimal(123450) / n))

    admin.put(COSTS, {"costs": [{"channel": "referral", "month": "2026-11", "cost": 2000}]})
    assert ChannelCost.objects.get(channel="referral").cost_fen == 200_000
    assert acquisition("referral") == str(ref.money(Decimal(200000) / n))

    assert admin.delete(f"{COSTS}/referral/2026-11").status_code == 204
    assert admin.delete(f"{COSTS}/referral/2026-11").status_code == 404
    assert admin.delete(f"{COSTS}/referral/2026-13").status_code == 422
    assert acquisition("referral") == "0.00"
    assert AuditEntry.objects.filter(action="reports.channel_cost_deleted").count() == 1
