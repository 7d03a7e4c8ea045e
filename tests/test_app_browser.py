"""End to end in a real browser: Debian's chromium driven by Playwright against ``audit app``.

Start the app, upload an example CSV, set it up as a score, see the verdict, move the threshold, switch to
Vietnamese, download the PDF report and read its text. Every request the page makes must stay on this
machine. Screenshots of each page are kept in out/test-artifacts/app/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "out" / "test-artifacts" / "app"
WELFARE_CSV = ROOT / "examples" / "welfare_fraud" / "welfare_fraud.csv"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (./test.sh "
                                                                 "installs it when run as root)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serve(folder: Path, *extra: str) -> Iterator[str]:
    """Run ``audit app`` (history in ``folder``) while the block runs; give its address."""
    port = _free_port()
    log = (folder / "app.log").open("w")
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "audit"), "app", "--port", str(port), "--registry",
                               str(folder / "registry.sqlite"), *extra], stdout=log, stderr=subprocess.STDOUT,
                              cwd=folder, env={**os.environ, "HOME": str(folder)})
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("the app did not start: " + (folder / "app.log").read_text()[-3000:])
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert "Traceback" not in (folder / "app.log").read_text(), (folder / "app.log").read_text()[-3000:]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _serve(tmp_path_factory.mktemp("app")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _settled(page: object) -> None:
    """Wait until Streamlit has drawn the whole page (no placeholder of an element still to come)."""
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=120_000)


def _shot(page: object, name: str) -> None:
    """A screenshot of the window, once the page has finished running (the window is tall: Streamlit scrolls
    inside the page, so a full-page screenshot would show no more)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _settled(page)
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))  # type: ignore[attr-defined]


def test_a_whole_audit_in_the_browser(app_url: str, browser: object, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 2400}, accept_downloads=True)  # type: ignore
    outside: list[str] = []

    def route(request_route: object) -> None:
        url = request_route.request.url  # type: ignore[attr-defined]
        if urlparse(url).scheme in ("http", "https", "ws", "wss") and urlparse(url).hostname not in LOCAL_HOSTS:
            outside.append(url)
            request_route.abort()  # type: ignore[attr-defined]
        else:
            request_route.continue_()  # type: ignore[attr-defined]

    context.route("**/*", route)
    page = context.new_page()

    def nav(name: str) -> None:
        page.locator('[data-testid="stSidebarNav"] a', has_text=name).click()

    # a first visit opens on a finished audit of the bundled example
    page.goto(app_url)
    page.get_by_text("Overall verdict: FAIL").wait_for(timeout=90_000)
    _shot(page, "1-results-opening")

    # Data: upload the example CSV
    nav("Data")
    page.locator("input[type=file]").first.set_input_files(str(WELFARE_CSV))
    page.get_by_text("Read 20,000 rows and 11 columns from welfare_fraud.csv").wait_for(timeout=60_000)
    page.get_by_text("Encoding: utf-8 (detected)").wait_for()
    _shot(page, "2-data")

    # Set-up: audit the risk score at a cut-off
    nav("Set-up")
    page.get_by_text("The equivalent spec").wait_for(timeout=30_000)
    page.get_by_text("a score with a threshold").click()
    page.get_by_role("combobox", name="Score column").click()
    page.get_by_role("option", name="risk_score", exact=True).click()
    page.get_by_text("column: risk_score").wait_for(timeout=30_000)     # the equivalent spec follows
    _shot(page, "3-setup")
    page.get_by_role("button", name="Run the audit").click()
    page.get_by_text("Overall verdict").wait_for(timeout=60_000)
    before = page.get_by_text("people acted on").inner_text()
    assert before.startswith("At score ≥ 0.5:")

    # move the threshold: every disparity is redrawn
    slider = page.get_by_role("slider").first
    slider.focus()
    slider.press("ArrowLeft")
    page.wait_for_function("b => !document.body.innerText.includes(b)", arg=before, timeout=30_000)
    after = page.get_by_text("people acted on").inner_text()
    assert after != before and after.startswith("At score ≥ 0.4")
    _shot(page, "4-results-moved")

    # switch to Vietnamese: the whole app, and it stays so on every page
    page.get_by_role("combobox", name="Language · Ngôn ngữ").click()
    page.get_by_role("option", name="Tiếng Việt").click()
    page.get_by_text("Kết luận chung").wait_for(timeout=30_000)
    page.get_by_text("người được chọn để xử lý").wait_for(timeout=30_000)   # the slider's part too
    _settled(page)
    assert "Overall verdict" not in page.inner_text("body") and "people acted on" not in page.inner_text("body")
    _shot(page, "5-results-vi")
    nav("Lịch sử")
    page.get_by_text("Lịch sử").first.wait_for()
    _shot(page, "6-history-vi")

    # Report: download the PDF and read it
    nav("Báo cáo")
    pdf_button = page.get_by_role("button", name="Báo cáo (PDF)")
    pdf_button.wait_for(timeout=300_000)  # the disclosure audit's linear programs: ~45 s here (issue 17, speed open)
    _shot(page, "7-report-vi")
    with page.expect_download(timeout=120_000) as download:
        pdf_button.click()
    pdf = tmp_path / "report.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run([shutil.which("pdftotext") or "pdftotext", str(pdf), "-"], capture_output=True,
                          text=True).stdout
    assert "welfare fraud" in text.lower()                     # the system's name, from the upload's set-up
    assert "Kiểm toán" in text or "kiểm toán" in text          # written in Vietnamese
    assert "20.000" in text                                    # Vietnamese number notation (rows audited)
    assert not outside, f"requests left this machine: {outside}"
    context.close()


def test_a_login_from_the_secrets_file_guards_the_app(tmp_path: Path, browser: object) -> None:
    from audit.passwords import hash_password

    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[audit_app.passwords]\nlan = "{hash_password("mật khẩu", iterations=1000)}"\n',
                       encoding="utf-8")
    with _serve(tmp_path, "--secrets", str(secrets)) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1200})  # type: ignore[attr-defined]
        page.goto(url)
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        assert "Overall verdict" not in page.inner_text("body")
        assert page.locator('[data-testid="stSidebarNav"] a').count() == 0          # no page before signing in
        page.goto(f"{url}/data")                                                   # nor by its address
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        assert "Upload a file" not in page.inner_text("body")
        page.goto(url)
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        page.get_by_label("User name").fill("lan")
        page.get_by_role("textbox", name="Password").fill("mật khẩu")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Overall verdict").wait_for(timeout=60_000)
        page.get_by_text("Signed in as lan").wait_for()
        _shot(page, "8-signed-in")
        page.close()
