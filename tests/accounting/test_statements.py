"""Bank-statement import: auto-mapping, the dry-run report (matched / unmatched / ambiguous /
duplicate / skipped / invalid), posting through the repayment service exactly once, bad files
and permissions."""

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook

from loandesk.accounting import statements
from loandesk.accounting.models import JournalEntry, StatementLine
from loandesk.customers.models import BankCard, Customer
from loandesk.customers.profile import bank_card_index
from loandesk.lending.models import Loan, Repayment
from tests.accounting.conftest import dispatch, make_loan, set_date
from tests.customers.conftest import upload
from tests.factories import make_role, make_user

CARD_A = "6222020200112230001"
CARD_B = "6222020200112230019"


def card(customer: Customer, number: str) -> None:
    BankCard.objects.create(
        customer=customer, number=number, number_bidx=bank_card_index(number), bank_name="工商银行"
    )


@pytest.fixture
def book(lending: dict[str, Any]) -> dict[str, Any]:
    set_date(date(2026, 1, 10))
    c3 = Customer.objects.filter(owner__username="officer1", status="active").order_by("id")[1]
    made = {
        "l1": make_loan(lending, amount="10000", periods=6),
        "l2": make_loan(lending, customer="c2", amount="20000", periods=6),
        "l3": make_loan({**lending, "c3": c3}, customer="c3", amount="10000", periods=6),
        "l4": make_loan({**lending, "c3": c3}, customer="c3", amount="12000", periods=6),
    }
    card(lending["c2"], CARD_A)
    card(c3, CARD_B)
    set_date(date(2026, 2, 10))
    return {**lending, **made, "c3": c3}


def csv_file(book: dict[str, Any], *, encoding: str = "gbk") -> bytes:
    rows = [
        "账号:110000000000001,户名:演示小贷公司",
        "起止日期:2026-02-01 至 2026-02-10",
        "交易日期,流水号,借方发生额,贷方发生额(元),对方户名,对方账号,摘要",
        f'2026-02-10,SN0001,,"1,800.00",张三,6222999900001111,还款{book["l1"].contract_no}',
        f"2026-02-10,SN0002,,500.00,{book['c2'].name},{CARD_A},还款",
        f"2026/02/10,SN0003,,300.00,{book['c3'].name},{CARD_B},月供",
        "20260210,SN0004,,100.00,路人甲,6222999988887777,转账",
        f"2026-02-10,SN0001,,1800.00,张三,6222999900001111,还款{book['l1'].contract_no}",
        "2026-02-10,SN0006,2000.00,,某供应商,6222000011112222,付款",
        "2026-13-40,SN0007,,10.00,某人,6222000011113333,还款",
        "2026-02-10,SN0008,,abc,某人,6222000011113333,还款",
        '2026-02-10,SN0009,,50.00,某人,6222000011113333,=HYPERLINK("http://x")',
    ]
    return ("\r\n".join(rows) + "\r\n").encode(encoding)


