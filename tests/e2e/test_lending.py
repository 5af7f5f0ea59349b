"""Lending at 375×812: finance disburses a loan from a product quote; an admin edits a product."""

import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login


def _a_demo_customer(page: Page) -> dict:
    """One of the demo customers, found the way an integration would: the API, as finance."""
    response = page.request.get("/api/v1/customers", params={"kind": "individual", "page_size": 5})
    assert response.ok, response.text()
    items = response.json()["items"]
    assert items, "the demo seed has customers"
    return items[0]


def _loans_of(page: Page, customer_id: int) -> list[dict]:
    response = page.request.get("/api/v1/lending/loans", params={"customer_id": customer_id})
    assert response.ok, response.text()
    return response.json()["items"]


def _yuan(text: str) -> Decimal:
    return Decimal(text.replace(",", "").replace("¥", "").strip())


def test_finance_disburses_a_consumer_loan(page: Page) -> None:
    login(page, "finance")
    customer = _a_demo_customer(page)
    before = len(_loans_of(page, customer["id"]))

    page.goto(f"/lending/disburse?customer={customer['id']}")
    expect(page.get_by_test_id("disburse-customer")).to_contain_text(customer["name"])
    page.get_by_test_id("disburse-product-consumer").click()
    expect(page.get_by_test_id("disburse-product-consumer")).to_have_attribute(
        "aria-checked", "true"
    )
    page.get_by_test_id("disburse-amount").fill("100000")
    page.get_by_test_id("disburse-periods").fill("12")
    page.get_by_test_id("disburse-rate").fill("12")
    shot(page, "lending-disburse-form")
    page.get_by_test_id("disburse-quote").click()

    # The quote: the server's schedule for the product, with the APR against the product cap.
    expect(page.get_by_test_id("disburse-installment")).to_have_text("¥8,884.88")
    expect(page.get_by_test_id("disburse-apr")).to_have_text("12.00%")
    expect(page.get_by_test_id("disburse-net")).to_have_text("¥100,000.00")
    expect(page.get_by_test_id("disburse-cap-warning")).to_have_count(0)
    expect(page.get_by_test_id("disburse-schedule-row-12")).to_have_count(1)
    expect(page.get_by_test_id("disburse-schedule-totals")).to_contain_text("100,000.00")
    page.get_by_test_id("disburse-quote-result").scroll_into_view_if_needed()
    shot(page, "lending-disburse-quote")

    expect(page.get_by_test_id("disburse-account-name")).to_have_value(customer["name"])
    page.get_by_test_id("disburse-account-number").fill("6222020200112233445")
    page.get_by_test_id("disburse-bank-name").fill("中国工商银行北京海淀支行")
    confirm = page.get_by_test_id("disburse-confirm")
    expect(confirm).to_be_enabled()
    expect(confirm).to_have_text("确认放款 ¥100,000.00")
    confirm.scroll_into_view_if_needed()
    shot(page, "lending-disburse-confirm")
    # A double tap: the button locks on the first, the key makes any second request a replay.
    confirm.dblclick()

    expect(page).to_have_url(re.compile(r"/loans/\d+$"))
    expect(page.get_by_test_id("loan-contract-no")).to_have_text(re.compile(r"^HT\d{12}$"))
    expect(page.get_by_test_id("loan-principal")).to_have_text("¥100,000.00")
    expect(page.get_by_test_id("loan-rate")).to_have_text("12.00%")
    expect(page.get_by_test_id("loan-apr")).to_have_text("12.00%")
    expect(page.get_by_test_id("loan-status")).to_have_text("还款中")
    expect(page.get_by_test_id("loan-customer")).to_contain_text(customer["name"])
    expect(page.get_by_test_id("loan-product")).to_contain_text("个人消费贷")
    expect(page.get_by_test_id("loan-disbursement")).to_contain_text("**** **** **** 3445")
    expect(page.locator(".van-toast")).to_be_hidden()  # "放款成功" fades out
    shot(page, "lending-loan-detail")

    rows = page.locator("[data-testid^=loan-schedule-row-]")
    expect(rows).to_have_count(12)
    principals = rows.locator("[data-col=principal]").all_inner_texts()
    assert sum(_yuan(p) for p in principals) == Decimal("100000.00")
    expect(
        page.get_by_test_id("loan-schedule-totals").locator("[data-col=principal]")
    ).to_have_text("100,000.00")
    page.get_by_test_id("loan-schedule").scroll_into_view_if_needed()
    shot(page, "lending-loan-schedule")

    # Exactly one loan came out of the double tap.
    loans = _loans_of(page, customer["id"])
    assert len(loans) == before + 1
    assert loans[0]["principal"] == "100000.00" and loans[0]["periods"] == 12


def test_cap_refused_terms_name_the_rate(page: Page) -> None:
    """个人消费贷 refuses an APR over its 24 % cap; the range check speaks first for 18 %+."""
    login(page, "finance")
    customer = _a_demo_customer(page)
    page.goto(f"/lending/disburse?customer={customer['id']}")
    page.get_by_test_id("disburse-product-consumer").click()
    page.get_by_test_id("disburse-amount").fill("5000")
    page.get_by_test_id("disburse-periods").fill("48")
    page.get_by_test_id("disburse-rate").fill("20")
    page.get_by_test_id("disburse-quote").click()
    form = page.get_by_test_id("disburse-form")
    expect(form).to_contain_text("金额须在 ¥10,000.00 到 ¥200,000.00 之间")
    expect(form).to_contain_text("期数须在 3 到 36 期之间")
    expect(form).to_contain_text("年利率须在 7.20% 到 18.00% 之间")
    expect(page.get_by_test_id("disburse-confirm")).to_have_count(0)
    shot(page, "lending-disburse-out-of-range")


def test_admin_edits_a_product(page: Page) -> None:
    login(page, "admin")
    page.goto("/me")
    page.get_by_test_id("me-admin-products").click()
    expect(page).to_have_url(re.compile(r"/manage/products$"))
    expect(page.get_by_test_id("products-list")).to_contain_text("个人消费贷")
    expect(page.get_by_test_id("products-list")).to_contain_text("小微经营贷")
    expect(page.get_by_test_id("products-list")).to_contain_text("短期周转贷")
    shot(page, "lending-products")

    page.get_by_test_id("product-short_bridge").click()
    expect(page.get_by_test_id("product-name")).to_have_value("短期周转贷")
    expect(page.get_by_test_id("product-method").locator("input")).to_have_value("先息后本")
    shot(page, "lending-product-edit")
    # An inverted range is refused with the field named.
    page.get_by_test_id("product-max_periods").fill("0")
    page.get_by_test_id("product-save").click()
    form = page.get_by_test_id("product-form")
    expect(form).to_contain_text("须在 1 到 600 之间")
    page.get_by_test_id("product-max_periods").fill("24")
    page.get_by_test_id("product-allocation-penalty").get_by_role("button").nth(1).click()
    expect(page.get_by_test_id("product-allocation-order").locator("li").first).to_contain_text(
        "费用"
    )
    page.get_by_test_id("product-allocation-order").scroll_into_view_if_needed()
    shot(page, "lending-product-allocation")
    page.get_by_test_id("product-save").click()
    expect(page).to_have_url(re.compile(r"/manage/products$"))
    expect(page.get_by_test_id("product-short_bridge")).to_contain_text("1–24 期")
