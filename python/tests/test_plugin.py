"""The pytest plugin's fixtures, and namespace handles.

Every test here but the name and validation ones needs a server with
namespaces (``/__ns/{name}/…``).
"""

import os
import re
import secrets
import socket
import threading

import pytest

from doublure import Doublure, DoublureError
from doublure.pytest_plugin import namespace_name

ALLOWED = re.compile(r"[A-Za-z0-9._-]{1,64}")
EXAMPLE = os.path.join(
    os.path.dirname(__file__), "..", "..", "examples", "python-plugin", "test_with_plugin.py"
)


# -- namespace names (no server needed) ------------------------------------


@pytest.mark.parametrize(
    "nodeid",
    [
        "tests/test_a.py::test_b",
        "tests/test_a.py::TestK::test_b[with spaces/and:colons]",
        "t.py::test_" + "long_" * 30 + "[é]",
        "::",
    ],
)
@pytest.mark.parametrize("worker", [None, "gw0", "gw13"])
def test_a_test_namespace_name_is_allowed_and_at_most_64_characters(nodeid, worker):
    name = namespace_name(nodeid, worker)
    assert ALLOWED.fullmatch(name), name
    assert name not in (".", "..")
    if worker:
        assert name.startswith(worker + "-")


def test_a_test_namespace_name_keeps_the_tests_own_name():
    assert re.fullmatch(
        r"gw0-tests-test_a\.py-test_b-[0-9a-f]{8}", namespace_name("tests/test_a.py::test_b", "gw0")
    )
    long_name = namespace_name("t.py::test_" + "x" * 100 + "_end", None)
    assert re.fullmatch(r"x+_end-[0-9a-f]{8}", long_name) and len(long_name) == 64


def test_test_namespace_names_differ_where_replacement_or_cut_makes_ids_alike():
    alike = ["t.py::test[a b]", "t.py::test[a-b]", "t.py::test[a/b]"]
    cut = ["a.py::test_" + "y" * 80, "b.py::test_" + "y" * 80]
    workers = [namespace_name("t.py::test", "gw0"), namespace_name("t.py::test", "gw1")]
    for group in ([namespace_name(n) for n in alike], [namespace_name(n) for n in cut], workers):
        assert len(set(group)) == len(group), group


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a b", "é", "x" * 65, "__ns/x"])
def test_a_namespace_name_outside_the_rule_is_refused_before_any_call(name):
    with pytest.raises(ValueError, match="use 1 to 64 characters among A-Z a-z 0-9 . _ -"):
        Doublure("http://127.0.0.1:9").namespace(name)


def test_a_namespace_handle_is_bound_under_ns_and_does_not_nest():
    space = Doublure("http://127.0.0.1:9/").namespace("team-a.1_x")
    assert space.url == "http://127.0.0.1:9/__ns/team-a.1_x"
    assert space.name == "team-a.1_x"
    with pytest.raises(DoublureError, match="namespaces do not nest"):
        space.namespace("b")
    with pytest.raises(DoublureError, match="drop\\(\\) is for a namespace's handle"):
        Doublure("http://127.0.0.1:9").drop()


# -- the fixtures (a server with namespaces) -------------------------------


def test_doublure_server_is_the_sessions_server(doublure_server):
    if os.environ.get("DOUBLURE_URL"):
        assert doublure_server.url == os.environ["DOUBLURE_URL"].rstrip("/")
    else:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", doublure_server.url)
    assert doublure_server.name is None


def test_the_doublure_fixture_is_a_namespace_named_after_the_test(
    doublure, doublure_server, request
):
    expected = namespace_name(request.node.nodeid, os.environ.get("PYTEST_XDIST_WORKER"))
    assert doublure.name == expected
    assert doublure.url == f"{doublure_server.url}/__ns/{expected}"


