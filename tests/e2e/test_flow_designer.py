"""The approval-flow designer at 375×812 (and once at desktop width): an admin opens the demo
贷款审批 flow, adds an approval node and a condition branch, sees a validation problem pointed at
the node, fixes it and publishes a new version."""

import re

from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login

FLOW = "loan_approval"


def _open_designer(page: Page, list_shot: str | None = None) -> None:
    """我的 → 管理 → 审批流程设计 → the 贷款审批 flow (created when the demo has none)."""
    page.goto("/me")
    page.get_by_test_id("me-admin-flows").click()
    expect(page).to_have_url(re.compile(r"/manage/flows$"))
    expect(page.get_by_test_id("flows-list")).to_be_visible()
    row = page.get_by_test_id(f"flow-row-{FLOW}")
    if row.count() == 0:
        page.get_by_test_id("flows-create").click()
        sheet = page.get_by_test_id("flow-create-sheet")
        sheet.get_by_test_id("flow-create-name").locator("input").fill("贷款审批")
        sheet.get_by_test_id("flow-create-key").locator("input").fill(FLOW)
        sheet.get_by_test_id("flow-create-form").click()
        page.locator(".van-action-sheet__item", has_text="贷款申请").click()
        sheet.get_by_test_id("flow-create-submit").click()
    else:
        expect(row).to_contain_text("贷款申请")
        if list_shot:
            shot(page, list_shot)
        row.click()
    expect(page).to_have_url(re.compile(rf"/manage/flows/{FLOW}$"))
    expect(page.get_by_test_id("node-start")).to_be_visible()


def _settings(page: Page) -> Locator:
    sheet = page.get_by_test_id("settings-sheet")
    expect(sheet).to_be_visible()
    return sheet


def _add_role(page: Page, role: str) -> None:
    sheet = _settings(page)
    sheet.get_by_test_id("assignees-add").click()
    page.locator(".van-action-sheet__item", has_text=re.compile(r"^角色$")).click()
    sheet.get_by_test_id("assignees").locator("select").last.select_option(role)


def _done(page: Page) -> None:
    page.get_by_test_id("settings-done").click()
    expect(page.get_by_test_id("settings-sheet")).to_be_hidden()


def test_admin_designs_validates_and_publishes_the_loan_flow(page: Page) -> None:
    login(page, "admin")
    _open_designer(page, "flow-designer-list")
    status = page.get_by_test_id("designer-status")
    before = re.search(r"已发布 v(\d+)", status.inner_text())
    published_before = int(before.group(1)) if before else 0

    # An approval node after the first node, with a role assignee.
    page.get_by_test_id("add-root-1").click()
    page.get_by_test_id("insert-approval").click()
    sheet = _settings(page)
    node_id = sheet.locator(".van-cell__value.mono").inner_text().strip()
    assert re.fullmatch(r"approval_\d+", node_id), node_id
    sheet.get_by_test_id("setting-name").locator("input").fill("合规审核")
    _add_role(page, "risk")
    sheet.get_by_test_id("setting-deadline").click()
    sheet.get_by_test_id("setting-deadline-hours").locator("input").fill("16")
    sheet.get_by_test_id("perm-amount-read").click()
    sheet.locator(".picker-popup__list").evaluate("el => el.scrollTo(0, 0)")
    shot(page, "flow-designer-settings")
    _done(page)
    card = page.get_by_test_id(f"node-{node_id}")
    expect(card).to_contain_text("合规审核")
    expect(page.get_by_test_id(f"summary-{node_id}")).to_have_text(
        "角色:风控专员 · 或签 · 16 工作小时"
    )

    # A condition branch on 申请金额, in the demo's amount group when there is one.
    group = page.locator(".ft-group").first
    if group.count() == 0:
        page.get_by_test_id(f"add-root-{2}").click()
        page.get_by_test_id("insert-condition_group").click()
        group = page.locator(".ft-group").first
    group.locator("[data-testid^='add-branch-']").first.click()
    sheet = _settings(page)
    sheet.get_by_test_id("branch-name").locator("input").fill("小额快审")
    sheet.get_by_test_id("branch-cond-add-group").click()
    sheet.get_by_test_id("branch-cond-0-0-field").select_option("amount")
    sheet.get_by_test_id("branch-cond-0-0-op").select_option("<=")
    sheet.get_by_test_id("branch-cond-0-0-value").fill("100000")
    sheet.get_by_test_id("settings-branch-left").click()
    _done(page)
    branch = page.locator(".ft-bcard", has_text="小额快审")
    expect(branch).to_contain_text("申请金额 ≤ 100000")
    expect(branch).to_contain_text("优先级 1")
    page.get_by_test_id("designer-save").click()
    expect(status).to_contain_text("草稿已保存")
    expect(page.locator(".van-toast")).to_be_hidden()
    shot(page, "flow-designer-tree")

    # Remove the only assignee: the node is flagged, and the server agrees on 校验.
    card.click()
    _settings(page).get_by_test_id("assignees-0-remove").click()
    _done(page)
    expect(card).to_have_class(re.compile(r"ft-card--bad"))
    page.get_by_test_id("designer-validate").click()
    issues = page.get_by_test_id("issues-sheet")
    expect(issues).to_be_visible()
    row = issues.get_by_test_id(f"issue-row-{node_id}")
    expect(row).to_contain_text("合规审核")
    row.click()
    expect(issues).to_be_hidden()
    expect(page.get_by_test_id(f"issue-{node_id}")).to_be_visible()
    expect(card).to_be_in_viewport()
    shot(page, "flow-designer-error")

    # Fix it and publish: a new version.
    card.click()
    _add_role(page, "risk")
    _done(page)
    expect(page.get_by_test_id(f"issue-{node_id}")).to_have_count(0)
    expect(page.get_by_test_id("issues-open")).to_have_count(0)
    page.get_by_test_id("designer-publish").click()
    page.locator(".van-dialog").get_by_role("button", name="发布").click()
    expect(page.get_by_text(f"已发布版本 v{published_before + 1}")).to_be_visible()
    expect(status).to_contain_text(f"已发布 v{published_before + 1}")
    expect(status).not_to_contain_text("未保存")

    # The versions list shows the new one, read-only.
    page.get_by_test_id("designer-versions").click()
    version = page.get_by_test_id(f"version-{published_before + 1}")
    expect(version).to_contain_text("当前")
    version.click()
    view = page.get_by_test_id("version-view")
    expect(view).to_be_visible()
    expect(view).to_contain_text("合规审核")
    expect(view).to_contain_text("小额快审")
    expect(view.locator(".ft-add__btn")).to_have_count(0)


def test_the_tree_at_desktop_width(browser: Browser, server: str) -> None:
    ctx = browser.new_context(
        base_url=server,
        viewport={"width": 1280, "height": 860},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    try:
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, "admin")
        _open_designer(page)
        group = page.get_by_test_id("flow-canvas").locator(".ft-group").first
        group.scroll_into_view_if_needed()
        expect(group).to_be_in_viewport()
        shot(page, "flow-designer-desktop")
        # Settings open in a right-hand drawer on a wide screen.
        page.locator("[data-testid^='node-']", has_text="风控审核").first.click()
        drawer = page.locator(".van-popup--right", has=page.get_by_test_id("settings-sheet"))
        expect(drawer).to_be_visible()
        expect(drawer.get_by_test_id("field-permissions")).to_contain_text("申请金额")
        shot(page, "flow-designer-desktop-settings")
        assert not errors, errors
    finally:
        ctx.close()
