"""An example of tests that drive doublure through its control plane.

Run against a running doublure: DOUBLURE_URL=http://localhost:8080 pytest examples/python
"""

import json, os, urllib.error, urllib.request

BASE = os.environ.get("DOUBLURE_URL", "http://localhost:8080")

def call(method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")

def setup_function():
    call("POST", "/__doublure/reset")
    call("PUT", "/__doublure/clock", {"now": "2026-01-15T10:00:00Z", "frozen": True})

def test_an_expired_token_is_refused_and_the_journal_says_why():
    _, _, token = call("POST", "/__doublure/logora/tokens", {"client_id": "API_KEY"})
    auth = {"Authorization": "Bearer " + token["access_token"]}
    status, headers, body = call("GET", "/api/v1/users?per_page=5", headers=auth)
    assert status == 200 and len(body["data"]) == 5 and headers["total"] == "48"

    call("POST", "/__doublure/clock/advance", {"seconds": 7201})
    status, _, body = call("GET", "/api/v1/users", headers=auth)
    assert status == 401 and body["error_description"] == "The access token expired"

    _, _, journal = call("GET", "/__doublure/requests?status=401")
    assert journal["requests"][0]["outcome"] == "token of API_KEY expired 1 s ago"

def test_two_failures_then_success():
    call("POST", "/__doublure/faults", {"path": "/api/v1/users", "status": 503, "count": 2})
    statuses = [call("GET", "/api/v1/users?api_key=API_KEY")[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
