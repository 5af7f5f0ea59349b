"""Records: lists with key-field filters and sorting, edits with audited diffs, PII at rest,
reveal, events, Excel export."""

import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from loandesk.core.models import AuditEntry, OutboxEvent
from loandesk.forms import services
from loandesk.forms.models import Record
from tests.factories import ApiClient
from tests.forms.conftest import id_number, loan_data

FIELDS = [
    {"key": "name", "type": "text", "label": "姓名", "indexed": True},
    {"key": "phone", "type": "phone", "label": "手机", "indexed": True},
    {"key": "amount", "type": "money", "label": "金额", "indexed": True},
    {"key": "signed", "type": "date", "label": "签约日", "indexed": True},
    {
        "key": "grade",
        "type": "select",
        "label": "等级",
        "indexed": True,
        "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
    },
    {
        "key": "tags",
        "type": "multiselect",
        "label": "标签",
        "indexed": True,
        "options": [{"value": "vip", "label": "VIP"}, {"value": "new", "label": "新客"}],
    },
    {"key": "note", "type": "text", "label": "备注"},
]


@pytest.fixture
def records(make_form: Any, officer: ApiClient) -> list[int]:
    make_form("leads", FIELDS, list_columns=["name", "phone", "amount", "grade", "created_at"])
    rows = [
        {
            "name": "张三",
            "phone": "13800138000",
            "amount": "100",
            "signed": "2026-01-05",
            "grade": "a",
            "tags": ["vip"],
        },
        {
            "name": "李四",
            "phone": "13900139000",
            "amount": "2500.5",
            "signed": "2026-02-10",
            "grade": "b",
            "tags": ["vip", "new"],
        },
        {"name": "张小五", "amount": "900", "signed": "2026-03-15", "grade": "a", "note": "=1+1"},
    ]
    ids = []
    for row in rows:
        response = officer.post("forms/leads/records", {"data": row})
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    return ids


def _ids(client: ApiClient, **params: str) -> list[int]:
    response = client.get("forms/leads/records", params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_list_columns_and_display(records: list[int], officer: ApiClient) -> None:
    body = officer.get("forms/leads/records").json()
    assert [c["key"] for c in body["columns"]] == ["name", "phone", "amount", "grade", "created_at"]
    amount = next(c for c in body["columns"] if c["key"] == "amount")
    assert amount["sortable"] is True and "gte" in amount["filter_ops"]
    first = body["items"][-1]
    assert first["values"] == {
        "name": "张三",
        "phone": "138****8000",
        "amount": "100.00",
        "grade": "a",
    }
    assert first["display"]["amount"] == "¥100.00" and first["display"]["grade"] == "A"
    assert body["count"] == 3 and [i["id"] for i in body["items"]] == records[::-1]


def test_filters_and_sorting(records: list[int], officer: ApiClient) -> None:
    a, b, c = records
    assert _ids(officer, **{"f.amount__gte": "900", "sort": "amount"}) == [c, b]
    assert _ids(officer, **{"f.amount__lt": "900"}) == [a]
    assert _ids(officer, **{"f.grade": "a", "sort": "-amount"}) == [c, a]
    assert _ids(officer, **{"f.grade__in": "a,b", "sort": "signed"}) == [a, b, c]
    assert _ids(officer, **{"f.grade__ne": "a"}) == [b]
    assert _ids(officer, **{"f.name__startswith": "张", "sort": "name"}) == [a, c]
    assert _ids(officer, **{"f.name__contains": "小"}) == [c]
    assert _ids(officer, **{"f.phone": "138 0013 8000"}) == [a]  # PII: exact, via blind index
    assert _ids(officer, **{"f.phone__empty": "true"}) == [c]
    assert _ids(officer, **{"f.tags__contains": "new"}) == [b]
    assert _ids(officer, **{"f.signed__gte": "2026-02-01", "f.signed__lte": "2026-02-28"}) == [b]
    today = timezone.localdate().isoformat()
    assert len(_ids(officer, **{"f.created_at__gte": today})) == 3
    assert _ids(officer, page="2", page_size="2", sort="amount") == [b]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"f.note": "x"}, "f.note"),  # not a key field
        ({"f.nope": "x"}, "f.nope"),
        ({"f.phone__contains": "138"}, "f.phone__contains"),  # PII: exact only
        ({"f.amount__gte": "lots"}, "f.amount__gte"),
        ({"f.grade": "z"}, "f.grade"),
        ({"f.created_at__gte": "yesterday"}, "f.created_at__gte"),
        ({"sort": "note"}, "sort"),
    ],
)
def test_bad_filters_are_422(
    records: list[int], officer: ApiClient, params: dict[str, str], where: str
) -> None:
    response = officer.get("forms/leads/records", params)
    assert response.status_code == 422
    assert list(response.json()["details"]["fields"]) == [where]


