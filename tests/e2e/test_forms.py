"""The form engine at 375×812: an admin designs and publishes a form and shares it; an anonymous
borrower fills it in on a phone; the officer who shared a link finds the record and the customer."""

import re
from collections.abc import Callable

from playwright.sync_api import Browser, BrowserContext, Page, expect
from stdnum.cn import ric

from tests.e2e.conftest import PHONE, shot
from tests.e2e.test_shell import login


def _add_field(
    page: Page, type_: str, label: str, key: str, more: Callable[[], None] | None = None
) -> None:
    page.get_by_test_id("designer-add").click()
    page.get_by_test_id("palette").get_by_test_id(f"palette-type-{type_}").click()
    page.get_by_test_id("setting-label").fill(label)
    page.get_by_test_id("setting-key").fill(key)
    if more is not None:
        more()
    page.get_by_test_id("settings-done").click()
    expect(page.get_by_test_id("field-settings")).to_be_hidden()
    expect(page.get_by_test_id(f"canvas-field-{key}")).to_be_visible()


def _anonymous(browser: Browser, server: str) -> BrowserContext:
    """A borrower's phone: a fresh browser context without the staff's cookies."""
    return browser.new_context(
        base_url=server,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )


def _share(page: Page) -> str:
    sheet = page.get_by_test_id("share-sheet")
    expect(sheet).to_be_visible()
    sheet.get_by_test_id("share-create").click()
    expect(sheet.get_by_test_id("share-qr")).to_be_visible()
    url = sheet.get_by_test_id("share-url").inner_text().strip()
    match = re.search(r"/f/([A-Za-z0-9_-]+)$", url)
    assert match, url
    return match.group(1)


