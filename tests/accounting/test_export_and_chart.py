"""Voucher export (Kingdee / Yonyou layouts), the journal API, and the chart of accounts and
posting map administration."""

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from loandesk.accounting.export import KINGDEE_COLUMNS, YONYOU_COLUMNS
from loandesk.accounting.models import Account, JournalEntry
from loandesk.core.models import OutboxEvent
from tests.accounting.conftest import dispatch, make_loan, publish


@pytest.fixture
def period(lending: dict[str, Any]) -> str:
    loan = make_loan(lending)
    JournalEntry.objects.all().delete()
    OutboxEvent.objects.all().delete()
    base = {"loan_id": loan.pk, "customer_id": loan.customer_id, "value_date": "2026-03-05"}
    publish(
        "loan.disbursed",
        {
            **base,
            "contract_no": loan.contract_no,
            "principal_fen": 1_000_000,
            "net_amount_fen": 990_000,
        },
    )
    # A hostile contract number must stay text in the spreadsheet.
    publish(
        "loan.repayment_posted",
        {
            **base,
            "contract_no": '=HYPERLINK("http://evil","x")',
            "amount_fen": 12_345,
            "principal_fen": 10_000,
            "interest_fen": 2_345,
        },
    )
    publish("loan.disbursed", {**base, "value_date": "2026-04-01", "principal_fen": 5_000})
    dispatch()
    return "2026-03"


def _sheet(response: Any) -> list[tuple[Any, ...]]:
    content = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(content)).active
    return list(ws.iter_rows(values_only=True))


