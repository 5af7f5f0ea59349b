"""规则引擎: an admin builds a rule on the phone (trigger, a condition by picking a field, an
action), tests it against a customer and sees the dry run, then enables it."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login


def test_admin_builds_tests_and_enables_a_rule(page: Page) -> None:
    login(page, "admin")
    page.get_by_test_id("tab-me").click()
    page.get_by_test_id("me-admin-rules").click()
    expect(page).to_have_url(re.compile(r"/manage/rules$"))
    # the shipped rules are there, enabled
    expect(page.get_by_text("还款提醒(到期前 3 天)")).to_be_visible()
    expect(page.get_by_text("逾期首日处置")).to_be_visible()
    shot(page, "rules-list")

    page.get_by_test_id("rules-new").click()
    expect(page).to_have_url(re.compile(r"/manage/rules/new$"))
    page.get_by_test_id("rule-name").fill("拉黑客户提醒")
    page.get_by_test_id("rule-record-type").select_option("customer")
    # trigger: the credit level changes to 黑名单
    page.get_by_test_id("rule-event-kind").select_option("field_changed")
    page.get_by_test_id("rule-event-field").select_option("credit_level")
    page.get_by_test_id("rule-event-to").select_option("blacklist")
    expect(page.get_by_test_id("rule-trigger-summary")).to_contain_text("信用等级 → 黑名单")
    # condition: pick a field from the list
    page.get_by_test_id("rule-cond-add-group").click()
    page.get_by_test_id("rule-cond-0-0-field").select_option("status")
    page.get_by_test_id("rule-cond-0-0-value").select_option("active")
    expect(page.get_by_test_id("rule-cond-json")).to_contain_text('"var":"status"')
    # action: set the remark of the customer
    page.get_by_test_id("rule-add-action").click()
    page.get_by_test_id("rule-action-0-name").select_option("update_fields")
    page.get_by_test_id("rule-action-0-add-field").click()
    page.get_by_test_id("rule-action-0-field-0").select_option("remark")
    page.get_by_test_id("rule-action-0-value-0").fill("已拉黑,停止营销")
    shot(page, "rules-designer")

    # test against a customer before enabling
    page.get_by_test_id("rule-test-search").click()
    first = page.locator("[data-testid^='rule-test-record-']").first
    expect(first).to_be_visible()
    first.click()
    page.get_by_test_id("rule-test-run").click()
    result = page.get_by_test_id("rule-test-result")
    expect(result).to_be_visible()
    expect(page.get_by_test_id("rule-test-condition")).to_have_text("条件成立")
    expect(page.get_by_test_id("rule-test-would")).to_have_text("启用后会执行")
    expect(page.get_by_test_id("rule-test-action-0")).to_contain_text("已拉黑,停止营销")
    result.scroll_into_view_if_needed()
    shot(page, "rules-test-result")

    page.get_by_test_id("rule-save-enable").click()
    expect(page).to_have_url(re.compile(r"/manage/rules/\d+$"))
    expect(page.get_by_test_id("rule-save-enable")).to_have_count(0)  # it is enabled now
    rule_id = re.findall(r"/manage/rules/(\d+)", page.url)[0]

    page.goto("/manage/rules")
    card = page.get_by_test_id(f"rule-{rule_id}")
    expect(card).to_contain_text("拉黑客户提醒")
    expect(card).to_contain_text("已启用")
    card.scroll_into_view_if_needed()
    shot(page, "rules-enabled")

    page.get_by_test_id("rules-firing-log").click()
    expect(page).to_have_url(re.compile(r"/manage/rules/firings$"))
    shot(page, "rules-firings")
