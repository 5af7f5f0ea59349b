"""Loan products: admin validation, the demo seed, and the product quote (ranges, cap policy)."""

from decimal import Decimal
from typing import Any

import pytest

from loandesk.core.models import AuditEntry
from loandesk.lending.models import Product
from loandesk.lending.products import DEMO_PRODUCTS, seed_demo_products

NEW = {
    "code": "car_loan",
    "name": "车主贷",
    "method": "equal_principal",
    "frequency": "monthly",
    "min_amount": "20000",
    "max_amount": "300000.50",
    "min_periods": 6,
    "max_periods": 24,
    "min_rate": "6.5",
    "max_rate": "14.25",
    "installment_multiple": "1",
    "holiday_shift": True,
    "penalty_rate_multiplier": "1.5",
    "grace_days": 3,
    "compound_penalty": True,
    "allocation_order": ["penalty", "interest", "fee", "principal"],
    "allocation_strategy": "component_first",
    "overpayment": "prepay",
    "upfront_fee_percent": "1",
    "period_fee_kind": "percent",
    "period_fee": "0.2",
    "prepayment_fee_percent": "2",
    "cap_line": "24",
    "cap_policy": "flag",
}


def test_demo_products_are_seeded_once(lending: dict[str, Any]) -> None:
    assert sorted(lending["products"]) == sorted(p["code"] for p in DEMO_PRODUCTS)
    consumer = lending["products"]["consumer"]
    assert consumer.name == "个人消费贷"
    assert (consumer.method, consumer.min_amount_fen, consumer.max_amount_fen) == (
        "equal_installment",
        1_000_000,
        20_000_000,
    )
    assert (consumer.min_periods, consumer.max_periods) == (3, 36)
    assert (consumer.min_rate, consumer.max_rate) == (Decimal("7.2"), Decimal(18))
    assert consumer.penalty_rate_multiplier == Decimal("1.5")
    assert consumer.allocation_order == ["penalty", "fee", "interest", "principal"]
    sme = lending["products"]["sme_operating"]
    assert (sme.method, sme.min_amount_fen, sme.max_amount_fen) == (
        "equal_principal",
        5_000_000,
        100_000_000,
    )
    bridge = lending["products"]["short_bridge"]
    assert (bridge.method, bridge.min_periods, bridge.max_periods) == ("interest_only", 1, 12)
    assert seed_demo_products() == 0
    assert Product.objects.count() == 3


def test_demo_roles_get_their_lending_permissions(lending: dict[str, Any]) -> None:
    users = lending["users"]
    from loandesk.accounts.scoping import user_permissions

    assert {"lending.disburse", "lending.view_loans"} <= user_permissions(users["finance"])
    assert "lending.manage_products" in user_permissions(users["admin"])
    for name in ("gm", "risk", "manager", "officer1", "officer2", "collector"):
        perms = user_permissions(users[name])
        assert "lending.view_loans" in perms, name
        assert "lending.disburse" not in perms, name
        assert "lending.manage_products" not in perms, name


def test_admin_creates_a_product_with_every_setting(client_for: Any) -> None:
    admin = client_for("admin")
    response = admin.post("lending/products", NEW)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "car_loan"
    assert body["min_amount"] == "20000.00"
    assert body["max_amount"] == "300000.50"
    assert body["min_rate"] == "6.50"
    assert body["max_rate"] == "14.25"
    assert body["installment_multiple"] == "1.00"
    assert body["period_fee_kind"] == "percent"
    assert body["period_fee"] == "0.20"
    assert body["cap_line"] == "24" and body["cap_rate"] == "24.00"
    assert body["allocation_order"] == ["penalty", "interest", "fee", "principal"]
    stored = Product.objects.get(code="car_loan")
    assert stored.max_amount_fen == 30_000_050
    assert stored.period_fee_percent == Decimal("0.2") and stored.period_fee_fen == 0
    entry = AuditEntry.objects.filter(action="record.create", target_type="lending.product").get()
    assert entry.changes["code"] == [None, "car_loan"]

    # Read back, then change a few settings: audited as a diff.
    assert admin.get(f"lending/products/{stored.pk}").json() == body
    response = admin.patch(
        f"lending/products/{stored.pk}",
        {"max_rate": "15", "period_fee_kind": "fixed", "period_fee": "10", "active": False},
    )
    assert response.status_code == 200, response.content
    assert response.json()["max_rate"] == "15.00"
    assert response.json()["period_fee"] == "10.00"
    stored.refresh_from_db()
    assert (stored.period_fee_fen, stored.period_fee_percent, stored.active) == (1000, 0, False)
    update = AuditEntry.objects.filter(action="record.update", target_type="lending.product").get()
    assert set(update.changes) == {
        "max_rate",
        "period_fee_kind",
        "period_fee_fen",
        "period_fee_percent",
        "active",
    }
    # Reordering the allocation is a change worth auditing (the order is the setting).
    order = ["principal", "interest", "fee", "penalty"]
    response = admin.patch(f"lending/products/{stored.pk}", {"allocation_order": order})
    assert response.status_code == 200
    last = AuditEntry.objects.filter(action="record.update").order_by("-id").first()
    assert last.changes == {
        "allocation_order": [
            "penalty > interest > fee > principal",
            "principal > interest > fee > penalty",
        ]
    }


