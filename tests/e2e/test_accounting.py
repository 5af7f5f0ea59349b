"""财务: finance imports a bank statement on the phone, reads the dry-run report, posts it and
finds the repayment's voucher in the journal."""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login


def _open_loan(page: Page) -> dict[str, str]:
    response = page.request.get("/api/v1/lending/loans?status=active&page_size=5")
    assert response.ok, response.text()
    items = response.json()["items"]
    assert items, "the demo data holds a disbursed loan"
    return {"contract_no": items[0]["contract_no"], "customer": items[0]["customer"]["name"]}


def test_finance_imports_a_statement_and_sees_the_journal(page: Page, tmp_path: Path) -> None:
    login(page, "finance")
    loan = _open_loan(page)
    business_date = page.get_by_test_id("home-business-date").inner_text().strip()
    day = re.findall(r"\d{4}-\d{2}-\d{2}", business_date)[0]
    statement = tmp_path / "工行流水.csv"
    statement.write_bytes(
        (
            "账号:0200001234567890123,户名:演示小额贷款有限公司\r\n"
            "交易日期,流水号,借方发生额,贷方发生额,对方户名,对方账号,摘要\r\n"
            f"{day},E2E0001,,1000.00,{loan['customer']},6222999900001111,还款{loan['contract_no']}\r\n"
            f"{day},E2E0002,,88.00,路人甲,6222999988887777,转账\r\n"
            f"{day},E2E0003,500.00,,某供应商,6222000011112222,付款\r\n"
        ).encode("gbk")
    )

    page.get_by_test_id("home-entry-bank-import").click()
    expect(page).to_have_url(re.compile(r"/accounting/statements$"))
    shot(page, "accounting-statement-upload")
    page.locator('[data-testid="si-file"] input[type="file"]').set_input_files(str(statement))

    # Columns were recognised from the bank's own headings.
    expect(page.get_by_test_id("si-map-credit")).to_contain_text("贷方发生额")
    expect(page.get_by_test_id("si-map-memo")).to_contain_text("摘要")
    expect(page.get_by_test_id("si-map-serial")).to_contain_text("流水号")
    shot(page, "accounting-statement-mapping")
    page.get_by_test_id("si-dry-run").click()

    expect(page.get_by_test_id("si-count-matched")).to_contain_text("1")
    expect(page.get_by_test_id("si-line-3")).to_contain_text(loan["contract_no"])
    expect(page.get_by_test_id("si-line-3")).to_contain_text("按合同号")
    shot(page, "accounting-statement-report")
    page.locator(".van-tab", has_text="未匹配").click()
    expect(page.get_by_test_id("si-line-4")).to_contain_text("未匹配")
    shot(page, "accounting-statement-unmatched")

    page.get_by_test_id("si-post").click()
    expect(page.locator(".van-dialog")).to_contain_text("将 1 笔流水作为还款入账")
    page.wait_for_timeout(400)  # let the dialog finish fading in
    page.locator(".van-dialog__confirm").click()
    expect(page.get_by_test_id("si-count-posted")).to_contain_text("1")
    page.locator(".van-tab", has_text="已匹配").click()
    expect(page.get_by_test_id("si-line-3")).to_contain_text("已入账")
    shot(page, "accounting-statement-posted")

    # The voucher is booked from the repayment event by the task worker.
    page.get_by_test_id("si-to-journal").click()
    expect(page).to_have_url(re.compile(r"/accounting/journal$"))
    expect(page.get_by_test_id("jr-period")).to_have_text(day[:7])
    voucher = (
        page.locator(".van-collapse-item", has_text="收到还款")
        .filter(has_text=loan["contract_no"])
        .filter(has_text="¥1,000.00")
    )
    for _ in range(20):
        if voucher.count():
            break
        page.wait_for_timeout(500)
        page.get_by_test_id("jr-next").click()
        page.get_by_test_id("jr-prev").click()
    expect(voucher).to_have_count(1)
    expect(page.get_by_test_id("jr-balanced")).to_have_text("借贷平衡")
    voucher.locator(".van-collapse-item__title").click()
    expect(voucher).to_contain_text("1002 银行存款")
    expect(voucher).to_contain_text("¥1,000.00")
    page.wait_for_timeout(400)  # let the item finish expanding
    shot(page, "accounting-journal")


def test_finance_requests_a_write_off_and_sees_the_approval(page: Page) -> None:
    login(page, "finance")
    response = page.request.get("/api/v1/lending/loans?page_size=50")
    loans = [x for x in response.json()["items"] if x["status"] in ("active", "overdue")]
    loan = loans[-1]
    page.goto(f"/lending/loans/{loan['id']}/write-off")
    expect(page.get_by_test_id("wo-loan")).to_contain_text(loan["contract_no"])
    expect(page.get_by_test_id("wo-total")).to_contain_text("¥")
    page.get_by_test_id("wo-submit").click()
    expect(page.get_by_test_id("wo-reason")).to_contain_text("请填写核销原因")
    page.get_by_test_id("wo-reason").locator("textarea").fill("借款人失联,诉讼终结仍无法收回")
    shot(page, "accounting-write-off")
    page.get_by_test_id("wo-submit").click()
    expect(page.get_by_test_id("wo-node")).to_have_text("风控审核")
    expect(page.locator(".van-toast")).to_be_hidden()
    shot(page, "accounting-write-off-submitted")
    page.get_by_test_id("wo-approval-link").click()
    expect(page).to_have_url(re.compile(r"/approvals/\d+$"))
    expect(page.locator("body")).to_contain_text("风控审核")
