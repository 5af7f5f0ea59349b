"""数据看板 at 375×812: the manager opens 经营驾驶舱 and drills company → branch → team → officer
→ loan list by tapping bars; an admin builds a chart in the designer and adds it to a dashboard;
a screenshot of every shipped dashboard is kept as an artefact."""

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import ARTIFACTS, shot
from tests.e2e.test_shell import login


def _wait_for_charts(page: Page) -> None:
    expect(page.get_by_test_id("dashboard-grid")).to_be_visible()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-widget] .van-loading').length === 0",
        timeout=20_000,
    )
    page.wait_for_timeout(600)  # let ECharts paint


def _tap_middle(canvas: Locator) -> None:
    box = canvas.bounding_box()
    assert box is not None
    canvas.page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def _open_dashboard(page: Page, code: str) -> None:
    page.goto("/reports")
    page.get_by_test_id(f"dashboard-{code}").click()
    _wait_for_charts(page)


def test_manager_drills_from_company_to_the_loans_of_an_officer(page: Page) -> None:
    login(page, "manager")
    page.get_by_test_id("home-entry-reports").click()
    expect(page).to_have_url(re.compile(r"/reports$"))
    shot(page, "reports-list")
    page.get_by_test_id("dashboard-management").click()
    _wait_for_charts(page)
    expect(page.get_by_test_id("kpi").first).to_be_visible()
    shot(page, "reports-management-top")

    widget = page.get_by_test_id("widget-c1")  # 贷款余额 · 按组织
    widget.scroll_into_view_if_needed()
    canvas = widget.locator("canvas").first
    expect(canvas).to_be_visible()
    crumbs = widget.get_by_test_id("breadcrumbs")
    _tap_middle(canvas)  # company → its branches
    expect(crumbs).to_have_text("全部›总部")
    page.wait_for_timeout(500)
    _tap_middle(canvas)  # branch → its teams
    expect(crumbs).to_have_text("全部›总部›北京分公司")
    page.wait_for_timeout(500)
    shot(page, "reports-drill-branch")
    _tap_middle(canvas)  # team → its officers
    expect(crumbs).to_have_text(re.compile(r"^全部›总部›北京分公司›北京[一二]组$"))
    page.wait_for_timeout(500)
    shot(page, "reports-drill-team")
    # back up one level with the breadcrumb, then down again
    crumbs.get_by_text("总部", exact=True).click()
    expect(crumbs).to_have_text("全部›总部")
    page.wait_for_timeout(500)
    _tap_middle(canvas)
    expect(crumbs).to_have_text("全部›总部›北京分公司")
    page.wait_for_timeout(500)
    _tap_middle(canvas)
    expect(crumbs).to_have_text(re.compile(r"北京[一二]组$"))
    page.wait_for_timeout(500)
    _tap_middle(canvas)  # officer → the list of that officer's loans
    expect(page).to_have_url(re.compile(r"/reports/records\?"))
    title = page.locator(".van-nav-bar__title")
    expect(title).to_contain_text("贷款余额 · 按组织 · ")
    officer = title.inner_text().split(" · ")[-1]
    items = page.get_by_test_id("record-item")
    expect(items.first).to_be_visible()
    expect(page.get_by_test_id("records-count")).to_contain_text(re.compile(r"共 \d+ 条"))
    for text in items.all_inner_texts():
        assert officer in text
    shot(page, "reports-drill-loans")
    items.first.click()
    expect(page).to_have_url(re.compile(r"/loans/\d+$"))