def test_product_list_and_active_filter(client_for: Any, lending: dict[str, Any]) -> None:
    lending["products"]["short_bridge"].__class__.objects.filter(code="short_bridge").update(
        active=False
    )
    officer = client_for("officer1")
    assert len(officer.get("lending/products").json()) == 3
    active = officer.get("lending/products", {"active": "true"}).json()
    assert [p["code"] for p in active] == ["consumer", "sme_operating"]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"min_amount": "50000", "max_amount": "10000"}, {"max_amount": "不能小于下限 50000.00"}),
        ({"min_periods": 12, "max_periods": 6}, {"max_periods": "不能小于下限 12"}),
        ({"min_rate": "10", "max_rate": "9.5"}, {"max_rate": "不能小于下限 10"}),
        (
            {"allocation_order": ["penalty", "fee", "interest"]},
            {"allocation_order": "须为 罚息、费用、利息、本金 四项各出现一次的顺序"},
        ),
        (
            {"allocation_order": ["penalty", "fee", "fee", "principal"]},
            {"allocation_order": "须为 罚息、费用、利息、本金 四项各出现一次的顺序"},
        ),
        ({"method": "balloon"}, {"method": "不支持的选项"}),
        ({"frequency": "yearly"}, {"frequency": "不支持的选项"}),
        ({"cap_policy": "ignore"}, {"cap_policy": "不支持的选项"}),
        ({"min_amount": "0"}, {"min_amount": "须在 0.01 到 10000000000 之间"}),
        ({"min_amount": "100.001"}, {"min_amount": "最多 2 位小数"}),
        ({"max_rate": "abc"}, {"max_rate": "不是有效的数字"}),
        ({"max_periods": 601}, {"max_periods": "须在 1 到 600 之间"}),
        ({"code": "车贷"}, {"code": "编码只能包含字母"}),
        ({"penalty_rate_multiplier": "11"}, {"penalty_rate_multiplier": "须在 0 到 10 之间"}),
        ({"upfront_fee_percent": "50.01"}, {"upfront_fee_percent": "须在 0 到 50 之间"}),
        ({"period_fee": "-1"}, {"period_fee": "须在 0 到 100 之间"}),
    ],
)
def test_invalid_products_name_the_field(
    client_for: Any, demo: Any, changes: dict[str, Any], fields: dict[str, str]
) -> None:
    response = client_for("admin").post("lending/products", {**NEW, **changes})
    assert response.status_code == 422, response.content
    got = response.json()["details"]["fields"]
    assert set(got) == set(fields), got
    for name, text in fields.items():
        assert got[name].startswith(text), (name, got[name])
    assert not Product.objects.filter(code="car_loan").exists()


def test_every_problem_is_reported_at_once(client_for: Any, demo: Any) -> None:
    response = client_for("admin").post("lending/products", {"code": "x1", "min_periods": 0})
    assert response.status_code == 422
    fields = response.json()["details"]["fields"]
    assert set(fields) == {
        "name",
        "method",
        "min_amount",
        "max_amount",
        "min_periods",
        "max_periods",
        "min_rate",
        "max_rate",
    }
    assert fields["name"] == "此项为必填项"


