"""End-to-end harness: a real LoanDesk server (gunicorn + task worker + scheduler) on a fresh
SQLite database, driven by Debian's Chromium through Playwright at a phone viewport (375×812).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import (
    APIRequestContext,
    APIResponse,
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    expect,
    sync_playwright,
)

expect.set_options(timeout=10_000)

_plain_get = APIRequestContext.get


def _get_with_retry(self: APIRequestContext, url: str, **kwargs: Any) -> APIResponse:
    # A browser silently resends an idempotent request when the server closed the idle
    # keep-alive connection just as it was reused (ECONNRESET); Playwright's request context
    # does not unless asked, so the tests' API reads would fail on that race (seen in CI).
    kwargs.setdefault("max_retries", 2)
    return _plain_get(self, url, **kwargs)


APIRequestContext.get = _get_with_retry  # type: ignore[method-assign]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
PHONE = {"width": 375, "height": 812}
DEMO_PASSWORD = "LoanDesk@2026"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer {url} within {timeout}s")


def server_env(var_dir: Path) -> dict[str, str]:
    """The environment of a LoanDesk process on the SQLite database in `var_dir`."""
    return {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "LOANDESK_VAR_DIR": str(var_dir),
        "LOANDESK_DEMO_PASSWORD": DEMO_PASSWORD,
        "DJANGO_SETTINGS_MODULE": "loandesk.settings",
        # Due approval timers fire within 2 s, not 30 s: the journeys that move a deadline
        # into the past wait for the scheduler's next firing.
        "LOANDESK_FLOW_TIMERS_SECONDS": "2",
    }


@pytest.fixture(scope="session")
def demo_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var dir (SQLite database and keys) migrated and seeded with the demo once per run; copy
    it (`copy_demo_var_dir`) for each server that needs one."""
    var_dir = tmp_path_factory.mktemp("demo-var")
    env = server_env(var_dir)
    manage = [sys.executable, "-m", "loandesk.manage"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    subprocess.run([*manage, "seed-demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    return var_dir


def copy_demo_var_dir(template: Path, to: Path) -> Path:
    shutil.copytree(template, to, dirs_exist_ok=True)
    return to


@pytest.fixture(scope="session")
def server(demo_var_dir: Path) -> Iterator[str]:
    # LOANDESK_WEB_DIST (also read by the settings) lets parallel work test its own build.
    dist = Path(os.environ.get("LOANDESK_WEB_DIST", ROOT / "web" / "dist"))
    if not (dist / "index.html").exists():
        pytest.fail(f"{dist} is missing: build the front end first (make web-build)")
    var_dir = copy_demo_var_dir(demo_var_dir, Path(tempfile.mkdtemp(prefix="loandesk-e2e-")))
    env = server_env(var_dir)
    manage = [sys.executable, "-m", "loandesk.manage"]
    port = _free_port()
    log = open(var_dir / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [*manage, "serve", "--port", str(port), "--workers", "2", "--no-migrate"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/api/v1/health", proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if os.environ.get("CI"):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(var_dir / "server.log", ARTIFACTS / "server.log")
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is not on PATH (apt-get install chromium)")
    browser = playwright_instance.chromium.launch(
        executable_path=executable,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        base_url=server,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    ctx.set_default_timeout(15000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def no_other_hosts(req: Request) -> None:
        # Private deployments are offline: the app must never reach another host.
        if urlparse(req.url).hostname not in (None, "127.0.0.1", "localhost"):
            errors.append(f"request to another host: {req.url}")

    page.on("request", no_other_hosts)
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"))
    assert not errors, f"browser errors: {errors}"


def shot(page: Page, name: str) -> None:
    """Keep a screenshot as a test artefact (and for the docs)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