def test_kingdee_layout(period: str, client_for: Any) -> None:
    finance = client_for("finance")
    r = finance.get(f"accounting/vouchers/export?period={period}&layout=kingdee")
    assert r.status_code == 200, r.content
    assert "vouchers-kingdee-2026-03.xlsx" in r["Content-Disposition"]
    rows = _sheet(r)
    assert list(rows[0]) == KINGDEE_COLUMNS
    body = [dict(zip(KINGDEE_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert len(body) == 3 + 3  # the April entry is another period
    assert {b["凭证号"] for b in body} == {1, 2}
    assert sum(b["借方金额"] for b in body) == sum(b["贷方金额"] for b in body) == 10123.45
    first = body[0]
    assert first["凭证日期"] == "2026-03-05" and first["会计期间"] == 3 and first["凭证字"] == "记"
    assert first["科目代码"] == "130301" and first["借贷方向"] == 1 and first["分录号"] == 0
    assert first["核算项目类别"] == "客户"
    hostile = [b for b in body if b["凭证号"] == 2]
    assert all(str(b["业务编号"]).startswith("'=") for b in hostile)
    assert all(
        str(b["摘要"]).startswith("收到还款 '=") or "=" not in str(b["摘要"])[:1] for b in hostile
    )


def test_yonyou_layout(period: str, client_for: Any) -> None:
    finance = client_for("finance")
    rows = _sheet(finance.get(f"accounting/vouchers/export?period={period}&layout=yonyou"))
    assert list(rows[0]) == YONYOU_COLUMNS
    body = [dict(zip(YONYOU_COLUMNS, row, strict=True)) for row in rows[1:]]
    for number in (1, 2):
        lines = [b for b in body if b["凭证号"] == number]
        assert sum(b["借方金额"] for b in lines) == sum(b["贷方金额"] for b in lines) > 0
    assert {b["科目编码"] for b in body} >= {"1002", "130301", "6011", "6021"}
    assert all(not str(v).startswith("=") for row in rows for v in row if v is not None)


def test_export_and_journal_refuse_bad_input_and_outsiders(period: str, client_for: Any) -> None:
    finance = client_for("finance")
    assert (
        finance.get("accounting/vouchers/export?period=2026-13&layout=kingdee").status_code == 422
    )
    assert finance.get("accounting/vouchers/export?period=2026-03&layout=sap").status_code == 422
    assert finance.get("accounting/vouchers/export?layout=kingdee").status_code == 422
    officer = client_for("officer1")
    assert (
        officer.get("accounting/vouchers/export?period=2026-03&layout=kingdee").status_code == 403
    )
    assert officer.get("accounting/journal?period=2026-03").status_code == 403
    page = finance.get("accounting/journal?period=2026-03").json()
    assert page["count"] == 2
    assert all(item["balanced"] for item in page["items"])
    assert page["items"][0]["lines"][0]["account_code"] == "130301"
    summary = finance.get("accounting/journal/summary?period=2026-03").json()
    assert summary == {
        "period": "2026-03",
        "entries": 2,
        "total_debit": "10123.45",
        "total_credit": "10123.45",
        "balanced": True,
    }
    entry_id = page["items"][0]["id"]
    assert finance.get(f"accounting/journal/{entry_id}").status_code == 200
    assert finance.get("accounting/journal/999999").status_code == 404


def test_chart_and_posting_map_admin(lending: dict[str, Any], client_for: Any) -> None:
    finance = client_for("finance")  # the demo finance role maintains the chart
    accounts = finance.get("accounting/accounts").json()
    codes = {a["code"] for a in accounts}
    assert {
        "1001",
        "1002",
        "130301",
        "1132",
        "6011",
        "6021",
        "605101",
        "224101",
        "1304",
        "6701",
    } <= codes
    r = finance.post(
        "accounting/accounts",
        {"code": "100201", "name": "银行存款—放款户", "type": "asset", "parent_code": "1002"},
    )
    assert r.status_code == 201, r.content
    assert (
        finance.post(
            "accounting/accounts", {"code": "100201", "name": "重复", "type": "asset"}
        ).status_code
        == 409
    )
    bad = [
        {"code": "12", "name": "短", "type": "asset"},
        {"code": "100299", "name": "", "type": "asset"},
        {"code": "100298", "name": "x", "type": "planet"},
        {"code": "600101", "name": "x", "type": "asset", "parent_code": "1002"},
        {"code": "100297", "name": "x", "type": "income", "parent_code": "1002"},
    ]
    for body in bad:
        assert finance.post("accounting/accounts", body).status_code == 422, body
    rules = finance.get("accounting/posting-rules").json()
    assert {r["component"] for r in rules} >= {"repayment.interest", "write_off.principal"}
    r = finance.put(
        "accounting/posting-rules/write_off.principal",
        {"debit_code": "6701", "credit_code": "130301"},
    )
    assert r.status_code == 200, r.content
    changed = {x["component"]: x for x in r.json()}["write_off.principal"]
    assert changed["debit"]["code"] == "6701"
    assert (
        finance.put(
            "accounting/posting-rules/write_off.principal",
            {"debit_code": "6701", "credit_code": "6701"},
        ).status_code
        == 422
    )
    assert (
        finance.put(
            "accounting/posting-rules/nope", {"debit_code": "6701", "credit_code": "1002"}
        ).status_code
        == 404
    )
    assert (
        finance.put(
            "accounting/posting-rules/write_off.principal",
            {"debit_code": "9999", "credit_code": "1002"},
        ).status_code
        == 422
    )
    # An account the map uses cannot be switched off; another one can.
    used = Account.objects.get(code="6701")
    assert finance.patch(f"accounting/accounts/{used.pk}", {"active": False}).status_code == 409
    spare = Account.objects.get(code="1001")
    r = finance.patch(f"accounting/accounts/{spare.pk}", {"active": False, "name_en": "Cash"})
    assert r.status_code == 200 and r.json()["active"] is False
    assert (
        finance.put(
            "accounting/posting-rules/repayment.principal",
            {"debit_code": "1001", "credit_code": "130301"},
        ).status_code
        == 422
    )  # inactive account
    officer = client_for("officer1")
    assert officer.get("accounting/accounts").status_code == 403
    assert (
        officer.post(
            "accounting/accounts", {"code": "100202", "name": "x", "type": "asset"}
        ).status_code
        == 403
    )
