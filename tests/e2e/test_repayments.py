"""还款登记 / 红冲 on a phone: finance finds an overdue demo loan, posts what is owed today, sees
the allocation and the installment paid, then reverses the repayment with a reason."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login


def test_finance_posts_and_reverses_a_repayment(page: Page) -> None:
    login(page, "finance")
    # Pick an overdue demo loan the way finance would ask the list for one.
    overdue = page.request.get("/api/v1/lending/loans?status=overdue&page_size=50").json()
    loan = next(i for i in overdue["items"] if i["bucket"] in ("M1", "M2"))
    contract = loan["contract_no"]

    page.get_by_text("还款登记").first.click()
    expect(page).to_have_url(re.compile(r"/lending/repayments$"))
    search = page.get_by_test_id("repayments-search").locator("input")
    search.fill(contract)
    page.get_by_test_id("repayments-search-go").click()
    expect(page.get_by_test_id(f"repayments-loan-{loan['id']}")).to_be_visible()
    shot(page, "repayments-page")
    page.get_by_test_id(f"repayments-loan-{loan['id']}").click()
    expect(page).to_have_url(re.compile(rf"/loans/{loan['id']}"))

    amount = page.get_by_test_id("repay-amount").locator("input")
    expect(amount).not_to_have_value("")
    owed = amount.input_value()
    expect(page.get_by_test_id("repay-owed")).to_contain_text("今日应还")
    page.get_by_test_id("repay-channel-wechat").click()
    page.get_by_test_id("repay-reference").locator("input").fill("WX-E2E-0001")
    page.wait_for_timeout(300)
    shot(page, "repayment-form")
    page.get_by_test_id("repay-submit").click()

    result = page.get_by_test_id("repay-result")
    expect(result).to_contain_text("已入账")
    allocation = page.get_by_test_id("repay-allocation")
    expect(allocation).to_contain_text(re.compile(r"第 \d+ 期"))
    shot(page, "repayment-allocation")
    page.get_by_test_id("repay-close").click()

    expect(page.get_by_test_id("loan-status")).to_have_text("还款中")
    schedule = page.get_by_test_id("loan-schedule")
    expect(schedule.locator(".sched__status--overdue")).to_have_count(0)
    expect(schedule.locator(".sched__status--paid").first).to_have_text("已还清")
    items = page.get_by_test_id("repayment-list")
    first = items.locator("[data-testid^='repayment-']").filter(has_text="已入账").first
    expect(first).to_contain_text("微信")
    amount_text = f"{float(owed):,.2f}"
    expect(items).to_contain_text(amount_text)
    page.get_by_test_id("repayment-list").scroll_into_view_if_needed()
    shot(page, "repayment-paid")

    first.get_by_role("button", name="红冲").click()
    dialog = page.get_by_test_id("reverse-dialog")
    expect(dialog).to_be_visible()
    dialog.locator(".van-dialog__confirm").click()
    expect(dialog).to_contain_text("请填写红冲原因")
    dialog.locator("textarea").fill("客户转账被退回")
    page.wait_for_timeout(300)
    shot(page, "repayment-reverse")
    dialog.locator(".van-dialog__confirm").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("repayment-reason").first).to_contain_text("客户转账被退回")
    expect(page.get_by_test_id("loan-status")).to_have_text("逾期")
    expect(schedule.locator(".sched__status--overdue").first).to_be_visible()
    page.get_by_test_id("repayment-reason").first.scroll_into_view_if_needed()
    shot(page, "repayment-reversed")

    # The customer's 360 view lists the repayments too (还款 tab).
    page.get_by_test_id("loan-customer").click()
    page.get_by_test_id("customer-tabs").get_by_role("tab", name=re.compile("还款")).click()
    panel = page.get_by_test_id("customer-repayments")
    expect(panel).to_contain_text(contract)
    expect(panel).to_contain_text("已红冲")
    shot(page, "repayments-customer-tab")


def test_finance_pays_the_current_period_early(page: Page) -> None:
    """提前还当期: nothing is due today, the form offers this period's amount, and posting it
    marks that installment paid at once (it will never go overdue)."""
    login(page, "finance")
    active = page.request.get("/api/v1/lending/loans?status=active&page_size=50").json()
    loan, period = None, None
    for item in active["items"]:
        owed = page.request.get(f"/api/v1/postloan/loans/{item['id']}/owed-today").json()
        if owed["total"] == "0.00" and owed["current_period"]:
            loan, period = item, owed["current_period"]
            break
    assert loan is not None and period is not None, "the demo portfolio has a loan paid up to date"
    page.goto(f"/loans/{loan['id']}")
    page.get_by_test_id("loan-repay").click()  # the 还款 button on the loan page
    owed_line = page.get_by_test_id("repay-owed")
    expect(owed_line).to_contain_text("提前还当期")
    expect(owed_line).to_contain_text(period["due_date"])
    amount = page.get_by_test_id("repay-amount").locator("input")
    expect(amount).to_have_value(period["total"])
    page.get_by_test_id("repay-reference").locator("input").fill("BANK-EARLY-01")
    shot(page, "repayment-early-form")
    page.get_by_test_id("repay-submit").click()
    expect(page.get_by_test_id("repay-result")).to_contain_text("已入账")
    expect(page.get_by_test_id("repay-allocation")).to_contain_text(f"第 {period['seq']} 期")
    shot(page, "repayment-early-allocation")
    page.get_by_test_id("repay-close").click()
    after = page.request.get(f"/api/v1/postloan/loans/{loan['id']}/owed-today").json()
    assert after["current_period"] is None or after["current_period"]["seq"] > period["seq"]
    held = page.request.get(f"/api/v1/lending/loans/{loan['id']}/repayments").json()["credit"]
    assert held == "0.00"
