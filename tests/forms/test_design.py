"""Designing forms: drafts, design-time problems, publishing immutable versions."""

from typing import Any

import pytest

from loandesk.forms.models import FormVersion, Record
from tests.factories import ApiClient

TEXT = {"key": "name", "type": "text", "label": "姓名"}
MONEY = {"key": "amount", "type": "money", "label": "金额"}


@pytest.fixture
def admin(client_for: Any) -> ApiClient:
    return client_for("admin")


def _problems(admin: ApiClient, fields: list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
    if admin.get("forms/draft_check").status_code == 404:
        created = admin.post("forms", {"code": "draft_check", "name": "检查"})
        assert created.status_code == 201, created.content
    response = admin.post(
        "forms/draft_check/draft/validate", {"schema": {"fields": fields, **extra}}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is (not body["problems"])
    return body["problems"]


def _one(problems: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(problems) == 1, problems
    return problems[0]


def test_draft_publish_and_versions(admin: ApiClient, officer: ApiClient) -> None:
    created = admin.post("forms", {"code": "visit", "name": "拜访记录", "kind": "generic"})
    assert created.status_code == 201
    assert created.json()["version"] is None and created.json()["has_draft"] is True
    # a draft may be unfinished: it is saved, with its problems reported
    saved = admin.put("forms/visit/draft", {"schema": {"fields": [TEXT, {**MONEY, "key": "name"}]}})
    assert saved.status_code == 200
    assert saved.json()["number"] == 1
    assert [p["code"] for p in saved.json()["problems"]] == ["forms.schema.key_duplicate"]
    refused = admin.post("forms/visit/publish")
    assert refused.status_code == 422
    assert refused.json()["code"] == "forms.draft_invalid"
    assert refused.json()["details"]["problems"][0]["key"] == "name"
    assert refused.json()["details"]["fields"] == {"name": "字段标识 name 重复"}
    # officers cannot fill an unpublished form
    assert officer.post("forms/visit/records", {"data": {}}).status_code == 409

    admin.put("forms/visit/draft", {"schema": {"fields": [TEXT]}})
    published = admin.post("forms/visit/publish")
    assert published.status_code == 200, published.content
    assert published.json()["number"] == 1
    assert published.json()["published_by"]["username"] == "admin"
    assert admin.post("forms/visit/publish").json()["code"] == "forms.no_draft"
    first = officer.post("forms/visit/records", {"data": {"name": "甲"}})
    assert first.status_code == 201

    # version 2 adds a required field; the old record keeps version 1 and its rules
    admin.put("forms/visit/draft", {"schema": {"fields": [TEXT, {**MONEY, "required": True}]}})
    assert admin.get("forms/visit/draft").json()["number"] == 2
    assert admin.post("forms/visit/publish").json()["number"] == 2
    versions = admin.get("forms/visit/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert admin.get("forms/visit/versions/1").json()["schema"] == {"fields": [TEXT]}
    assert officer.post("forms/visit/records", {"data": {"name": "乙"}}).status_code == 422
    second = officer.post("forms/visit/records", {"data": {"name": "乙", "amount": "5"}})
    assert second.json()["version"] == 2
    old = officer.patch(f"forms/visit/records/{first.json()['id']}", {"data": {"name": "甲2"}})
    assert old.status_code == 200, old.content
    assert old.json()["version"] == 1 and old.json()["data"] == {"name": "甲2"}
    assert Record.objects.get(pk=first.json()["id"]).version.number == 1


def test_published_versions_are_immutable(demo: Any) -> None:
    version = FormVersion.objects.filter(published_at__isnull=False).first()
    assert version is not None
    version.schema = {"fields": []}
    with pytest.raises(PermissionError):
        version.save()


def test_form_codes(admin: ApiClient) -> None:
    assert admin.post("forms", {"code": "links", "name": "保留字"}).status_code == 422
    assert admin.post("forms", {"code": "Bad-Code", "name": "格式"}).status_code == 422
    assert admin.post("forms", {"code": "loan_application", "name": "重复"}).status_code == 409
    patched = admin.patch("forms/loan_application", {"name": "贷款申请表"})
    assert patched.status_code == 200 and patched.json()["name"] == "贷款申请表"


def test_bad_formula_reports_the_position(admin: ApiClient) -> None:
    problem = _one(
        _problems(
            admin, [MONEY, {"key": "f", "type": "formula", "label": "F", "formula": "amount * * 2"}]
        )
    )
    assert problem["key"] == "f" and problem["code"] == "forms.schema.formula"
    assert problem["position"] == 9
    assert problem["message"] == "公式错误(第 10 个字符):公式语法错误:“*”附近"
    unknown = _one(
        _problems(
            admin, [MONEY, {"key": "f", "type": "formula", "label": "F", "formula": "amount + tax"}]
        )
    )
    assert unknown["position"] == 9 and "没有字段 tax" in unknown["message"]
    missing = _one(_problems(admin, [{"key": "f", "type": "formula", "label": "F"}]))
    assert missing["code"] == "forms.schema.formula_missing"


def test_formula_over_sub_table_columns(admin: ApiClient) -> None:
    rows = {
        "key": "rows",
        "type": "subtable",
        "label": "行",
        "children": [{"key": "income", "type": "money", "label": "收入"}],
    }
    ok = _problems(
        admin, [rows, {"key": "f", "type": "formula", "label": "F", "formula": "SUM(rows.income)"}]
    )
    assert ok == []
    bad = _one(
        _problems(
            admin,
            [rows, {"key": "f", "type": "formula", "label": "F", "formula": "SUM(rows.salary)"}],
        )
    )
    assert bad["position"] == 4


def test_unknown_field_in_condition(admin: ApiClient) -> None:
    problem = _one(_problems(admin, [{**TEXT, "visible_when": {">": [{"var": "amount"}, 5]}}]))
    assert problem["code"] == "forms.schema.condition"
    assert problem["key"] == "name"
    assert "amount" in problem["message"]
    malformed = _one(_problems(admin, [MONEY, {**TEXT, "visible_when": {"frobnicate": [1]}}]))
    assert malformed["code"] == "forms.schema.condition"


def test_duplicate_keys_and_bad_keys(admin: ApiClient) -> None:
    dup = _one(_problems(admin, [TEXT, {**MONEY, "key": "name"}]))
    assert dup["code"] == "forms.schema.key_duplicate"
    codes = {
        p["code"]
        for p in _problems(
            admin,
            [
                {**TEXT, "key": "Name"},
                {**TEXT, "key": "serial_no"},
                {**TEXT, "key": "ok", "type": "hologram"},
                {**TEXT, "key": "child_clash"},
                {
                    "key": "rows",
                    "type": "subtable",
                    "label": "行",
                    "children": [
                        {**TEXT, "key": "child_clash"},
                        {**TEXT, "key": "x"},
                        {**TEXT, "key": "x"},
                    ],
                },
            ],
        )
    }
    assert codes == {
        "forms.schema.key_invalid",
        "forms.schema.key_reserved",
        "forms.schema.type_unknown",
        "forms.schema.key_duplicate",
    }


def test_cycles_are_refused(admin: ApiClient) -> None:
    problem = _one(
        _problems(
            admin,
            [
                {"key": "a", "type": "formula", "label": "A", "formula": "b + 1"},
                {"key": "b", "type": "formula", "label": "B", "formula": "a + 1"},
            ],
        )
    )
    assert problem["code"] == "forms.schema.cycle"
    assert problem["message"] == "字段之间存在循环引用:a → b → a"
    via_condition = _one(
        _problems(
            admin,
            [
                MONEY,
                {
                    "key": "c",
                    "type": "formula",
                    "label": "C",
                    "formula": "amount",
                    "visible_when": {">": [{"var": "c"}, 1]},
                },
            ],
        )
    )
    assert via_condition["code"] == "forms.schema.cycle"


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ({"key": "s", "type": "select", "label": "S"}, "forms.schema.options_missing"),
        (
            {
                "key": "s",
                "type": "select",
                "label": "S",
                "options": [{"value": "a", "label": "A"}] * 2,
            },
            "forms.schema.option_duplicate",
        ),
        (
            {"key": "s", "type": "select", "label": "S", "options": ["a"]},
            "forms.schema.option_invalid",
        ),
        ({**TEXT, "validation": {"regex": "([a-z]"}}, "forms.schema.regex_invalid"),
        ({**TEXT, "validation": {"regex": "(a+)+$"}}, "forms.schema.regex_unsafe"),
        ({**TEXT, "validation": {"regex": "a" * 201}}, "forms.schema.regex_too_long"),
        ({**TEXT, "validation": {"min_length": 5, "max_length": 2}}, "forms.schema.min_above_max"),
        ({**MONEY, "validation": {"min": "10", "max": "1"}}, "forms.schema.min_above_max"),
        ({**MONEY, "validation": {"regex": "x"}}, "forms.schema.bad_value"),
        ({**TEXT, "colour": "red"}, "forms.schema.unknown_property"),
        ({**TEXT, "label": ""}, "forms.schema.label_missing"),
        (
            {"key": "t", "type": "textarea", "label": "T", "validation": {"unique": True}},
            "forms.schema.bad_value",
        ),
        (
            {"key": "t", "type": "textarea", "label": "T", "indexed": True},
            "forms.schema.index_not_supported",
        ),
        ({**TEXT, "permissions": {"officer": "maybe"}}, "forms.schema.permission_mode"),
        ({**TEXT, "default": {"x": 1}}, "forms.schema.bad_value"),
        (
            {"key": "w", "type": "amount_capital", "label": "W", "settings": {"source": "nope"}},
            "forms.schema.source_invalid",
        ),
        (
            {"key": "l", "type": "lookup", "label": "L", "settings": {"relation": "nope"}},
            "forms.schema.lookup_relation",
        ),
        (
            {"key": "n", "type": "serial", "label": "N", "settings": {"pattern": "SQ{yyyy}"}},
            "forms.schema.serial_pattern",
        ),
        (
            {
                "key": "r",
                "type": "relation",
                "label": "R",
                "settings": {"target": "record", "form": "nope"},
            },
            "forms.schema.relation_form",
        ),
        (
            {"key": "rows", "type": "subtable", "label": "R", "children": []},
            "forms.schema.children_missing",
        ),
        (
            {
                "key": "rows",
                "type": "subtable",
                "label": "R",
                "children": [
                    {"key": "inner", "type": "subtable", "label": "I", "children": [TEXT]}
                ],
            },
            "forms.schema.child_type",
        ),
    ],
)
def test_design_problems(field: dict[str, Any], code: str, admin: ApiClient) -> None:
    problems = _problems(admin, [field])
    assert code in {p["code"] for p in problems}, problems
    assert all(p["message"] and not p["message"].startswith("forms.") for p in problems)


def test_form_level_problems(admin: ApiClient) -> None:
    assert (
        _one(_problems(admin, [TEXT], list_columns=["nope"]))["code"] == "forms.schema.list_column"
    )
    mapping = _one(_problems(admin, [TEXT], customer_fields={"name": "name", "relation": "name"}))
    assert mapping["code"] == "forms.schema.public_mapping"
    too_many = [{**TEXT, "key": f"t{i}", "indexed": True} for i in range(9)]
    assert _one(_problems(admin, too_many))["code"] == "forms.schema.index_full"
    serials = [
        {"key": "n1", "type": "serial", "label": "N1"},
        {"key": "n2", "type": "serial", "label": "N2"},
    ]
    assert _one(_problems(admin, serials))["code"] == "forms.schema.serial_multiple"
    empty = admin.post("forms/draft_check/draft/validate", {"schema": {"fields": []}}).json()
    assert [p["code"] for p in empty["problems"]] == ["forms.schema.fields_missing"]


def test_formula_check_endpoint(admin: ApiClient, officer: ApiClient) -> None:
    ok = admin.post("forms/formula/check", {"text": "ROUND(a * 2, 2)", "fields": ["a"]}).json()
    assert ok == {"ok": True, "references": ["a"], "error": None}
    bad = admin.post("forms/formula/check", {"text": "a + b", "fields": ["a"]}).json()
    assert bad["ok"] is False
    assert bad["error"]["code"] == "formula.unknown_field" and bad["error"]["position"] == 4
    rows = admin.post(
        "forms/formula/check",
        {"text": "SUM(r.x)", "fields": [], "subtables": {"r": ["x"]}},
    ).json()
    assert rows["ok"] is True and rows["references"] == ["r.x"]


def test_palette_and_functions(client_for: Any) -> None:
    english = client_for("officer1")
    english.language = "en-US"
    body = english.get("forms/field-types").json()
    types = {t["type"]: t for t in body["types"]}
    assert len(types) >= 30
    assert types["money"]["label"] == "Amount"
    assert types["select"]["has_options"] is True
    assert {s["name"] for s in types["formula"]["settings"]} == {"result_type", "precision"}
    assert "unique" in {v["name"] for v in types["id_number"]["validation"]}
    assert types["phone"]["pii"] is True and types["phone"]["filter_ops"] == ["eq", "in", "empty"]
    assert body["groups"]["layout"] == "Layout"
    chinese = client_for("officer1").get("forms/field-types").json()
    assert {t["type"]: t for t in chinese["types"]}["money"]["label"] == "金额"
    functions = {f["name"]: f for f in english.get("forms/functions").json()}
    assert {"PMT", "IF", "ROUND", "SUM", "DATEDIF"} <= set(functions)
    assert functions["PMT"]["min_args"] == 3