def test_code_is_unique_and_immutable(client_for: Any, lending: Any) -> None:
    admin = client_for("admin")
    response = admin.post("lending/products", {**NEW, "code": "consumer"})
    assert response.status_code == 422
    assert response.json()["details"]["fields"] == {"code": "产品编码已存在"}
    consumer = lending["products"]["consumer"]
    response = admin.patch(f"lending/products/{consumer.pk}", {"code": "consumer2"})
    assert response.status_code == 422
    assert response.json()["details"]["fields"] == {"code": "产品编码创建后不能修改"}
    # A patch that breaks min <= max against the stored values is refused too.
    response = admin.patch(f"lending/products/{consumer.pk}", {"max_periods": 2})
    assert response.json()["details"]["fields"] == {"max_periods": "不能小于下限 3"}
    assert admin.patch("lending/products/999999", {"name": "x"}).status_code == 404


def test_unknown_fields_are_refused(client_for: Any, demo: Any) -> None:
    response = client_for("admin").post("lending/products", {**NEW, "max_amout": "1"})
    assert response.status_code == 422
    assert "max_amout" in response.json()["details"]["fields"]


def test_messages_follow_the_language(client_for: Any, demo: Any) -> None:
    admin = client_for("admin")
    admin.language = "en-US"
    response = admin.post("lending/products", {**NEW, "min_rate": "10", "max_rate": "9"})
    assert response.json()["details"]["fields"] == {"max_rate": "Cannot be below the minimum of 10"}


# --- quote -----------------------------------------------------------------------------------


def _quote(client: Any, product: Product, **body: Any) -> Any:
    return client.post(f"lending/products/{product.pk}/quote", body)


