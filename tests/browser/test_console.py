"""The console in headless Chromium against a doublure without an admin
token: each of its promises, one test each, plus keyboard use,
labels and the screenshots in docs/console/."""

import json
import re

import pytest

By = pytest.importorskip("selenium.webdriver.common.by").By
Keys = pytest.importorskip("selenium.webdriver.common.keys").Keys

from harness import Console

USERS = "/api/v1/users?api_key=API_KEY&per_page=2"


@pytest.fixture
def console(browser, doublure):
    status, _, _ = doublure.call("POST", "/__doublure/reset")
    assert status == 200
    page = Console(browser, doublure)
    page.errors()  # forget what earlier tests logged
    return page


def test_a_call_made_by_another_client_appears_in_the_journal_within_a_second_without_a_reload(console, doublure):
    console.open()
    console.browser.execute_script("window.sameDocument = true")

    status, _, _ = doublure.call("GET", "/api/v1/users?api_key=API_KEY&per_page=3&page=2")
    assert status == 200

    console.wait_for(
        lambda: any(r["path"].startswith("/api/v1/users") and r["status"] == "200" for r in console.rows()),
        timeout=1,
        message="the call is not in the journal after a second",
    )
    row = console.rows()[-1]
    assert row["method"] == "GET"
    assert row["outcome"] == "page 2 of 16, 3 users of 48, for API_KEY by api_key"
    assert console.browser.execute_script("return window.sameDocument") is True
    # Rows come from the stream, never from reading the whole journal again.
    addresses = console.browser.execute_script(
        "return performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)"
    )
    assert "/__doublure/requests" not in addresses


def test_the_journal_holds_its_place_while_new_rows_arrive_and_follows_from_the_bottom(console, doublure):
    for _ in range(40):
        doublure.call("GET", USERS)
    console.open()
    console.wait_for(lambda: len(console.rows()) == 40)
    scroller = console.by_id("journal-scroll")
    at_bottom = "const s = arguments[0]; return s.scrollHeight - s.scrollTop - s.clientHeight < 2"
    assert console.browser.execute_script(at_bottom, scroller)

    console.browser.execute_script("arguments[0].scrollTop = 0", scroller)
    for _ in range(5):
        doublure.call("GET", "/api/user/")
    console.wait_for(lambda: len(console.rows()) == 45)

    assert console.browser.execute_script("return arguments[0].scrollTop", scroller) == 0
    jump = console.by_id("journal-jump")
    assert jump.text == "↓ 5 new calls"
    jump.click()
    assert console.browser.execute_script(at_bottom, scroller)
    assert not jump.is_displayed()
    doublure.call("GET", "/api/user/")
    console.wait_for(lambda: len(console.rows()) == 46)
    assert console.browser.execute_script(at_bottom, scroller)


def test_a_row_shows_its_redacted_headers_and_query_and_a_curl_command(console, doublure):
    console.open()
    doublure.call("GET", "/api/v1/users?per_page=2", headers={"Authorization": "Bearer abc.def"})
    console.row_for(lambda r: r["status"] == "401")

    console.browser.find_elements(By.CSS_SELECTOR, '[data-testid="journal-row"]')[-1].click()

    detail = console.by_id("journal-detail").text
    assert "\nauthorization Bearer [redacted]\n" in detail
    assert "abc.def" not in detail
    assert "\nQuery (secrets redacted)\nper_page 2\n" in detail
    assert console.browser.find_element(By.CSS_SELECTOR, '[data-testid="journal-curl"]').text == (
        f"curl -H \"authorization: Bearer $TOKEN\" '{doublure.url}/api/v1/users?per_page=2'"
    )


def test_the_journal_filters_by_api_status_class_and_path(console, doublure):
    console.open()
    doublure.call("GET", USERS)
    doublure.call("GET", "/api/user/")
    doublure.call("GET", "/api/v1/users")
    console.wait_for(lambda: len(console.rows()) == 3)

    def shown():
        return [(r["path"], r["status"]) for r in console.rows() if not r["hidden"]]

    console.choose("journal-api", "w.c.s.")
    assert shown() == [("/api/user/", "403")]
    console.choose("journal-api", "all")
    console.choose("journal-status", "4xx")
    assert shown() == [("/api/user/", "403"), ("/api/v1/users", "401")]
    console.by_id("journal-path").send_keys("/api/v1")
    assert shown() == [("/api/v1/users", "401")]


