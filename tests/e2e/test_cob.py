"""日终批处理: an admin runs close of business from the phone and sees it finish."""

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login


def test_admin_runs_close_of_business(page: Page) -> None:
    login(page, "admin")
    page.get_by_test_id("tab-me").click()
    page.get_by_test_id("me-admin-cob").click()
    expect(page).to_have_url(re.compile(r"/manage/cob$"))
    business = page.get_by_test_id("cob-business-date")
    expect(business).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    before = date.fromisoformat(re.findall(r"\d{4}-\d{2}-\d{2}", business.inner_text())[0])
    expect(page.get_by_test_id("cob-bucket-4").locator("input")).to_have_value("M3+")
    expect(page.get_by_test_id("cob-threshold-loss").locator("input")).to_have_value("361")
    shot(page, "cob")

    page.get_by_test_id("cob-run-now").click()
    expect(page.locator(".van-dialog")).to_contain_text(f"对 {before.isoformat()} 执行日终批处理")
    page.wait_for_timeout(400)  # let the dialog finish fading in
    shot(page, "cob-confirm")
    page.locator(".van-dialog__confirm").click()

    # The task worker runs it; the page polls until every step is done.
    run = page.get_by_test_id(f"cob-run-status-{before.isoformat()}")
    expect(run).to_have_text("已完成", timeout=30_000)
    for step in ("installments", "loans", "penalty", "reminders", "snapshot"):
        expect(page.get_by_test_id(f"cob-step-{before.isoformat()}-{step}")).to_contain_text(
            "已完成"
        )
    after = before + timedelta(days=1)
    expect(business).to_contain_text(after.isoformat())
    expect(page.get_by_test_id("cob-run-now")).to_be_disabled()  # caught up with today
    shot(page, "cob-done")