def test_quote_uses_the_products_settings(client_for: Any, lending: Any) -> None:
    officer = client_for("officer1")
    consumer = lending["products"]["consumer"]
    response = _quote(
        officer, consumer, amount="100000", periods=12, annual_rate="12", start="2026-11-28"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["installment"] == "8884.88"
    assert len(body["rows"]) == 12
    assert body["rows"][0]["due_date"] == "2026-12-28"
    assert body["totals"]["principal"] == "100000.00"
    assert sum(Decimal(r["principal"]) for r in body["rows"]) == Decimal("100000.00")
    assert body["apr"] == "12.00"
    assert body["cap"] == {
        "line": "24",
        "rate": "24.00",
        "exceeded": False,
        "message": "",
        "policy": "refuse",
    }
    assert (body["upfront_fee"], body["net_amount"], body["start"]) == (
        "0.00",
        "100000.00",
        "2026-11-28",
    )
    # Equal principal for the SME product.
    sme = lending["products"]["sme_operating"]
    rows = _quote(officer, sme, amount="60000", periods=6, annual_rate="6").json()["rows"]
    assert [r["principal"] for r in rows] == ["10000.00"] * 6


def test_quote_applies_fees_rounding_and_holiday_shift(client_for: Any, demo: Any) -> None:
    product = Product.objects.create(
        **{
            "code": "fees",
            "name": "费用产品",
            "method": "equal_installment",
            "min_amount_fen": 100_000,
            "max_amount_fen": 100_000_000,
            "min_periods": 1,
            "max_periods": 36,
            "min_rate": 0,
            "max_rate": 24,
            "installment_multiple_fen": 100,
            "holiday_shift": True,
            "upfront_fee_percent": Decimal("2"),
            "period_fee_fen": 1000,
            "cap_line": "36",
        }
    )
    body = _quote(
        client_for("finance"),
        product,
        amount="12000",
        periods=2,
        annual_rate="6",
        start="2026-09-01",
    ).json()
    assert body["rows"][0]["due_date"] == "2026-10-08"  # National Day week shifted
    assert body["rows"][0]["fee"] == "10.00"
    assert body["upfront_fee"] == "240.00"
    assert body["net_amount"] == "11760.00"
    assert Decimal(body["apr"]) > Decimal(6)  # fees raise the APR
    assert sum(Decimal(r["principal"]) for r in body["rows"]) == Decimal("12000.00")


@pytest.mark.parametrize(
    ("terms", "fields"),
    [
        ({"amount": "9999.99"}, {"amount": "金额须在 ¥10,000.00 到 ¥200,000.00 之间"}),
        ({"amount": "200000.01"}, {"amount": "金额须在 ¥10,000.00 到 ¥200,000.00 之间"}),
        ({"periods": 2}, {"periods": "期数须在 3 到 36 期之间"}),
        ({"periods": 37}, {"periods": "期数须在 3 到 36 期之间"}),
        ({"annual_rate": "7.19"}, {"annual_rate": "年利率须在 7.20% 到 18.00% 之间"}),
        ({"annual_rate": "18.01"}, {"annual_rate": "年利率须在 7.20% 到 18.00% 之间"}),
        (
            {"amount": "1", "periods": 1, "annual_rate": "1"},
            {"amount": "金额须在", "periods": "期数须在", "annual_rate": "年利率须在"},
        ),
        ({"amount": "10000.123"}, {"amount": "最多 2 位小数"}),
        ({"amount": None}, {"amount": "此项为必填项"}),
        ({"first_due": "2026-11-01"}, {"first_due": "首期还款日必须晚于放款日"}),
    ],
)
def test_quote_refuses_terms_outside_the_product(
    client_for: Any, lending: Any, terms: dict[str, Any], fields: dict[str, str]
) -> None:
    body = {"amount": "100000", "periods": 12, "annual_rate": "12", "start": "2026-11-28", **terms}
    response = _quote(client_for("officer1"), lending["products"]["consumer"], **body)
    assert response.status_code == 422, response.content
    got = response.json()["details"]["fields"]
    assert set(got) == set(fields), got
    for name, text in fields.items():
        assert got[name].startswith(text), got[name]


def test_cap_refuse_is_a_422_naming_annual_rate(client_for: Any, demo: Any) -> None:
    product = Product.objects.create(
        code="capped",
        name="上限产品",
        method="equal_installment",
        min_amount_fen=100_000,
        max_amount_fen=100_000_000,
        min_periods=1,
        max_periods=36,
        min_rate=0,
        max_rate=30,
        cap_line="judicial",
        cap_policy="refuse",
    )
    client = client_for("officer1")
    ok = _quote(client, product, amount="10000", periods=12, annual_rate="12")
    assert ok.status_code == 200 and ok.json()["cap"]["exceeded"] is False
    response = _quote(client, product, amount="10000", periods=12, annual_rate="15")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "lending.apr_above_cap"
    assert body["message"] == "年化利率 15.00% 超过产品利率上限 12.00%,不能放款"
    assert body["details"]["fields"] == {"annual_rate": "年化利率 15.00% 超过上限 12.00%"}
    # A 12 % nominal rate with an upfront fee has an APR above 12 %: the APR is what counts.
    Product.objects.filter(pk=product.pk).update(upfront_fee_percent=Decimal("1"))
    response = _quote(client, product, amount="10000", periods=12, annual_rate="12")
    assert response.status_code == 422
    assert "12.00%" in response.json()["details"]["fields"]["annual_rate"]


def test_cap_flag_quotes_with_a_warning(client_for: Any, lending: Any) -> None:
    sme = lending["products"]["sme_operating"]  # judicial cap (12 %), policy flag
    response = _quote(client_for("officer1"), sme, amount="100000", periods=12, annual_rate="15")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["cap"]["exceeded"] is True
    assert body["cap"]["policy"] == "flag"
    assert body["cap"]["message"].startswith("年化利率 15.00% 超过上限 12.00%")
    assert {"code": "finance.apr_above_cap", "message": body["cap"]["message"]} in body["warnings"]


def test_quote_of_an_inactive_or_missing_product(client_for: Any, lending: Any) -> None:
    client = client_for("officer1")
    consumer = lending["products"]["consumer"]
    Product.objects.filter(pk=consumer.pk).update(active=False)
    response = _quote(client, consumer, amount="100000", periods=12, annual_rate="12")
    assert response.status_code == 422
    assert response.json()["details"]["fields"] == {"product_id": "产品「个人消费贷」已停用"}
    missing = client.post("lending/products/999999/quote", {"amount": "1", "periods": 1})
    assert missing.status_code == 404
