"""The handle's methods against a server of its own, started by ``Doublure.start``.

This module's server is its own process (not the session's), so its tests
may change the server's root state; each test starts from a reset.
"""

import datetime
import re

import pytest

from doublure import ControlPlaneError, Doublure, DoublureError


@pytest.fixture(scope="module")
def server():
    with Doublure.start() as started:
        yield started


@pytest.fixture
def d(server):
    server.reset()
    return server


def test_start_serves_on_a_free_loopback_port(d, call):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", d.url)
    assert d.url != "http://127.0.0.1:8080"
    status, _, body = call("GET", d.url + "/__doublure/health")
    assert (status, body) == (200, {"status": "ok"})


def test_a_minted_token_lists_the_logora_users(d, call):
    token = d.token()
    status, headers, body = call(
        "GET", d.url + "/api/v1/users?per_page=5", headers={"Authorization": "Bearer " + token}
    )
    assert status == 200
    assert headers["total"] == "48"
    assert len(body["data"]) == 5


def test_a_token_expires_when_the_clock_moves_past_its_lifetime(d, call):
    d.set_clock("2026-01-15T10:00:00Z")
    token = d.token(client_id="API_KEY", scope="public")
    assert d.advance(7201) == {"now": "2026-01-15T12:00:01Z", "frozen": True}
    status, headers, body = call(
        "GET", d.url + "/api/v1/users", headers={"Authorization": "Bearer " + token}
    )
    assert status == 401
    assert body["error_description"] == "The access token expired"
    assert 'error_description="The access token expired"' in headers["www-authenticate"]


def test_set_clock_takes_an_aware_datetime_and_freezes_by_default(d):
    at = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.timezone.utc)
    assert d.set_clock(at) == {"now": "2026-03-01T09:30:00Z", "frozen": True}
    assert d.clock() == {"now": "2026-03-01T09:30:00Z", "frozen": True}
    assert d.advance(datetime.timedelta(minutes=1))["now"] == "2026-03-01T09:31:00Z"


def test_set_clock_can_leave_the_clock_running_or_only_unfreeze_it(d):
    assert d.set_clock("2026-01-15T10:00:00Z", frozen=False)["frozen"] is False
    d.set_clock("2026-01-15T10:00:00Z")
    assert d.set_clock(frozen=False) == {"now": "2026-01-15T10:00:00Z", "frozen": False}


def test_set_clock_refuses_a_naive_datetime_with_the_reason(d):
    with pytest.raises(ValueError, match="has no time zone"):
        d.set_clock(datetime.datetime(2026, 1, 15, 10, 0))


def test_advance_refuses_what_is_not_a_number(d):
    with pytest.raises(TypeError, match="seconds must be a number or a timedelta"):
        d.advance("60")


def test_a_signed_path_reads_the_users_profile(d, call):
    url = d.sign("/api/user/", email="fred@example.net")
    assert url.startswith(d.url + "/api/user/?email=fred%40example.net&orig=demo&algo=sha256&")
    status, _, body = call("GET", url)
    assert status == 200
    assert body["user_email"] == "fred@example.net"
    # The nonce is single use.
    status, _, body = call("GET", url)
    assert (status, body["err_desc"]) == (403, "Nonce already used.")


def test_a_url_signed_at_the_emulated_time_follows_the_clock(d, call):
    d.set_clock("2026-01-15T10:00:00Z")
    url = d.sign("/api/user/forms", orig="demo", email="fred@example.net")
    assert "timestamp=2026-01-15T10%3A00%3A00Z" in url
    d.advance(31)
    status, _, body = call("GET", url)
    assert status == 403
    assert body["err_desc"].startswith("timestamp is more than 30 seconds in the past")


def test_sign_with_a_wrong_key_is_refused_by_the_api(d, call):
    status, _, body = call("GET", d.sign("/api/user/", email="fred@example.net", key="wrong"))
    assert (status, body["err_desc"]) == (403, "Invalid signature.")


