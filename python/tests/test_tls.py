"""``Doublure.start(tls=True)``: HTTPS with a CA of its own, which
``requests`` trusts through ``verify`` and ``httpx`` through
``ssl_context()``, and the plugin's ``--doublure-tls`` option."""

import os
import re

import httpx
import pytest
import requests

from doublure import Doublure


@pytest.fixture(scope="module")
def server():
    with Doublure.start(tls=True) as started:
        yield started


def test_tls_serves_https_with_the_ca_in_a_file(server):
    assert re.fullmatch(r"https://127\.0\.0\.1:\d+", server.url)
    with open(server.ca_file) as pem:
        assert pem.read().startswith("-----BEGIN CERTIFICATE-----\n")
    assert server.verify == server.ca_file
    # The handle's own control-plane calls go over HTTPS too.
    assert server.clock()["frozen"] is False


def test_requests_trusts_the_server_through_verify(server):
    token = server.token()
    answer = requests.get(
        server.url + "/api/v1/users",
        params={"per_page": 2},
        headers={"Authorization": "Bearer " + token},
        verify=server.verify,
    )
    assert answer.status_code == 200
    assert len(answer.json()["data"]) == 2


def test_httpx_speaks_http2_with_the_ssl_context(server):
    with httpx.Client(http2=True, verify=server.ssl_context()) as client:
        answer = client.get(server.url + "/__doublure/health")
    assert (answer.status_code, answer.http_version) == (200, "HTTP/2")


def test_without_the_ca_the_certificate_is_refused(server):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url + "/__doublure/health")


def test_a_namespace_handle_keeps_the_ca(server):
    mine = server.namespace("tls-ns")
    assert mine.ca_file == server.ca_file
    assert mine.url == server.url + "/__ns/tls-ns"
    assert mine.token()
    mine.drop()


def test_the_temporary_ca_goes_with_the_server():
    started = Doublure.start(tls=True)
    folder = os.path.dirname(started.ca_file)
    assert os.path.isfile(started.ca_file)
    started.stop()
    assert not os.path.exists(folder)


def test_the_plugin_option_starts_the_server_over_https(pytester):
    pytester.makepyfile(
        """
        def test_https(doublure_server, doublure):
            assert doublure_server.url.startswith("https://")
            assert doublure.url.startswith(doublure_server.url + "/__ns/")
            assert doublure_server.ca_file.endswith("ca.pem")
            assert doublure.token()
        """
    )
    result = pytester.runpytest_subprocess("--doublure-tls", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
