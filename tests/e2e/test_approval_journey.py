"""审批 journey at 375×812 (issue #5): a 600,000 application from the officer's phone through
manager, a risk return, resubmission, manager, risk, the GM's large-amount review and finance to a
booked loan in the customer's 360 view; a deadline that passes and escalates the task; the
reminder before the deadline.

Time is moved the way the scheduler sees it: the task's timer row (``flows_flowtimer``) and the
task's ``due_at`` are set to the past in the e2e server's SQLite database, then the ``flows.timers``
job fires the timer on its own (every 2 s on the e2e server: LOANDESK_FLOW_TIMERS_SECONDS).
"""

import re
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_approvals import (
    _decide,
    _instance,
    _my_customer,
    _pick,
    _wait_for_my_task,
    _wait_for_status,
)
from tests.e2e.test_shell import login, logout

TIMER_WAIT = 45  # the flows.timers job runs every 2 s here; a loaded CI machine is slow


def _server_db(server: str) -> Path:
    """The e2e server's SQLite file: conftest starts ``manage serve --port N`` with
    LOANDESK_VAR_DIR set, and the settings keep the database in ``<var>/loandesk.sqlite3``."""
    port = str(urlparse(server).port).encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if b"serve" not in argv or b"--port" not in argv or port not in argv:
                continue
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for entry in env:
            if entry.startswith(b"LOANDESK_VAR_DIR="):
                db = Path(entry.split(b"=", 1)[1].decode()) / "loandesk.sqlite3"
                assert db.exists(), db
                return db
    raise AssertionError(f"no LoanDesk server process on port {port.decode()}")


def _sql(server: str, query: str, params: tuple = ()) -> list[tuple]:
    with closing(sqlite3.connect(_server_db(server), timeout=30)) as db, db:
        return db.execute(query, params).fetchall()


def _past() -> str:
    """An hour ago, the way Django stores aware datetimes in SQLite (naive UTC)."""
    return (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None).isoformat(" ")


def _open_task(server: str, instance_id: int, node_id: str) -> tuple[int, str, str]:
    rows = _sql(
        server,
        "SELECT t.id, t.engine_task_id, u.username FROM flows_flowtask t"
        " JOIN accounts_user u ON u.id = t.user_id"
        " WHERE t.instance_id = ? AND t.node_id = ? AND t.status = 'open'",
        (instance_id, node_id),
    )
    assert len(rows) == 1, rows
    return rows[0]


def _move_timer(server: str, instance_id: int, engine_task_id: str, kind: str) -> None:
    """The timer of that task becomes due now: the scheduler fires it on its next run."""
    rows = _sql(
        server,
        "SELECT id FROM flows_flowtimer WHERE instance_id = ? AND engine_task_id = ?"
        " AND kind = ? AND status = 'pending'",
        (instance_id, engine_task_id, kind),
    )
    assert len(rows) == 1, f"no pending {kind} timer for {engine_task_id}: {rows}"
    _sql(server, "UPDATE flows_flowtimer SET fire_at = ? WHERE id = ?", (_past(), rows[0][0]))


def _wait_for_history(page: Page, instance_id: int, action: str) -> dict:
    deadline = time.time() + TIMER_WAIT
    while time.time() < deadline:
        for event in _instance(page, instance_id)["history"]:
            if event["action"] == action:
                return event
        page.wait_for_timeout(500)
    raise AssertionError(f"no {action} on instance {instance_id} within {TIMER_WAIT}s")


def _wait_in_todo(page: Page, instance_id: int) -> None:
    """The signed-in user's 待办 (API) lists the instance: the scheduler got there."""
    deadline = time.time() + TIMER_WAIT
    while time.time() < deadline:
        response = page.request.get("/api/v1/flows/inbox/todo")
        assert response.ok, response.text()
        if any(i["instance_id"] == instance_id for i in response.json()["items"]):
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"instance {instance_id} never reached this user's 待办")


