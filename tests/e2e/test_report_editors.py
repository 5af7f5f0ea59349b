"""Report admin pages at 375×812: an admin defines a custom metric over the loan application
form (sum of the amount, product = 个人消费贷), sees its live preview, saves it, puts it on a
dashboard as a KPI card and reads the same number there; an admin enters a channel cost (a bad
amount first) and sees the acquisition cost it makes in a channel table."""

import re
from decimal import ROUND_HALF_UP, Decimal

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_reports import _open_dashboard, _wait_for_charts
from tests.e2e.test_shell import login


def _yuan(text: str) -> Decimal:
    match = re.search(r"¥([\d,]+\.\d{2})", text)
    assert match, text
    return Decimal(match.group(1).replace(",", ""))


def _add_widget(page: Page, title: str, metrics: list[str], chart: str, dim: str | None) -> None:
    page.get_by_test_id("widget-add").click()
    editor = page.get_by_test_id("widget-editor")
    expect(editor).to_be_visible()
    editor.get_by_test_id("widget-title").locator("input").fill(title)
    for key in metrics:
        editor.get_by_test_id(f"metric-{key}").click()
    editor.get_by_test_id(f"chart-{chart}").click()
    if dim:
        editor.get_by_test_id(f"dim-{dim}").click()
    page.wait_for_timeout(500)
    shot(page, f"report-editors-widget-{chart}")
    editor.get_by_test_id("widget-apply").click()
    page.get_by_test_id("dashboard-save").click()
    expect(page.locator(".van-toast")).to_contain_text("已保存")


def test_admin_creates_a_custom_metric_previews_it_and_puts_it_on_a_dashboard(page: Page) -> None:
    login(page, "admin")
    page.goto("/me")
    page.get_by_test_id("me-admin-dashboards").click()
    page.get_by_test_id("design-custom-metrics").click()
    expect(page).to_have_url(re.compile(r"/manage/dashboards/metrics$"))
    page.get_by_test_id("metric-new").click()

    editor = page.get_by_test_id("metric-editor")
    editor.get_by_test_id("metric-label").locator("input").fill("消费贷申请金额")
    editor.get_by_test_id("metric-label-en").locator("input").fill("Consumer amount applied")
    expect(editor.get_by_test_id("metric-key").locator("input")).to_have_value(
        "consumer_amount_applied"
    )
    editor.get_by_test_id("metric-form").click()
    page.locator(".van-action-sheet").get_by_text("贷款申请", exact=True).click()

    editor.get_by_test_id("agg-sum").click()
    # sum offers only numbers: the amount and the term, not the customer relation or the product
    expect(editor.get_by_test_id("field-customer")).to_have_count(0)
    expect(editor.get_by_test_id("field-product")).to_have_count(0)
    editor.get_by_test_id("field-amount").click()
    expect(editor.get_by_test_id("unit-money")).to_have_class(re.compile(r"\bon\b"))

    # everything applied for, then only 个人消费贷: the preview follows
    value = editor.get_by_test_id("preview-value")
    expect(value).to_contain_text("¥")
    total = _yuan(value.inner_text())
    assert total > 0

    editor.get_by_test_id("filter-add").click()
    row = editor.get_by_test_id("filter-row")
    row.get_by_test_id("filter-field").click()
    page.locator(".van-action-sheet").get_by_text("产品", exact=True).click()
    row.get_by_test_id("option-consumer").click()
    # a new amount (while the row is incomplete the preview shows — and waits)
    expect(value).to_have_text(re.compile(rf"^¥(?!{re.escape(f'{total:,.2f}')}$)[\d,.]+$"))
    consumer = _yuan(value.inner_text())
    assert 0 < consumer < total

    # a mistyped number filter is flagged on its row and the preview waits
    editor.get_by_test_id("filter-add").click()
    second = editor.get_by_test_id("filter-row").nth(1)
    second.get_by_test_id("filter-field").click()
    page.locator(".van-action-sheet").get_by_text("申请金额", exact=True).click()
    second.get_by_test_id("op-gte").click()
    second.get_by_test_id("filter-value").locator("input").fill("十万")
    expect(second.get_by_test_id("filter-error")).to_have_text("请输入数字")
    second.get_by_test_id("filter-value").locator("input").fill("1")
    expect(second.get_by_test_id("filter-error")).to_have_count(0)
    expect(value).to_have_text(re.compile(re.escape(f"{consumer:,.2f}")))
    editor.get_by_test_id("metric-preview").scroll_into_view_if_needed()
    shot(page, "report-editors-metric-preview")

    editor.get_by_test_id("metric-save").click()
    expect(page.locator(".van-toast")).to_contain_text("已保存")
    expect(page).to_have_url(re.compile(r"/manage/dashboards/metrics$"))
    expect(page.get_by_test_id("custom-metric-consumer_amount_applied")).to_contain_text(
        "消费贷申请金额"
    )
    shot(page, "report-editors-metric-list")

    # the metric is in the widget editor's picker: a KPI card on 我的业绩
    page.goto("/manage/dashboards")
    page.get_by_test_id("design-mine").click()
    expect(page.get_by_test_id("dashboard-name").locator("input")).to_have_value("我的业绩")
    _add_widget(page, "消费贷申请", ["custom.consumer_amount_applied"], "kpi", None)

    _open_dashboard(page, "mine")
    card = page.locator("[data-widget]").filter(has_text="消费贷申请金额")
    expect(card).to_have_count(1)
    card.scroll_into_view_if_needed()
    wan = (consumer / 10_000).quantize(Decimal("0.01"), ROUND_HALF_UP)
    expected = f"¥{wan}万" if consumer >= 10_000 else f"¥{consumer:,.2f}"
    expect(card.get_by_test_id("kpi")).to_contain_text(expected)
    page.wait_for_timeout(300)
    shot(page, "report-editors-kpi-on-dashboard")


