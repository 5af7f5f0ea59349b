"""The loan calculator at 375×812: every figure comes from the server's Decimal loan math."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login


def _amount_error(page: Page):
    field = page.locator(".van-field").filter(has=page.get_by_test_id("calculator-amount"))
    return field.locator(".van-field__error-message")


def test_officer_calculates_compares_and_sees_the_cap_warning(page: Page) -> None:
    login(page, "officer1")
    page.get_by_test_id("home-entry-calculator").click()
    expect(page).to_have_url(re.compile(r"/calculator$"))
    # The example figures arrive from the server straight away.
    expect(page.get_by_test_id("calculator-result")).to_be_visible()

    page.get_by_test_id("calculator-amount").fill("1000000")
    page.get_by_test_id("calculator-rate").fill("4.9")
    page.get_by_test_id("calculator-term").fill("360")
    page.get_by_test_id("calculator-method-equal_installment").click()
    page.get_by_test_id("calculator-submit").click()

    result = page.get_by_test_id("calculator-result")
    expect(page.get_by_test_id("calculator-installment")).to_have_text("¥5,307.27")
    expect(result).to_contain_text("每期还款")
    expect(result).to_contain_text("等额本息")
    row1 = page.get_by_test_id("calculator-row-1")
    expect(row1.locator("[data-col=interest]")).to_have_text("4,083.33")
    expect(row1.locator("[data-col=principal]")).to_have_text("1,223.94")
    expect(row1.locator("[data-col=total]")).to_have_text("5,307.27")
    expect(page.get_by_test_id("calculator-row-360")).to_have_count(1)
    expect(page.get_by_test_id("calculator-totals")).to_contain_text("1,000,000.00")
    expect(page.get_by_test_id("calculator-cap-warning")).to_have_count(0)

    # ECharts is fetched on this page only and draws on a canvas.
    canvas = page.get_by_test_id("calculator-chart").locator("canvas")
    expect(canvas).to_have_count(1)
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] >= 200

    compare = page.get_by_test_id("calculator-compare")
    expect(compare.locator("tbody tr")).to_have_count(5)
    expect(page.get_by_test_id("calculator-compare-equal_installment")).to_contain_text("5,307.27")
    expect(page.get_by_test_id("calculator-compare-equal_principal")).to_contain_text("6,861.11")
    shot(page, "calculator")
    page.get_by_test_id("calculator-chart").scroll_into_view_if_needed()
    shot(page, "calculator-chart")

    # Switching the method recalculates on the server.
    page.get_by_test_id("calculator-method-equal_principal").click()
    expect(page.get_by_test_id("calculator-installment")).to_have_text("¥6,861.11")
    expect(result).to_contain_text("首期还款")
    expect(page.get_by_test_id("calculator-row-1").locator("[data-col=principal]")).to_have_text(
        "2,777.78"
    )

    # Tapping a row of the comparison switches too.
    page.get_by_test_id("calculator-compare-equal_installment").click()
    expect(page.get_by_test_id("calculator-installment")).to_have_text("¥5,307.27")
    expect(page.get_by_test_id("calculator-compare-equal_installment")).to_have_class(
        re.compile("calc-compare--active")
    )
    compare.scroll_into_view_if_needed()
    shot(page, "calculator-compare")

    # Early payoff quote on the date the calendar proposes.
    page.get_by_test_id("calculator-payoff-date").click()
    page.locator(".van-calendar__confirm").click()
    payoff = page.get_by_test_id("calculator-payoff")
    expect(payoff).to_be_visible()
    expect(payoff).to_contain_text("合计应还")
    expect(page.get_by_test_id("calculator-payoff-total")).to_have_text(
        re.compile(r"^¥[\d,]+\.\d{2}$")
    )
    payoff.scroll_into_view_if_needed()
    shot(page, "calculator-payoff")

    # Above the judicial cap (4 × LPR): a red warning.
    page.get_by_test_id("calculator-rate").fill("36")
    page.get_by_test_id("calculator-submit").click()
    warning = page.get_by_test_id("calculator-cap-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("超过上限")
    expect(page.get_by_test_id("calculator-apr")).not_to_have_text("4.90%")
    warning.scroll_into_view_if_needed()
    shot(page, "calculator-cap")

    # A zero amount: the server's message under the amount field.
    page.get_by_test_id("calculator-amount").fill("0")
    page.get_by_test_id("calculator-submit").click()
    error = _amount_error(page)
    expect(error).to_be_visible()
    expect(error).to_contain_text("贷款金额")
    # The message sits under the field only: no toast repeats it.
    expect(page.locator(".van-toast:visible")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "calculator-error")

    # More settings open below the main inputs.
    page.get_by_test_id("calculator-amount").fill("12000")
    page.get_by_test_id("calculator-more").click()
    expect(page.get_by_test_id("calculator-more-settings")).to_be_visible()
    expect(_amount_error(page)).to_have_count(0)
    shot(page, "calculator-more")

    # The same page on a desktop browser: a centered column, the tables without scrolling.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_test_id("calculator-rate").fill("6")
    page.get_by_test_id("calculator-term").fill("12")
    page.get_by_test_id("calculator-submit").click()
    expect(page.get_by_test_id("calculator-installment")).to_have_text("¥1,032.80")
    page.get_by_test_id("calculator-result").scroll_into_view_if_needed()
    shot(page, "calculator-desktop")
