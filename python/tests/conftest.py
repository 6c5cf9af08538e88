"""Shared helpers for the plugin's own tests.

These tests run against the installed package (``pip install`` of the
wheel), so ``import doublure`` is the code a user gets. ``pytester`` runs
inner pytest sessions, for what only a whole session shows: two xdist
workers side by side, teardown, and the examples' outcomes.
"""

import json
import urllib.error
import urllib.request
from typing import Any, Dict, Optional, Tuple

import pytest

pytest_plugins = ["pytester"]

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(
    method: str, url: str, *, headers: Optional[Dict[str, str]] = None, body: Any = None
) -> Tuple[int, Dict[str, str], Any]:
    """One HTTP call: status, lower-cased headers and the decoded JSON body (or text)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with _OPENER.open(request, timeout=30) as response:
            status, raw, head = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, head = error.code, error.read(), error.headers
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode()
    return status, {k.lower(): v for k, v in head.items()}, decoded


@pytest.fixture(name="call")
def call_fixture():
    return call
