"""The pytest plugin, registered through the ``pytest11`` entry point.

Fixtures:

- ``doublure_server`` (session): one doublure per test session, or per
  pytest-xdist worker, started with ``Doublure.start(**doublure_options)``;
  with ``DOUBLURE_URL`` set, a handle on that running server instead.
- ``doublure`` (function): a handle on a fresh namespace of that server,
  named after the test and dropped after it, so tests neither see each
  other's data, clock, tokens, journal and faults nor wait for each other.
- ``doublure_options`` (session): the keyword arguments of
  ``Doublure.start``; override it in ``conftest.py`` to serve other fixtures
  or flags.
- ``doublure_container`` (session): doublure's image in a container, one
  per session (or pytest-xdist worker), started with
  ``DoublureContainer(**doublure_container_options)`` and removed at the
  end (``pip install doublure[testcontainers]``).
- ``doublure_container_namespace`` (function): a handle on a fresh
  namespace of that container, named after the test and dropped after it,
  as ``doublure`` is of the server.

The ``--doublure-tls`` option (or ``doublure_tls = true`` in the ini file)
starts the server with ``tls=True``: HTTPS, its CA at
``doublure_server.ca_file``.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any, Dict, Iterator, Optional

import pytest

from ._errors import ControlPlaneError, DoublureError
from ._handle import Doublure

_MAX_NAME = 64


def namespace_name(nodeid: str, worker: Optional[str] = None) -> str:
    """The namespace of a test: its node id in the allowed characters, with a hash.

    The hash of the full node id (and xdist worker) keeps two tests apart
    even when the cut or the character replacement makes them look alike;
    when the id is too long, its end (the test's own name) is kept.
    """
    digest = hashlib.sha256(f"{worker or ''}|{nodeid}".encode("utf-8")).hexdigest()[:8]
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", nodeid).strip("-.")
    prefix = f"{worker}-" if worker else ""
    room = _MAX_NAME - len(prefix) - len(digest) - 1
    text = text[-room:].lstrip("-.") if room > 0 else ""
    return f"{prefix}{text}-{digest}" if text else f"{prefix}{digest}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("doublure")
    group.addoption(
        "--doublure-tls",
        action="store_true",
        default=None,
        help="serve the doublure_server fixture over HTTPS (Doublure.start(tls=True))",
    )
    parser.addini(
        "doublure_tls",
        "serve the doublure_server fixture over HTTPS (Doublure.start(tls=True))",
        type="bool",
        default=False,
    )


def _tls_asked(config: pytest.Config) -> bool:
    option = config.getoption("doublure_tls")
    return bool(option) if option is not None else bool(config.getini("doublure_tls"))


@pytest.fixture(scope="session")
def doublure_options() -> Dict[str, Any]:
    """Keyword arguments for ``Doublure.start`` (ignored when ``DOUBLURE_URL`` is set)."""
    return {}


@pytest.fixture(scope="session")
def doublure_server(
    doublure_options: Dict[str, Any], pytestconfig: pytest.Config
) -> Iterator[Doublure]:
    """One doublure for the session (or xdist worker), or the one at ``DOUBLURE_URL``
    (trusting ``DOUBLURE_CA_FILE`` when it is ``https://``)."""
    url = os.environ.get("DOUBLURE_URL")
    if url:
        yield Doublure.connect(url, ca_file=os.environ.get("DOUBLURE_CA_FILE") or None)
        return
    options = dict(doublure_options)
    if _tls_asked(pytestconfig):
        options.setdefault("tls", True)
    server = Doublure.start(**options)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _doublure_namespaces(doublure_server: Doublure) -> Doublure:
    # Checked once, so that a server without namespaces fails every test
    # that asks for one with the reason rather than with 404s.
    try:
        doublure_server.namespaces()
    except ControlPlaneError as error:
        if error.status == 404:
            raise DoublureError(
                f"doublure at {doublure_server.url} serves no namespaces "
                "(GET /__doublure/namespaces answered 404): the doublure fixture needs a "
                "server as recent as this plugin; the doublure_server fixture works without"
            ) from None
        raise
    return doublure_server


@pytest.fixture
def doublure(_doublure_namespaces: Doublure, request: pytest.FixtureRequest) -> Iterator[Doublure]:
    """A handle on a fresh namespace named after the test, dropped after it."""
    name = namespace_name(request.node.nodeid, os.environ.get("PYTEST_XDIST_WORKER"))
    handle = _doublure_namespaces.namespace(name)
    # A namespace an interrupted run left behind would not be fresh.
    handle.drop()
    yield handle
    handle.drop()


@pytest.fixture(scope="session")
def doublure_container_options() -> Dict[str, Any]:
    """Keyword arguments for ``DoublureContainer``: ``image=``, and settings by flag name."""
    return {}


@pytest.fixture(scope="session")
def doublure_container(doublure_container_options: Dict[str, Any]) -> Iterator[Any]:
    """doublure's image in a container for the session (or xdist worker), removed at the end."""
    # Imported here: testcontainers is an optional extra, and the other
    # fixtures work without it.
    from .testcontainers import DoublureContainer

    with DoublureContainer(**doublure_container_options) as container:
        yield container


@pytest.fixture
def doublure_container_namespace(doublure_container: Any, request: pytest.FixtureRequest) -> Iterator[Doublure]:
    """A handle on a fresh namespace of the container, named after the test, dropped after it."""
    name = namespace_name(request.node.nodeid, os.environ.get("PYTEST_XDIST_WORKER"))
    handle = doublure_container.namespace(name)
    handle.drop()
    yield handle
    handle.drop()
