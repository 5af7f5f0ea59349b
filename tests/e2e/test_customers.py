"""The customer center on a phone (375×812): create a customer with an ID-card photo and a
follow-up, find them by pinyin initials, and import a 1,000-row sheet with exactly 3 bad rows."""

import io
import random
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from PIL import Image, ImageDraw
from playwright.sync_api import BrowserContext, Page, expect
from stdnum.cn import ric

from tests.e2e.conftest import ARTIFACTS, shot
from tests.e2e.test_shell import login


def resident_id(region: str, birth: str, sequence: int) -> str:
    """A valid 18-character resident ID: region + birth date + sequence + check digit."""
    body = f"{region}{birth}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def id_card_png() -> bytes:
    """A small ID-card-shaped PNG (what a phone camera would send, only smaller)."""
    image = Image.new("RGB", (856, 540), "#e9f1fb")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((20, 20, 836, 520), radius=24, outline="#1989fa", width=6)
    draw.rectangle((600, 120, 780, 360), fill="#b8c9e0")
    for y in range(120, 420, 60):
        draw.rectangle((80, y, 520, y + 24), fill="#8a9bb5")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_officer_creates_a_customer_with_id_photo_and_follow_up(
    page: Page, context: BrowserContext
) -> None:
    rng = random.Random()
    id_number = resident_id("110105", "19900307", rng.randint(100, 998))
    mobile = f"139{rng.randint(10_000_000, 99_999_999)}"
    name = "诸葛晓彤"

    login(page, "officer1")
    page.get_by_test_id("tab-customers").click()
    expect(page.get_by_test_id("customers-list")).to_be_visible()
    expect(page.get_by_test_id("customers-scope-mine")).to_have_attribute("aria-selected", "true")
    page.wait_for_timeout(300)
    shot(page, "customers-list")

    # New customer: individual, with ID number and mobile.
    page.get_by_test_id("customers-create").click()
    expect(page).to_have_url(re.compile(r"/customers/new$"))
    page.get_by_test_id("customer-name").fill(name)
    page.get_by_test_id("customer-id-number").fill(id_number)
    page.get_by_test_id("customer-phone").fill(mobile)
    page.get_by_test_id("customer-income").fill("12000")
    page.get_by_test_id("customer-employer").fill("北京华信智能科技有限公司")
    page.get_by_test_id("customer-region").click()
    expect(page.locator(".van-area")).to_be_visible()
    page.locator(".van-area .van-picker__confirm").click()
    expect(page.get_by_test_id("customer-region")).not_to_have_value("")
    shot(page, "customer-new")
    page.get_by_test_id("customer-save").click()

    # The 360 view: masked identity with the derived gender and age.
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    customer_url = page.url
    header = page.get_by_test_id("customer-header")
    expect(header.get_by_test_id("customer-name")).to_have_text(name)
    expect(header.get_by_test_id("pii-id_number")).to_have_text(
        id_number[:3] + "*" * 11 + id_number[-4:]
    )
    expect(header.get_by_test_id("pii-phone")).to_have_text(mobile[:3] + "****" + mobile[-4:])
    # Gender and age come from the ID number (17th digit odd = male).
    gender = "男" if int(id_number[16]) % 2 else "女"
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    age = today.year - 1990 - ((today.month, today.day) < (3, 7))
    expect(header).to_contain_text(f"个人 · {gender} · {age} 岁")
    # Officers may not see personal data unmasked: no eye button.
    expect(page.get_by_test_id("pii-reveal-id_number")).to_have_count(0)
    page.wait_for_timeout(300)
    shot(page, "customer-360")
    # Tabs later issues fill are honest empty states.
    page.locator(".tab-applications").click()
    expect(page.get_by_test_id("tab-empty-applications")).to_contain_text("暂无申请")
    page.locator(".tab-loans").click()
    expect(page.get_by_test_id("tab-empty-loans")).to_contain_text("暂无贷款")

    # 扩展信息 from the demo 客户档案 form: edit, fill 工作年限, see it in the 资料 tab.
    page.get_by_test_id("customer-menu").click()
    page.get_by_test_id("customer-menu-sheet").get_by_text("编辑").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/edit$"))
    expect(page.get_by_test_id("customer-custom-title")).to_have_text("扩展信息")
    page.get_by_test_id("field-work_years").fill("8")
    page.get_by_test_id("field-work_years").scroll_into_view_if_needed()
    shot(page, "customer-edit-custom")
    page.get_by_test_id("customer-save").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    custom_row = page.get_by_test_id("profile-custom-work_years")
    expect(custom_row).to_contain_text("工作年限")
    expect(custom_row).to_contain_text("8年")
    custom_row.scroll_into_view_if_needed()
    shot(page, "customer-profile-custom")

    # Documents: ID card photo side through the file chooser.
    page.locator(".tab-documents").click()
    page.get_by_test_id("doc-upload-id_front").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("doc-source-sheet").get_by_text("从相册选择").click()
    png = ARTIFACTS / "id-front.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    Path(png).write_bytes(id_card_png())
    chooser.value.set_files(str(png))
    thumb = page.get_by_test_id("doc-slot-id_front").locator("img")
    expect(thumb).to_be_visible()
    expect(thumb).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_timeout(300)
    shot(page, "customer-documents")

    # Follow-up with a photo, the location and a next time.
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"latitude": 39.9087, "longitude": 116.3975})
    page.get_by_test_id("customer-write-follow-up").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/follow-up$"))
    page.get_by_test_id("follow-up-kind-visit").click()
    page.get_by_test_id("follow-up-content").fill("上门核实经营情况，客户计划下周提交贷款申请")
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("follow-up-album").locator(".van-uploader__upload").click()
    chooser.value.set_files(str(png))
    expect(page.get_by_test_id("follow-up-photos").locator(".van-uploader__preview")).to_have_count(
        1
    )
    page.get_by_test_id("follow-up-locate").click()
    expect(page.get_by_test_id("follow-up-location")).to_contain_text("39.908700, 116.397500")
    page.get_by_test_id("follow-up-next-1").click()
    expect(page.get_by_test_id("follow-up-next")).to_have_value(re.compile(r"10:00"))
    expect(page.get_by_test_id("follow-up-save")).to_be_enabled()
    shot(page, "customer-follow-up")
    page.get_by_test_id("follow-up-save").click()

    # Back in the 360 view on the follow-ups tab.
    expect(page).to_have_url(re.compile(r"/customers/\d+(\?tab=follow_ups)?$"))
    follow_ups = page.get_by_test_id("follow-up-list")
    expect(follow_ups.get_by_test_id("follow-up-content").first).to_have_text(
        "上门核实经营情况，客户计划下周提交贷款申请"
    )
    expect(follow_ups.locator("[data-testid^='follow-up-photo-'] img").first).to_have_attribute(
        "src", re.compile(r"^blob:")
    )
    page.wait_for_timeout(300)
    shot(page, "customer-follow-ups")

    # The timeline has every event, newest first.
    page.locator(".tab-timeline").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("上传资料")
    expect(page.get_by_test_id("timeline")).to_contain_text("新建客户")

    # The workbench to-do card lists the planned follow-up.
    page.goto("/")
    todo = page.get_by_test_id("home-todo")
    expect(todo.get_by_test_id("home-todo-count")).to_be_visible()
    shot(page, "workbench-todo")
    # Soonest first: the demo's overdue ones come before tomorrow's.
    mine = todo.locator("a", has_text=name)
    for _ in range(10):
        if mine.count():
            break
        todo.get_by_test_id("home-todo-more").click()
        page.wait_for_timeout(300)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("明天 10:00")

    # Search by pinyin initials (诸葛晓彤 → zgxt).
    page.get_by_test_id("tab-customers").click()
    page.get_by_test_id("customers-search").fill("zgxt")
    card = page.locator("[data-testid^='customer-card-']")
    expect(card).to_have_count(1)
    expect(card.first).to_contain_text(name)
    expect(card.first).to_contain_text(mobile[:3] + "****" + mobile[-4:])
    shot(page, "customers-search")
    card.first.click()
    expect(page).to_have_url(customer_url)