def test_pii_is_encrypted_at_rest_and_revealed_with_audit(
    records: list[int], officer: ApiClient, client_for: Any
) -> None:
    stored = Record.objects.get(pk=records[0])
    assert stored.data["phone"].startswith("v1:") and "13800138000" not in str(stored.data)
    assert stored.k_t2 != "13800138000"  # the key column holds a keyed hash
    assert officer.get(f"forms/leads/records/{records[0]}").json()["data"]["phone"] == "138****8000"
    assert (
        officer.post(f"forms/leads/records/{records[0]}/reveal", {"field": "phone"}).status_code
        == 403
    )
    manager = client_for("manager")
    revealed = manager.post(f"forms/leads/records/{records[0]}/reveal", {"field": "phone"})
    assert revealed.json() == {"field": "phone", "value": "13800138000"}
    entry = AuditEntry.objects.get(action="pii.reveal")
    assert entry.actor.username == "manager" and entry.extra["field"] == "phone"
    assert (
        manager.post(f"forms/leads/records/{records[0]}/reveal", {"field": "name"}).status_code
        == 404
    )


def test_edit_is_audited_with_a_field_diff(
    records: list[int], officer: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    rid = records[0]
    # the masked phone sent back unchanged keeps the stored number
    response = officer.patch(
        f"forms/leads/records/{rid}", {"data": {"amount": "150", "phone": "138****8000"}}
    )
    assert response.status_code == 200, response.content
    assert (
        services.storage.unseal(
            services.compiled_version(Record.objects.get(pk=rid).version),
            Record.objects.get(pk=rid).data,
        )["phone"]
        == "13800138000"
    )
    entry = AuditEntry.objects.filter(action="record.update", target_id=str(rid)).get()
    assert entry.changes == {"amount": ["100.00", "150.00"]}
    assert entry.actor.username == "officer1"
    event = OutboxEvent.objects.filter(topic="record.updated").get()
    assert event.payload["changed"] == ["amount"] and event.payload["record_id"] == rid
    # a new phone number is audited masked, never in plaintext
    officer.patch(f"forms/leads/records/{rid}", {"data": {"phone": "13700137000"}})
    phone_entry = AuditEntry.objects.filter(action="record.update").order_by("-id").first()
    assert phone_entry is not None
    assert phone_entry.changes == {"phone": ["138****8000", "137****7000"]}
    # no change, no audit entry and no event
    officer.patch(f"forms/leads/records/{rid}", {"data": {"amount": "150.00"}})
    assert AuditEntry.objects.filter(action="record.update").count() == 2
    history = officer.get(f"forms/leads/records/{rid}/history").json()
    assert [h["action"] for h in history] == ["record.create", "record.update", "record.update"]
    assert history[0]["changes"]["name"] == [None, "张三"]
    # filters see the new values at once
    assert _ids(officer, **{"f.amount": "150"}) == [rid]
    assert _ids(officer, **{"f.phone": "13700137000"}) == [rid]


def test_record_created_event(records: list[int]) -> None:
    events = OutboxEvent.objects.filter(topic="record.created").order_by("created_at")
    assert [e.payload["record_id"] for e in events] == records
    assert events[0].payload["form"] == "leads" and events[0].aggregate_type == "forms.record"


def test_export_neutralises_formula_injection(
    records: list[int], client_for: Any, officer: ApiClient
) -> None:
    officer.patch(
        f"forms/leads/records/{records[1]}", {"data": {"name": "@SUM(1+1)", "note": "-2+3"}}
    )
    response = client_for("manager").client.get("/api/v1/forms/leads/records/export?sort=amount")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "姓名", "手机")
    by_amount = {row[3]: row for row in rows[1:]}
    assert set(by_amount) == {100, 900, 2500.5}  # numbers stay numbers
    assert by_amount[2500.5][1] == "'@SUM(1+1)" and by_amount[2500.5][7] == "'-2+3"
    assert by_amount[900][7] == "'=1+1"
    assert by_amount[100][2] == "138****8000"  # PII masked in exports
    assert by_amount[100][4].date().isoformat() == "2026-01-05"
    assert AuditEntry.objects.filter(action="forms.exported").get().extra["rows"] == 3