def test_a_fault_preset_makes_the_next_call_fail_and_the_rule_count_updates(console, doublure):
    console.open()
    presets = console.testid("fault-presets")

    console.button("503 on the next 2 calls", presets).click()
    console.wait_for(lambda: console.rule_counts() == ["0", "2"])
    status, _, body = doublure.call("GET", USERS)

    assert (status, body) == (503, {"success": False, "error": "Service Unavailable"})
    console.wait_for(lambda: console.rule_counts() == ["1", "1"], message="the count did not update")
    row = console.row_for(lambda r: r["status"] == "503")
    rule = doublure.call("GET", "/__doublure/faults")[2]["faults"][0]["id"]
    assert row["outcome"] == f"fault rule {rule} injected 503"
    doublure.call("GET", USERS)
    console.wait_for(lambda: console.rule_counts() == ["2", "0"])
    assert doublure.call("GET", USERS)[0] == 200


def test_a_rule_from_the_form_is_added_and_a_bad_one_is_explained(console, doublure):
    console.open()
    console.browser.find_element(By.CSS_SELECTOR, ".rule-form summary").click()
    form = console.by_id("fault-form")

    form.find_element(By.NAME, "path").send_keys("/api/user/*")
    form.find_element(By.NAME, "status").send_keys("600")
    console.button("Add the rule", form).click()
    console.wait_for(lambda: console.by_id("fault-error").text != "")
    assert console.by_id("fault-error").text == "status 600 is not an error status (400 to 599)"

    form.find_element(By.NAME, "status").clear()
    form.find_element(By.NAME, "status").send_keys("500")
    form.find_element(By.NAME, "count").send_keys("1")
    console.button("Add the rule", form).click()

    console.wait_for(lambda: console.rule_counts() == ["0", "1"])
    _, _, rules = doublure.call("GET", "/__doublure/faults")
    rule = rules["faults"][0].pop("id")
    assert rules["faults"] == [{"path": "/api/user/*", "status": 500, "count": 1, "fired": 0, "remaining": 1}]
    console.browser.find_element(By.CSS_SELECTOR, f'#fault-rows button[aria-label="Remove rule {rule}"]').click()
    console.wait_for(lambda: console.rule_counts() is None)
    assert doublure.call("GET", "/__doublure/faults")[2] == {"faults": []}


def test_advancing_the_clock_by_2_h_1_s_makes_an_earlier_token_expire_and_the_journal_row_says_so(console, doublure):
    doublure.call("PUT", "/__doublure/clock", {"frozen": True})
    console.open()
    console.panel("Credentials")
    console.press("Mint a token")
    console.wait_for(lambda: console.by_id("minted").is_displayed())
    token = console.by_id("minted").find_element(By.TAG_NAME, "code").text
    auth = {"Authorization": f"Bearer {token}"}
    assert doublure.call("GET", "/api/v1/users", headers=auth)[0] == 200
    console.wait_for(lambda: token[:10] in console.by_id("token-rows").text)

    console.panel("Clock")
    console.button("+2 h 1 s: expire today's tokens", console.testid("clock-advance")).click()
    console.wait_for(lambda: "forward" in console.by_id("toast").text)
    status, _, body = doublure.call("GET", "/api/v1/users", headers=auth)

    assert status == 401
    assert body["error_description"] == "The access token expired"
    row = console.row_for(lambda r: r["status"] == "401")
    assert row["outcome"] == "token of API_KEY expired 1 s ago"
    console.panel("Credentials")
    console.wait_for(lambda: token[:10] not in console.by_id("token-rows").text)