def test_import_reports_exactly_the_bad_rows(page: Page) -> None:
    rng = random.Random(20261128)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "身份证号", "手机号", "月收入", "备注"])
    bad_rows = {57: "id_number", 500: "phone", 1001: "name"}  # sheet row numbers
    births = [
        f"19{y:02d}{m:02d}{d:02d}" for y in range(60, 99) for m in (1, 4, 7, 10) for d in (3, 18)
    ]
    for index in range(1000):
        row = index + 2
        birth = births[index % len(births)]
        id_number = resident_id("650102", birth, 100 + index // len(births))
        phone = f"166{rng.randint(0, 9)}{index:07d}"
        name = f"导入客户{index:04d}"
        if bad_rows.get(row) == "id_number":
            id_number = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")  # wrong check digit
        elif bad_rows.get(row) == "phone":
            phone = "12345"
        elif bad_rows.get(row) == "name":
            name = ""
        ws.append([name, id_number, phone, str(3000 + index), "e2e"])
    xlsx = ARTIFACTS / "customers-1000.xlsx"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wb.save(xlsx)

    login(page, "officer1")
    page.get_by_test_id("tab-customers").click()
    page.get_by_test_id("customers-more").click()
    page.get_by_test_id("customers-more-sheet").get_by_text("Excel 导入客户").click()
    expect(page).to_have_url(re.compile(r"/customers/import$"))
    shot(page, "import-upload")
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("import-file").click()
    chooser.value.set_files(str(xlsx))

    # Mapping prefilled from the headers.
    mapping = page.get_by_test_id("import-mapping")
    expect(mapping).to_be_visible()
    expect(page.get_by_test_id("import-map-A")).to_contain_text("姓名")
    expect(page.get_by_test_id("import-map-B")).to_contain_text("身份证号")
    expect(page.get_by_test_id("import-map-C")).to_contain_text("手机号")
    shot(page, "import-mapping")

    page.get_by_test_id("import-dry-run").click()
    report = page.get_by_test_id("import-report")
    expect(report).to_be_visible(timeout=60_000)
    rows = page.locator("[data-testid^='import-row-']")
    expect(rows).to_have_count(3)
    numbers = sorted(
        int((rows.nth(i).get_attribute("data-testid") or "").rsplit("-", 1)[1]) for i in range(3)
    )
    assert numbers == sorted(bad_rows)
    expect(page.get_by_test_id("import-stat-total")).to_contain_text("1000")
    expect(page.get_by_test_id("import-stat-error")).to_contain_text("3")
    expect(page.get_by_test_id("import-stat-create")).to_contain_text("997")
    expect(page.get_by_test_id("import-row-57")).to_contain_text("身份证号")
    expect(page.get_by_test_id("import-row-500")).to_contain_text("手机号")
    expect(page.get_by_test_id("import-commit")).to_be_disabled()
    page.wait_for_timeout(300)
    shot(page, "import-report")

    # Skip the bad rows and import the other 997.
    page.get_by_test_id("import-skip-bad").click()
    expect(page.get_by_test_id("import-commit")).to_be_enabled()
    page.get_by_test_id("import-commit").click()
    page.locator(".van-dialog__confirm").click()
    expect(page.get_by_test_id("import-done")).to_contain_text("997", timeout=60_000)
    shot(page, "import-done")

    page.get_by_test_id("import-to-list").click()
    page.get_by_test_id("customers-search").fill("导入客户0998")
    expect(page.locator("[data-testid^='customer-card-']")).to_have_count(1)


def test_owner_taps_call_and_dials_the_revealed_number(page: Page, context: BrowserContext) -> None:
    """拨打电话 on the 360 view: the officer sees a masked phone, the tap reveals their own
    customer's number (audited on the server) and hands tel:<number> to the phone's dialler."""
    login(page, "officer1")
    mine = page.request.get("/api/v1/customers", params={"mine": "true", "page_size": 50})
    assert mine.ok
    customer = next(c for c in mine.json()["items"] if c["kind"] == "individual" and c["phone"])
    assert customer["pii_masked"] and "*" in customer["phone"]  # officers see masked numbers
    page.goto(f"/customers/{customer['id']}")
    expect(page.get_by_test_id("customer-call")).to_be_enabled()
    shot(page, "customer-360-call")

    # Navigations to tel: leave no page behind; Chromium reports the request over CDP.
    cdp = context.new_cdp_session(page)
    cdp.send("Page.enable")
    requested: list[str] = []
    cdp.on("Page.frameRequestedNavigation", lambda event: requested.append(event["url"]))
    with page.expect_response(re.compile(r"/customers/\d+/reveal$")) as reveal:
        page.get_by_test_id("customer-call").click()
    revealed = reveal.value.json()
    assert reveal.value.status == 200 and revealed["field"] == "phone"
    number = revealed["value"]
    assert re.fullmatch(r"1\d{10}", number)
    masked = customer["phone"]
    assert number[:3] == masked[:3] and number[-4:] == masked[-4:]
    page.wait_for_timeout(300)
    assert f"tel:{number}" in requested, requested