def by_serial(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for line in report["lines"]:
        out.setdefault(line["serial"], line)
    return out


def test_auto_mapping_of_common_bank_headers() -> None:
    got = statements.suggest_mapping(
        [
            "交易日期",
            "交易时间",
            "借方发生额(元)",
            "贷方发生额(元)",
            "余额",
            "对方户名",
            "对方账号",
            "摘要",
            "附言",
            "交易流水号",
        ]
    )
    assert got == {
        "date": "交易日期",
        "debit": "借方发生额(元)",
        "credit": "贷方发生额(元)",
        "payer_name": "对方户名",
        "payer_account": "对方账号",
        "memo": "摘要",
        "serial": "交易流水号",
    }
    assert statements.suggest_mapping(["记账日期", "金额", "付款人名称", "付款人账号", "用途"]) == {
        "date": "记账日期",
        "amount": "金额",
        "payer_name": "付款人名称",
        "payer_account": "付款人账号",
        "memo": "用途",
    }


def test_dry_run_report_then_post_exactly_once(book: dict[str, Any], client_for: Any) -> None:
    finance = client_for("finance")
    r = upload(finance, "accounting/statements", "流水.csv", csv_file(book))
    assert r.status_code == 201, r.content
    st = r.json()
    assert st["header_row"] == 3 and st["row_count"] == 9
    mapping = st["suggested_mapping"]
    assert mapping["credit"] == "贷方发生额(元)" and mapping["serial"] == "流水号"
    assert "6222999900001111" not in str(st["samples"])  # account numbers masked

    r = finance.post(f"accounting/statements/{st['id']}/dry-run", {"mapping": mapping})
    assert r.status_code == 200, r.content
    report = r.json()
    lines = by_serial(report)
    assert lines["SN0001"]["status"] == "matched"
    assert lines["SN0001"]["matched_by"] == "contract_no"
    assert lines["SN0001"]["loan"]["id"] == book["l1"].pk
    assert lines["SN0001"]["amount"] == "1800.00"
    assert lines["SN0002"]["status"] == "matched"
    assert lines["SN0002"]["matched_by"] == "payer_account"
    assert lines["SN0002"]["loan"]["id"] == book["l2"].pk
    assert lines["SN0003"]["status"] == "ambiguous"
    assert {c["id"] for c in lines["SN0003"]["candidates"]} == {book["l3"].pk, book["l4"].pk}
    assert lines["SN0004"]["status"] == "unmatched"
    dup = [x for x in report["lines"] if x["serial"] == "SN0001"][1]
    assert dup["status"] == "duplicate" and dup["reason"] == "serial_repeated"
    assert lines["SN0006"]["status"] == "skipped"
    assert lines["SN0007"]["status"] == "invalid" and lines["SN0007"]["reason"] == "bad_date"
    assert lines["SN0008"]["status"] == "invalid" and lines["SN0008"]["reason"] == "bad_amount"
    assert report["counts"]["matched"] == 2 and report["counts"]["unmatched"] == 2
    assert report["counts"]["ambiguous"] == 1 and report["counts"]["duplicate"] == 1
    assert not Repayment.objects.exists()  # a dry run posts nothing

    # A resolution must pick one of the ambiguous row's candidates.
    r = finance.post(
        f"accounting/statements/{st['id']}/post",
        {"resolutions": [{"line_id": lines["SN0003"]["id"], "loan_id": book["l1"].pk}]},
    )
    assert r.status_code == 422
    r = finance.post(
        f"accounting/statements/{st['id']}/post",
        {"resolutions": [{"line_id": lines["SN0003"]["id"], "loan_id": book["l4"].pk}]},
    )
    assert r.status_code == 200, r.content
    posted = by_serial(r.json())
    assert [posted[s]["status"] for s in ("SN0001", "SN0002", "SN0003")] == ["posted"] * 3
    assert posted["SN0004"]["status"] == "unmatched"
    reps = Repayment.objects.order_by("id")
    assert [(x.loan_id, x.amount_fen, x.idempotency_key) for x in reps] == [
        (book["l1"].pk, 180_000, "stmt:SN0001"),
        (book["l2"].pk, 50_000, "stmt:SN0002"),
        (book["l4"].pk, 30_000, "stmt:SN0003"),
    ]
    assert {x.source for x in reps} == {"bank_statement"}
    dispatch()
    assert JournalEntry.objects.filter(source_topic="loan.repayment_posted").count() == 3

    # Posting again posts nothing; importing the same file again finds the duplicates.
    again = finance.post(f"accounting/statements/{st['id']}/post", {"resolutions": []})
    assert again.status_code == 200 and Repayment.objects.count() == 3
    r = upload(finance, "accounting/statements", "流水.csv", csv_file(book, encoding="utf-8"))
    second = r.json()
    report2 = finance.post(
        f"accounting/statements/{second['id']}/dry-run", {"mapping": mapping}
    ).json()
    lines2 = by_serial(report2)
    for serial in ("SN0001", "SN0002", "SN0003"):
        assert lines2[serial]["status"] == "duplicate"
        assert lines2[serial]["reason"] == "serial_imported"
    finance.post(f"accounting/statements/{second['id']}/post", {"resolutions": []})
    assert Repayment.objects.count() == 3


def test_two_statements_checked_before_either_posts_still_post_once(
    book: dict[str, Any], client_for: Any
) -> None:
    finance = client_for("finance")
    ids = []
    for _ in range(2):
        st = upload(finance, "accounting/statements", "a.csv", csv_file(book)).json()
        finance.post(
            f"accounting/statements/{st['id']}/dry-run", {"mapping": st["suggested_mapping"]}
        )
        ids.append(st["id"])
    for statement_id in ids:
        r = finance.post(f"accounting/statements/{statement_id}/post", {"resolutions": []})
        assert r.status_code == 200
    assert Repayment.objects.count() == 2  # SN0001 and SN0002, once each (idempotency key)
    second = by_serial(finance.get(f"accounting/statements/{ids[1]}").json())
    assert second["SN0001"]["status"] == "posted" and second["SN0001"]["reason"] == "replayed"


def test_excel_statement_with_a_signed_amount_column(book: dict[str, Any]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["记账日期", "金额", "付款人名称", "付款人账号", "用途"])
    ws.append([date(2026, 2, 10), 1800.5, "张三", "6222999900001111", f"{book['l1'].contract_no}"])
    ws.append([date(2026, 2, 10), -300, "某供应商", "6222999900001112", "付款"])
    buf = io.BytesIO()
    wb.save(buf)
    finance = book["users"]["finance"]
    st = statements.upload_statement(
        actor=finance, fh=io.BytesIO(buf.getvalue()), original_name="x"
    )
    assert st.file_kind == "xlsx"
    report = statements.dry_run(actor=finance, statement_id=st.pk, mapping=st.suggested_mapping)
    first, second = report["lines"]
    assert first["status"] == "matched" and first["amount"] == "1800.50"
    assert first["value_date"] == date(2026, 2, 10)
    assert second["status"] == "skipped"
    # Without a serial the key is a keyed hash of the row: the same row, the same key.
    keys = list(StatementLine.objects.values_list("idempotency_key", flat=True))
    assert all(k.startswith("stmt:") and len(k) == 45 for k in keys)


def test_bad_files_are_refused(book: dict[str, Any], client_for: Any) -> None:
    finance = client_for("finance")
    cases = [
        (b"%PDF-1.7 not a statement", "file_invalid"),
        (b"", "file_empty"),
        (b"\x00\x01\x02\x03binary" * 10, "file_invalid"),
        (b"PK\x03\x04garbage-zip", "file_invalid"),
        ("姓名,电话\r\n张三,13800000000\r\n".encode(), "no_header"),
        ("交易日期,金额\r\n".encode(), "file_empty"),
        (b"a" * (statements.MAX_BYTES + 1), "file_too_large"),
    ]
    for content, code in cases:
        r = upload(finance, "accounting/statements", "x.xlsx", content)
        assert r.status_code == 422, (code, r.content)
        assert code in str(r.json()) or r.json()["details"]["fields"]["file"], code
    r = finance.client.post("/api/v1/accounting/statements", {}, **finance._headers("post"))
    assert r.status_code == 422
    from loandesk.accounting.models import BankStatement

    assert not BankStatement.objects.exists()


def test_bad_mappings_and_unknown_ids(book: dict[str, Any], client_for: Any) -> None:
    finance = client_for("finance")
    st = upload(finance, "accounting/statements", "a.csv", csv_file(book)).json()
    url = f"accounting/statements/{st['id']}/dry-run"
    assert (
        finance.post(url, {"mapping": {"date": "没有这列", "credit": "流水号"}}).status_code == 422
    )
    assert finance.post(url, {"mapping": {"memo": "摘要"}}).status_code == 422
    assert finance.post(url, {"mapping": {"colour": "摘要"}}).status_code == 422
    assert finance.post(url, {"mapping": "x"}).status_code == 422
    r = finance.post(f"accounting/statements/{st['id']}/post", {"resolutions": []})
    assert r.status_code == 409  # not checked yet
    assert finance.get("accounting/statements/999999").status_code == 404
    r = finance.post(f"accounting/statements/{st['id']}/post", {"resolutions": [{"line_id": "a"}]})
    assert r.status_code == 422


def test_permissions_and_scope(book: dict[str, Any], client_for: Any) -> None:
    officer = client_for("officer1")
    assert upload(officer, "accounting/statements", "a.csv", csv_file(book)).status_code == 403
    # An importer whose data scope is "self" matches only their own loans.
    role = make_role(
        data_scope="self",
        permissions=["accounting.import_statements", "lending.view_loans", "customers.view"],
    )
    clerk = make_user(roles=[role])
    st = statements.upload_statement(
        actor=clerk, fh=io.BytesIO(csv_file(book)), original_name="a.csv"
    )
    report = statements.dry_run(actor=clerk, statement_id=st.pk, mapping=st.suggested_mapping)
    lines = by_serial(report)
    assert lines["SN0001"]["status"] == lines["SN0002"]["status"] == "unmatched"
    assert Loan.objects.count() == 4