def test_a_namespace_has_its_own_clock_faults_and_journal(doublure, doublure_server, call):
    root_faults = doublure_server.control("GET", "faults")
    root_journal = doublure_server.requests()
    doublure.set_clock("2031-05-01T00:00:00Z")
    doublure.fault(path="/api/v1/users", status=503)
    status, _, _ = call("GET", doublure.url + "/api/v1/users?api_key=API_KEY")
    assert status == 503
    assert doublure.clock() == {"now": "2031-05-01T00:00:00Z", "frozen": True}
    assert [(e["path"], e["status"]) for e in doublure.requests()] == [("/api/v1/users", 503)]
    # The session's server is untouched.
    assert doublure_server.clock()["now"] != "2031-05-01T00:00:00Z"
    assert doublure_server.control("GET", "faults") == root_faults
    assert doublure_server.requests() == root_journal


def test_a_token_and_a_signed_url_work_in_a_namespace(doublure, call):
    token = doublure.token()
    status, headers, _ = call(
        "GET", doublure.url + "/api/v1/users", headers={"Authorization": "Bearer " + token}
    )
    assert (status, headers["total"]) == (200, "48")
    url = doublure.sign("/api/user/", email="fred@example.net")
    assert url.startswith(doublure.url + "/api/user/?")
    status, _, body = call("GET", url)
    assert (status, body["user_email"]) == (200, "fred@example.net")


def test_a_namespaces_data_changes_stay_in_it(doublure, doublure_server):
    doublure.control("PATCH", "logora/users/21", {"city": "Lyon"})
    assert doublure.control("GET", "logora/users/21")["city"] == "Lyon"
    assert doublure_server.control("GET", "logora/users/21")["city"] != "Lyon"


def test_the_namespace_is_listed_while_the_test_runs(doublure, doublure_server):
    doublure.reset()
    assert doublure.name in [n["name"] for n in doublure_server.namespaces()]


def test_drop_says_whether_there_was_a_namespace(doublure_server):
    space = doublure_server.namespace("drop-me-" + secrets.token_hex(4))
    assert space.drop() is False
    space.reset()
    assert space.drop() is True
    assert space.name not in [n["name"] for n in doublure_server.namespaces()]


def test_a_namespace_handle_as_a_context_manager_drops_it(doublure_server):
    with doublure_server.namespace("block-" + secrets.token_hex(4)) as space:
        space.reset()
        assert space.name in [n["name"] for n in doublure_server.namespaces()]
    assert space.name not in [n["name"] for n in doublure_server.namespaces()]


# -- whole sessions ---------------------------------------------------------


INNER_ISOLATION = '''
import os
import socket

from inner_http import call

MINE = {"gw0": ("2026-01-15T10:00:00Z", 503), "gw1": ("2031-07-01T08:00:00Z", 429)}


def rendezvous():
    """Returns once the other worker has arrived too."""
    host, port = os.environ["RENDEZVOUS"].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        assert sock.recv(2) == b"go"


def test_two_workers_keep_their_own_resets_clocks_and_faults(doublure):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    users = doublure.url + "/api/v1/users?api_key=API_KEY"
    now, status = MINE[worker]

    # Both workers arrange their namespace at the same time.
    doublure.set_clock(now)
    doublure.fault(path="/api/v1/users", status=status)
    assert call("GET", users) == status
    rendezvous()
    assert doublure.clock() == {"now": now, "frozen": True}
    assert [f["status"] for f in doublure.control("GET", "faults")["faults"]] == [status]
    assert [e["status"] for e in doublure.requests()] == [status]
    rendezvous()

    # One resets; the other must not notice.
    if worker == "gw1":
        doublure.reset()
    rendezvous()
    if worker == "gw1":
        assert doublure.clock()["frozen"] is False
        assert doublure.control("GET", "faults") == {"faults": []}
        assert doublure.requests() == []
        assert call("GET", users) == 200
    else:
        assert doublure.clock() == {"now": now, "frozen": True}
        assert call("GET", users) == status
        assert [e["status"] for e in doublure.requests()] == [status, status]
    rendezvous()
'''

