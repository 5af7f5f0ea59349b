"""消息 tab: the manager sees the task messages of the demo's sample approvals, with the unread
count on the tab bar; tapping one marks it read and opens the approval, and the count drops."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login


def _badge(page: Page) -> int:
    text = page.get_by_test_id("tab-messages").locator(".van-badge").inner_text().strip()
    return 100 if text == "99+" else int(text)


def test_manager_opens_a_task_message_and_the_badge_drops(page: Page) -> None:
    login(page, "manager")
    # The sample approvals' events reach the inbox through the outbox worker; reload until the
    # first messages are there (bounded by the expect timeout, not by a sleep).
    page.goto("/messages")
    unread = page.locator('[data-testid^="message-"][data-unread="1"]')
    for _ in range(10):
        if unread.count():
            break
        page.reload()
        page.wait_for_load_state("networkidle")
    expect(unread.first).to_be_visible()
    badge = page.get_by_test_id("tab-messages").locator(".van-badge")
    expect(badge).to_be_visible()
    before = _badge(page)
    assert before >= 1
    first = unread.first
    expect(first).to_contain_text("的贷款申请待你审批")
    expect(first.get_by_test_id("message-unread-dot")).to_be_visible()
    message_id = first.get_attribute("data-testid")
    shot(page, "messages-inbox")

    first.click()
    expect(page).to_have_url(re.compile(r"/approvals/\d+$"))
    expect(page.get_by_test_id("instance-title")).to_be_visible()
    shot(page, "messages-opened-approval")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/messages$"))
    opened = page.get_by_test_id(str(message_id))
    expect(opened).to_have_attribute("data-unread", "0")
    if before - 1 > 0:
        expect(badge).to_have_text(str(before - 1) if before - 1 <= 99 else "99+")
    else:
        expect(badge).to_have_count(0)
    shot(page, "messages-after-read")


def test_read_all_clears_the_badge(page: Page) -> None:
    login(page, "risk")
    page.goto("/messages")
    expect(page.get_by_test_id("messages-list")).to_be_visible()
    page.get_by_test_id("messages-read-all").click()
    expect(page.locator('[data-testid^="message-"][data-unread="1"]')).to_have_count(0)
    expect(page.get_by_test_id("tab-messages").locator(".van-badge")).to_have_count(0)
