"""Browser tests of the web console (/__doublure/ui/): a real doublure binary
on a free port per test module, driven through headless Chromium by
Selenium.

Run by .ci/console, which installs Chromium, chromedriver, Selenium and
pytest. By hand: `cargo build`, then, with selenium and pytest installed,
`pytest tests/browser` (DOUBLURE_BIN, CHROMIUM and CHROMEDRIVER override
where the binaries are). Without Selenium or Chromium the tests are skipped,
unless DOUBLURE_REQUIRE_BROWSER=1 (as in CI) makes that a failure.
"""

import os
import shutil
import tempfile

import pytest

from harness import BINARY, SCREENSHOTS, Doublure

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
WIDTH, HEIGHT = 1280, 720


def _missing():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    for path in (BINARY, CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"{path} does not exist"
    return None


def pytest_configure(config):
    reason = _missing()
    if reason and os.environ.get("DOUBLURE_REQUIRE_BROWSER"):
        raise pytest.UsageError(f"DOUBLURE_REQUIRE_BROWSER is set but {reason}")


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason is None:
        return
    for item in items:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def doublure():
    server = Doublure()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--window-size={WIDTH},{HEIGHT}",
    ):
        options.add_argument(argument)
    profile = tempfile.mkdtemp(prefix="doublure-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    # The page's own area, not the window, is what must be 1280×720.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
    )
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def screenshot(browser):
    """Saves the page as docs/console/<name>.png (or in DOUBLURE_SCREENSHOTS)."""

    def take(name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))

    return take
