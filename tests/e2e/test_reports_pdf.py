"""Dashboard → PDF at 375×812: the manager opens 经营驾驶舱, taps 导出 PDF in the dashboard menu
and gets a real multi-page A4 PDF with the dashboard's title, numbers and chart images."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, shot
from tests.e2e.test_shell import login
from tests.lending.test_contracts import page_count
from tests.reports.test_pdf import text_of


def test_manager_exports_the_management_dashboard_as_pdf(page: Page) -> None:
    login(page, "manager")
    page.get_by_test_id("home-entry-reports").click()
    page.get_by_test_id("dashboard-management").click()
    expect(page.get_by_test_id("dashboard-grid")).to_be_visible()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-widget] .van-loading').length === 0",
        timeout=20_000,
    )
    page.wait_for_timeout(800)  # let ECharts paint
    page.get_by_test_id("dashboard-actions").click()
    sheet = page.locator(".van-action-sheet")
    expect(sheet.get_by_text("导出 PDF")).to_be_visible()
    expect(sheet.get_by_text("打印", exact=True)).to_be_in_viewport()
    page.wait_for_timeout(400)  # the sheet's slide-in
    shot(page, "reports-pdf-menu")
    with page.expect_download() as download:
        sheet.get_by_text("导出 PDF").click()
    expect(page.locator(".van-toast").filter(has_text="已导出")).to_be_visible()
    shot(page, "reports-pdf-exported")
    assert re.fullmatch(r"经营驾驶舱-\d{8}-\d{4}\.pdf", download.value.suggested_filename)
    path = download.value.path()
    assert path is not None
    pdf = path.read_bytes()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "reports-management.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-1.")
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf
    assert page_count(pdf) >= 2
    # The five ECharts cards (bar, bar + line, funnel, donut, map) came along as pictures.
    assert len(re.findall(rb"/Subtype /Image", pdf)) == 5
    text = text_of(pdf)
    assert text.startswith("经营驾驶舱")
    for words in ("生成时间", "贷款余额", "放款趋势", "客户地区分布", "客户经理排行", "第 1 页 共"):
        assert words in text, words