def test_export_with_sub_tables(demo: Any, client_for: Any, officer: ApiClient) -> None:
    co = [{"name": "=cmd|' /C calc'!A0", "id_number": id_number(21), "monthly_income": "5000"}]
    officer.post("forms/loan_application/records", {"data": loan_data(co_borrowers=co)})
    response = client_for("gm").client.get("/api/v1/forms/loan_application/records/export")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["贷款申请", "共同借款人"]
    rows = list(book["共同借款人"].iter_rows(values_only=True))
    assert rows[0] == ("所属记录", "姓名", "身份证号", "月收入")
    assert rows[1][1] == "'=cmd|' /C calc'!A0" and rows[1][2].startswith("110***")
    assert rows[1][3] == 5000


def test_publishing_a_new_key_field_reindexes_old_records(
    records: list[int],
    officer: ApiClient,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.forms.conftest import publish_form

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # "note" becomes a key field in version 2: records of version 1 get its column filled
    fields = [*FIELDS[:-1], {**FIELDS[-1], "indexed": True}]
    with django_capture_on_commit_callbacks(execute=True):
        with_note = publish_form("leads", fields)
    assert "note" in with_note.index_slots
    assert _ids(officer, **{"f.note": "=1+1"}) == [records[2]]
    # a field that stops being key frees its column, which is cleared
    grade_column = with_note.index_slots["grade"]
    without_grade = publish_form("leads", [f for f in fields if f["key"] != "grade"])
    assert "grade" not in without_grade.index_slots
    assert grade_column not in without_grade.index_slots.values()
    assert not Record.objects.filter(**{f"{grade_column}__isnull": False}).exists()
    # the other key fields kept their columns, so nothing else was rewritten
    assert without_grade.index_slots["amount"] == with_note.index_slots["amount"]


def test_cleanup_removes_orphans(records: list[int], officer: ApiClient) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from loandesk.forms.models import RateCounter, Upload

    headers = officer._headers("post")
    uploaded = officer.client.post(
        "/api/v1/forms/uploads", {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4")}, **headers
    ).json()["id"]
    Upload.objects.filter(pk=uploaded).update(created_at=timezone.now() - timedelta(days=2))
    RateCounter.objects.create(scope="x", key="y", window_start=timezone.now() - timedelta(days=3))
    result = services.cleanup()
    assert result["uploads"] == 1 and result["rate_counters"] == 1
    assert not Upload.objects.filter(pk=uploaded).exists()


def test_download_of_a_malformed_upload_id_is_not_found(officer: ApiClient) -> None:
    # Found by the API fuzz test: a path id that is not a UUID crashed the lookup (500).
    for bad in (",", "not-a-uuid", "12345"):
        response = officer.get(f"forms/uploads/{bad}")
        assert response.status_code == 404, (bad, response.content)
        assert response.json()["code"] == "not_found"
