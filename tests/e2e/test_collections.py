"""催收: the collector works today's cases on the phone (call, log, promise to pay), and a
manager sees the open cases by bucket."""

import re
import sqlite3
from contextlib import closing
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_approval_journey import _server_db
from tests.e2e.test_shell import login, logout

API = "/api/v1/postloan/collections"


def _ensure_open_case(page: Page, server: str) -> None:
    """The demo portfolio leaves overdue loans with cases for the collector. Should it not,
    make one loan overdue in the server's database and let an admin open its case (the M1
    team hands it to the demo collector)."""
    res = page.request.get(f"{API}/cases", params={"view": "today", "page_size": 100})
    if any(c["status"] == "open" for c in res.json()["items"]):
        return
    with closing(sqlite3.connect(_server_db(server), timeout=30)) as db, db:
        loan_id, due = db.execute(
            "SELECT l.id, MIN(i.due_date) FROM lending_loan l JOIN lending_installment i"
            " ON i.loan_id = l.id WHERE l.status = 'active' AND i.status <> 'paid'"
            " GROUP BY l.id ORDER BY l.id LIMIT 1"
        ).fetchone()
        db.execute(
            "UPDATE lending_loan SET status = 'overdue', days_past_due = 5, bucket = 'M1',"
            " overdue_since = ? WHERE id = ?",
            (due, loan_id),
        )
    logout(page)
    login(page, "admin")
    opened = page.request.post(
        f"{API}/cases",
        data={"loan_id": loan_id},
        headers={"X-CSRFToken": _csrf(page)},
    )
    assert opened.status in (200, 201), opened.text()
    logout(page)
    login(page, "collector")


def _csrf(page: Page) -> str:
    page.request.get("/api/v1/auth/csrf")
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


# Headless Chromium has no dialer: a tel: navigation would leave the page waiting on an external
# protocol prompt. Record tel: link clicks instead (what a phone hands to its dialer).
RECORD_TEL = """
document.addEventListener('click', (e) => {
  const a = e.target instanceof Element ? e.target.closest('a[href^="tel:"]') : null
  if (a) { e.preventDefault(); window.__dialed = a.getAttribute('href') }
}, true)
"""


