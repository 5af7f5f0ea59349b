"""The holiday calendar admin page: an admin enters next year's holidays, then removes them."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login


def pick_day(page: Page, day: int) -> None:
    """Tap a day of the month the add sheet's calendar is showing."""
    page.get_by_test_id("holiday-calendar").get_by_role("gridcell").filter(
        has_text=re.compile(rf"^{day}(\D|$)")
    ).first.click()


def test_admin_enters_and_deletes_a_holiday_year(page: Page) -> None:
    login(page, "admin")
    page.get_by_test_id("tab-me").click()
    page.get_by_test_id("me-admin-holidays").click()
    expect(page).to_have_url(re.compile(r"/manage/holidays$"))
    expect(page.get_by_test_id("holiday-year-2026")).to_contain_text("内置")
    expect(page.get_by_test_id("holiday-year-2027")).to_have_count(0)
    shot(page, "holidays")

    # 录入新年份: proposes the year after the newest one.
    page.get_by_test_id("holiday-new-year").click()
    expect(page.get_by_test_id("holiday-new-year-input")).to_have_value("2027")
    page.wait_for_timeout(400)  # let the dialog finish fading in
    shot(page, "holidays-new-year")
    page.locator(".van-dialog__confirm").click()
    expect(page).to_have_url(re.compile(r"/manage/holidays/2027$"))
    expect(page.get_by_test_id("holiday-source")).to_have_text("未保存")

    # 元旦: one day.
    page.get_by_test_id("holiday-add-holiday").click()
    pick_day(page, 1)
    expect(page.get_by_test_id("holiday-date")).to_have_value("2027-01-01 周五")
    page.get_by_test_id("holiday-name").fill("元旦")
    shot(page, "holidays-add-day")
    page.get_by_test_id("holiday-sheet-add").click()
    expect(page.get_by_test_id("holiday-sheet")).to_be_hidden()
    expect(page.get_by_test_id("holiday-day-holidays-2027-01-01")).to_contain_text("元旦")

    # 春节: a range, every day added with the same name.
    page.get_by_test_id("holiday-add-holiday").click()
    page.get_by_test_id("holiday-mode-range").click()
    page.get_by_test_id("holiday-calendar-next").click()
    pick_day(page, 6)
    pick_day(page, 12)
    expect(page.get_by_test_id("holiday-date")).to_have_value("2027-02-06 至 2027-02-12，共 7 天")
    page.get_by_test_id("holiday-name").fill("春节")
    shot(page, "holidays-add-range")
    page.get_by_test_id("holiday-sheet-add").click()
    expect(page.get_by_test_id("holiday-sheet")).to_be_hidden()
    expect(page.get_by_test_id("holiday-count-holidays")).to_have_text("8 天")

    # One make-up workday (the sheet opens on February, next to the holidays).
    page.get_by_test_id("holiday-add-workday").click()
    pick_day(page, 20)
    page.get_by_test_id("holiday-sheet").get_by_text("春节调休").click()
    page.get_by_test_id("holiday-sheet-add").click()
    expect(page.get_by_test_id("holiday-sheet")).to_be_hidden()
    expect(page.get_by_test_id("holiday-day-workdays-2027-02-20")).to_contain_text("春节调休")
    expect(page.get_by_test_id("holiday-day-workdays-2027-02-20")).to_contain_text("周六")
    page.wait_for_timeout(300)  # let the sheet's overlay fade out
    shot(page, "holidays-edit")
    page.get_by_test_id("holiday-save").click()

    expect(page).to_have_url(re.compile(r"/manage/holidays$"))
    row = page.get_by_test_id("holiday-year-2027")
    expect(row).to_contain_text("节假日 8 天 · 调休上班 1 天")
    expect(row).to_contain_text("管理员录入")
    shot(page, "holidays-saved")

    # The saved year reloads from the server with the same days.
    row.click()
    expect(page).to_have_url(re.compile(r"/manage/holidays/2027$"))
    page.reload()
    expect(page.get_by_test_id("holiday-source")).to_have_text("管理员录入")
    expect(
        page.get_by_test_id("holiday-list-holidays").locator("[data-testid^=holiday-day-]")
    ).to_have_count(8)
    expect(
        page.get_by_test_id("holiday-list-workdays").locator("[data-testid^=holiday-day-]")
    ).to_have_count(1)
    expect(page.get_by_test_id("holiday-day-holidays-2027-02-09")).to_contain_text("春节")

    # Delete the year: it is gone from the list.
    page.get_by_test_id("holiday-delete").click()
    expect(page.locator(".van-dialog")).to_contain_text("删除 2027 年的节假日数据")
    page.locator(".van-dialog__confirm").click()
    expect(page).to_have_url(re.compile(r"/manage/holidays$"))
    expect(page.get_by_test_id("holiday-year-2026")).to_be_visible()
    expect(page.get_by_test_id("holiday-year-2027")).to_have_count(0)
