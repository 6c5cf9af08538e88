"""What the browser tests share: a doublure process seen as another client
(`Doublure`), and the console as a test sees it (`Console`): open it,
switch views and panels, read the journal, and wait for what the page
shows, never for a fixed time."""

import json
import os
import pathlib
import re
import subprocess
import threading
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("DOUBLURE_BIN", str(ROOT / "target" / "debug" / "doublure"))
SCREENSHOTS = pathlib.Path(os.environ.get("DOUBLURE_SCREENSHOTS", str(ROOT / "docs" / "console")))

def _parsed(response):
    raw = response.read()
    if "json" in (response.headers.get("content-type") or ""):
        return json.loads(raw)
    return raw.decode() or None


class Doublure:
    """A doublure process and plain-HTTP access to it, as another client."""

    def __init__(self, *arguments):
        self.process = subprocess.Popen(
            [BINARY, "--listen", "127.0.0.1:0", "--log-format", "text", *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.log = []
        for line in self.process.stdout:
            self.log.append(line)
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                break
        else:
            raise RuntimeError("doublure did not start:\n" + "".join(self.log))
        # Keeps reading, so a full pipe never blocks the server.
        threading.Thread(target=lambda: self.log.extend(self.process.stdout), daemon=True).start()
        self.token = None

    def call(self, method, path, body=None, headers=None):
        """(status, headers, parsed body) of one call."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        if data is not None:
            request.add_header("content-type", "application/json")
        if self.token and path.startswith("/__doublure/"):
            request.add_header("authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, dict(response.headers), _parsed(response)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), _parsed(error)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


# Long enough for a loaded CI machine; the waits end as soon as the
# condition holds.
PATIENCE = 10


class Console:
    """The page, through Selenium; its imports wait for Selenium to be
    there."""

    def __init__(self, browser, server, prefix=""):
        self.browser = browser
        self.server = server
        self.url = f"{server.url}{prefix}/__doublure/ui/"

    def open(self, live=True):
        self.browser.get(self.url)
        if live:
            self.wait_for(lambda: self.testid("journal").find_element("id", "stream-state").text == "live")
        return self

    def wait_for(self, condition, timeout=PATIENCE, message=""):
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.browser, timeout, poll_frequency=0.05).until(lambda _: condition(), message)

    def testid(self, name):
        return self.browser.find_element("css selector", f'[data-testid="{name}"]')

    def by_id(self, element_id):
        return self.browser.find_element("id", element_id)

    def button(self, text, within=None):
        """The button showing `text` (one lookup: rows that re-render while
        a test looks cannot go stale under it)."""
        scope = within or self.browser
        return scope.find_element("xpath", f".//button[normalize-space()={json.dumps(text)}]")

    def press(self, text, within=None):
        """Clicks the button showing `text` once it is enabled (the
        credential forms wait for their choices to load)."""
        self.wait_for(lambda: self.button(text, within).is_enabled(), message=f"{text!r} stays disabled")
        self.button(text, within).click()

    def view(self, name):
        """'Live' or 'Data'."""
        self.button(name, self.by_id("views")).click()

    def panel(self, name):
        """'Faults', 'Clock', 'Credentials' or 'Namespaces'."""
        self.button(name, self.by_id("panels")).click()

    def rows(self):
        """The journal's rows as [{id, method, path, status, outcome}]."""
        return self.browser.execute_script(
            """return [...document.querySelectorAll('[data-testid="journal-row"]')].map((tr) => ({
                id: Number(tr.dataset.id), hidden: tr.hidden,
                method: tr.cells[1].textContent, path: tr.cells[2].firstChild.textContent,
                status: tr.cells[3].textContent, outcome: tr.cells[5].textContent}))"""
        )

    def row_for(self, predicate):
        """Waits for a journal row matching predicate and returns it."""
        found = []

        def seen():
            found[:] = [r for r in self.rows() if predicate(r)]
            return bool(found)

        self.wait_for(seen, message="no such journal row")
        return found[-1]

    def rule_counts(self, which="last"):
        """[fired, left] of the newest (or "first") fault rule as the Faults
        panel shows them, None without a rule."""
        return self.browser.execute_script(
            f"""const cells = document.querySelector('#fault-rows tr:{which}-child')?.cells;
            return cells ? [cells[3].textContent, cells[4].textContent] : null"""
        )

    def choose(self, select_id, text):
        """Picks the option of a <select> that shows `text`."""
        from selenium.webdriver.support.ui import Select

        Select(self.by_id(select_id)).select_by_visible_text(text)

    def open_item(self, collection, key, item_id):
        """Opens an item of the data view in the editor, once the list shows
        `collection` (a row can be replaced while the list loads)."""
        from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

        def opened():
            try:
                self.browser.find_element("css selector", f'#data-rows tr[data-id="{item_id}"]').click()
            except (NoSuchElementException, StaleElementReferenceException):
                return False
            return self.by_id("editor-title").text == f"{collection} {key} {item_id}"

        self.wait_for(opened, message=f"{collection} {item_id} did not open")

    def errors(self):
        """Browser log entries at SEVERE level since the last call."""
        return [e for e in self.browser.get_log("browser") if e["level"] == "SEVERE"]
