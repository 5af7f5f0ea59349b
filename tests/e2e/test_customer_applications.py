"""The customer 360 申请 tab at 375×812: an officer opens a customer with applications, sees the
count on the tab, lists the applications with their state and opens one's progress."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_approvals import _apply
from tests.e2e.test_shell import login


def _disbursed_application(page: Page) -> dict:
    """officer1's demo application that was approved and disbursed (its customer has a loan)."""
    response = page.request.get("/api/v1/flows/inbox/mine", params={"status": "approved"})
    assert response.ok, response.text()
    for item in response.json()["items"]:
        detail = page.request.get(f"/api/v1/flows/instances/{item['instance_id']}").json()
        if detail["loan"] and detail["customer"]:
            return detail
    raise AssertionError("the demo seed gives officer1 a disbursed application")


def test_officer_sees_the_customers_applications_and_opens_one(page: Page) -> None:
    login(page, "officer1")
    disbursed = _disbursed_application(page)
    customer_id = disbursed["customer"]["id"]
    # A second, newer application of the same customer: waiting at the first review.
    waiting_id = _apply(page, customer_id, "88000")

    counts = page.request.get(f"/api/v1/customers/{customer_id}").json()["counts"]
    assert counts["applications"] >= 2
    page.goto(f"/customers/{customer_id}")
    tab = page.locator(".tab-applications")
    expect(tab.locator(".van-badge")).to_have_text(str(counts["applications"]))
    # The other counted tabs show theirs too (this customer has a loan).
    expect(page.locator(".tab-loans .van-badge")).to_have_text(str(counts["loans"]))
    expect(page.locator(".tab-profile .van-badge")).to_have_count(0)

    tab.click()
    expect(page).to_have_url(re.compile(r"tab=applications"))
    rows = page.locator('[data-testid^="customer-application-"][role="button"]')
    expect(rows).to_have_count(counts["applications"])
    # Newest first: the application just submitted, then the disbursed one.
    expect(rows.first).to_have_attribute("data-testid", f"customer-application-{waiting_id}")
    expect(page.get_by_test_id(f"customer-application-stage-{waiting_id}")).to_have_text(
        "审批中 · 业务经理初审"
    )
    waiting = page.get_by_test_id(f"customer-application-{waiting_id}")
    expect(waiting).to_contain_text("个人消费贷")
    expect(waiting).to_contain_text("88,000.00")
    expect(waiting).to_contain_text("发起人 王小明")
    done = page.get_by_test_id(f"customer-application-{disbursed['id']}")
    expect(done).to_contain_text(disbursed["record"]["serial_no"])
    expect(page.get_by_test_id(f"customer-application-stage-{disbursed['id']}")).to_have_text(
        "已放款"
    )
    page.wait_for_timeout(300)
    shot(page, "customer-360-applications")

    done.click()
    expect(page).to_have_url(re.compile(rf"/approvals/{disbursed['id']}$"))
    expect(page.get_by_test_id("instance-status")).to_have_text("已通过")
    expect(page.get_by_test_id("instance-loan")).to_be_visible()
    progress = page.get_by_test_id("instance-progress")
    expect(progress.get_by_test_id("timeline-node-disbursement")).to_be_visible()
    progress.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    shot(page, "customer-360-application-progress")
    # Back returns to the 申请 tab.
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/customers/{customer_id}\?tab=applications"))
    expect(page.get_by_test_id(f"customer-application-{waiting_id}")).to_be_visible()
