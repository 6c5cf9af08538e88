"""doublure in a container, with pytest: ``pip install doublure[testcontainers]``.

Needs a Docker API (Docker, or Podman's ``podman system service`` with
``DOCKER_HOST``) and the image at the package's version (pulled, or built:
README.md, "Docker in brief"). The plugin's ``doublure_container`` fixture
is one container per session (or pytest-xdist worker), and
``doublure_container_namespace`` a namespace of it per test.
"""

import json
import os
import pathlib
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import docker
import pytest

from doublure import StartError
from doublure.testcontainers import DoublureContainer, allowed_host


def get(url, token=None):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


def story(doublure):
    """A token and a users page, a signed w.c.s. call, a fault, a clock move, the journal."""
    doublure.set_clock("2026-01-15T10:00:00Z")  # frozen: only the test moves it
    token = doublure.token()
    status, headers, body = get(doublure.url + "/api/v1/users?per_page=5", token)
    assert (status, headers["total"], len(body["data"])) == (200, "48", 5)

    status, _, profile = get(doublure.sign("/api/user/", email="fred@example.net"))
    assert (status, profile["user_display_name"]) == (200, "Fred Cuadrado")

    doublure.fault(path="/api/v1/users", status=503, count=1)
    statuses = [get(doublure.url + "/api/v1/users?api_key=API_KEY")[0] for _ in range(2)]
    assert statuses == [503, 200]

    doublure.advance(7201)
    status, _, body = get(doublure.url + "/api/v1/users", token)
    assert (status, body["error_description"]) == (401, "The access token expired")

    refused = doublure.requests(status=401)
    assert [(e["path"], e["outcome"]) for e in refused] == [
        ("/api/v1/users", "token of API_KEY expired 1 s ago")
    ]
    assert len(doublure.requests(status=503)) == 1


def test_two_namespaces_of_one_container_at_once(doublure_container):
    names = ["py_a", "py_b"]
    handles = [doublure_container.namespace(n) for n in names]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(story, handles))
    assert all(handle.drop() for handle in handles)
    # The root saw none of the namespaces' API calls.
    assert not [e for e in doublure_container.connect().requests() if "/api/" in e["path"]]


def test_the_plugin_gives_each_test_a_namespace(doublure_container_namespace):
    assert "/__ns/" in doublure_container_namespace.url
    story(doublure_container_namespace)


def test_settings_reach_the_container_as_doublure_variables():
    with DoublureContainer(journal_size=500).with_generated(users=120).with_admin_token("s3cret") as container:
        status, headers, _ = get(container.url + "/api/v1/users?api_key=API_KEY&per_page=1")
        # The 48 built-in users and the 120 generated ones.
        assert (status, headers["total"]) == (200, "168")
        container.connect().reset()  # the handle sends the admin token


def test_fixtures_are_copied_into_the_container():
    # The repository's Kubernetes example: three Logora users, client TEAM_KEY.
    fixtures = pathlib.Path(__file__).parents[2] / "deploy" / "kubernetes" / "components" / "fixtures"
    with DoublureContainer().with_fixtures(fixtures) as container:
        status, headers, _ = get(container.url + "/api/v1/users?api_key=TEAM_KEY")
        assert (status, headers["total"]) == (200, "3")


def test_a_failing_test_still_removes_its_container():
    with pytest.raises(RuntimeError, match="on purpose"):
        with DoublureContainer() as container:
            container_id = container.get_wrapped_container().id
            raise RuntimeError("fails on purpose, holding its container")
    with pytest.raises(docker.errors.NotFound):
        docker.from_env().containers.get(container_id)


def test_a_wrong_image_tag_is_named_with_how_to_get_it():
    started = time.monotonic()
    with pytest.raises(StartError) as error:
        DoublureContainer("ghcr.io/doublure/doublure:0.0.0-missing").start()
    message = str(error.value)
    assert message.startswith("the image ghcr.io/doublure/doublure:0.0.0-missing is not on this machine")
    assert "docker build -t ghcr.io/doublure/doublure:0.0.0-missing ." in message
    assert time.monotonic() - started < 60


@pytest.mark.skipif(not os.environ.get("DOUBLURE_FAIL_ON_PURPOSE"), reason="CI runs it to see its container go")
def test_fails_on_purpose(doublure_container_namespace):
    story(doublure_container_namespace)
    assert False, "this test fails on purpose: its container must still be removed"


def test_the_container_allows_the_host_its_url_names():
    class Client:
        def __init__(self, mode, host):
            self.mode, self._host = mode, host

        def get_connection_mode(self):
            return type("Mode", (), {"name": self.mode})

        def host(self):
            return self._host

    assert allowed_host(Client("docker_host", "docker")) == "docker"
    assert allowed_host(Client("docker_host", "::1")) == "[::1]"
    assert allowed_host(Client("gateway_ip", "localhost")) == "*"
    assert allowed_host(None) == "*"