def _apply_large(page: Page, customer_id: int) -> int:
    """officer: a 600,000 小微经营贷; 担保方式 shows and is required above 500,000."""
    page.goto(f"/forms/loan_application/new?customer={customer_id}")
    _pick(page, "product", "sme_operating")
    page.get_by_test_id("field-amount").fill("400000")
    page.get_by_test_id("field-term").fill("24")
    _pick(page, "purpose", "consumption")
    page.get_by_test_id("field-applicant_income").fill("80000")
    expect(page.get_by_test_id("field-guarantee")).to_have_count(0)
    page.get_by_test_id("field-amount").fill("600000")
    page.get_by_test_id("field-amount").blur()
    expect(page.get_by_test_id("field-guarantee")).to_be_visible()
    page.get_by_test_id("record-submit").click()
    # Not submitted without the guarantee: the form says what is missing.
    expect(page.locator(".van-field__error-message").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/forms/loan_application/new"))
    page.get_by_test_id("field-guarantee").scroll_into_view_if_needed()
    shot(page, "journey-guarantee-required")
    _pick(page, "guarantee", "guarantor")
    shot(page, "journey-application")
    page.get_by_test_id("record-submit").click()
    expect(page).to_have_url(re.compile(r"/approvals/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def _open_from_todo(page: Page, instance_id: int) -> None:
    page.get_by_test_id("tab-approvals").click()
    item = page.get_by_test_id(f"inbox-item-{instance_id}")
    expect(item).to_be_visible()
    item.click()
    expect(page).to_have_url(re.compile(rf"/approvals/{instance_id}$"))


def _money(text: str) -> Decimal:
    return Decimal(text.replace(",", "").replace("¥", "").strip())


def test_large_application_returned_resubmitted_and_booked(page: Page) -> None:
    login(page, "officer1")
    customer = _my_customer(page, 4)
    instance_id = _apply_large(page, customer["id"])
    expect(page.get_by_test_id("instance-status")).to_have_text("审批中")
    expect(page.get_by_test_id("app-field-amount")).to_contain_text("¥600,000.00")
    expect(page.get_by_test_id("timeline-node-manager_review")).to_have_attribute(
        "data-status", "current"
    )
    # Above 500,000 the GM's final review lies ahead (predicted from the data), not skipped.
    expect(page.get_by_test_id("timeline-node-gm_review")).to_have_attribute(
        "data-status", "pending"
    )
    shot(page, "journey-submitted")
    logout(page)

    # Manager approves from 待办.
    login(page, "manager")
    _open_from_todo(page, instance_id)
    expect(page.get_by_test_id("app-field-amount")).to_contain_text("¥600,000.00")
    _decide(page, "approve", "同意，提交风控")
    logout(page)

    # Risk returns it to the officer with a comment.
    login(page, "risk")
    _wait_for_my_task(page, instance_id, "risk_review")
    _open_from_todo(page, instance_id)
    page.get_by_test_id("act-more").click()
    page.get_by_test_id("act-more-sheet").get_by_text("退回").click()
    sheet = page.get_by_test_id("act-sheet")
    sheet.get_by_test_id("act-return-initiator").click()
    sheet.get_by_test_id("act-comment").fill("用途应为经营周转，请修改后重新提交")
    shot(page, "journey-risk-return")
    sheet.get_by_test_id("act-confirm").click()
    expect(sheet).to_be_hidden()
    expect(page.get_by_test_id("instance-status")).to_have_text("已退回")
    logout(page)

    # The officer sees 已退回 with the comment, edits the purpose and resubmits.
    login(page, "officer1")
    page.goto("/approvals?tab=mine")
    mine = page.get_by_test_id(f"inbox-item-{instance_id}")
    expect(mine.get_by_test_id("inbox-item-status")).to_have_text("已退回")
    mine.click()
    expect(page.get_by_test_id("instance-status")).to_have_text("已退回")
    expect(page.get_by_test_id("instance-returned")).to_be_visible()
    expect(page.get_by_test_id("instance-history")).to_contain_text("用途应为经营周转")
    page.get_by_test_id("instance-history").scroll_into_view_if_needed()
    shot(page, "journey-returned")
    page.get_by_test_id("act-resubmit").click()
    expect(page).to_have_url(re.compile(rf"/approvals/{instance_id}/resubmit$"))
    expect(page.get_by_test_id("field-amount")).to_have_value(re.compile(r"600,?000"))
    _pick(page, "purpose", "business")
    page.get_by_test_id("resubmit-comment").fill("用途已改为经营周转")
    shot(page, "journey-resubmit")
    page.get_by_test_id("resubmit-submit").click()
    expect(page).to_have_url(re.compile(rf"/approvals/{instance_id}$"))
    expect(page.get_by_test_id("instance-status")).to_have_text("审批中")
    expect(page.get_by_test_id("app-field-purpose")).to_contain_text("经营周转")
    expect(page.get_by_test_id("app-field-amount")).to_contain_text("¥600,000.00")
    expect(page.get_by_test_id("timeline-node-manager_review")).to_have_attribute(
        "data-status", "current"
    )
    logout(page)

    # Round two: manager, then risk approve.
    login(page, "manager")
    _open_from_todo(page, instance_id)
    _decide(page, "approve", "已修改，同意")
    logout(page)

    login(page, "risk")
    _wait_for_my_task(page, instance_id, "risk_review")
    _open_from_todo(page, instance_id)
    expect(page.get_by_test_id("app-field-purpose")).to_contain_text("经营周转")
    _decide(page, "approve", "风险可控，同意")
    logout(page)

    # The GM's final review exists only because the amount is above 500,000.
    login(page, "gm")
    _wait_for_my_task(page, instance_id, "gm_review")
    _open_from_todo(page, instance_id)
    expect(page.get_by_test_id("instance-current-node")).to_have_text("总经理终审")
    expect(page.get_by_test_id("timeline-node-gm_review")).to_have_attribute(
        "data-status", "current"
    )
    page.get_by_test_id("timeline-node-gm_review").scroll_into_view_if_needed()
    shot(page, "journey-gm-review")
    _decide(page, "approve", "同意放款")
    logout(page)

    # Finance fills the payee account and approves; the disbursement books the loan.
    login(page, "finance")
    _wait_for_my_task(page, instance_id, "disbursement")
    _open_from_todo(page, instance_id)
    page.get_by_test_id("field-disbursement_account_name").fill(customer["name"])
    page.get_by_test_id("field-disbursement_account_no").fill("6222020200112233446")
    page.get_by_test_id("field-disbursement_bank").fill("中国工商银行北京海淀支行")
    shot(page, "journey-disbursement")
    _decide(page, "approve", "已核对收款账户")
    detail = _wait_for_status(page, instance_id, "approved")
    page.reload()
    expect(page.get_by_test_id("instance-status")).to_have_text("已通过")
    expect(page.get_by_test_id("timeline-node-gm_review")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("instance-loan")).to_be_visible()
    page.get_by_test_id("instance-loan").scroll_into_view_if_needed()
    shot(page, "journey-approved")
    assert detail["loan"], detail
    loan_id = detail["loan"]["id"]
    logout(page)

    # The customer's 360 view: 贷款 tab → the loan with its 24-installment schedule.
    login(page, "officer1")
    page.goto(f"/customers/{customer['id']}")
    page.locator(".tab-loans").click()
    row = page.get_by_test_id(f"customer-loan-{loan_id}")
    expect(row).to_be_visible()
    expect(row).to_contain_text("¥600,000.00")
    shot(page, "journey-customer-loans")
    row.click()
    expect(page).to_have_url(re.compile(rf"/loans/{loan_id}$"))
    expect(page.get_by_test_id("loan-principal")).to_have_text("¥600,000.00")
    rows = page.locator('[data-testid^="loan-schedule-row-"]')
    expect(rows).to_have_count(24)
    principals = rows.locator('[data-col="principal"]').all_inner_texts()
    assert len(principals) == 24
    assert sum(_money(p) for p in principals) == Decimal("600000.00"), principals
    totals = page.get_by_test_id("loan-schedule-totals")
    expect(totals.locator('[data-col="principal"]')).to_have_text("600,000.00")
    page.get_by_test_id("loan-schedule").scroll_into_view_if_needed()
    shot(page, "journey-loan-schedule")


def test_overdue_first_review_escalates_to_the_department_head(page: Page, server: str) -> None:
    login(page, "officer1")
    customer = _my_customer(page, 5)
    page.goto(f"/forms/loan_application/new?customer={customer['id']}")
    _pick(page, "product", "consumer")
    page.get_by_test_id("field-amount").fill("70000")
    page.get_by_test_id("field-term").fill("12")
    _pick(page, "purpose", "consumption")
    page.get_by_test_id("field-applicant_income").fill("30000")
    page.get_by_test_id("record-submit").click()
    expect(page).to_have_url(re.compile(r"/approvals/\d+$"))
    instance_id = int(page.url.rsplit("/", 1)[1])
    logout(page)

    # officer1's team 北京一组 has no head: 北京分公司's head, the manager, reviews.
    task_pk, engine_task_id, holder = _open_task(server, instance_id, "manager_review")
    assert holder == "manager"

    # The 8 working hours pass: first the task is overdue in the manager's 待办 …
    _sql(server, "UPDATE flows_flowtask SET due_at = ? WHERE id = ?", (_past(), task_pk))
    login(page, "manager")
    page.get_by_test_id("tab-approvals").click()
    item = page.get_by_test_id(f"inbox-item-{instance_id}")
    expect(item.get_by_test_id("inbox-item-overdue")).to_be_visible()
    shot(page, "journey-overdue")
    logout(page)

    # … then the timeout timer fires: the task goes up to the manager's own department head's
    # head — the manager heads 北京分公司 himself, so 总部's head, the GM.
    _move_timer(server, instance_id, engine_task_id, "timeout")
    login(page, "gm")
    _wait_in_todo(page, instance_id)
    page.get_by_test_id("tab-approvals").click()
    item = page.get_by_test_id(f"inbox-item-{instance_id}")
    expect(item).to_be_visible()
    expect(item.get_by_test_id("inbox-item-node")).to_have_text("业务经理初审")
    shot(page, "journey-escalated-inbox")
    item.click()
    expect(page).to_have_url(re.compile(rf"/approvals/{instance_id}$"))
    history = page.get_by_test_id("instance-history")
    escalated = history.get_by_test_id("history-item").filter(has_text="升级")
    expect(escalated).to_have_count(1)
    expect(escalated).to_contain_text("赵总")
    expect(page.get_by_test_id("act-approve")).to_be_visible()
    history.scroll_into_view_if_needed()
    shot(page, "journey-escalated-history")
    logout(page)

    # The manager's task is closed as escalated: gone from his 待办.
    login(page, "manager")
    with page.expect_response(lambda r: "/api/v1/flows/inbox/todo" in r.url):
        page.get_by_test_id("tab-approvals").click()
    expect(page.get_by_test_id(f"inbox-item-{instance_id}")).to_have_count(0)


def test_reminder_before_the_deadline_shows_in_the_history(page: Page, server: str) -> None:
    login(page, "officer1")
    customer = _my_customer(page, 6)
    page.goto(f"/forms/loan_application/new?customer={customer['id']}")
    _pick(page, "product", "consumer")
    page.get_by_test_id("field-amount").fill("50000")
    page.get_by_test_id("field-term").fill("12")
    _pick(page, "purpose", "consumption")
    page.get_by_test_id("field-applicant_income").fill("30000")
    page.get_by_test_id("record-submit").click()
    expect(page).to_have_url(re.compile(r"/approvals/\d+$"))
    instance_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_test_id("instance-history")).not_to_contain_text("提醒")

    # Two working hours before the deadline: the reminder timer fires.
    _, engine_task_id, _ = _open_task(server, instance_id, "manager_review")
    _move_timer(server, instance_id, engine_task_id, "reminder")
    _wait_for_history(page, instance_id, "reminded")
    page.reload()
    reminded = (
        page.get_by_test_id("instance-history")
        .get_by_test_id("history-item")
        .filter(has_text="提醒")
    )
    expect(reminded).to_have_count(1)
    expect(reminded).to_contain_text("李经理")
    # A reminder only: the manager still holds the task.
    expect(page.get_by_test_id("instance-current-node")).to_have_text("业务经理初审")
    expect(page.get_by_test_id("timeline-node-manager_review")).to_have_attribute(
        "data-status", "current"
    )
    page.get_by_test_id("instance-history").scroll_into_view_if_needed()
    shot(page, "journey-reminder-history")
