"""The plain-Python core: sanitiser, pipeline rules, validate_form_data (the contract with the
customer center) and the 30-field form that make bench times."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from loandesk.core.errors import NotFound, ValidationFailed
from loandesk.forms import engine, services
from loandesk.forms.sanitize import html_to_text, sanitize_html
from loandesk.forms.schema import compile_schema
from tests.forms.conftest import id_number


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<p>hi</p>", "<p>hi</p>"),
        ("<script>alert(1)</script>ok", "ok"),
        ('<img src=x onerror="alert(1)">x', "x"),
        ('<a href="javascript:alert(1)">x</a>', "<a>x</a>"),
        (
            '<a href="https://a.cn" target="_blank">x</a>',
            '<a href="https://a.cn" rel="noopener noreferrer">x</a>',
        ),
        ('<p style="color:red" class="x">x</p>', "<p>x</p>"),
        ("<b><i>x</b>", "<b><i>x</i></b>"),
        ("<p>a<br/>b</p>", "<p>a<br>b</p>"),
        ("<!-- secret -->x", "x"),
        ("<style>p{}</style><iframe src=x></iframe>t", "t"),
        ("1 &lt; 2 & 3 > 2", "1 &lt; 2 &amp; 3 &gt; 2"),
        ('<td colspan="2" onclick="x">c</td>', '<td colspan="2">c</td>'),
        ("<svg><script>x</script></svg>y", "y"),
    ],
)
def test_sanitiser(dirty: str, clean: str) -> None:
    assert sanitize_html(dirty) == clean


def test_html_to_text() -> None:
    assert html_to_text("<p>一</p><p>二 <b>三</b></p>") == "一 二 三"


def test_validate_form_data_contract(demo: Any) -> None:
    officer = demo["users"]["officer1"]
    translation.activate("zh-hans")  # messages follow the active language (requests set it)
    cleaned = services.validate_form_data(
        form_code="customer_profile",
        data={
            "housing": "own",
            "work_years": "5",
            "social_insurance": "true",
            "unknown": "dropped",
            "emergency_contacts": [{"name": "母亲", "relation": "parent", "phone": "13800138000"}],
        },
        actor=officer,
    )
    assert cleaned == {
        "housing": "own",
        "work_years": "5",
        "social_insurance": True,
        "emergency_contacts": [{"name": "母亲", "relation": "parent", "phone": "13800138000"}],
    }
    with pytest.raises(ValidationFailed) as caught:
        services.validate_form_data(
            form_code="customer_profile",
            data={"housing": "castle", "emergency_contacts": [{"name": "x"}]},
            actor=officer,
        )
    assert caught.value.details["fields"] == {
        "housing": "不是有效的选项",
        "emergency_contacts[0].relation": "此项为必填项",
        "emergency_contacts[0].phone": "此项为必填项",
    }
    partial = services.validate_form_data(
        form_code="customer_profile", data={"work_years": 3}, actor=officer, partial=True
    )
    assert partial == {"work_years": "3"}
    with pytest.raises(NotFound):
        services.validate_form_data(form_code="nope", data={}, actor=officer)


def test_unpublished_form_is_not_found_for_validation(demo: Any) -> None:
    admin = demo["users"]["admin"]
    services.create_form(actor=admin, code="draft_only", name="草稿")
    with pytest.raises(NotFound):
        services.validate_form_data(form_code="draft_only", data={}, actor=admin)


def _bench_schema() -> dict[str, Any]:
    options = [{"value": v, "label": v} for v in ("a", "b", "c", "d")]
    fields: list[dict[str, Any]] = [
        {"key": "name", "type": "text", "label": "姓名", "required": True},
        {"key": "phone", "type": "phone", "label": "手机", "required": True},
        {"key": "id_no", "type": "id_number", "label": "身份证", "required": True},
        {"key": "email", "type": "email", "label": "邮箱"},
        {"key": "amount", "type": "money", "label": "金额", "required": True},
        {"key": "term", "type": "number", "label": "期限", "settings": {"precision": 0}},
        {"key": "rate", "type": "percent", "label": "利率"},
        {
            "key": "payment",
            "type": "formula",
            "label": "月供",
            "formula": "ROUND(PMT(rate / 12, term, -amount), 2)",
            "settings": {"result_type": "money"},
        },
        {
            "key": "words",
            "type": "amount_capital",
            "label": "大写",
            "settings": {"source": "amount"},
        },
        {"key": "start", "type": "date", "label": "开始"},
        {"key": "product", "type": "select", "label": "产品", "options": options},
        {"key": "channels", "type": "multiselect", "label": "渠道", "options": options},
        {"key": "married", "type": "switch", "label": "已婚"},
        {
            "key": "spouse",
            "type": "text",
            "label": "配偶",
            "required": True,
            "visible_when": {"==": [{"var": "married"}, True]},
        },
        {
            "key": "guarantee",
            "type": "select",
            "label": "担保",
            "options": options,
            "visible_when": {">": [{"var": "amount"}, 500000]},
        },
        {"key": "region", "type": "region", "label": "地区"},
        {"key": "address", "type": "textarea", "label": "地址"},
        {"key": "employer", "type": "text", "label": "单位"},
        {"key": "income", "type": "money", "label": "月收入"},
        {
            "key": "others",
            "type": "subtable",
            "label": "共同借款人",
            "children": [
                {"key": "n", "type": "text", "label": "姓名", "required": True},
                {"key": "inc", "type": "money", "label": "收入"},
            ],
        },
        {
            "key": "household",
            "type": "formula",
            "label": "家庭收入",
            "formula": "income + SUM(others.inc)",
            "settings": {"result_type": "money"},
        },
        {
            "key": "ratio",
            "type": "formula",
            "label": "负债比",
            "formula": "IF(household > 0, payment / household, 0)",
            "settings": {"result_type": "percent"},
        },
    ]
    fields += [{"key": f"extra_{i}", "type": "text", "label": f"其他{i}"} for i in range(8)]
    assert len(fields) == 30
    return {"fields": fields}


def _bench_data() -> dict[str, Any]:
    return {
        "name": "张三",
        "phone": "13800138000",
        "id_no": id_number(5),
        "email": "zs@example.com",
        "amount": "600000",
        "term": "24",
        "rate": "8.5",
        "start": "2026-03-01",
        "product": "a",
        "channels": ["b", "c"],
        "married": True,
        "spouse": "李四",
        "guarantee": "b",
        "region": {
            "codes": ["110000", "110100", "110105"],
            "names": ["北京市", "市辖区", "朝阳区"],
        },
        "address": "建国路 88 号",
        "employer": "某某公司",
        "income": "30000",
        "others": [{"n": "王五", "inc": "8000"}, {"n": "赵六", "inc": "6000.5"}],
        **{f"extra_{i}": f"值{i}" for i in range(8)},
    }


def test_thirty_field_submission_is_valid() -> None:
    """The 30-field submission `make bench` times (bench/bench_forms.py): valid, with formulas."""
    form = compile_schema(_bench_schema())
    outcome = engine.process(form, _bench_data(), today=date(2026, 3, 1))
    assert outcome.errors == {}
    assert outcome.data["payment"] == "27273.40"
    assert Decimal(outcome.data["household"]) == Decimal("44000.50")