def test_admin_designs_publishes_and_shares_a_form_a_borrower_fills_in(
    page: Page, browser: Browser, server: str
) -> None:
    login(page, "admin")
    page.goto("/manage/forms")
    expect(page.get_by_test_id("form-row-loan_application")).to_be_visible()
    page.get_by_test_id("forms-create").click()
    page.get_by_test_id("form-create-name").fill("消费贷快速申请")
    page.get_by_test_id("form-create-code").fill("quick_loan")
    page.get_by_test_id("form-create-submit").click()
    expect(page).to_have_url(re.compile(r"/manage/forms/quick_loan/design$"))

    # 12 field types: section, text, phone, money, number, 大写金额, formula, radio, a textarea
    # shown only when there is collateral, date, switch and a sub-table of contacts.
    _add_field(page, "section", "基本信息", "basic")
    _add_field(
        page, "text", "姓名", "name", lambda: page.get_by_test_id("setting-required").click()
    )
    _add_field(
        page, "phone", "手机号", "mobile", lambda: page.get_by_test_id("setting-required").click()
    )
    _add_field(
        page, "money", "贷款金额", "amount", lambda: page.get_by_test_id("setting-required").click()
    )

    def term_settings() -> None:
        page.get_by_test_id("setting-precision").fill("0")
        page.get_by_test_id("setting-precision").blur()
        page.get_by_test_id("validation-min").fill("1")
        page.get_by_test_id("validation-min").blur()
        page.get_by_test_id("validation-max").fill("60")
        page.get_by_test_id("validation-max").blur()

    _add_field(page, "number", "期限(月)", "term", term_settings)
    _add_field(
        page,
        "amount_capital",
        "大写金额",
        "amount_words",
        lambda: expect(page.get_by_test_id("setting-source")).to_have_value("amount"),
    )

    def formula_settings() -> None:
        page.get_by_test_id("setting-formula-text").fill("ROUND(amount / term, 2")
        page.get_by_test_id("setting-formula-check").click()
        # The server says what is wrong, and where.
        expect(page.get_by_test_id("setting-formula-result")).to_be_visible()
        expect(page.get_by_test_id("setting-formula-result").locator("mark")).to_be_visible()
        page.get_by_test_id("setting-formula-text").fill("ROUND(amount / term, 2)")
        page.get_by_test_id("setting-formula-check").click()
        expect(page.get_by_test_id("setting-formula-result")).to_contain_text("公式正确")
        page.get_by_test_id("setting-result_type").select_option("money")
        shot(page, "forms-designer-formula")

    _add_field(page, "formula", "月均本金", "monthly", formula_settings)

    def collateral_options() -> None:
        page.get_by_test_id("setting-options-0-label").fill("有")
        page.get_by_test_id("setting-options-0-value").fill("yes")
        page.get_by_test_id("setting-options-1-label").fill("无")
        page.get_by_test_id("setting-options-1-value").fill("no")

    _add_field(page, "radio", "有无抵押物", "collateral", collateral_options)

    def note_condition() -> None:
        page.get_by_test_id("setting-cond-add-group").click()
        page.get_by_test_id("setting-cond-0-0-field").select_option("collateral")
        page.get_by_test_id("setting-cond-0-0-op").select_option("==")
        page.get_by_test_id("setting-cond-0-0-value").select_option("yes")
        expect(page.get_by_test_id("setting-cond-json")).to_have_text(
            '{"==":[{"var":"collateral"},"yes"]}'
        )
        shot(page, "forms-designer-condition")

    _add_field(page, "textarea", "抵押物说明", "collateral_note", note_condition)
    _add_field(page, "date", "期望放款日", "expected_date")
    _add_field(
        page,
        "switch",
        "同意查询征信",
        "consent",
        lambda: page.get_by_test_id("setting-required").click(),
    )

    def contact_columns() -> None:
        page.get_by_test_id("setting-child-0").click()
        page.get_by_test_id("setting-label").fill("联系人姓名")
        page.get_by_test_id("setting-key").fill("contact_name")
        page.get_by_test_id("setting-back").click()
        page.get_by_test_id("setting-add-child").select_option("phone")
        page.get_by_test_id("setting-label").fill("联系电话")
        page.get_by_test_id("setting-key").fill("phone")
        page.get_by_test_id("setting-back").click()
        expect(page.get_by_test_id("setting-child-1")).to_contain_text("联系电话")

    _add_field(page, "subtable", "紧急联系人", "contacts", contact_columns)
    expect(page.get_by_test_id("canvas-child-contacts-phone")).to_be_visible()
    shot(page, "forms-designer")

    page.get_by_test_id("designer-save").click()
    expect(page.locator(".van-toast")).to_contain_text("已保存")
    page.get_by_test_id("designer-more").click()
    page.locator(".van-action-sheet").get_by_text("校验").click()
    expect(page.locator(".van-toast").filter(has_text="没有发现问题")).to_be_visible()
    page.get_by_test_id("designer-publish").click()
    page.locator(".van-dialog").get_by_role("button", name="发布").click()
    expect(page.locator(".van-toast").filter(has_text="已发布 v1")).to_be_visible()

    page.get_by_test_id("designer-more").click()
    page.locator(".van-action-sheet").get_by_text("分享").click()
    token = _share(page)
    shot(page, "forms-share")

    # --- the borrower, on a phone without the staff's cookies ---------------------------------
    borrower_ctx = _anonymous(browser, server)
    borrower = borrower_ctx.new_page()
    errors: list[str] = []
    borrower.on("pageerror", lambda exc: errors.append(str(exc)))
    borrower.goto(f"/f/{token}")
    expect(borrower.get_by_test_id("public-title")).to_have_text("消费贷快速申请")
    expect(borrower.get_by_test_id("tabbar")).to_have_count(0)
    honeypot = borrower.get_by_test_id("public-honeypot")
    expect(honeypot).to_have_attribute("tabindex", "-1")
    expect(borrower.locator(".pub__hp")).to_have_attribute("aria-hidden", "true")
    expect(borrower.get_by_test_id("field-collateral_note")).to_have_count(0)

    borrower.get_by_test_id("field-name").fill("张小三")
    borrower.get_by_test_id("field-mobile").fill("13912345678")
    borrower.get_by_test_id("field-amount").fill("120000")
    borrower.get_by_test_id("field-term").fill("12")
    # Formula and amount in words, live from the server.
    expect(borrower.get_by_test_id("field-monthly")).to_have_value("¥10,000.00")
    expect(borrower.get_by_test_id("field-amount_words")).to_have_value("壹拾贰万元整")
    # The condition reveals the collateral note.
    borrower.get_by_test_id("field-collateral-option-yes").click()
    expect(borrower.get_by_test_id("field-collateral_note")).to_be_visible()
    borrower.get_by_test_id("field-collateral_note").fill("北京市朝阳区住房一套")
    borrower.get_by_test_id("field-consent").click()
    borrower.get_by_test_id("field-contacts-add").click()
    borrower.get_by_test_id("field-contacts-0-contact_name").fill("张父")
    borrower.get_by_test_id("field-contacts-0-phone").fill("13811112222")
    shot(borrower, "forms-public-filled")

    # A wrong value comes back under its sub-table cell.
    borrower.get_by_test_id("field-contacts-0-phone").fill("12345")
    borrower.get_by_test_id("public-submit").click()
    cell = borrower.locator('[data-field="contacts[0].phone"]')
    expect(cell.locator(".van-field__error-message")).to_contain_text("手机号")
    shot(borrower, "forms-public-error")
    borrower.get_by_test_id("field-contacts-0-phone").fill("13811112222")
    borrower.get_by_test_id("public-submit").click()

    expect(borrower.get_by_test_id("public-success")).to_be_visible()
    expect(borrower.locator(".van-toast")).to_be_hidden()  # the earlier error toast is gone
    shot(borrower, "forms-public-success")
    borrower.get_by_test_id("public-status-link").click()
    # The link alone shows no status: the borrower first proves the application's phone
    # (the whole verification is driven in test_approvals.py).
    expect(borrower.get_by_test_id("status-verify")).to_be_visible()
    expect(borrower.get_by_test_id("public-status-label")).to_have_count(0)
    shot(borrower, "forms-public-status")
    assert not errors, errors
    borrower_ctx.close()

    # --- the link's creator sees the record ------------------------------------------------------
    page.goto("/forms/quick_loan/records")
    card = page.locator('[data-testid^="record-"]').filter(has_text="张小三")
    expect(card).to_be_visible()
    expect(card).to_contain_text("¥120,000.00")
    shot(page, "forms-records")
    card.click()
    expect(page.get_by_test_id("record-head")).to_contain_text("分享链接")
    expect(page.get_by_test_id("field-name")).to_contain_text("张小三")
    expect(page.get_by_test_id("field-monthly")).to_have_value("¥10,000.00")
    expect(page.get_by_test_id("field-contacts-0-phone")).to_be_visible()
    shot(page, "forms-record-detail")