def test_the_clock_panel_freezes_and_sets_the_date(console, doublure):
    console.open()
    console.panel("Clock")
    clock = console.testid("clock")

    console.button("Freeze", clock).click()
    console.wait_for(lambda: console.by_id("clock-state").text == "frozen")
    console.browser.execute_script(
        "const d = document.getElementById('clock-date'); d.value = '2026-03-01T08:30:00';"
        "d.dispatchEvent(new Event('input'))"
    )
    console.button("Set the date", clock).click()

    console.wait_for(lambda: console.by_id("clock-now").text == "2026-03-01 08:30:00 UTC")
    assert doublure.call("GET", "/__doublure/clock")[2] == {"now": "2026-03-01T08:30:00Z", "frozen": True}
    assert console.by_id("chip-now").text == "2026-03-01 08:30:00 UTC"


def test_a_signed_url_from_the_console_is_accepted_once(console, doublure):
    console.open()
    console.panel("Credentials")
    sign = console.testid("sign")
    sign.find_element(By.ID, "sign-email").send_keys("fred@example.net")

    console.press("Sign", sign)
    console.wait_for(lambda: console.by_id("signed").is_displayed())
    url = console.by_id("signed").find_element(By.TAG_NAME, "code").text

    assert url.startswith(f"{doublure.url}/api/user/?email=fred%40example.net&orig=demo&algo=sha256&timestamp=")
    path = url[len(doublure.url):]
    status, _, profile = doublure.call("GET", path)
    assert (status, profile["user_email"]) == (200, "fred@example.net")
    assert doublure.call("GET", path)[2]["err_desc"] == "Nonce already used."


def test_an_edit_with_an_invalid_field_shows_the_validation_message_and_changes_nothing(console, doublure):
    _, _, before = doublure.call("GET", "/__doublure/logora/users/21")
    console.open()
    console.view("Data")
    console.open_item("logora/users", "id", 21)
    editor = console.by_id("editor-text")
    console.wait_for(lambda: '"full_name": "Jean Dupont"' in editor.get_attribute("value"))

    console.browser.execute_script(
        "const t = arguments[0]; t.value = t.value.replace(/\"age\": \\d+/, '\"age\": \"old\"');"
        "t.dispatchEvent(new Event('input'))",
        editor,
    )
    console.button("Save").click()

    problem = 'invalid type: string "old", expected u32'
    console.wait_for(lambda: console.by_id("editor-problems").text != "")
    assert console.by_id("editor-problems").text == f"age: {problem}"
    note = console.browser.find_element(By.CSS_SELECTOR, "#editor-notes .note")
    assert note.text == f"age: {problem}"
    # Beside the line that holds the field.
    line = console.browser.execute_script(
        "const t = arguments[0]; return t.value.split('\\n').findIndex((l) => l.startsWith('  \"age\"'))", editor
    )
    assert note.location["y"] - editor.location["y"] == 8 + line * 20
    assert doublure.call("GET", "/__doublure/logora/users/21")[2] == before


def test_a_refused_delete_names_the_other_items_it_would_break_and_deletes_nothing(console, doublure):
    console.open()
    console.view("Data")
    console.choose("data-collection", "w.c.s. users")
    console.open_item("wcs/users", "id", 1)

    console.button("Delete").click()
    console.button("Click again to delete").click()

    console.wait_for(lambda: console.by_id("editor-problems").text != "")
    lines = console.by_id("editor-problems").text.split("\n")
    assert lines[0] == "wcs/forms.json, id 123: user_id: unknown user 1 (not in wcs/users.json)"
    assert len(lines) == 5
    assert console.browser.find_elements(By.CSS_SELECTOR, "#editor-notes .note") == []
    assert doublure.call("GET", "/__doublure/wcs/users/1")[2]["name"] == "Fred Cuadrado"


