"""An example of tests that drive doublure through its control plane, each
in a namespace of its own, so they can run in parallel against one server.

Run against a running doublure: DOUBLURE_URL=http://localhost:8080 pytest examples/python
"""

import json, os, re, urllib.error, urllib.request

import pytest

SERVER = os.environ.get("DOUBLURE_URL", "http://localhost:8080")

def call(base, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")

@pytest.fixture
def doublure(request):
    """This test's own data, clock, tokens, journal and faults, at /__ns/<test name>."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", request.node.name)[:64]
    base = f"{SERVER}/__ns/{name}"
    call(base, "PUT", "/__doublure/clock", {"now": "2026-01-15T10:00:00Z", "frozen": True})
    yield lambda method, path, body=None, headers=None: call(base, method, path, body, headers)
    call(SERVER, "DELETE", f"/__doublure/namespaces/{name}")

def test_an_expired_token_is_refused_and_the_journal_says_why(doublure):
    _, _, token = doublure("POST", "/__doublure/logora/tokens", {"client_id": "API_KEY"})
    auth = {"Authorization": "Bearer " + token["access_token"]}
    status, headers, body = doublure("GET", "/api/v1/users?per_page=5", headers=auth)
    assert status == 200 and len(body["data"]) == 5 and headers["total"] == "48"

    doublure("POST", "/__doublure/clock/advance", {"seconds": 7201})
    status, _, body = doublure("GET", "/api/v1/users", headers=auth)
    assert status == 401 and body["error_description"] == "The access token expired"

    _, _, journal = doublure("GET", "/__doublure/requests?status=401")
    assert journal["requests"][0]["outcome"] == "token of API_KEY expired 1 s ago"

def test_two_failures_then_success(doublure):
    doublure("POST", "/__doublure/faults", {"path": "/api/v1/users", "status": 503, "count": 2})
    statuses = [doublure("GET", "/api/v1/users?api_key=API_KEY")[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
