"""通知渠道: an admin edits an SMS template, sends a test SMS with the built-in outbox provider
and reads it in the delivery log — on a phone."""

import re
import time

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login


def test_admin_edits_a_template_and_sends_a_test_sms(page: Page) -> None:
    login(page, "admin")
    page.get_by_test_id("tab-me").click()
    page.get_by_test_id("me-admin-channels").click()
    expect(page).to_have_url(re.compile(r"/manage/channels$"))
    sms = page.get_by_test_id("channel-sms")
    expect(sms).to_contain_text("内置发件箱")
    shot(page, "channels")

    # Templates: an undeclared variable is caught before saving; a fixed text saves.
    page.get_by_role("tab", name="模板").click()
    page.get_by_test_id("template-sms-overdue_notice").click()
    body = page.get_by_test_id("tpl-body").locator("textarea")
    body.fill("尊敬的{name},您的贷款已逾期{dayz}天,请尽快还款。")
    expect(page.get_by_test_id("template-editor")).to_contain_text("未声明的变量:dayz")
    expect(page.get_by_test_id("tpl-save")).to_be_disabled()
    page.wait_for_timeout(300)  # the sheet has finished sliding up
    shot(page, "channels-template-error")
    body.fill("尊敬的{name},您的贷款已逾期{days}天,请尽快还款。")
    page.get_by_test_id("tpl-save").click()
    expect(page.locator(".van-toast")).to_contain_text("已保存")
    expect(page.get_by_test_id("template-sms-overdue_notice")).to_contain_text("请尽快还款。")

    # A test SMS through the outbox provider…
    page.get_by_role("tab", name="渠道").click()
    page.get_by_test_id("channel-test-sms").click()
    page.get_by_test_id("test-to").locator("input").fill("13912345678")
    page.get_by_test_id("test-text").locator("textarea").fill("通知渠道测试:还款提醒")
    page.wait_for_timeout(300)
    shot(page, "channels-test")
    page.get_by_test_id("test-send").click()
    expect(page.locator(".van-toast")).to_contain_text("测试消息已发送")

    # …shows up in the log as sent, with its text readable.
    page.get_by_role("tab", name="发送记录").click()
    page.get_by_test_id("log-status-sent").click()
    entry = page.locator("[data-testid^='delivery-']", has_text="通知渠道测试:还款提醒").first
    expect(entry).to_contain_text("139****5678")
    expect(entry).to_contain_text("已发送")
    shot(page, "channels-log")

    # The task worker delivers what else is queued (e.g. the demo rules' SMS) on its own.
    deadline = time.time() + 60
    while True:
        counts = page.request.get("/api/v1/notify/deliveries/counts").json()
        if counts["pending"] == 0 or time.time() > deadline:
            break
        page.wait_for_timeout(1000)
    assert counts["pending"] == 0, counts
    assert counts["dead"] == 0, counts