def test_the_data_view_filters_logora_users_with_the_api_filters_and_searches(console, doublure):
    console.open()
    console.view("Data")
    console.wait_for(lambda: "54 of 54" in console.by_id("data-page").text)

    console.choose("filter-application", "1 Démo Logora")
    console.choose("filter-sub", "app-sport")
    console.choose("filter-expert", "true")

    ids = lambda: [tr.get_attribute("data-id") for tr in console.browser.find_elements(By.CSS_SELECTOR, "#data-rows tr")]
    # The API's own answer for the same filters.
    _, _, listed = doublure.call("GET", "/api/v1/users?api_key=API_KEY&is_expert=true&sub_application_name=app-sport")
    assert ids() == [str(u["id"]) for u in listed["data"]] == ["9", "17", "29", "37"]
    console.by_id("data-search").send_keys("rousseau")
    assert ids() == ["9"]


def test_items_are_created_and_deleted_from_the_data_view(console, doublure):
    console.open()
    console.view("Data")
    console.choose("data-collection", "w.c.s. roles")
    console.open_item("wcs/roles", "id", 1)

    console.button("New item").click()
    console.browser.execute_script(
        "const t = arguments[0]; t.value = JSON.stringify({id: 'r9', name: 'Démo', slug: 'demo'});"
        "t.dispatchEvent(new Event('input'))",
        console.by_id("editor-text"),
    )
    console.button("Create").click()
    console.wait_for(lambda: console.browser.find_elements(By.CSS_SELECTOR, '#data-rows tr[data-id="r9"]'))
    assert doublure.call("GET", "/__doublure/wcs/roles/r9")[2]["name"] == "Démo"

    console.button("Delete").click()
    console.button("Click again to delete").click()
    console.wait_for(lambda: not console.browser.find_elements(By.CSS_SELECTOR, '#data-rows tr[data-id="r9"]'))
    assert doublure.call("GET", "/__doublure/wcs/roles/r9")[0] == 404


def test_reset_restores_the_data(console, doublure):
    status, _, _ = doublure.call("DELETE", "/__doublure/logora/users/21")
    assert status == 204
    doublure.call("POST", "/__doublure/faults", {"path": "/api/*", "latency_ms": 1})
    console.open()
    console.view("Data")
    console.wait_for(lambda: "53 of 53" in console.by_id("data-page").text)

    console.testid("reset").click()
    dialog = console.by_id("reset-dialog")
    assert dialog.is_displayed()
    console.button("Reset", dialog).click()

    console.wait_for(lambda: "54 of 54" in console.by_id("data-page").text)
    assert console.browser.find_elements(By.CSS_SELECTOR, '#data-rows tr[data-id="21"]')
    assert doublure.call("GET", "/__doublure/logora/users/21")[2]["full_name"] == "Jean Dupont"
    assert doublure.call("GET", "/__doublure/faults")[2] == {"faults": []}


def test_cancelling_the_reset_changes_nothing(console, doublure):
    doublure.call("DELETE", "/__doublure/logora/users/21")
    console.open()

    console.testid("reset").click()
    console.button("Cancel", console.by_id("reset-dialog")).click()

    assert not console.by_id("reset-dialog").is_displayed()
    assert doublure.call("GET", "/__doublure/logora/users/21")[0] == 404


def test_the_namespaces_panel_shows_the_memory_budget_and_its_use(console, doublure):
    doublure.call("GET", USERS)
    console.open()

    console.panel("Namespaces")

    console.wait_for(lambda: "256.0 MiB used" in console.by_id("memory").text)
    assert "of 64 streams" in console.by_id("memory").text
    assert "0 calls refused with 503" in console.by_id("memory").text
    # The data control-plane calls added, every namespace together.
    assert re.search(r"data \d+\.\d MiB", console.by_id("memory").text)


def test_a_namespace_dropped_ends_its_consoles_stream_and_says_why(browser, doublure):
    doublure.call("GET", "/__ns/short-lived/api/v1/users")
    inside = Console(browser, doublure, "/__ns/short-lived").open()
    inside.wait_for(lambda: inside.by_id("stream-state").text == "live")

    doublure.call("DELETE", "/__doublure/namespaces/short-lived")

    inside.wait_for(lambda: inside.by_id("stream-state").text == "ended")
    # The toast is written just after the state: wait for it too.
    inside.wait_for(lambda: 'namespace "short-lived" was dropped' in inside.by_id("toast").text)