INNER_HTTP = """
import urllib.error
import urllib.request

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(method, url):
    try:
        with _OPENER.open(urllib.request.Request(url, method=method), timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
"""


def _rendezvous_point(rounds):
    """A two-party barrier over loopback TCP: each round, once both parties
    have connected, both are told to go. A party left alone times out."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(30)

    def serve():
        with listener:
            for _ in range(rounds):
                first, _ = listener.accept()
                second, _ = listener.accept()
                for party in (first, second):
                    with party:
                        party.sendall(b"go")

    threading.Thread(target=serve, daemon=True).start()
    return f"127.0.0.1:{listener.getsockname()[1]}"


def test_two_xdist_workers_do_not_see_each_others_resets_clocks_or_faults(
    pytester, doublure_server, monkeypatch
):
    # Both inner workers share this session's server, each in the namespace
    # of its own test; the rendezvous makes each one's changes while the
    # other's are in place.
    root_faults = doublure_server.control("GET", "faults")
    monkeypatch.setenv("RENDEZVOUS", _rendezvous_point(rounds=4))
    monkeypatch.setenv("DOUBLURE_URL", doublure_server.url)
    pytester.makepyfile(inner_http=INNER_HTTP, test_isolation=INNER_ISOLATION)

    result = pytester.runpytest_subprocess(
        "-n", "2", "--dist", "each", "-p", "no:cacheprovider", timeout=120
    )

    result.assert_outcomes(passed=2)
    left = [n["name"] for n in doublure_server.namespaces()]
    assert not [n for n in left if "test_two_workers_keep_their_own" in n], left
    assert doublure_server.control("GET", "faults") == root_faults
    assert doublure_server.clock()["frozen"] is False


def test_the_doublure_fixture_drops_its_namespace_after_the_test(
    pytester, doublure_server, monkeypatch
):
    monkeypatch.setenv("DOUBLURE_URL", doublure_server.url)
    pytester.makepyfile(
        test_leaves="""
        def test_uses_a_namespace(doublure):
            doublure.set_clock("2026-01-15T10:00:00Z")
            print("NAMESPACE=" + doublure.name)
        """
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    [line] = [out for out in result.outlines if "NAMESPACE=" in out]
    name = line.split("NAMESPACE=", 1)[1].strip()
    assert name not in [n["name"] for n in doublure_server.namespaces()]


def test_the_plugin_starts_its_own_server_without_doublure_url(pytester, monkeypatch):
    monkeypatch.delenv("DOUBLURE_URL", raising=False)
    pytester.makepyfile(
        test_started="""
        import re

        def test_started(doublure_server):
            assert re.fullmatch(r"http://127\\.0\\.0\\.1:\\d+", doublure_server.url)
            assert doublure_server.output.count("doublure listening on") == 1
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_doublure_options_in_conftest_reach_the_started_server(pytester, monkeypatch):
    monkeypatch.delenv("DOUBLURE_URL", raising=False)
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def doublure_options():
            return {"journal_size": 3}
        """
    )
    pytester.makepyfile(
        test_options="""
        def test_options(doublure_server):
            assert doublure_server.control("GET", "requests")["capacity"] == 3
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_an_unhealthy_doublure_url_fails_the_session_with_the_url(pytester, monkeypatch):
    monkeypatch.setenv("DOUBLURE_URL", "http://127.0.0.1:9")
    pytester.makepyfile(
        test_unreachable="""
        def test_needs_a_server(doublure):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*UnhealthyError: doublure at http://127.0.0.1:9 is not healthy: cannot reach*"]
    )


def test_the_readme_plugin_example_passes(pytester, monkeypatch):
    monkeypatch.delenv("DOUBLURE_URL", raising=False)
    result = pytester.runpytest_subprocess(
        os.path.abspath(EXAMPLE), "-p", "no:cacheprovider", "-n", "2"
    )
    result.assert_outcomes(passed=3)
