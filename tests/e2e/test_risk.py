"""Risk scorecards at 375×812: an admin opens 风险评分卡, fixes a refused band, changes a
rule's points, saves, and runs 试算 to see the score change."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login


def _preview(page: Page) -> None:
    page.get_by_test_id("preview-run").click()
    expect(page.get_by_test_id("risk-result")).to_be_visible()
    page.get_by_test_id("risk-result").scroll_into_view_if_needed()


def _toasts_gone(page: Page) -> None:
    expect(page.locator(".van-toast")).to_be_hidden()


def test_admin_edits_the_default_scorecard_and_previews(page: Page) -> None:
    login(page, "admin")
    page.goto("/me")
    page.get_by_test_id("me-admin-scorecards").click()
    expect(page).to_have_url(re.compile(r"/manage/scorecards$"))
    listing = page.get_by_test_id("scorecard-default")
    expect(listing).to_contain_text("默认个人贷款评分卡")
    expect(listing).to_contain_text("7 条规则")
    expect(listing).to_contain_text("第 1 版")
    shot(page, "risk-scorecards")

    listing.click()
    expect(page).to_have_url(re.compile(r"/manage/scorecards/default$"))
    expect(page.get_by_test_id("scorecard-name")).to_have_value("默认个人贷款评分卡")
    expect(page.get_by_test_id("rule-3-title")).to_have_text("规则 4 · 信用等级")
    shot(page, "risk-scorecard-edit")

    # 试算 with the defaults: 35 years, ¥100,000 over 12 months at 12 %, ¥15,000 a month, B.
    _preview(page)
    expect(page.get_by_test_id("risk-score")).to_have_text("650")
    expect(page.get_by_test_id("risk-grade")).to_have_text("B")
    expect(page.get_by_test_id("risk-decision")).to_have_text("建议通过")
    expect(page.get_by_test_id("risk-reason-debt_to_income")).to_contain_text("-60 分")
    expect(page.get_by_test_id("risk-reason-credit_level")).to_contain_text("+40 分")
    shot(page, "risk-preview-before")

    # A gap between two age bands is refused, pointed out on the band.
    page.get_by_test_id("rule-0").locator(".van-collapse-item__title").click()
    page.get_by_test_id("rule-0-band-2-min").fill("24")
    page.get_by_test_id("scorecard-save").click()
    band = page.get_by_test_id("rule-0-band-2")
    expect(band).to_contain_text("与第 2 档之间有空档(下限应为 23)")
    expect(page.get_by_test_id("rule-0")).to_have_class(re.compile(r"is-error"))
    band.scroll_into_view_if_needed()
    _toasts_gone(page)
    shot(page, "risk-scorecard-band-error")
    page.get_by_test_id("rule-0-band-2-min").fill("23")

    # Credit level B: 40 → 100 points.
    page.get_by_test_id("rule-3").locator(".van-collapse-item__title").click()
    points = page.get_by_test_id("rule-3-band-1-points")
    expect(points).to_have_value("40")
    points.fill("100")
    points.scroll_into_view_if_needed()
    _toasts_gone(page)
    shot(page, "risk-scorecard-rule")
    page.get_by_test_id("scorecard-save").click()
    expect(page.locator(".van-toast")).to_contain_text("已保存(第 2 版)")
    expect(page.get_by_test_id("rule-0")).not_to_have_class(re.compile(r"is-error"))

    _preview(page)
    expect(page.get_by_test_id("risk-score")).to_have_text("710")
    expect(page.get_by_test_id("risk-grade")).to_have_text("A")
    expect(page.get_by_test_id("risk-reason-credit_level")).to_contain_text("+100 分")
    expect(page.get_by_test_id("risk-result")).to_contain_text("第 2 版")
    _toasts_gone(page)
    shot(page, "risk-preview-after")

    # A blacklist hit is a hard reject whatever the score.
    page.get_by_test_id("preview-blacklisted").click()
    _preview(page)
    expect(page.get_by_test_id("risk-decision")).to_have_text("建议拒绝")
    expect(page.get_by_test_id("risk-reason-blacklist")).to_contain_text("-300 分")
    shot(page, "risk-preview-blacklist")

    # The list shows the new version.
    page.goto("/manage/scorecards")
    expect(page.get_by_test_id("scorecard-default")).to_contain_text("第 2 版")
