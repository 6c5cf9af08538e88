"""Tests with doublure's pytest plugin: the `doublure` fixture is a fresh
namespace of one doublure server (its own data, clock, tokens, journal and
faults), dropped after each test, so tests can run in parallel.

Run with `pip install .` (from the repository), then
`pytest examples/python-plugin` (add `-n 4` with pytest-xdist), or against
a running server: `DOUBLURE_URL=http://localhost:8080 pytest examples/python-plugin`.
"""

import json
import urllib.error
import urllib.request


def get(url, **headers):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_an_expired_token_is_refused_and_the_journal_says_why(doublure):
    doublure.set_clock("2026-01-15T10:00:00Z")
    token = doublure.token()
    status, body = get(doublure.url + "/api/v1/users?per_page=5", Authorization="Bearer " + token)
    assert status == 200 and len(body["data"]) == 5

    doublure.advance(7201)
    status, body = get(doublure.url + "/api/v1/users", Authorization="Bearer " + token)
    assert status == 401 and body["error_description"] == "The access token expired"
    assert doublure.requests(status=401)[0]["outcome"] == "token of API_KEY expired 1 s ago"


def test_two_failures_then_success(doublure):
    doublure.fault(path="/api/v1/users", status=503, count=2)
    statuses = [get(doublure.url + "/api/v1/users?api_key=API_KEY")[0] for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_a_signed_url_reads_the_users_wcs_forms(doublure):
    status, body = get(doublure.sign("/api/user/forms", email="fred@example.net"))
    assert status == 200 and body["err"] == 0
    assert body["data"][0]["name"] == "Rendez-vous avec le service B"