def test_the_namespaces_panel_links_each_namespace_to_its_own_console(console, doublure, browser):
    doublure.call("GET", "/__ns/demo-ns/api/v1/users?api_key=API_KEY&per_page=1")
    console.open()

    console.panel("Namespaces")

    console.wait_for(lambda: console.by_id("namespace-list").find_elements(By.TAG_NAME, "a"))
    links = [a.get_attribute("href") for a in console.by_id("namespace-list").find_elements(By.TAG_NAME, "a")]
    _, _, body = doublure.call("GET", "/__doublure/namespaces")
    assert links == [f"{doublure.url}/__ns/{n['name']}/__doublure/ui/" for n in body["namespaces"]]
    assert f"{doublure.url}/__ns/demo-ns/__doublure/ui/" in links

    # The namespace's console shows the namespace's calls, and the root's
    # console does not.
    inside = Console(browser, doublure, "/__ns/demo-ns").open()
    assert inside.by_id("where").text == "namespace demo-ns"
    doublure.call("GET", "/__ns/demo-ns/api/v1/only-in-demo-ns")
    row = inside.row_for(lambda r: r["path"] == "/api/v1/only-in-demo-ns")
    assert row["status"] == "404"
    console.open()
    assert not [r for r in console.rows() if r["path"] == "/api/v1/only-in-demo-ns"]


def test_export_state_downloads_the_state(console, doublure, tmp_path):
    console.open()
    console.browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})

    console.button("Export state").click()

    saved = tmp_path / "doublure-state.json"
    console.wait_for(saved.exists, message="nothing downloaded")
    assert json.loads(saved.read_text()) == doublure.call("GET", "/__doublure/state")[2]


def test_every_control_has_an_accessible_name(console):
    console.open()
    unnamed = []
    for view, panels in (("Live", ("Faults", "Clock", "Credentials", "Namespaces")), ("Data", (None,))):
        console.view(view)
        for panel in panels:
            if panel:
                console.panel(panel)
            if panel == "Faults":
                console.browser.find_element(By.CSS_SELECTOR, ".rule-form summary").click()
            # Table rows are named by their cells.
            for element in console.browser.find_elements(
                By.CSS_SELECTOR, "button, input, select, textarea, a, summary, [tabindex]:not(tr)"
            ):
                if element.is_displayed() and not element.accessible_name.strip():
                    unnamed.append(element.get_attribute("outerHTML")[:120])
    assert unnamed == []


def test_the_main_actions_are_reachable_with_tab_and_enter(console, doublure):
    console.open()
    doublure.call("GET", USERS)
    console.row_for(lambda r: r["status"] == "200")
    body = console.browser.find_element(By.TAG_NAME, "body")
    body.click()

    def tab_to(predicate, limit=60):
        for _ in range(limit):
            console.browser.switch_to.active_element.send_keys(Keys.TAB)
            if predicate(console.browser.switch_to.active_element):
                return console.browser.switch_to.active_element
        raise AssertionError("not reachable with Tab")

    # A journal row: Tab to the list, arrow to a row, its detail opens.
    tab_to(lambda e: e.get_attribute("id") == "journal-scroll").send_keys(Keys.ARROW_DOWN)
    assert "Copy as curl" in console.by_id("journal-detail").text
    # A fault preset.
    tab_to(lambda e: e.text == "503 on the next 2 calls").send_keys(Keys.ENTER)
    console.wait_for(lambda: console.rule_counts() == ["0", "2"])
    # The Clock panel, by its tab and the arrow keys, then a button.
    tab_to(lambda e: e.text == "Faults", limit=120)
    console.browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    assert console.testid("clock").is_displayed()
    tab_to(lambda e: e.text == "+1 h").send_keys(Keys.ENTER)
    console.wait_for(lambda: "forward" in console.by_id("toast").text)
    # Reset: the dialog opens on Cancel; Shift+Tab reaches Reset.
    tab_to(lambda e: e.get_attribute("data-testid") == "reset", limit=120).send_keys(Keys.ENTER)
    assert console.browser.switch_to.active_element.text == "Cancel"
    console.browser.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
    console.browser.switch_to.active_element.send_keys(Keys.ENTER)
    console.wait_for(lambda: doublure.call("GET", "/__doublure/faults")[2] == {"faults": []})


