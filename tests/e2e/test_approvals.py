"""审批 at 375×812: a loan application from the forms UI through manager, risk and finance to a
booked loan; batch approval; return to the initiator and resubmission; the borrower's status
page; process analytics."""

import re
import time

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login, logout


def _my_customer(page: Page, skip: int = 0) -> dict:
    """One of the signed-in officer's demo customers, found through the API."""
    response = page.request.get(
        "/api/v1/customers", params={"kind": "individual", "mine": "true", "page_size": 20}
    )
    assert response.ok, response.text()
    items = response.json()["items"]
    assert len(items) > skip, "the demo seed gives officer1 customers"
    return items[skip]


def _instance(page: Page, instance_id: int) -> dict:
    response = page.request.get(f"/api/v1/flows/instances/{instance_id}")
    assert response.ok, response.text()
    return response.json()


def _wait_for_my_task(page: Page, instance_id: int, node_id: str, timeout: float = 30) -> None:
    """Automated steps (scorecard, contract) run in the task worker: wait until my task opens."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        task = _instance(page, instance_id)["my_task"]
        if task and task["node_id"] == node_id:
            return
        page.wait_for_timeout(300)
    raise AssertionError(f"no task on {node_id} for instance {instance_id}")


def _wait_for_status(page: Page, instance_id: int, status: str, timeout: float = 30) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        detail = _instance(page, instance_id)
        if detail["status"] == status:
            return detail
        page.wait_for_timeout(300)
    raise AssertionError(f"instance {instance_id} never became {status}")


def _pick(page: Page, field: str, value: str) -> None:
    page.get_by_test_id(f"field-{field}").click()
    page.get_by_test_id(f"field-{field}-option-{value}").click()


def _apply(page: Page, customer_id: int, amount: str) -> int:
    """officer: a new 贷款申请 for the customer; the app lands on the started approval."""
    page.goto(f"/forms/loan_application/new?customer={customer_id}")
    _pick(page, "product", "consumer")
    page.get_by_test_id("field-amount").fill(amount)
    page.get_by_test_id("field-term").fill("12")
    _pick(page, "purpose", "consumption")
    page.get_by_test_id("field-applicant_income").fill("30000")
    page.get_by_test_id("record-submit").click()
    expect(page).to_have_url(re.compile(r"/approvals/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def _decide(page: Page, action: str, comment: str = "") -> None:
    page.get_by_test_id(f"act-{action}").click()
    sheet = page.get_by_test_id("act-sheet")
    expect(sheet).to_be_visible()
    if comment:
        sheet.get_by_test_id("act-comment").fill(comment)
    sheet.get_by_test_id("act-confirm").click()
    expect(sheet).to_be_hidden()


def test_loan_application_from_officer_to_disbursed_loan(page: Page) -> None:
    login(page, "officer1")
    customer = _my_customer(page)
    instance_id = _apply(page, customer["id"], "120000")

    # The initiator's view: header, live progress, the borrower's link, 催办 / 撤回.
    expect(page.get_by_test_id("instance-status")).to_have_text("审批中")
    expect(page.get_by_test_id("instance-title")).to_contain_text(customer["name"])
    expect(page.get_by_test_id("instance-current-node")).to_have_text("业务经理初审")
    expect(page.get_by_test_id("timeline-node-start")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("timeline-node-manager_review")).to_have_attribute(
        "data-status", "current"
    )
    expect(page.get_by_test_id("timeline-node-gm_review")).to_have_attribute(
        "data-status", "skipped"
    )
    expect(page.get_by_test_id("act-urge")).to_be_visible()
    expect(page.get_by_test_id("act-withdraw")).to_be_visible()
    expect(page.locator(".van-toast")).to_be_hidden()  # "已提交" fades out
    page.get_by_test_id("instance-progress").scroll_into_view_if_needed()
    shot(page, "approvals-timeline")

    # 催办 works once; a second one within the interval says when the next is possible.
    page.get_by_test_id("act-urge").click()
    expect(page.locator(".van-toast")).to_contain_text("已催办")
    expect(page.locator(".van-toast")).to_be_hidden()
    page.get_by_test_id("act-urge").click()
    expect(page.locator(".van-toast")).to_contain_text("后可再次催办")
    logout(page)

    # Manager: the inbox shows it (urged), with the tab badge; approve with a comment.
    login(page, "manager")
    page.get_by_test_id("tab-approvals").click()
    expect(page.get_by_test_id("tab-approvals").locator(".van-badge")).to_be_visible()
    item = page.get_by_test_id(f"inbox-item-{instance_id}")
    expect(item).to_be_visible()
    expect(item.get_by_test_id("inbox-item-amount")).to_have_text("¥120,000.00")
    expect(item.get_by_test_id("inbox-item-urged")).to_be_visible()
    shot(page, "approvals-inbox")
    item.click()
    expect(page).to_have_url(re.compile(rf"/approvals/{instance_id}$"))
    expect(page.get_by_test_id("instance-customer")).to_contain_text(customer["name"])
    expect(page.get_by_test_id("app-field-amount")).to_contain_text("¥120,000.00")
    shot(page, "approvals-task")
    page.get_by_test_id("act-approve").click()
    sheet = page.get_by_test_id("act-sheet")
    sheet.get_by_test_id("act-comment").fill("客户资质良好，同意")
    shot(page, "approvals-action-sheet")
    sheet.get_by_test_id("act-confirm").click()
    expect(sheet).to_be_hidden()
    expect(page.get_by_test_id("timeline-node-manager_review")).to_have_attribute(
        "data-status", "done"
    )
    expect(page.get_by_test_id("timeline-node-manager_review")).to_contain_text("客户资质良好")
    logout(page)

    # Risk: the scorecard result, edits the amount inline and approves.
    login(page, "risk")
    _wait_for_my_task(page, instance_id, "risk_review")
    page.goto("/approvals")
    page.get_by_test_id(f"inbox-item-{instance_id}").click()
    expect(page.get_by_test_id("instance-risk").get_by_test_id("risk-score")).to_be_visible()
    amount = page.get_by_test_id("app-field-amount").get_by_test_id("field-amount")
    amount.fill("100000")
    page.get_by_test_id("instance-risk").scroll_into_view_if_needed()
    shot(page, "approvals-risk")
    page.get_by_test_id("app-field-amount").scroll_into_view_if_needed()
    shot(page, "approvals-risk-edit")
    page.get_by_test_id("act-approve").click()
    sheet = page.get_by_test_id("act-sheet")
    expect(sheet.get_by_test_id("act-edits")).to_contain_text("1 项")
    sheet.get_by_test_id("act-comment").fill("额度调整为 10 万")
    sheet.get_by_test_id("act-confirm").click()
    expect(sheet).to_be_hidden()
    expect(page.get_by_test_id("app-field-amount")).to_contain_text("¥100,000.00")
    logout(page)

    # Finance: the payee account, then approve; the disbursement books the loan.
    login(page, "finance")
    _wait_for_my_task(page, instance_id, "disbursement")
    page.goto(f"/approvals/{instance_id}")
    page.get_by_test_id("field-disbursement_account_name").fill(customer["name"])
    page.get_by_test_id("field-disbursement_account_no").fill("6222020200112233446")
    page.get_by_test_id("field-disbursement_bank").fill("中国工商银行北京海淀支行")
    _decide(page, "approve", "已核对收款账户")
    _wait_for_status(page, instance_id, "approved")
    page.reload()
    expect(page.get_by_test_id("instance-status")).to_have_text("已通过")
    expect(page.get_by_test_id("instance-loan")).to_be_visible()
    logout(page)

    # The officer finds it under 我发起的 as 已通过 and opens the loan.
    login(page, "officer1")
    page.goto("/approvals?tab=mine")
    mine = page.get_by_test_id(f"inbox-item-{instance_id}")
    expect(mine.get_by_test_id("inbox-item-status")).to_have_text("已通过")
    mine.click()
    expect(page.get_by_test_id("timeline-node-disbursement")).to_have_attribute(
        "data-status", "done"
    )
    page.get_by_test_id("instance-loan").scroll_into_view_if_needed()
    shot(page, "approvals-approved")
    page.get_by_test_id("instance-loan").click()
    expect(page).to_have_url(re.compile(r"/loans/\d+$"))
    expect(page.get_by_test_id("loan-principal")).to_have_text("¥100,000.00")


def test_batch_approve_two_tasks(page: Page) -> None:
    login(page, "officer1")
    ids = [_apply(page, _my_customer(page, i)["id"], f"{50000 + i * 1000}") for i in (1, 2)]
    logout(page)

    login(page, "manager")
    page.goto("/approvals")
    for i in ids:
        expect(page.get_by_test_id(f"inbox-item-{i}")).to_be_visible()
    page.get_by_test_id("inbox-batch-toggle").click()
    for i in ids:
        page.get_by_test_id(f"inbox-item-{i}").click()
    expect(page.get_by_test_id("inbox-batch-bar")).to_contain_text("已选 2 项")
    shot(page, "approvals-batch")
    page.get_by_test_id("inbox-batch-approve").click()
    page.get_by_test_id("inbox-batch-comment").fill("批量同意")
    page.get_by_test_id("inbox-batch-confirm").click()
    expect(page.get_by_test_id("inbox-batch-summary")).to_have_text("成功 2 项，失败 0 项")
    shot(page, "approvals-batch-result")
    page.get_by_test_id("inbox-batch-result-close").click()
    for i in ids:
        expect(page.get_by_test_id(f"inbox-item-{i}")).to_have_count(0)
    page.get_by_test_id("inbox-tab-done").click()
    for i in ids:
        expect(page.get_by_test_id(f"inbox-item-{i}")).to_be_visible()


def test_return_to_initiator_and_resubmit(page: Page) -> None:
    login(page, "officer1")
    instance_id = _apply(page, _my_customer(page, 3)["id"], "80000")
    logout(page)

    login(page, "manager")
    page.goto(f"/approvals/{instance_id}")
    page.get_by_test_id("act-more").click()
    page.get_by_test_id("act-more-sheet").get_by_text("退回").click()
    sheet = page.get_by_test_id("act-sheet")
    expect(sheet.get_by_test_id("act-return-initiator")).to_be_visible()
    sheet.get_by_test_id("act-comment").fill("请补充收入证明，金额改为 6 万")
    sheet.get_by_test_id("act-confirm").click()
    expect(sheet).to_be_hidden()
    expect(page.get_by_test_id("instance-status")).to_have_text("已退回")
    logout(page)

    login(page, "officer1")
    page.goto(f"/approvals/{instance_id}")
    expect(page.get_by_test_id("instance-returned")).to_be_visible()
    expect(page.get_by_test_id("instance-history")).to_contain_text("请补充收入证明")
    page.get_by_test_id("act-resubmit").click()
    expect(page).to_have_url(re.compile(rf"/approvals/{instance_id}/resubmit$"))
    page.get_by_test_id("field-amount").fill("60000")
    page.get_by_test_id("resubmit-comment").fill("已按要求修改")
    shot(page, "approvals-resubmit")
    page.get_by_test_id("resubmit-submit").click()
    expect(page).to_have_url(re.compile(rf"/approvals/{instance_id}$"))
    expect(page.get_by_test_id("instance-status")).to_have_text("审批中")
    expect(page.get_by_test_id("app-field-amount")).to_contain_text("¥60,000.00")
    expect(page.get_by_test_id("timeline-node-start")).to_contain_text("重新提交")


def _status_code_from_outbox(server: str, page: Page) -> str:
    """The demo has no SMS gateway: an admin reads the texted code in 系统 → 事件 (the outbox)."""
    browser = page.context.browser
    assert browser is not None
    admin = browser.new_context(base_url=server, viewport={"width": 375, "height": 812})
    try:
        admin_page = admin.new_page()
        login(admin_page, "admin")
        events = admin_page.request.get("/api/v1/outbox/events", params={"page_size": 50})
        assert events.ok, events.text()
        texts = [
            e["payload"]["text"]
            for e in events.json()["items"]
            if e["topic"] == "notify.sms" and e["payload"].get("phone_masked") == "138****8000"
        ]
        assert texts and "查看申请进度" in texts[0], texts[:1]
        match = re.search(r"\d{6}", texts[0])
        assert match is not None
        return match.group(0)
    finally:
        admin.close()


def test_borrower_status_page_of_a_public_application(page: Page, server: str) -> None:
    login(page, "officer1")
    links = page.request.get("/api/v1/forms/loan_application/links")
    assert links.ok, links.text()
    active = [x for x in links.json() if x["active"]]
    assert active, "the demo seed shares one application link"
    token = active[0]["token"]
    data = {
        "applicant_name": "林晓",
        "applicant_id_number": "11010519491231002X",
        "applicant_phone": "13800138000",
        "product": "consumer",
        "amount": "30000",
        "term": 12,
        "annual_rate": "12",
        "purpose": "consumption",
        "applicant_income": "12000",
    }
    submitted = page.request.post(
        f"/api/v1/public/forms/{token}/submit",
        data={"data": data, "website": ""},
        headers={
            "X-CSRFToken": next(
                c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"
            )
        },
    )
    assert submitted.ok, submitted.text()
    status_token = submitted.json()["status_token"]
    logout(page)

    # The link alone shows only the form and the masked phone on the application.
    page.goto(f"/s/{status_token}")
    verify = page.get_by_test_id("status-verify")
    expect(verify).to_be_visible()
    expect(page.get_by_test_id("status-phone-hint")).to_contain_text("138****8000")
    expect(page.get_by_test_id("borrower-progress")).to_have_count(0)
    expect(verify).not_to_contain_text("SQ")
    page.get_by_test_id("status-send-code").click()
    expect(page.get_by_test_id("status-phone-hint")).to_have_text("验证码已发送至 138****8000")
    expect(page.get_by_test_id("status-send-code")).to_contain_text("秒后重发")
    code = _status_code_from_outbox(server, page)
    page.get_by_test_id("status-code").fill("000000" if code != "000000" else "111111")
    page.get_by_test_id("status-verify-submit").click()
    expect(verify).to_contain_text("验证码错误或已过期,还可尝试 4 次")
    page.get_by_test_id("status-code").fill(code)
    shot(page, "approvals-borrower-verify")
    page.get_by_test_id("status-verify-submit").click()

    progress = page.get_by_test_id("borrower-progress")
    expect(progress).to_be_visible()
    expect(page.get_by_test_id("borrower-summary")).to_have_text("您的申请正在审核中，请耐心等待。")
    expect(page.get_by_test_id("borrower-step-0")).to_contain_text("提交申请")
    expect(page.get_by_test_id("borrower-step-0")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("borrower-step-1")).to_have_attribute("data-status", "current")
    expect(progress).not_to_contain_text("李经理")
    # The grant is an HttpOnly cookie scoped to this status link, remembered on reload.
    grant = next(c for c in page.context.cookies() if c["name"] == "ld_status_grant")
    assert grant["httpOnly"] and grant["path"] == f"/api/v1/public/status/{status_token}"
    page.reload()
    expect(page.get_by_test_id("borrower-progress")).to_be_visible()
    expect(page.get_by_test_id("status-verify")).to_have_count(0)
    shot(page, "approvals-borrower-status")


def test_manager_reads_process_analytics(page: Page) -> None:
    login(page, "admin")
    page.goto("/manage/flow-analytics")
    expect(page.get_by_test_id("analytics-kpi-total")).to_be_visible()
    expect(page.get_by_test_id("analytics-nodes")).to_contain_text("业务经理初审")
    expect(page.get_by_test_id("analytics-chart").locator("canvas")).to_be_visible()
    page.get_by_test_id("analytics-flow").click()
    page.locator(".van-action-sheet").get_by_text("贷款审批").click()
    expect(page.locator(".van-action-sheet")).to_be_hidden()
    expect(page.get_by_test_id("analytics-flow")).to_contain_text("贷款审批")
    expect(page.get_by_test_id("analytics-kpi-total")).to_be_visible()
    shot(page, "approvals-analytics")


def test_record_page_leads_to_its_approval(page: Page) -> None:
    login(page, "officer1")
    mine = page.request.get("/api/v1/flows/inbox/mine").json()["items"]
    assert mine, "the demo seeds officer1's sample applications"
    instance_id = mine[0]["instance_id"]
    record_id = page.request.get(f"/api/v1/flows/instances/{instance_id}").json()["record"]["id"]
    page.goto(f"/forms/loan_application/records/{record_id}")
    link = page.get_by_test_id("record-approval")
    expect(link).to_contain_text("查看审批")
    link.click()
    expect(page).to_have_url(re.compile(rf"/approvals/{instance_id}$"))
    expect(page.get_by_test_id("instance-status")).to_be_visible()