def test_admin_builds_a_chart_and_adds_it_to_a_dashboard(page: Page) -> None:
    login(page, "admin")
    page.goto("/me")
    page.get_by_test_id("me-admin-dashboards").click()
    expect(page).to_have_url(re.compile(r"/manage/dashboards$"))
    page.get_by_test_id("design-mine").click()
    expect(page.get_by_test_id("dashboard-name").locator("input")).to_have_value("我的业绩")
    before = page.get_by_test_id("designer-widget").count()
    page.get_by_test_id("widget-add").click()
    editor = page.get_by_test_id("widget-editor")
    expect(editor).to_be_visible()
    editor.get_by_test_id("widget-title").locator("input").fill("产品放款金额")
    editor.get_by_test_id("metric-disbursement_amount").click()
    editor.get_by_test_id("chart-hbar").click()
    editor.get_by_test_id("dim-product").click()
    editor.get_by_role("button", name="近 12 个月").click()
    expect(editor.locator("canvas").first).to_be_visible()  # live preview
    page.wait_for_timeout(600)
    shot(page, "reports-designer-editor")
    editor.get_by_test_id("widget-apply").click()
    expect(page.get_by_test_id("designer-widget")).to_have_count(before + 1)
    expect(page.get_by_test_id("designer-widget").last).to_contain_text("产品放款金额")
    page.get_by_test_id("dashboard-save").click()
    expect(page.locator(".van-toast")).to_contain_text("已保存")
    shot(page, "reports-designer-saved")

    _open_dashboard(page, "mine")
    added = page.locator("[data-widget]").filter(has_text="产品放款金额")
    expect(added).to_have_count(1)
    added.scroll_into_view_if_needed()
    expect(added.locator("canvas")).to_be_visible()
    page.wait_for_timeout(400)
    shot(page, "reports-mine-with-new-chart")


def test_screenshots_of_the_shipped_dashboards(page: Page) -> None:
    login(page, "admin")
    for code in ("management", "risk", "collections", "mine"):
        _open_dashboard(page, code)
        expect(page.locator("[data-widget]").first).to_be_visible()
        failed = page.locator(".rw__state, .aw__state").filter(has_text="加载失败")
        expect(failed).to_have_count(0)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"reports-dashboard-{code}.png"), full_page=True)
    # the PNG export composes the dashboard into one image
    with page.expect_download() as download:
        page.get_by_test_id("dashboard-actions").click()
        page.locator(".van-action-sheet").get_by_text("导出图片").click()
    path = download.value.path()
    assert path is not None
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_risk_officer_reads_vintage_and_roll_rate_and_opens_the_loans(page: Page) -> None:
    login(page, "risk")
    _open_dashboard(page, "risk")
    vintage = page.get_by_test_id("widget-v1")
    vintage.scroll_into_view_if_needed()
    expect(vintage.locator("canvas").first).to_be_visible()
    page.wait_for_timeout(500)
    vintage.screenshot(path=str(ARTIFACTS / "reports-vintage-lines.png"))
    vintage.get_by_test_id("analysis-table").click()
    expect(vintage.get_by_test_id("vintage-table")).to_be_visible()
    vintage.get_by_test_id("vintage-m3").click()
    vintage.screenshot(path=str(ARTIFACTS / "reports-vintage-table.png"))

    roll = page.get_by_test_id("widget-v2")
    roll.scroll_into_view_if_needed()
    matrix = roll.get_by_test_id("roll-rate-matrix")
    expect(matrix).to_be_visible()
    roll.screenshot(path=str(ARTIFACTS / "reports-roll-rate-matrix.png"))
    roll.get_by_test_id("analysis-chart").click()
    expect(roll.locator("canvas").first).to_be_visible()
    page.wait_for_timeout(500)
    roll.screenshot(path=str(ARTIFACTS / "reports-roll-rate-sankey.png"))
    roll.get_by_test_id("analysis-table").click()
    # The M0 → M0 cell of a live book always has loans: tap it for the list behind it.
    cell = roll.get_by_test_id("cell-M0-M0")
    count = int(cell.locator("small").inner_text())
    assert count > 0
    cell.click()
    expect(page).to_have_url(re.compile(r"/reports/records\?"))
    expect(page.get_by_test_id("record-item").first).to_be_visible()
    expect(page.get_by_test_id("records-count")).to_contain_text("条")
    shot(page, "reports-roll-rate-loans")


def test_admin_subscribes_to_a_dashboard_by_email(page: Page) -> None:
    login(page, "admin")
    _open_dashboard(page, "risk")
    page.get_by_test_id("dashboard-actions").click()
    page.locator(".van-action-sheet").get_by_text("订阅").click()
    sheet = page.get_by_test_id("subscribe-sheet")
    expect(sheet).to_be_visible()
    sheet.get_by_test_id("subscribe-time").locator("input").fill("08:30")
    sheet.get_by_test_id("subscribe-role-risk").click()
    sheet.get_by_test_id("subscribe-save").click()
    expect(sheet.get_by_test_id("subscription")).to_have_count(1)
    expect(sheet.get_by_test_id("subscription")).to_contain_text("每天 08:30")
    shot(page, "reports-subscribe")
