"""The phone shell, driven the way a person would at 375×812."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, shot


def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("tabbar")).to_be_visible()


def logout(page: Page) -> None:
    page.goto("/me")
    page.get_by_test_id("me-logout").click()
    page.locator(".van-dialog").get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login"))


def test_officer_logs_in_switches_language_and_logs_out(page: Page) -> None:
    page.goto("/customers")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fcustomers|/login\?next=/customers"))
    shot(page, "login")
    page.get_by_test_id("login-username").fill("officer1")
    page.get_by_test_id("login-password").fill("wrong-password-1")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_text("用户名或密码错误")).to_be_visible()
    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    # Back where the user was going, with the five tabs.
    expect(page).to_have_url(re.compile(r"/customers$"))
    tabbar = page.get_by_test_id("tabbar")
    for label in ["工作台", "客户", "审批", "消息", "我的"]:
        expect(tabbar.get_by_text(label)).to_be_visible()
    page.get_by_test_id("tab-home").click()
    expect(page.get_by_test_id("home-greeting")).to_contain_text("王小明")
    # The shortcuts are one white card across the content width, even when the officer has
    # fewer shortcuts than the grid has columns.
    grid = page.get_by_test_id("home-grid")
    expect(grid).to_have_css("background-color", "rgb(255, 255, 255)")
    box = grid.bounding_box()
    assert box is not None and box["width"] == page.viewport_size["width"] - 32  # type: ignore[index]
    shot(page, "workbench")

    page.get_by_test_id("tab-me").click()
    expect(page.get_by_test_id("profile-card")).to_contain_text("北京一组")
    # Officers have no admin section.
    expect(page.get_by_test_id("me-admin")).to_have_count(0)
    page.get_by_test_id("me-language").click()
    page.get_by_test_id("language-sheet").get_by_text("English").click()
    expect(page.get_by_test_id("tabbar").get_by_text("Me", exact=True)).to_be_visible()
    expect(page.get_by_test_id("me-logout")).to_contain_text("Sign out")
    shot(page, "me-english")
    # The choice is saved on the account: it survives a reload.
    page.reload()
    expect(page.get_by_test_id("tabbar").get_by_text("Customers", exact=True)).to_be_visible()
    page.get_by_test_id("me-language").click()
    page.get_by_test_id("language-sheet").get_by_text("简体中文").click()
    expect(page.get_by_test_id("tabbar").get_by_text("我的")).to_be_visible()

    logout(page)
    page.goto("/me")
    expect(page).to_have_url(re.compile(r"/login"))


def test_admin_creates_a_user_who_then_logs_in(page: Page) -> None:
    login(page, "admin")
    page.get_by_test_id("tab-me").click()
    page.get_by_test_id("me-admin-users").click()
    expect(page.get_by_text("王小明")).to_be_visible()
    page.get_by_test_id("users-create").click()
    page.get_by_test_id("user-username").fill("officer9")
    page.get_by_test_id("user-full-name").fill("刘新人")
    page.get_by_test_id("user-phone").fill("13910000099")
    page.get_by_test_id("user-department").click()
    page.get_by_text("上海二组").click()
    page.get_by_test_id("user-role-officer").click()
    page.get_by_test_id("user-password").fill("Welcome-2026!")
    shot(page, "admin-user-new")
    page.get_by_test_id("user-save").click()
    expect(page).to_have_url(re.compile(r"/manage/users$"))
    expect(page.get_by_text("刘新人")).to_be_visible()
    logout(page)

    login(page, "officer9", "Welcome-2026!")
    page.get_by_test_id("tab-me").click()
    expect(page.get_by_test_id("profile-card")).to_contain_text("刘新人")
    expect(page.get_by_test_id("profile-card")).to_contain_text("上海二组")
