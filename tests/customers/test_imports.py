"""Excel import: upload → suggested mapping → dry run (row-by-row report) → commit, all or
nothing unless skip_bad_rows; duplicates (existing or within the file) are never created."""

import base64
import io
from typing import Any

import pytest
from openpyxl import Workbook

from loandesk.core.crypto import decrypt
from loandesk.core.models import AuditEntry, OutboxEvent
from loandesk.customers.models import Customer, CustomerImport, Tag
from tests.customers.conftest import new_id_number, new_phone, upload

HEADERS = ["姓名", "身份证号", "手机号", "客户经理", "标签", "月收入(元)", "学历", "备注"]
MAPPING = {
    "姓名": "name",
    "身份证号": "id_number",
    "手机号": "phone",
    "客户经理": "owner",
    "标签": "tags",
    "月收入(元)": "monthly_income",
    "学历": "education",
    "备注": "remark",
}
BAD_ROWS = {12: "id_number", 500: "phone", 999: "name"}  # Excel row numbers (header is row 1)


def _sheet(
    rows: list[list[Any]], *, title_row: str | None = None, write_only: bool = False
) -> bytes:
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("客户") if write_only else wb.active
    if title_row:
        ws.append([title_row])
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _thousand_rows() -> list[list[Any]]:
    rows: list[list[Any]] = []
    for n in range(1000):
        excel_row = n + 2
        id_number = new_id_number(50_000 + n)
        phone: Any = int(new_phone(50_000 + n))  # Excel stores phones as numbers
        name = f"导入客户{n}"
        if excel_row == 12:
            id_number = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
        if excel_row == 500:
            phone = "1234"
        if excel_row == 999:
            name = ""
        rows.append(
            [
                name,
                id_number,
                phone,
                "officer1" if n % 2 else "王小明",
                "高意向",
                8000 + n,
                "本科",
                "",
            ]
        )
    return rows


