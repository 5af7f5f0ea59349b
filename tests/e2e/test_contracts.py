"""Contract templates at 375×812: the admin edits the demo template on a phone, inserts a
placeholder at the cursor, sees a refused placeholder pointed out, saves, and previews the PDF."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shot
from tests.e2e.test_shell import login


def test_admin_edits_inserts_saves_and_previews_a_contract_template(page: Page) -> None:
    login(page, "admin")
    page.goto("/manage/contract-templates")
    row = page.get_by_test_id("contract-template-loan_contract")
    expect(row).to_contain_text("个人借款合同")
    version = int(re.search(r"第 (\d+) 版", row.inner_text()).group(1))  # type: ignore[union-attr]
    shot(page, "contracts-templates-list")
    row.click()

    body = page.get_by_test_id("contract-template-body")
    expect(body).to_have_value(re.compile(r"^贷款人\(甲方\)"))
    # A new clause at the top; the cursor sits after "借款用途:" when the picker opens.
    text = body.input_value()
    clause = "# 第零条 特别约定\n\n借款用途:\n\n"
    body.fill(clause + text)
    cursor = len("# 第零条 特别约定\n\n借款用途:")
    body.evaluate(f"el => el.setSelectionRange({cursor}, {cursor})")
    body.blur()
    page.get_by_test_id("contract-template-insert").click()
    picker = page.get_by_test_id("placeholder-picker")
    expect(picker.get_by_test_id("placeholder-form.purpose")).to_be_visible()
    shot(page, "contracts-placeholder-picker")
    picker.get_by_test_id("placeholder-form.purpose").click()
    expect(body).to_have_value(
        re.compile(r"^# 第零条 特别约定\n\n借款用途:\{\{form\.purpose\}\}\n\n贷款人")
    )

    # An unknown placeholder is refused with the line it is on, and nothing is saved.
    good = body.input_value()
    body.fill(good.replace("借款用途:{{form.purpose}}", "借款用途:{{purpose}}"))
    page.get_by_test_id("contract-template-save").click()
    error = page.locator(".van-field__error-message")
    expect(error).to_have_text("第 3 行:未知的占位符 {{purpose}}")
    shot(page, "contracts-template-error")

    body.fill(good)
    page.get_by_test_id("contract-template-save").click()
    expect(page.locator(".van-toast")).to_contain_text(f"已保存(第 {version + 1} 版)")
    expect(error).to_have_count(0)
    saved = page.request.get("/api/v1/contracts/templates/loan_contract").json()
    assert saved["version"] == version + 1
    assert saved["body"].startswith("# 第零条 特别约定\n\n借款用途:{{form.purpose}}")
    shot(page, "contracts-template-saved")

    page.get_by_test_id("contract-template-preview").click()
    sheet = page.get_by_test_id("contract-preview")
    expect(sheet.get_by_test_id("contract-preview-meta")).to_contain_text(
        re.compile(r"PDF · \d+ 页")
    )
    href = sheet.get_by_test_id("contract-preview-open").get_attribute("href")
    assert href and href.startswith("blob:")
    shot(page, "contracts-preview")

    # The same request through the API: rendering is deterministic, so the PDF the sheet
    # describes has exactly these pages and this size.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        "/api/v1/contracts/templates/loan_contract/preview",
        data={"body": good},
        headers={"X-CSRFToken": csrf, "Referer": page.url},
    )
    assert response.ok, response.text()
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    assert pdf.startswith(b"%PDF-1.") and b"/BaseFont /STSong-Light" in pdf
    pages = len(re.findall(rb"/Type /Page\b(?!s)", pdf))
    assert pages >= 2
    expect(sheet.get_by_test_id("contract-preview-meta")).to_have_text(
        f"PDF · {pages} 页 · {len(pdf) / 1024:.1f} KB"
    )