def test_collector_calls_logs_and_records_a_promise(page: Page, server: str) -> None:
    page.add_init_script(RECORD_TEL)
    login(page, "collector")
    _ensure_open_case(page, server)
    page.get_by_test_id("home-entry-collections").click()
    expect(page).to_have_url(re.compile(r"/collections$"))
    cards = page.locator('[data-testid^="case-card-"][role="button"]')
    expect(cards.first).to_be_visible()
    expect(page.get_by_test_id("workbench-head")).to_contain_text("今日案件")
    expect(cards.first.get_by_test_id("case-card-bucket")).to_contain_text(
        re.compile(r"M\S* · 逾期 \d+ 天")
    )
    expect(cards.first.get_by_test_id("case-card-owed")).to_contain_text("¥")
    page.wait_for_timeout(300)
    shot(page, "collections-workbench")

    # Open a case that has no pending promise yet.
    items = page.request.get(f"{API}/cases", params={"view": "today", "page_size": 100}).json()
    target = next(c for c in items["items"] if c["status"] == "open")
    card = page.get_by_test_id(f"case-card-{target['id']}")
    card.scroll_into_view_if_needed()
    card.click()
    expect(page).to_have_url(re.compile(rf"/collections/cases/{target['id']}$"))
    expect(page.get_by_test_id("case-customer")).to_have_text(target["customer"]["name"])
    expect(page.get_by_test_id("case-status")).to_have_text("催收中")
    expect(page.get_by_test_id("case-owed")).to_contain_text("¥")
    expect(page.get_by_test_id("case-actions")).to_contain_text("开案")

    # One-tap call: the number comes from the audited reveal and becomes a tel: link.
    page.get_by_test_id("case-call").click()
    tel = page.get_by_test_id("case-tel")
    expect(tel).to_have_attribute("href", re.compile(r"^tel:\+?\d{6,}$"))
    assert page.evaluate("window.__dialed") == tel.get_attribute("href")  # one tap dialled
    shot(page, "collections-case")

    # 记录催收: a call nobody answered.
    page.get_by_test_id("case-log-action").click()
    sheet = page.get_by_test_id("action-sheet")
    expect(sheet).to_be_visible()
    page.wait_for_timeout(400)  # let the sheet finish sliding in
    sheet.get_by_test_id("action-save").click()
    expect(sheet).to_contain_text("请选择结果")  # the result is required
    sheet.get_by_test_id("action-kind-call").click()
    sheet.get_by_test_id("action-result-no_answer").click()
    sheet.get_by_test_id("action-note").locator("textarea").fill("上午拨打两次,无人接听")
    page.wait_for_timeout(300)
    shot(page, "collections-log-action")
    sheet.get_by_test_id("action-save").click()
    expect(sheet).to_be_hidden()
    log = page.get_by_test_id("case-actions")
    expect(log).to_contain_text("电话 · 无人接听")
    expect(log).to_contain_text("上午拨打两次,无人接听")

    # 承诺还款: a bad amount is refused on the phone, then a real promise is saved.
    page.get_by_test_id("case-promise").click()
    promise = page.get_by_test_id("promise-sheet")
    expect(promise).to_be_visible()
    page.wait_for_timeout(400)
    business = date.fromisoformat(page.get_by_test_id("promise-date").input_value()) - timedelta(
        days=3
    )
    amount = promise.get_by_test_id("promise-amount").locator("input")
    amount.fill("12.345")
    promise.get_by_test_id("promise-save").click()
    expect(promise).to_contain_text("最多两位小数")
    on = business + timedelta(days=5)
    page.get_by_test_id("promise-date").fill(on.isoformat())
    amount.fill("500")
    promise.get_by_test_id("promise-note").locator("input").fill("客户说发工资后还")
    page.wait_for_timeout(300)
    shot(page, "collections-promise")
    promise.get_by_test_id("promise-save").click()
    expect(promise).to_be_hidden()
    expect(page.get_by_test_id("case-status")).to_have_text("已承诺")
    promises = page.get_by_test_id("case-promises")
    expect(promises).to_contain_text(f"{on.isoformat()} 还 ¥500.00")
    expect(promises).to_contain_text("待兑现")
    expect(log).to_contain_text(f"承诺 {on.isoformat()} 前还款 500.00 元")
    expect(page.locator(".van-toast")).to_be_hidden()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(300)
    shot(page, "collections-case-promised")

    # Back on the workbench the case shows its promise.
    page.goto("/collections")
    expect(page.get_by_test_id(f"case-card-{target['id']}")).to_contain_text(
        f"承诺 {on.isoformat()}"
    )


def test_manager_sees_cases_by_bucket(page: Page) -> None:
    login(page, "manager")
    page.get_by_test_id("tab-me").click()
    page.get_by_test_id("me-admin-collections").click()
    expect(page).to_have_url(re.compile(r"/manage/collections"))
    expect(page.get_by_test_id("kpi-cases")).to_have_text(re.compile(r"^[1-9]\d*$"))
    buckets = page.get_by_test_id("by-bucket")
    expect(buckets.locator(".van-cell").first).to_be_visible()
    expect(buckets).to_contain_text(re.compile(r"\d+ 件"))
    expect(page.get_by_test_id("by-collector")).to_be_visible()
    shot(page, "collections-manager")

    # Drill into a bucket: the case list shows that bucket's cases.
    first = buckets.locator(".van-cell").first
    code = first.locator(".van-cell__title span").first.inner_text().strip()
    first.click()
    cases = page.get_by_test_id("manage-cases")
    expect(cases.locator('[data-testid^="manage-case-"]').first).to_be_visible()
    expect(cases.locator('[data-testid^="manage-case-"]').first).to_contain_text(code)
    shot(page, "collections-manager-cases")

    page.get_by_role("tab", name="团队").click()
    expect(page.get_by_text("M1 催收组")).to_be_visible()
    shot(page, "collections-manager-teams")
