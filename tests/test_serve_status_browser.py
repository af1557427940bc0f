"""The status page in a real headless Chromium (Selenium, the system chromedriver): a real
`fitwheel serve --profiles DIR` over nginx serving real variant wheels, searched through its
form, its explain link followed, and a screenshot kept as a test artefact.

Without Chromium the test is skipped, except under CI, where a missing browser fails it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conftest import Served

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
from helpers.nginx import requires_nginx
from helpers.processes import interrupt
from helpers.serve_fixtures import EXPECTED_TORCH, OVERRIDES, clean_env, detect_profile

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parent.parent
PROFILES = ("ampere_cu128", "hopper_cu130", "pascal_cu128", "cpu")

pytestmark = [requires_nginx, pytest.mark.e2e, pytest.mark.slow]


def _need_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    why = f"{', '.join(missing)} missing (apt-get install chromium chromium-driver)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI is set and {why}")
    pytest.skip(why)


def artefacts_folder() -> Path:
    """Where screenshots are kept: $FITWHEEL_TEST_ARTEFACTS, else .pytest_artefacts/."""
    folder = Path(os.environ.get("FITWHEEL_TEST_ARTEFACTS") or ROOT / ".pytest_artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module", autouse=True)
def _browser_installed() -> None:
    """Checked first, before the index is built for nothing."""
    _need_browser()


@pytest.fixture(scope="module")
def fleet(served: Served) -> Path:
    folder = served.root / "fleet"
    folder.mkdir(exist_ok=True)
    for name in PROFILES:
        detect_profile(folder / f"{name}.json", OVERRIDES[name])
    return folder


@pytest.fixture
def server(served: Served, fleet: Path, tmp_path: Path) -> Iterator[str]:
    """`fitwheel serve --profiles` as a real process on a free port; its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fitwheel", "-q", "serve", "--upstream", served.url,
         "--profiles", str(fleet), "--port", "0"],
        env=clean_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # "fitwheel serve: URL/p/NAME/simple/" once listening
        assert line.startswith("fitwheel serve: http://127.0.0.1:"), line
        yield line.split()[-1].split("/p/")[0]
    finally:
        interrupt(process)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1000,1400",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def cells(browser: WebDriver, rows: str) -> list[list[str]]:
    """The text of each cell of the rows `rows` selects (header rows have none)."""
    from selenium.webdriver.common.by import By

    found = []
    for row in browser.find_elements(By.CSS_SELECTOR, rows):
        texts = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        if texts:
            found.append(texts)
    return found


def test_a_browser_searches_the_status_page_and_follows_the_explain_link(
    browser: object, server: str, served: Served, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(browser, WebDriver)  # the fixture's type, without importing selenium early
    browser.get(server + "/")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert browser.title == "fitwheel serve"
    assert "fitwheel 0.1.0" in text
    profiles = cells(browser, "#profiles tr")
    assert [row[:3] for row in profiles] == [
        [name, f"/p/{name}/simple/", "x86_64"] for name in sorted(PROFILES)
    ]
    supports = {row[0]: row[4].splitlines() for row in profiles}
    assert "nvidia: cuda_version_lower_bound 13.0, sm_arch 90_real" in supports["hopper_cu130"]
    assert not any(line.startswith("nvidia") for line in supports["cpu"])
    assert cells(browser, "#upstreams tr") == [
        [f"{served.url}\nindex", "not asked yet", "—", "—", "—"]
    ]

    field = browser.find_element(By.ID, "project")
    field.send_keys("TorchLike")
    field.submit()
    heading = browser.find_element(By.ID, "search")
    assert heading.text == "Builds of torchlike"
    assert browser.current_url == server + "/?project=TorchLike"
    builds = {row[0]: (row[1], row[2]) for row in cells(browser, "#builds tr")}
    assert builds == {name: ("2.10.0", EXPECTED_TORCH[name]) for name in PROFILES}
    (upstream,) = cells(browser, "#upstreams tr")
    assert upstream[1] == "answering" and upstream[2].endswith("Z") and upstream[3:] == ["—", "—"]

    browser.find_element(By.CSS_SELECTOR, 'a[href="/p/pascal_cu128/explain/torchlike"]').click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "torchlike for pascal_cu128"
    chosen = browser.find_element(By.CLASS_NAME, "chosen").text
    assert chosen.startswith("✓ torchlike-2.10.0-py3-none-any-cuda12.6.whl (label cuda12.6)")
    explained = browser.find_element(By.TAG_NAME, "body").text
    assert "✗ torchlike-2.10.0-py3-none-any-cuda12.8.whl: variant 'cuda12.8' does not fit" in (
        explained
    )

    browser.back()
    keep(browser, tmp_path / "status-page.png")
    # On a phone's width the page does not scroll sideways: wide tables scroll in themselves.
    browser.set_window_size(390, 844)
    browser.refresh()
    page_width = browser.execute_script("return document.documentElement.scrollWidth")
    assert page_width <= browser.execute_script("return window.innerWidth")
    assert browser.find_element(By.ID, "project").size["width"] >= 150
    keep(browser, tmp_path / "status-page-phone.png")


def keep(browser: WebDriver, screenshot: Path) -> None:
    """A screenshot of the page into `screenshot`, copied to the artefacts folder."""
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    shutil.copy(screenshot, artefacts_folder() / screenshot.name)