def test_the_page_logs_no_console_error(console, doublure):
    console.open()
    doublure.call("GET", USERS)
    console.row_for(lambda r: r["status"] == "200")
    console.browser.find_elements(By.CSS_SELECTOR, '[data-testid="journal-row"]')[-1].click()
    console.button("Slow (800 ms)").click()
    for panel in ("Clock", "Credentials", "Namespaces", "Faults"):
        console.panel(panel)
    console.panel("Credentials")
    console.press("Mint a token")
    console.press("Sign")
    console.view("Data")
    console.open_item("logora/users", "id", 21)
    console.choose("data-collection", "w.c.s. forms")
    console.wait_for(lambda: console.browser.find_elements(By.CSS_SELECTOR, '#data-rows tr[data-id="123"]'))
    console.view("Live")
    console.wait_for(lambda: console.by_id("minted").is_displayed() and console.by_id("signed").is_displayed())

    assert console.errors() == []


def test_screenshots_of_the_console_at_1280_by_720(console, doublure, screenshot):
    doublure.call("PUT", "/__doublure/clock", {"now": "2026-01-15T10:00:00Z", "frozen": True})
    console.open()
    _, _, minted = doublure.call("POST", "/__doublure/logora/tokens", {"client_id": "API_KEY"})
    auth = {"Authorization": "Bearer " + minted["access_token"]}
    doublure.call("POST", "/oauth/token", None, {"content-type": "application/x-www-form-urlencoded"})
    doublure.call("GET", "/api/v1/users?per_page=5", headers=auth)
    doublure.call("GET", "/api/v1/users?is_expert=true&sub_application_name=app-sport", headers=auth)
    doublure.call("POST", "/__doublure/faults", {"method": "GET", "path": "/api/v1/users", "status": 503, "count": 2})
    doublure.call("POST", "/__doublure/faults", {"path": "/api/user/*", "latency_ms": 800})
    doublure.call("GET", "/api/v1/users?page=2", headers=auth)
    _, _, signed = doublure.call("POST", "/__doublure/wcs/sign", {"url": "/api/user/forms", "orig": "demo", "email": "fred@example.net"})
    doublure.call("GET", signed["url"][len(doublure.url):])
    doublure.call("GET", "/api/user/?email=fred%40example.net&orig=demo&algo=sha256&timestamp=2026-01-15T10%3A00%3A00Z&signature=bad")
    doublure.call("GET", "/api/v1/users?page=3", headers=auth)
    doublure.call("POST", "/__doublure/clock/advance", {"seconds": 7201})
    doublure.call("GET", "/api/v1/users", headers=auth)
    console.wait_for(lambda: len(console.rows()) == 8)
    console.wait_for(lambda: console.rule_counts("first") == ["2", "0"])
    console.browser.find_elements(By.CSS_SELECTOR, '[data-testid="journal-row"]')[-1].click()
    screenshot("journal")

    console.browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    screenshot("journal-dark")
    console.browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

    console.browser.find_element(By.CSS_SELECTOR, ".rule-form summary").click()
    screenshot("faults")

    console.view("Data")
    console.open_item("logora/users", "id", 21)
    console.browser.execute_script(
        "const t = document.getElementById('editor-text'); t.value = t.value.replace(/\"age\": \\d+/, '\"age\": \"old\"');"
        "t.dispatchEvent(new Event('input'))"
    )
    console.button("Save").click()
    console.wait_for(lambda: console.by_id("editor-problems").text != "")
    screenshot("data")

    console.view("Live")
    console.panel("Credentials")
    console.press("Mint a token")
    console.by_id("sign-email").send_keys("fred@example.net")
    console.press("Sign")
    console.wait_for(lambda: console.by_id("minted").is_displayed() and console.by_id("signed").is_displayed())
    screenshot("credentials")
