"""Excel export: the caller's list (same filters and scope), PII masked unless view_pii, formula
injection neutralised, audited."""

import io
from typing import Any

from openpyxl import load_workbook

from loandesk.core.models import AuditEntry
from loandesk.customers.export import neutralise
from loandesk.customers.models import Customer
from tests.customers.conftest import create


def _sheet(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(row) for row in wb.worksheets[0].iter_rows(values_only=True)]


def test_export_neutralises_formulas(client_for: Any) -> None:
    officer = client_for("officer1")
    evil = "=cmd|' /C calc'!A0"
    body = create(
        officer,
        name="+SUM(1,2)",
        remark=evil,
        address='@HYPERLINK("http://x")',
        employer="-2+3",
    )
    rows = _sheet(client_for("manager").get("customers/export", {"q": "sum"}))
    header = rows[0]
    assert header[:5] == ["ID", "客户类型", "姓名/名称", "身份证号", "手机号"]
    row = next(r for r in rows[1:] if r[0] == body["id"])
    cells = dict(zip(header, row, strict=True))
    assert cells["姓名/名称"] == "'+SUM(1,2)"
    assert cells["备注"] == "'" + evil
    assert cells["详细地址"] == '\'@HYPERLINK("http://x")'
    assert cells["工作单位"] == "'-2+3"
    for value in row:
        assert not (isinstance(value, str) and value[:1] in "=+-@\t\r")


def test_neutralise() -> None:
    for value in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert neutralise(value) == "'" + value
    assert neutralise("张伟") == "张伟"
    assert neutralise(-5) == -5  # numbers stay numbers
    assert neutralise("a\x00b") == "ab"


def test_masked_without_view_pii_and_audited(client_for: Any, demo: Any) -> None:
    officer = client_for("officer1")
    body = create(officer)
    plain = Customer.objects.get(pk=body["id"])
    gm_rows = _sheet(client_for("gm").get("customers/export"))
    gm_row = next(r for r in gm_rows if r[0] == body["id"])
    assert gm_row[3] == body["id_number"] and "*" in gm_row[4]
    assert AuditEntry.objects.get(action="customers.export").extra["unmasked"] is False
    manager_rows = _sheet(client_for("manager").get("customers/export"))
    manager_row = next(r for r in manager_rows if r[0] == body["id"])
    assert (manager_row[3], manager_row[4]) == (plain.id_number, plain.phone)
    entry = AuditEntry.objects.get(action="pii.export")
    assert entry.actor == demo["users"]["manager"] and entry.extra["count"] == len(manager_rows) - 1


def test_export_follows_scope_and_filters(client_for: Any, demo: Any) -> None:
    manager = client_for("manager")
    rows = _sheet(manager.get("customers/export"))
    exported = {r[0] for r in rows[1:]}
    beijing = Customer.objects.filter(
        department__path__startswith=demo["departments"]["北京分公司"].path, status="active"
    )
    assert exported == set(beijing.values_list("pk", flat=True))
    only_a = _sheet(manager.get("customers/export", {"credit_level": "A"}))
    assert {r[0] for r in only_a[1:]} == set(
        beijing.filter(credit_level="A").values_list("pk", flat=True)
    )
    english = client_for("gm")
    english.language = "en-US"
    header = _sheet(english.get("customers/export"))[0]
    assert header[:3] == ["ID", "Type", "Name"]