@pytest.fixture(autouse=True)
def run_tasks_now(settings: Any) -> None:
    """The commit is a background task: run it as it is enqueued."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def officer(client_for: Any) -> Any:
    return client_for("officer1")


def _upload(client: Any, content: bytes, name: str = "客户名单.xlsx") -> Any:
    return upload(client, "customers/imports", name, content)


def test_thousand_rows_with_three_bad_ones(officer: Any, demo: Any) -> None:
    before = Customer.objects.count()
    response = _upload(officer, _sheet(_thousand_rows()))
    assert response.status_code == 201, response.content
    imp = response.json()
    assert imp["status"] == "uploaded" and imp["header_row"] == 1
    assert imp["suggested_mapping"] == MAPPING
    assert [c["header"] for c in imp["columns"]] == HEADERS
    assert imp["columns"][1]["samples"][0].startswith("110***")  # samples are masked
    assert {f["key"] for f in imp["fields"]} >= {"name", "id_number", "phone", "owner", "tags"}
    base = f"customers/imports/{imp['id']}"

    report = officer.post(f"{base}/dry-run", {"mapping": imp["suggested_mapping"]}).json()
    assert report["total_rows"] == 1000
    assert report["error_rows"] == 3 and report["duplicate_rows"] == 0
    assert report["create_rows"] == 997
    assert {r["row"]: list(r["errors"]) for r in report["rows"]} == {
        row: [field] for row, field in BAD_ROWS.items()
    }
    by_row = {r["row"]: r for r in report["rows"]}
    assert "校验位" in by_row[12]["errors"]["id_number"]
    assert by_row[500]["errors"]["phone"].startswith("手机号")
    assert Customer.objects.count() == before  # a dry run writes nothing

    refused = officer.post(f"{base}/commit")
    assert refused.status_code == 422
    assert refused.json()["code"] == "customers.import_has_errors"
    assert refused.json()["details"]["error_rows"] == 3
    assert Customer.objects.count() == before  # all or nothing

    officer.post(f"{base}/dry-run", {"mapping": MAPPING, "skip_bad_rows": True})
    done = officer.post(f"{base}/commit")
    assert done.status_code == 202, done.content
    assert done.json()["status"] == "committed"
    assert done.json()["progress"] == {"rows_done": 997, "rows_total": 997}
    assert done.json()["report"]["committed"] is True and done.json()["created_count"] == 997
    assert Customer.objects.count() == before + 997
    imported = Customer.objects.filter(name__startswith="导入客户")
    assert {c.owner.username for c in imported} == {"officer1"}
    sample = imported.get(name="导入客户20")
    assert sample.monthly_income == 802000 and sample.education == "bachelor"
    assert sample.source_channel == "import" and sample.name_pinyin == "daorukehu20"
    assert list(sample.tags.values_list("name", flat=True)) == ["高意向"]
    assert sample.phone == new_phone(50_020)
    assert OutboxEvent.objects.filter(topic="customer.created").count() == 997
    assert (
        AuditEntry.objects.filter(action="record.create", extra__import_id=imp["id"]).count() == 997
    )
    assert AuditEntry.objects.get(action="customers.import").extra["created"] == 997
    timeline = officer.get(f"customers/{sample.pk}/timeline").json()["items"]
    assert timeline[0]["summary"] == "通过 Excel 导入创建"

    again = officer.post(f"{base}/commit")
    assert again.status_code == 409 and again.json()["code"] == "customers.import_state"
    assert officer.get(base).json()["status"] == "committed"


def test_duplicates_against_customers_and_within_the_file(officer: Any, demo: Any) -> None:
    existing = Customer.objects.filter(owner=demo["users"]["officer2"], kind="individual").first()
    assert existing is not None
    id_a, phone_a = new_id_number(), new_phone()
    rows = [
        ["新客户甲", id_a, phone_a, "", "", "", "", ""],
        ["老客户", existing.id_number, "", "", "", "", "", ""],  # exists (another officer's)
        ["新客户甲(重复)", "", phone_a, "", "", "", "", ""],  # same phone as row 2
        ["新客户乙", new_id_number(), "", "", "", "", "", ""],
    ]
    imp = _upload(officer, _sheet(rows)).json()
    base = f"customers/imports/{imp['id']}"
    report = officer.post(f"{base}/dry-run", {"mapping": MAPPING}).json()
    assert (report["create_rows"], report["duplicate_rows"], report["error_rows"]) == (2, 2, 0)
    dups = {r["row"]: r for r in report["rows"]}
    assert dups[3]["status"] == "duplicate" and dups[3]["duplicate_of"] == {
        "customer_id": existing.pk
    }
    assert dups[4]["duplicate_of"] == {"row": 2}
    assert "第 2 行" in dups[4]["errors"]["phone"]
    result = officer.post(f"{base}/commit").json()["report"]
    assert result["created_count"] == 2  # duplicates are reported, never created
    assert Customer.objects.filter(name__startswith="新客户").count() == 2


def test_owner_and_tag_resolution(officer: Any, client_for: Any, demo: Any) -> None:
    rows = [
        ["甲", new_id_number(), "", "officer2", "", "", "", ""],  # not in officer1's scope
        ["乙", new_id_number(), "", "无此人", "", "", "", ""],
        ["丙", new_id_number(), "", "", "新标签", "", "硕士研究生", ""],
    ]
    imp = _upload(officer, _sheet(rows)).json()
    report = officer.post(f"customers/imports/{imp['id']}/dry-run", {"mapping": MAPPING}).json()
    errors = {r["row"]: r["errors"] for r in report["rows"]}
    assert set(errors[2]) == {"owner"} and set(errors[3]) == {"owner"}
    assert set(errors[4]) == {"tags", "education"}  # officers cannot create tags

    admin = client_for("admin")
    imp = _upload(
        admin, _sheet([["丁", new_id_number(), "", "陈晓燕", "新标签", "", "硕士", ""]])
    ).json()
    report = admin.post(f"customers/imports/{imp['id']}/dry-run", {"mapping": MAPPING}).json()
    assert report["error_rows"] == 0 and report["new_tags"] == ["新标签"]
    admin.post(f"customers/imports/{imp['id']}/commit")
    created = Customer.objects.get(name="丁")
    assert created.owner.username == "officer2"
    assert created.department is not None and created.department.name == "上海一组"
    assert Tag.objects.filter(name="新标签").exists() and created.education == "master"


def test_header_detection_and_inline_strings(officer: Any) -> None:
    content = _sheet(
        [["戊", new_id_number(), new_phone(), "", "", "", "", ""]],
        title_row="客户信息导入模板(2026 版)",
        write_only=True,
    )
    imp = _upload(officer, content).json()
    assert imp["header_row"] == 2 and imp["suggested_mapping"] == MAPPING
    report = officer.post(f"customers/imports/{imp['id']}/dry-run", {"mapping": MAPPING}).json()
    assert report["create_rows"] == 1


def test_mapping_and_file_errors(officer: Any, client_for: Any) -> None:
    imp = _upload(officer, _sheet([["己", new_id_number(), "", "", "", "", "", ""]])).json()
    base = f"customers/imports/{imp['id']}"
    unknown = officer.post(f"{base}/dry-run", {"mapping": {"不存在": "name"}})
    assert unknown.status_code == 422 and "mapping.不存在" in unknown.json()["details"]["fields"]
    bad_field = officer.post(f"{base}/dry-run", {"mapping": {"姓名": "salary"}})
    assert "mapping.姓名" in bad_field.json()["details"]["fields"]
    twice = officer.post(f"{base}/dry-run", {"mapping": {"姓名": "name", "备注": "name"}})
    assert twice.status_code == 422
    no_name = officer.post(f"{base}/dry-run", {"mapping": {"手机号": "phone"}})
    assert "mapping" in no_name.json()["details"]["fields"]
    not_checked = officer.post(f"{base}/commit")
    assert not_checked.status_code == 409
    assert not_checked.json()["code"] == "customers.import_not_checked"

    for name, content in [("a.xlsx", b"not a spreadsheet"), ("a.xlsx", b"PK\x03\x04broken")]:
        response = _upload(officer, content, name)
        assert response.status_code == 422
        assert response.json()["details"]["fields"]["file"]
    empty = _upload(officer, _sheet([]))
    assert empty.status_code == 201  # headers only: the dry run reports 0 rows
    assert client_for("officer2").get(base).status_code == 404


def test_uploaded_sheet_is_encrypted_and_removed_after_commit(
    officer: Any, media_root: Any
) -> None:
    id_number = new_id_number()
    sheet = _sheet([["庚", id_number, "", "", "", "", "", ""]])
    imp = _upload(officer, sheet).json()
    stored = CustomerImport.objects.get(pk=imp["id"]).file.name
    raw = (media_root / stored).read_bytes()
    # Ciphertext (v1:<key>:<base64 nonce+ciphertext>), not the sheet nor its plain base64; the
    # field keys give the uploaded bytes back.
    assert raw.startswith(b"v1:")
    sealed = base64.b64decode(raw.split(b":", 2)[2])
    assert sheet not in sealed and base64.b64encode(sheet) not in raw
    assert not sealed.startswith(b"PK\x03\x04")
    assert base64.b64decode(decrypt(raw.decode())) == sheet
    base = f"customers/imports/{imp['id']}"
    officer.post(f"{base}/dry-run", {"mapping": MAPPING})
    prepared = CustomerImport.objects.get(pk=imp["id"]).prepared_file.name
    raw_prepared = (media_root / prepared).read_bytes()
    assert raw_prepared.startswith(b"v1:") and id_number.encode() not in raw_prepared
    officer.post(f"{base}/commit")
    assert not (media_root / stored).exists() and not (media_root / prepared).exists()


def test_english_report(client_for: Any) -> None:
    client = client_for("officer1")
    client.language = "en-US"
    imp = _upload(client, _sheet([["辛", "123", "", "", "", "", "", ""]])).json()
    report = client.post(f"customers/imports/{imp['id']}/dry-run", {"mapping": MAPPING}).json()
    assert report["rows"][0]["errors"]["id_number"].startswith("ID number: Not a valid")
    assert client.get(f"customers/imports/{imp['id']}").json()["report"]["error_rows"] == 1


def test_commit_rechecks_what_changed_since_the_dry_run(officer: Any, demo: Any) -> None:
    id_taken, id_free = new_id_number(), new_id_number()
    rows = [
        ["壬", id_taken, "", "", "", "", "", ""],
        ["癸", id_free, "", "", "", "", "", ""],
    ]
    admin_import = _upload(officer, _sheet(rows)).json()
    base = f"customers/imports/{admin_import['id']}"
    assert officer.post(f"{base}/dry-run", {"mapping": MAPPING}).json()["create_rows"] == 2
    # Meanwhile someone creates the first person.
    created = officer.post("customers", {"name": "壬", "id_number": id_taken})
    assert created.status_code == 201
    result = officer.post(f"{base}/commit").json()["report"]
    assert result["created_count"] == 1 and result["duplicate_rows"] == 1
    assert result["rows"][0]["duplicate_of"] == {"customer_id": created.json()["id"]}
    assert Customer.objects.filter(name="癸").count() == 1


def test_commit_refuses_rows_whose_owner_left(client_for: Any, demo: Any) -> None:
    admin = client_for("admin")
    rows = [["丑", new_id_number(), "", "officer2", "", "", "", ""]]
    imp = _upload(admin, _sheet(rows)).json()
    base = f"customers/imports/{imp['id']}"
    assert admin.post(f"{base}/dry-run", {"mapping": MAPPING}).json()["create_rows"] == 1
    officer2 = demo["users"]["officer2"]
    officer2.is_active = False
    officer2.save(update_fields=["is_active"])
    failed = admin.post(f"{base}/commit")
    assert failed.status_code == 202
    assert failed.json()["status"] == "failed"
    assert failed.json()["failure"]["code"] == "customers.import_has_errors"
    assert "1 行数据不合格" in failed.json()["failure"]["message"]
    assert failed.json()["report"]["error_rows"] == 1
    assert not Customer.objects.filter(name="丑").exists()