def _valid_id_number(seq: str) -> str:
    base = f"11010519900307{seq}"
    return base + ric.calc_check_digit(base + "X")  # the function ignores the last character


def test_officer_shares_the_loan_application_and_finds_the_record_and_customer(
    page: Page, browser: Browser, server: str
) -> None:
    login(page, "officer1")
    page.get_by_test_id("home-entry-records").click()
    page.get_by_test_id("forms-index-loan_application").click()
    expect(page).to_have_url(re.compile(r"/forms/loan_application/records$"))
    page.get_by_test_id("records-more").click()
    page.locator(".van-action-sheet").get_by_text("分享").click()
    token = _share(page)

    borrower_ctx = _anonymous(browser, server)
    borrower = borrower_ctx.new_page()
    borrower.goto(f"/f/{token}")
    expect(borrower.get_by_test_id("public-title")).to_have_text("贷款申请")
    # The officer-only customer picker is not on the borrower's form.
    expect(borrower.get_by_test_id("field-customer")).to_have_count(0)
    borrower.get_by_test_id("field-applicant_name").fill("赵新客")
    borrower.get_by_test_id("field-applicant_id_number").fill(_valid_id_number("731"))
    borrower.get_by_test_id("field-applicant_phone").fill("13766665555")
    borrower.get_by_test_id("field-product").click()
    borrower.get_by_test_id("field-product-option-consumer").click()
    borrower.get_by_test_id("field-amount").fill("50000")
    borrower.get_by_test_id("field-term").fill("12")
    expect(borrower.get_by_test_id("field-monthly_payment")).to_have_value(re.compile(r"^¥4,44"))
    expect(borrower.get_by_test_id("field-guarantee")).to_have_count(0)
    borrower.get_by_test_id("field-purpose").click()
    borrower.get_by_test_id("field-purpose-option-education").click()
    expect(borrower.get_by_test_id("field-purpose-option-education")).to_be_hidden()
    borrower.get_by_test_id("field-applicant_income").fill("9000")
    shot(borrower, "forms-public-loan-application")
    borrower.get_by_test_id("public-submit").click()
    expect(borrower.get_by_test_id("public-success")).to_be_visible()
    expect(borrower.get_by_test_id("public-serial")).to_have_text(re.compile(r"^SQ\d{12}$"))
    borrower_ctx.close()

    # The record and the customer belong to officer1, who shared the link.
    page.goto("/forms/loan_application/records")
    card = page.locator('[data-testid^="record-"]').filter(has_text="赵新客")
    expect(card).to_be_visible()
    expect(card).to_contain_text("王小明")
    page.goto("/customers")
    page.get_by_test_id("customers-search").fill("赵新客")
    expect(page.get_by_test_id("customers-list")).to_contain_text("赵新客")
    shot(page, "forms-new-customer")