def test_sign_refuses_both_email_and_name_id(d):
    with pytest.raises(ValueError, match="email or name_id, not both"):
        d.sign("/api/user/", email="fred@example.net", name_id="abc")


def test_a_fault_returns_its_id_and_fails_the_next_calls(d, call):
    rule = d.fault(method="GET", path="/api/v1/users", status=503, count=2)
    assert isinstance(rule, int)
    statuses = [call("GET", d.url + "/api/v1/users?api_key=API_KEY")[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert d.control("GET", "faults")["faults"][0]["fired"] == 2


def test_fault_refuses_an_empty_rule():
    with pytest.raises(TypeError, match="give the rule"):
        Doublure("http://127.0.0.1:9").fault()


def test_requests_filters_the_journal(d, call):
    call(
        "POST",
        d.url + "/oauth/token?grant_type=client_credentials&client_id=API_KEY&client_secret=WRONG",
    )
    call("GET", d.url + "/api/v1/users?api_key=API_KEY")
    refused = d.requests(status=401)
    assert [(e["method"], e["path"], e["status"]) for e in refused] == [
        ("POST", "/oauth/token", 401)
    ]
    assert refused[0]["outcome"].startswith("invalid_client: wrong client_secret for API_KEY")
    assert [e["path"] for e in d.requests()] == ["/oauth/token", "/api/v1/users"]
    assert [e["path"] for e in d.requests(limit=1)] == ["/api/v1/users"]
    assert d.requests(method="get", path="/api/v1/") == d.requests(limit=1)


def test_requests_accepts_an_aware_datetime_for_since(d, call):
    d.set_clock("2026-01-15T10:00:00Z")
    call("GET", d.url + "/api/v1/users?api_key=API_KEY")
    d.advance(60)
    call("GET", d.url + "/api/v1/users?api_key=API_KEY&page=2")
    since = datetime.datetime(2026, 1, 15, 10, 0, 30, tzinfo=datetime.timezone.utc)
    assert [e["path"] for e in d.requests(since=since)] == ["/api/v1/users"]
    assert len(d.requests(since="2026-01-15T10:00:00Z")) == 2


def test_a_refused_call_raises_with_status_message_and_problems(d):
    with pytest.raises(ControlPlaneError) as raised:
        d.control("PATCH", "logora/users/21", {"age": "old"})
    error = raised.value
    assert error.status == 400
    assert error.message == "invalid data: nothing was changed"
    assert error.problems == [
        'state/logora/users.json: item 21 (id 21): field age: invalid type: string "old", expected u32'
    ]
    assert error.body["error"] == error.message
    assert str(error).startswith(
        f"PATCH {d.url}/__doublure/logora/users/21 answered 400: invalid data"
    )


def test_a_misspelt_journal_filter_is_an_error_not_an_empty_list(d):
    with pytest.raises(ControlPlaneError, match="unknown field `stauts`") as raised:
        d.requests(stauts=401)
    assert raised.value.status == 400


def test_control_reaches_routes_no_method_wraps(d):
    d.control("PATCH", "/logora/users/21", {"city": "Lyon"})
    assert d.control("GET", "logora/users/21")["city"] == "Lyon"


def test_reset_brings_back_the_clock_faults_and_data(d, call):
    d.set_clock("2026-01-15T10:00:00Z")
    d.fault(path="/api/v1/users", status=503)
    d.control("PATCH", "logora/users/21", {"city": "Lyon"})
    d.reset()
    assert d.clock()["frozen"] is False
    assert d.control("GET", "faults") == {"faults": []}
    assert d.control("GET", "logora/users/21")["city"] != "Lyon"
    assert call("GET", d.url + "/api/v1/users?api_key=API_KEY")[0] == 200


def test_a_stopped_server_is_unreachable_with_the_url_in_the_error():
    server = Doublure.start()
    url = server.url
    assert server.stop() == 0
    with pytest.raises(
        DoublureError, match=f"cannot reach doublure at {re.escape(url)}/__doublure/reset"
    ):
        server.reset()