def test_admin_enters_a_channel_cost_and_sees_the_acquisition_cost(page: Page) -> None:
    login(page, "admin")
    page.goto("/manage/dashboards")
    page.get_by_test_id("design-channel-costs").click()
    expect(page).to_have_url(re.compile(r"/manage/dashboards/channel-costs$"))
    page.get_by_test_id("cost-add").click()
    sheet = page.get_by_test_id("cost-sheet")
    sheet.get_by_test_id("cost-channel").click()
    page.locator(".van-action-sheet").get_by_text("线上推广", exact=True).click()
    month = sheet.get_by_test_id("cost-month").locator("input").input_value()
    assert re.fullmatch(r"\d{4}-\d{2}", month)
    amount = sheet.get_by_test_id("cost-amount").locator("input")
    for typed, message in (
        ("-5", "成本不能为负数"),
        ("8800.555", "最多保留两位小数"),
        ("12000000000", "成本不能超过"),
        ("八千", "请输入数字金额"),
    ):
        amount.fill(typed)
        sheet.get_by_test_id("cost-save").click()
        expect(sheet.locator(".van-field__error-message")).to_contain_text(message)
    shot(page, "report-editors-cost-error")
    amount.fill("8800.5")
    sheet.get_by_test_id("cost-save").click()
    expect(page.locator(".van-toast")).to_contain_text("已保存")
    entry = page.get_by_test_id(f"cost-online-{month}")
    expect(entry).to_contain_text("¥8,800.50")
    shot(page, "report-editors-costs")

    # edit it: the new amount is what counts
    entry.click()
    amount.fill("9900")
    sheet.get_by_test_id("cost-save").click()
    expect(entry).to_contain_text("¥9,900.00")

    # a channel table this month: cost, new customers and acquisition cost = cost ÷ customers
    page.goto("/manage/dashboards")
    page.get_by_test_id("design-management").click()
    expect(page.get_by_test_id("dashboard-name").locator("input")).to_have_value("经营驾驶舱")
    page.get_by_test_id("widget-add").click()
    editor = page.get_by_test_id("widget-editor")
    editor.get_by_test_id("widget-title").locator("input").fill("渠道获客成本")
    for key in ("channel_cost", "new_customers", "acquisition_cost"):
        editor.get_by_test_id(f"metric-{key}").click()
    editor.get_by_test_id("chart-table").click()
    editor.get_by_test_id("dim-channel").click()
    editor.get_by_role("button", name="本月").click()
    editor.get_by_test_id("widget-apply").click()
    page.get_by_test_id("dashboard-save").click()
    expect(page.locator(".van-toast")).to_contain_text("已保存")

    page.goto("/reports")
    page.get_by_test_id("dashboard-management").click()
    _wait_for_charts(page)
    table = page.locator("[data-widget]").filter(has_text="渠道获客成本")
    table.scroll_into_view_if_needed()
    online = table.locator("tbody tr").filter(has_text="线上推广")
    expect(online).to_have_count(1)
    cells = online.locator("td").all_inner_texts()
    assert _yuan(cells[1]) == Decimal("9900.00"), cells
    customers = int(cells[2].replace(",", ""))
    assert customers > 0, cells  # the demo brings 线上推广 customers every month
    per_head = (Decimal("9900.00") / customers).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert _yuan(cells[3]) == per_head, cells
    page.wait_for_timeout(300)
    table.screenshot(path=_artifact("report-editors-acquisition"))


def _artifact(name: str) -> str:
    from tests.e2e.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / f"{name}.png")
