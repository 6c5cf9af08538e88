"""The console against a doublure started with --admin-token: the page asks
for the token once, keeps it for the tab and sends it as a bearer header;
without it, every call the page can make is refused."""

import pytest

By = pytest.importorskip("selenium.webdriver.common.by").By

from harness import Console, Doublure

TOKEN = "console-s3cret"


@pytest.fixture(scope="module")
def guarded():
    server = Doublure("--admin-token", TOKEN)
    server.token = TOKEN
    yield server
    server.stop()


@pytest.fixture
def console(browser, guarded):
    page = Console(browser, guarded)
    # A new tab's storage: no token kept from an earlier test.
    browser.get(guarded.url + "/__doublure/ui/")
    browser.execute_script("sessionStorage.clear()")
    page.errors()
    return page


def test_with_an_admin_token_the_page_asks_for_it_and_works(console, guarded):
    console.open(live=False)
    dialog = console.by_id("token-dialog")
    console.wait_for(dialog.is_displayed)
    assert console.browser.switch_to.active_element == console.by_id("token-input")

    console.by_id("token-input").send_keys("wrong")
    console.button("Connect", dialog).click()
    console.wait_for(lambda: console.by_id("token-error").text == "This token is refused.")
    console.by_id("token-input").clear()
    console.by_id("token-input").send_keys(TOKEN + "\n")

    console.wait_for(lambda: console.by_id("stream-state").text == "live")
    assert not dialog.is_displayed()
    assert not console.by_id("locked").is_displayed()
    guarded.call("GET", "/api/v1/users?api_key=API_KEY")
    console.row_for(lambda r: r["path"] == "/api/v1/users" and r["status"] == "200")
    # Kept for the tab, never in an address.
    assert console.browser.execute_script("return sessionStorage.getItem('doublure.admin-token')") == TOKEN
    addresses = console.browser.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert addresses and all(TOKEN not in a for a in addresses + [console.browser.current_url])
    # A reload does not ask again.
    console.open()
    assert not console.by_id("token-dialog").is_displayed()


def test_without_the_admin_token_every_call_is_refused(console, guarded):
    console.open(live=False)
    console.wait_for(console.by_id("token-dialog").is_displayed)

    console.button("Cancel", console.by_id("token-dialog")).click()

    assert console.by_id("locked").is_displayed()
    assert console.by_id("stream-state").text == "connecting…"
    assert console.by_id("chip-now").text == "…"
    # What the page asked for was refused, and so is everything it can ask.
    asked = console.browser.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter((e) => new URL(e.name).pathname.startsWith('/__doublure/') && !e.name.includes('/__doublure/ui/'))"
        ".map((e) => [new URL(e.name).pathname, e.responseStatus])"
    )
    assert asked == [["/__doublure/clock", 401]]
    calls = [
        ("GET", "/__doublure/clock"), ("PUT", "/__doublure/clock"), ("POST", "/__doublure/clock/advance"),
        ("GET", "/__doublure/requests/stream"), ("DELETE", "/__doublure/requests"),
        ("GET", "/__doublure/faults"), ("POST", "/__doublure/faults"), ("DELETE", "/__doublure/faults"),
        ("DELETE", "/__doublure/faults/1"), ("GET", "/__doublure/logora/tokens"), ("POST", "/__doublure/logora/tokens"),
        ("DELETE", "/__doublure/logora/tokens/x"), ("POST", "/__doublure/wcs/sign"), ("GET", "/__doublure/state"),
        ("GET", "/__doublure/logora/users"), ("PUT", "/__doublure/logora/users/21"), ("POST", "/__doublure/wcs/roles"),
        ("DELETE", "/__doublure/wcs/roles/1"), ("GET", "/__doublure/logora/applications"), ("POST", "/__doublure/reset"),
    ]
    statuses = console.browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Promise.all(arguments[0].map(([method, path]) => fetch(path, {method}).then((r) => r.status))).then(done)",
        calls,
    )
    assert dict(zip(calls, statuses)) == {call: 401 for call in calls}
    # The data is as it was.
    assert guarded.call("GET", "/__doublure/logora/users/21")[0] == 200


def test_the_token_is_sent_on_every_call_including_the_stream(console, guarded):
    console.browser.execute_script(f"sessionStorage.setItem('doublure.admin-token', '{TOKEN}')")
    console.open()

    console.panel("Credentials")
    console.press("Mint a token")
    console.wait_for(lambda: console.by_id("minted").is_displayed())

    errors = [e for e in console.errors() if "401" in e["message"]]
    assert errors == []
    assert console.browser.find_elements(By.CSS_SELECTOR, "#token-rows tr")
