"""Every field type through the API: a valid value is stored normalised, an invalid one is a 422
whose details.fields names the field (with a translated message)."""

import base64
import io
from typing import Any

import pytest
from PIL import Image

from loandesk.customers.models import Customer
from loandesk.forms.fieldtypes import TYPES
from loandesk.forms.models import Record, Upload
from tests.factories import ApiClient
from tests.forms.conftest import bank_card, id_number, uscc_number

OPTIONS = [
    {"value": "a", "label": "甲", "label_en": "A"},
    {"value": "b", "label": "乙", "label_en": "B"},
    {"value": "c", "label": "丙"},
]


def _bad_check(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


REGION = {"codes": ["110000", "110100", "110105"], "names": ["北京市", "市辖区", "朝阳区"]}

# (type, extra field definition, valid input, stored value as the API returns it, invalid input)
CASES: list[tuple[str, dict[str, Any], Any, Any, Any]] = [
    (
        "text",
        {"validation": {"max_length": 10}},
        " 张  三 ",
        "张 三",
        "超过十个字符的一段很长的文字",
    ),
    ("text", {}, 12345, "12345", {"not": "text"}),
    ("textarea", {}, "第一行\n第二行", "第一行\n第二行", ["a", "list"]),
    (
        "richtext",
        {},
        '<p onclick="steal()">你好<script>alert(1)</script>'
        '<b>世界</b><a href="javascript:x">x</a></p>',
        "<p>你好<b>世界</b><a>x</a></p>",
        {"html": 1},
    ),
    ("number", {"settings": {"precision": 1}, "validation": {"max": 100}}, "12.5", "12.5", "12.55"),
    ("number", {"validation": {"min": 0, "max": 100}}, 7, "7", "101"),
    ("number", {}, "3", "3", "abc"),
    ("money", {}, "1,234.5", "1234.50", "12.345"),
    ("money", {"validation": {"max": "1000"}}, 999.99, "999.99", "1000.01"),
    ("percent", {}, "6.5", "6.5", "六"),
    ("slider", {"validation": {"max": 10}, "settings": {"step": "0.5"}}, "2.5", "2.5", "2.3"),
    ("rating", {"settings": {"max_stars": 5}}, "4", 4, 6),
    ("date", {}, "2026-03-01", "2026-03-01", "2026-02-30"),
    ("date", {"validation": {"min_date": "2026-01-01"}}, "2026-01-01", "2026-01-01", "2025-12-31"),
    ("datetime", {}, "2026-03-01T10:30", "2026-03-01T02:30:00Z", "tomorrow"),
    ("datetime", {}, "2026-03-01T10:30:00+08:00", "2026-03-01T02:30:00Z", "2026-13-01T10:00"),
    ("time", {}, "09:30", "09:30", "25:00"),
    (
        "date_range",
        {},
        {"start": "2026-01-01", "end": "2026-02-01"},
        {"start": "2026-01-01", "end": "2026-02-01"},
        {"start": "2026-02-01", "end": "2026-01-01"},
    ),
    ("select", {"options": OPTIONS}, "a", "a", "z"),
    ("radio", {"options": OPTIONS}, "b", "b", "z"),
    ("multiselect", {"options": OPTIONS}, ["c", "a", "c"], ["a", "c"], ["a", "z"]),
    ("multiselect", {"options": OPTIONS, "validation": {"max_count": 1}}, ["b"], ["b"], ["a", "b"]),
    ("checkbox", {"options": OPTIONS}, ["b"], ["b"], "z"),
    ("switch", {}, "true", True, "maybe"),
    ("switch", {}, False, False, 2),
    ("phone", {}, "+86 138-0013-8000", "138****8000", "12345678"),
    ("email", {}, "Zhang.San@Example.COM", "Zhang.San@example.com", "zhangsan.example.com"),
    (
        "id_number",
        {},
        id_number(3).lower(),
        "110***********" + id_number(3)[-4:],
        "110105199005170010",
    ),
    (
        "uscc",
        {},
        uscc_number(),
        uscc_number(),
        uscc_number()[:-1] + ("0" if uscc_number()[-1] != "0" else "1"),
    ),
    (
        "bank_card",
        {},
        bank_card()[:4] + " " + bank_card()[4:],
        "**** **** **** " + bank_card()[-4:],
        _bad_check(bank_card()),
    ),
    ("url", {}, "https://example.com/a?b=1", "https://example.com/a?b=1", "javascript:alert(1)"),
    ("region", {}, REGION, REGION, {"codes": ["110000", "120100", "120105"]}),
    (
        "region",
        {"settings": {"level": "city"}},
        ["310000", "310100"],
        {"codes": ["310000", "310100"], "names": []},
        ["310000"],
    ),
    (
        "address",
        {},
        {**REGION, "detail": " 建国路  88 号 "},
        {**REGION, "detail": "建国路 88 号"},
        {**REGION, "detail": ""},
    ),
    (
        "location",
        {},
        {"lat": 39.9087, "lng": "116.3975", "accuracy": 30, "address": "天安门"},
        {"lat": "39.9087", "lng": "116.3975", "accuracy": "30", "address": "天安门"},
        {"lat": 91, "lng": 0},
    ),
    (
        "subtable",
        {
            "children": [
                {"key": "name", "type": "text", "label": "姓名", "required": True},
                {"key": "income", "type": "money", "label": "收入"},
            ]
        },
        [{"name": "甲", "income": "100"}, {"name": "", "income": ""}],
        [{"name": "甲", "income": "100.00"}],
        [{"name": "乙", "income": "1"}, {"name": "", "income": "x"}],
    ),
]


def _ids(case: tuple[Any, ...]) -> str:
    return str(case[0])


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_valid_and_invalid_values(
    case: tuple[Any, ...], make_form: Any, officer: ApiClient
) -> None:
    type_name, extra, valid, stored, invalid = case
    make_form("typed", [{"key": "v", "type": type_name, "label": "值", **extra}])
    ok = officer.post("forms/typed/records", {"data": {"v": valid}})
    assert ok.status_code == 201, ok.content
    assert ok.json()["data"]["v"] == stored
    bad = officer.post("forms/typed/records", {"data": {"v": invalid}})
    assert bad.status_code == 422, bad.content
    body = bad.json()
    assert body["code"] == "validation_error"
    fields = body["details"]["fields"]
    assert fields and all(path == "v" or path.startswith("v[") for path in fields), fields
    assert all(text and not text.startswith(("forms.", "field.")) for text in fields.values())
    assert Record.objects.count() == 1  # the invalid submission stored nothing


def test_subtable_errors_name_the_cell(make_form: Any, officer: ApiClient) -> None:
    make_form(
        "rows",
        [
            {
                "key": "people",
                "type": "subtable",
                "label": "人员",
                "validation": {"min_rows": 1, "max_rows": 2},
                "children": [
                    {"key": "name", "type": "text", "label": "姓名", "required": True},
                    {"key": "id_no", "type": "id_number", "label": "身份证"},
                ],
            }
        ],
    )
    bad = officer.post(
        "forms/rows/records", {"data": {"people": [{"name": "甲"}, {"id_no": "123"}]}}
    )
    assert bad.status_code == 422
    assert set(bad.json()["details"]["fields"]) == {"people[1].name", "people[1].id_no"}
    too_many = officer.post("forms/rows/records", {"data": {"people": [{"name": "x"}] * 3}})
    assert too_many.json()["details"]["fields"] == {"people": "最多 2 行"}
    too_few = officer.post("forms/rows/records", {"data": {"people": []}})
    assert too_few.json()["details"]["fields"] == {"people": "至少填写 1 行"}
    not_rows = officer.post("forms/rows/records", {"data": {"people": "甲"}})
    assert "people" in not_rows.json()["details"]["fields"]


def test_required_is_checked_per_type(make_form: Any, officer: ApiClient) -> None:
    make_form(
        "req",
        [
            {"key": "name", "type": "text", "label": "姓名", "required": True},
            {"key": "agree", "type": "switch", "label": "同意", "required": True},
            {
                "key": "tags",
                "type": "multiselect",
                "label": "标签",
                "options": OPTIONS,
                "required": True,
            },
        ],
    )
    bad = officer.post("forms/req/records", {"data": {"name": "  ", "agree": False, "tags": []}})
    assert bad.json()["details"]["fields"] == {
        "name": "此项为必填项",
        "agree": "请勾选此项",
        "tags": "此项为必填项",
    }


def test_messages_follow_the_language(make_form: Any, client_for: Any) -> None:
    make_form("lang", [{"key": "phone", "type": "phone", "label": "手机"}])
    english = client_for("officer1")
    english.language = "en-US"
    bad = english.post("forms/lang/records", {"data": {"phone": "123"}})
    assert bad.json()["details"]["fields"] == {"phone": "Enter a valid mobile number"}


def test_regex_validation_with_custom_message(make_form: Any, officer: ApiClient) -> None:
    make_form(
        "plate",
        [
            {
                "key": "plate",
                "type": "text",
                "label": "车牌",
                "validation": {"regex": r"[京沪][A-Z][0-9A-Z]{5}", "regex_message": "车牌格式不对"},
            }
        ],
    )
    assert officer.post("forms/plate/records", {"data": {"plate": "京A12345"}}).status_code == 201
    bad = officer.post("forms/plate/records", {"data": {"plate": "粤A12345"}})
    assert bad.json()["details"]["fields"] == {"plate": "车牌格式不对"}


def test_unique_within_the_form(make_form: Any, officer: ApiClient) -> None:
    make_form(
        "uniq",
        [
            {"key": "code", "type": "text", "label": "编码", "validation": {"unique": True}},
            {"key": "idn", "type": "id_number", "label": "身份证", "validation": {"unique": True}},
        ],
    )
    first = officer.post("forms/uniq/records", {"data": {"code": "A1", "idn": id_number(5)}})
    assert first.status_code == 201
    again = officer.post("forms/uniq/records", {"data": {"code": "A1", "idn": id_number(5)}})
    assert again.status_code == 422
    assert again.json()["details"]["fields"] == {
        "code": "该值已存在,不能重复",
        "idn": "该值已存在,不能重复",
    }
    other = officer.post("forms/uniq/records", {"data": {"code": "A2", "idn": id_number(6)}})
    assert other.status_code == 201
    # editing a record may keep its own value, not take another's
    rid = other.json()["id"]
    assert officer.patch(f"forms/uniq/records/{rid}", {"data": {"code": "A2"}}).status_code == 200
    clash = officer.patch(f"forms/uniq/records/{rid}", {"data": {"code": "A1"}})
    assert clash.json()["details"]["fields"] == {"code": "该值已存在,不能重复"}


def test_user_and_department(demo: Any, make_form: Any, officer: ApiClient) -> None:
    make_form(
        "people",
        [
            {"key": "helper", "type": "user", "label": "协办人"},
            {"key": "team", "type": "department", "label": "部门"},
        ],
    )
    user = demo["users"]["officer2"]
    team = demo["departments"]["北京二组"]
    ok = officer.post("forms/people/records", {"data": {"helper": user.pk, "team": str(team.pk)}})
    assert ok.status_code == 201, ok.content
    assert ok.json()["data"] == {"helper": user.pk, "team": team.pk}
    assert ok.json()["display"] == {"helper": "陈晓燕", "team": "北京二组"}
    bad = officer.post("forms/people/records", {"data": {"helper": 999999, "team": 999999}})
    assert bad.json()["details"]["fields"] == {
        "helper": "选择的用户不存在或已停用",
        "team": "选择的部门不存在",
    }
    assert (
        "helper"
        in officer.post("forms/people/records", {"data": {"helper": "x"}}).json()["details"][
            "fields"
        ]
    )


def _customer_of(username: str) -> Customer:
    found = Customer.objects.filter(owner__username=username).order_by("pk").first()
    assert found is not None
    return found


def test_relation_to_a_customer_is_scoped(demo: Any, make_form: Any, officer: ApiClient) -> None:
    make_form(
        "visit",
        [
            {
                "key": "customer",
                "type": "relation",
                "label": "客户",
                "settings": {"target": "customer"},
            },
            {
                "key": "who",
                "type": "lookup",
                "label": "客户姓名",
                "settings": {"relation": "customer", "field": "name"},
            },
        ],
    )
    mine, theirs = _customer_of("officer1"), _customer_of("officer2")
    ok = officer.post("forms/visit/records", {"data": {"customer": mine.pk, "who": "ignored"}})
    assert ok.status_code == 201, ok.content
    assert ok.json()["data"] == {"customer": mine.pk, "who": mine.name}
    assert Record.objects.get(pk=ok.json()["id"]).customer_id == mine.pk
    bad = officer.post("forms/visit/records", {"data": {"customer": theirs.pk}})
    assert bad.json()["details"]["fields"] == {"customer": "选择的记录不存在或无权访问"}


def test_relation_to_a_record_and_lookup(
    make_form: Any, client_for: Any, officer: ApiClient
) -> None:
    make_form("house", [{"key": "address", "type": "text", "label": "地址"}])
    make_form(
        "valuation",
        [
            {
                "key": "house",
                "type": "relation",
                "label": "房产",
                "settings": {"target": "record", "form": "house"},
            },
            {
                "key": "house_address",
                "type": "lookup",
                "label": "房产地址",
                "settings": {"relation": "house", "field": "address"},
            },
        ],
    )
    mine = officer.post("forms/house/records", {"data": {"address": "朝阳路 1 号"}}).json()["id"]
    other = client_for("officer2").post("forms/house/records", {"data": {"address": "外滩"}})
    ok = officer.post("forms/valuation/records", {"data": {"house": mine}})
    assert ok.json()["data"] == {"house": mine, "house_address": "朝阳路 1 号"}
    bad = officer.post("forms/valuation/records", {"data": {"house": other.json()["id"]}})
    assert bad.json()["details"]["fields"] == {"house": "选择的记录不存在或无权访问"}


def _png(size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _upload(client: ApiClient, content: bytes, name: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    headers = client._headers("post")
    return client.client.post(
        "/api/v1/forms/uploads", {"file": SimpleUploadedFile(name, content)}, **headers
    )


def test_image_and_attachment(make_form: Any, officer: ApiClient, client_for: Any) -> None:
    make_form(
        "docs",
        [
            {"key": "photos", "type": "image", "label": "照片", "validation": {"max_count": 2}},
            {"key": "files", "type": "attachment", "label": "附件"},
        ],
    )
    image = _upload(officer, _png(), "me.png")
    assert image.status_code == 201, image.content
    assert image.json()["content_type"] == "image/png" and image.json()["kind"] == "image"
    pdf = _upload(officer, b"%PDF-1.4\n%...", "income.pdf")
    assert pdf.json()["content_type"] == "application/pdf"
    # content type by magic bytes: a script named .png is refused
    fake = _upload(officer, b"<script>alert(1)</script>", "x.png")
    assert fake.status_code == 422 and "file" in fake.json()["details"]["fields"]
    ok = officer.post(
        "forms/docs/records",
        {"data": {"photos": [image.json()["id"]], "files": [pdf.json()["id"]]}},
    )
    assert ok.status_code == 201, ok.content
    assert Upload.objects.get(pk=image.json()["id"]).record_id == ok.json()["id"]
    # used once: the same upload cannot be attached to a second record
    again = officer.post("forms/docs/records", {"data": {"files": [pdf.json()["id"]]}})
    assert again.json()["details"]["fields"] == {"files": "文件不存在或已被使用,请重新上传"}
    # a PDF is not an image; someone else's upload is not yours; ids are UUIDs
    other = _upload(client_for("officer2"), _png(), "other.png").json()["id"]
    new_pdf = _upload(officer, b"%PDF-1.4\n", "b.pdf").json()["id"]
    bad = officer.post("forms/docs/records", {"data": {"photos": [new_pdf], "files": [other]}})
    assert bad.json()["details"]["fields"] == {
        "photos": "请上传图片文件",
        "files": "文件不存在或已被使用,请重新上传",
    }
    assert (
        "photos"
        in officer.post("forms/docs/records", {"data": {"photos": ["nope"]}}).json()["details"][
            "fields"
        ]
    )
    # the file is served to whoever may see the record, as an attachment unless an image
    download = officer.client.get(f"/api/v1/forms/uploads/{pdf.json()['id']}")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert client_for("officer2").get(f"forms/uploads/{pdf.json()['id']}").status_code == 404
    assert client_for("manager").get(f"forms/uploads/{pdf.json()['id']}").status_code == 200


def test_signature(make_form: Any, officer: ApiClient) -> None:
    make_form("sign", [{"key": "sig", "type": "signature", "label": "签名", "required": True}])
    data_url = "data:image/png;base64," + base64.b64encode(_png()).decode()
    ok = officer.post("forms/sign/records", {"data": {"sig": data_url}})
    assert ok.status_code == 201, ok.content
    stored = Upload.objects.get(pk=ok.json()["data"]["sig"])
    assert stored.kind == "signature" and stored.content_type == "image/png"
    assert stored.record_id == ok.json()["id"]
    jpeg = "data:image/png;base64," + base64.b64encode(b"\xff\xd8\xff\xe0rest").decode()
    for bad_value in (jpeg, "data:image/png;base64,@@@", "not a signature"):
        bad = officer.post("forms/sign/records", {"data": {"sig": bad_value}})
        assert bad.json()["details"]["fields"] == {"sig": "签名须为 PNG 图片"}, bad_value


def test_derived_and_layout_types_ignore_client_values(make_form: Any, officer: ApiClient) -> None:
    make_form(
        "derived",
        [
            {"key": "head", "type": "section", "label": "标题"},
            {
                "key": "note",
                "type": "description",
                "label": "说明",
                "settings": {"content": "请如实填写"},
            },
            {
                "key": "no",
                "type": "serial",
                "label": "编号",
                "settings": {"pattern": "T{yy}-{000}"},
            },
            {"key": "amount", "type": "money", "label": "金额"},
            {
                "key": "words",
                "type": "amount_capital",
                "label": "大写",
                "settings": {"source": "amount"},
            },
            {
                "key": "doubled",
                "type": "formula",
                "label": "两倍",
                "formula": "amount * 2",
                "settings": {"result_type": "money"},
            },
        ],
    )
    sent = {
        "head": "x",
        "note": "y",
        "no": "HACK",
        "amount": "1409.50",
        "words": "零",
        "doubled": "1",
    }
    ok = officer.post("forms/derived/records", {"data": sent})
    assert ok.status_code == 201
    data = ok.json()["data"]
    assert set(data) == {"no", "amount", "words", "doubled"}
    assert data["words"] == "壹仟肆佰零玖元伍角"
    assert data["doubled"] == "2819.00"
    assert data["no"].startswith("T") and data["no"].endswith("-001")
    assert ok.json()["serial_no"] == data["no"]


def test_every_registered_type_is_covered() -> None:
    covered = {c[0] for c in CASES} | {
        "user", "department", "relation", "lookup", "image", "attachment", "signature",
        "serial", "amount_capital", "formula", "section", "description",
    }  # fmt: skip
    assert covered == set(TYPES)
    assert len(TYPES) >= 30
