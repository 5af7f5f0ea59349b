"""Formulas computed on the server (dependency order, sub-table columns, per-row formulas) and
visibility conditions re-checked on the server."""

from decimal import Decimal
from typing import Any

import numpy_financial as npf

from loandesk.forms.models import Record
from tests.factories import ApiClient
from tests.forms.conftest import id_number, loan_data


def test_loan_application_formulas(demo: Any, officer: ApiClient) -> None:
    co_borrowers = [
        {"name": "李四", "id_number": id_number(11), "monthly_income": "5000"},
        {"name": "王五", "id_number": id_number(12), "monthly_income": "3000.50"},
    ]
    response = officer.post(
        "forms/loan_application/records",
        {"data": loan_data(amount="100000", term=12, annual_rate="6", co_borrowers=co_borrowers)},
    )
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    expected = Decimal(str(npf.pmt(0.06 / 12, 12, -100000))).quantize(Decimal("0.01"))
    assert data["monthly_payment"] == str(expected) == "8606.64"
    assert data["amount_in_words"] == "壹拾万元整"
    assert data["household_income"] == "28000.50"  # applicant + SUM over the sub-table column
    assert data["debt_ratio"] == "30.74"  # 8606.64 / 28000.50 as a percentage
    assert response.json()["display"]["debt_ratio"] == "30.74%"


def test_formulas_in_rows_and_over_row_formulas(make_form: Any, officer: ApiClient) -> None:
    make_form(
        "order",
        [
            {
                "key": "lines",
                "type": "subtable",
                "label": "明细",
                "children": [
                    {"key": "qty", "type": "number", "label": "数量", "settings": {"precision": 0}},
                    {"key": "price", "type": "money", "label": "单价"},
                    {
                        "key": "total",
                        "type": "formula",
                        "label": "小计",
                        "formula": "qty * price * (1 - discount)",
                        "settings": {"result_type": "money"},
                    },
                ],
            },
            {"key": "discount", "type": "percent", "label": "折扣"},
            {
                "key": "sum",
                "type": "formula",
                "label": "合计",
                "formula": "SUM(lines.total)",
                "settings": {"result_type": "money"},
            },
            {
                "key": "ratio",
                "type": "formula",
                "label": "除以零",
                "formula": "sum / 0",
                "settings": {"result_type": "number"},
            },
        ],
    )
    lines = [{"qty": 2, "price": "10.50"}, {"qty": "3", "price": "1"}]
    response = officer.post("forms/order/records", {"data": {"lines": lines, "discount": "10"}})
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert [row["total"] for row in data["lines"]] == ["18.90", "2.70"]
    assert data["sum"] == "21.60"
    assert "ratio" not in data  # a formula that fails (division by zero) is simply empty


def test_hidden_field_is_neither_required_nor_stored(demo: Any, officer: ApiClient) -> None:
    # 担保方式 is required but only visible above 500,000 yuan; the client sends it anyway
    small = officer.post(
        "forms/loan_application/records",
        {"data": loan_data(amount="500000", guarantee="collateral")},
    )
    assert small.status_code == 201, small.content
    assert "guarantee" not in small.json()["data"]
    stored = Record.objects.get(pk=small.json()["id"]).data
    assert "guarantee" not in stored
    big = officer.post("forms/loan_application/records", {"data": loan_data(amount="500000.01")})
    assert big.status_code == 422
    assert big.json()["details"]["fields"] == {"guarantee": "此项为必填项"}
    ok = officer.post(
        "forms/loan_application/records",
        {"data": loan_data(amount="600000", guarantee="collateral")},
    )
    assert ok.json()["data"]["guarantee"] == "collateral"


def test_picking_a_customer_hides_the_applicant_fields(demo: Any, officer: ApiClient) -> None:
    from loandesk.customers.models import Customer

    customer = Customer.objects.filter(owner__username="officer1").first()
    assert customer is not None
    response = officer.post(
        "forms/loan_application/records",
        {"data": loan_data(customer=customer.pk, applicant_name="忽略", applicant_phone="bad")},
    )
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["customer"] == customer.pk
    assert data["customer_name"] == customer.name
    assert not {"applicant_name", "applicant_id_number", "applicant_phone"} & set(data)


def test_new_applicant_becomes_a_customer(demo: Any, officer: ApiClient) -> None:
    from loandesk.customers.models import Customer

    response = officer.post(
        "forms/loan_application/records",
        {"data": loan_data(applicant_name="赵六", applicant_id_number=id_number(66))},
    )
    assert response.status_code == 201, response.content
    record = Record.objects.get(pk=response.json()["id"])
    customer = Customer.objects.get(pk=record.customer_id)
    assert customer.name == "赵六" and customer.owner.username == "officer1"
    assert response.json()["data"]["customer"] == customer.pk
    assert response.json()["data"]["customer_name"] == "赵六"
    # the same ID number again links the existing customer instead of creating one
    again = officer.post(
        "forms/loan_application/records",
        {"data": loan_data(applicant_name="赵六", applicant_id_number=id_number(66))},
    )
    assert again.json()["data"]["customer"] == customer.pk


def test_evaluate_returns_values_and_visibility(demo: Any, officer: ApiClient) -> None:
    response = officer.post(
        "forms/loan_application/evaluate",
        {"data": {"amount": "600000", "term": "24", "annual_rate": "12", "applicant_income": "x"}},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["values"]["monthly_payment"] == "28244.08"
    assert body["values"]["amount_in_words"] == "陆拾万元整"
    assert body["visible"]["guarantee"] is True
    assert body["visible"]["applicant_name"] is True
    # format errors are shown while typing; missing required values are not (yet)
    assert body["errors"] == {"applicant_income": "请输入有效的金额(元,最多两位小数)"}
    assert not Record.objects.exists()
    low = officer.post("forms/loan_application/evaluate", {"data": {"amount": "1000"}}).json()
    assert low["visible"]["guarantee"] is False


def test_condition_inside_sub_table_rows(make_form: Any, officer: ApiClient) -> None:
    make_form(
        "assets",
        [
            {
                "key": "items",
                "type": "subtable",
                "label": "资产",
                "children": [
                    {
                        "key": "kind",
                        "type": "select",
                        "label": "类型",
                        "options": [
                            {"value": "house", "label": "房产"},
                            {"value": "car", "label": "车辆"},
                        ],
                    },
                    {
                        "key": "certificate",
                        "type": "text",
                        "label": "房产证号",
                        "required": True,
                        "visible_when": {"==": [{"var": "kind"}, "house"]},
                    },
                ],
            }
        ],
    )
    rows = [{"kind": "car", "certificate": "sent anyway"}, {"kind": "house"}]
    bad = officer.post("forms/assets/records", {"data": {"items": rows}})
    assert bad.json()["details"]["fields"] == {"items[1].certificate": "此项为必填项"}
    rows[1]["certificate"] = "京(2020)0001"
    ok = officer.post("forms/assets/records", {"data": {"items": rows}})
    assert ok.json()["data"]["items"] == [
        {"kind": "car"},
        {"kind": "house", "certificate": "京(2020)0001"},
    ]


def test_patch_recomputes_and_keeps_absent_fields(demo: Any, officer: ApiClient) -> None:
    created = officer.post("forms/loan_application/records", {"data": loan_data()}).json()
    response = officer.patch(
        f"forms/loan_application/records/{created['id']}", {"data": {"term": 24}}
    )
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["term"] == "24"
    assert data["monthly_payment"] == "4432.06"
    assert data["product"] == "consumer"
    assert data["application_no"] == created["data"]["application_no"]
