"""The handle on a doublure server, or on one of its namespaces.

Every method is one call to the control plane under ``/__doublure/``, with
the standard library's ``urllib`` (no proxy: a test double is reached
directly). A namespace handle sends the same calls under
``/__ns/{name}/__doublure/``, where the server keeps that namespace's own
data, clock, tokens, journal and faults.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import ssl
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from . import _process
from ._errors import ControlPlaneError, DoublureError, UnhealthyError

# The server's rule for namespace names. "." and ".." are refused too:
# HTTP clients and browsers collapse them out of a path.
_NAMESPACE = re.compile(r"[A-Za-z0-9._-]{1,64}")

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

Instant = Union[str, datetime.datetime]


class Doublure:
    """A doublure server (or one of its namespaces) and its control plane.

    Get one with :meth:`start` (runs the binary on a free port) or
    :meth:`connect` (a server already running, e.g. a CI service); both
    work as context managers.
    """

    def __init__(
        self,
        url: str,
        *,
        admin_token: Optional[str] = None,
        timeout: float = 30.0,
        ca_file: Optional[str] = None,
        _child: Optional[_process.Process] = None,
        _root: Optional["Doublure"] = None,
        _name: Optional[str] = None,
        _ca_dir: Optional[str] = None,
    ) -> None:
        self._url = url.rstrip("/")
        self._admin_token = admin_token
        self._timeout = timeout
        self._ca_file = ca_file
        self._context = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self._opener = (
            urllib.request.build_opener(
                urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self._context)
            )
            if self._context
            else _OPENER
        )
        self._process = _child
        self._root = _root
        self._name = _name
        self._ca_dir = _ca_dir

    # -- getting a handle -------------------------------------------------

    @classmethod
    def start(
        cls,
        fixtures: Optional[_process.PathLike] = None,
        *,
        binary: Optional[_process.PathLike] = None,
        env: Optional[Mapping[str, str]] = None,
        startup_timeout: float = 30.0,
        timeout: float = 30.0,
        **options: Any,
    ) -> "Doublure":
        """Runs the doublure binary on ``127.0.0.1:0`` and waits until it is healthy.

        ``fixtures`` is a fixture directory (default: the built-in data).
        Other keyword arguments are the binary's flags in snake case:
        ``generate_logora_users=1000`` is ``--generate-logora-users 1000``,
        ``watch=True`` is ``--watch true`` (see ``doublure --help``).
        ``admin_token`` is given to the server through its environment, so
        it shows neither in ``ps`` nor in an error message.

        ``tls=True`` serves HTTPS (HTTP/2 and HTTP/1.1): :attr:`url` starts
        with ``https://``, :attr:`ca_file` is the CA to trust (kept in a
        temporary directory unless ``tls_ca_dir`` names one), and
        :attr:`verify` is the value for ``requests``' ``verify=``;
        :meth:`ssl_context` is the one for ``httpx`` and ``urllib``.

        Raises :class:`StartError` with the process's output when the binary
        cannot be found, exits, or does not listen within ``startup_timeout``
        seconds.
        """
        executable = _process.find_binary(binary)
        child_env = dict(os.environ)
        if env:
            child_env.update(env)
        admin_token = options.pop("admin_token", None)
        if admin_token is not None:
            child_env["DOUBLURE_ADMIN_TOKEN"] = str(admin_token)
        else:
            admin_token = child_env.get("DOUBLURE_ADMIN_TOKEN") or None
        if fixtures is not None:
            options["fixtures"] = fixtures
        ca_dir = None
        own_ca_dir = None
        if options.get("tls") and not options.get("tls_cert"):
            ca_dir = options.get("tls_ca_dir")
            if ca_dir is None:
                ca_dir = own_ca_dir = tempfile.mkdtemp(prefix="doublure-ca-")
                options["tls_ca_dir"] = ca_dir
        try:
            process = _process.Process(
                _process.command(executable, options, child_env), child_env, startup_timeout
            )
        except BaseException:
            if own_ca_dir:
                shutil.rmtree(own_ca_dir, ignore_errors=True)
            raise
        handle = cls(
            process.url,
            admin_token=admin_token,
            timeout=timeout,
            ca_file=os.path.join(os.fspath(ca_dir), "ca.pem") if ca_dir is not None else None,
            _child=process,
            _ca_dir=own_ca_dir,
        )
        try:
            handle._check_health()
        except BaseException:
            handle.stop()
            raise
        return handle

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        admin_token: Optional[str] = None,
        timeout: float = 30.0,
        ca_file: Optional[str] = None,
    ) -> "Doublure":
        """A handle on a server that is already running, once it answers its health check.

        ``admin_token`` defaults to the ``DOUBLURE_ADMIN_TOKEN`` environment
        variable. ``ca_file`` is the CA to trust for an ``https://`` server
        (``doublure tls ca --out FILE`` writes it); by default the system's
        trust store is used. Raises :class:`UnhealthyError`, naming the URL,
        when the server cannot be reached or is not healthy.
        """
        if not re.match(r"https?://", url):
            raise ValueError(f"connect: {url!r} is not an http:// or https:// URL")
        if admin_token is None:
            admin_token = os.environ.get("DOUBLURE_ADMIN_TOKEN") or None
        handle = cls(url, admin_token=admin_token, timeout=timeout, ca_file=ca_file)
        handle._check_health()
        return handle

    def namespace(self, name: str) -> "Doublure":
        """A handle on the namespace ``name``, served at ``<url>/__ns/<name>``.

        A namespace has its own data, clock, tokens, journal and faults; the
        server creates it on its first request. Names are 1 to 64 characters
        among ``A-Z a-z 0-9 . _ -``.
        """
        if self._root is not None:
            raise DoublureError(
                f"namespaces do not nest: call namespace({name!r}) on the server's handle, "
                f"not on namespace {self._name!r}"
            )
        if not isinstance(name, str) or not _NAMESPACE.fullmatch(name) or name in (".", ".."):
            raise ValueError(
                f"namespace name {name!r}: use 1 to 64 characters among A-Z a-z 0-9 . _ - "
                "(and not '.' or '..')"
            )
        return Doublure(
            f"{self._url}/__ns/{name}",
            admin_token=self._admin_token,
            timeout=self._timeout,
            ca_file=self._ca_file,
            _root=self,
            _name=name,
        )

    # -- what the handle is -----------------------------------------------

    @property
    def url(self) -> str:
        """The base URL the emulated APIs answer at (a namespace's includes ``/__ns/<name>``)."""
        return self._url

    @property
    def ca_file(self) -> Optional[str]:
        """The CA certificate (PEM file) to trust over HTTPS; None without ``tls``."""
        return self._ca_file

    @property
    def verify(self) -> Union[str, bool]:
        """``requests``' ``verify=`` value: the CA file with ``tls``, else True."""
        return self._ca_file if self._ca_file else True

    def ssl_context(self) -> ssl.SSLContext:
        """A new TLS context trusting :attr:`ca_file` (the system's store without one):
        ``httpx.Client(verify=server.ssl_context())``, ``urllib``, ``aiohttp``."""
        return ssl.create_default_context(cafile=self._ca_file)

    @property
    def name(self) -> Optional[str]:
        """The namespace's name, or None on the server's own handle."""
        return self._name

    def __repr__(self) -> str:
        kind = f"namespace {self._name!r} " if self._name else ""
        return f"<Doublure {kind}at {self._url}>"

    def __enter__(self) -> "Doublure":
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Leaving the block ends what made the handle: the process it
        # started, or the namespace it names.
        if self._root is not None:
            self.drop()
        else:
            self.stop()

    # -- the control plane ------------------------------------------------

    def control(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        """Calls ``/__doublure/<path>`` of this handle; the decoded JSON answer, or None.

        For what no method wraps, e.g. ``control("PATCH", "logora/users/21",
        {"city": "Lyon"})``. Raises :class:`ControlPlaneError` on an error
        status.
        """
        return self._call(method, self._url + "/__doublure/" + path.lstrip("/"), body, query)

    def _call(
        self,
        method: str,
        url: str,
        body: Any = None,
        query: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        if query:
            pairs = {k: _query_value(v) for k, v in query.items() if v is not None}
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs)
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method.upper())
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._admin_token:
            request.add_header("Authorization", "Bearer " + self._admin_token)
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return _decode(response.read())
        except urllib.error.HTTPError as error:
            raw = error.read()
            error.close()
            body, message, problems = _error_text(raw, error.reason)
            raise ControlPlaneError(
                method=method.upper(),
                url=url,
                status=error.code,
                message=message,
                problems=problems,
                body=body,
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DoublureError(f"cannot reach doublure at {url}: {reason}") from None

    def _check_health(self) -> None:
        url = self._url + "/__doublure/health"
        try:
            answer = self._call("GET", url)
        except DoublureError as error:
            raise UnhealthyError(
                f"doublure at {self._url} is not healthy: {error}", url=url
            ) from None
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            raise UnhealthyError(
                f"doublure at {self._url} is not healthy: {url} answered {answer!r}", url=url
            )

    def reset(self) -> None:
        """Back to the loaded fixtures: data, tokens, nonces, journal, faults and clock."""
        self.control("POST", "reset")

    def clock(self) -> Dict[str, Any]:
        """The emulated time: ``{"now": "<RFC 3339>", "frozen": bool}``."""
        return self.control("GET", "clock")

    def set_clock(self, now: Optional[Instant] = None, frozen: bool = True) -> Dict[str, Any]:
        """Sets the emulated time (an aware datetime or an RFC 3339 string) and freezes it.

        ``frozen=False`` lets it run from there; ``now=None`` keeps the time
        and only freezes or unfreezes. Returns the clock as :meth:`clock` does.
        """
        body: Dict[str, Any] = {"frozen": bool(frozen)}
        if now is not None:
            body["now"] = _instant(now, "set_clock")
        return self.control("PUT", "clock", body)

    def advance(self, seconds: Union[int, float, datetime.timedelta]) -> Dict[str, Any]:
        """Moves the emulated clock (negative goes back); token expiry and signature windows follow."""
        if isinstance(seconds, datetime.timedelta):
            seconds = seconds.total_seconds()
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(f"advance: seconds must be a number or a timedelta, not {seconds!r}")
        return self.control("POST", "clock/advance", {"seconds": seconds})

    def token(self, client_id: str = "API_KEY", scope: str = "public") -> str:
        """A Logora access token for ``client_id``, as ``/oauth/token`` would issue."""
        answer = self.control("POST", "logora/tokens", {"client_id": client_id, "scope": scope})
        return answer["access_token"]

    def sign(
        self,
        url: str,
        orig: str = "demo",
        email: Optional[str] = None,
        name_id: Optional[str] = None,
        *,
        key: Optional[str] = None,
    ) -> str:
        """A w.c.s. URL signed at the emulated time, valid 30 s and once.

        A path (``/api/user/forms``) is made absolute with this handle's
        :attr:`url`, so a namespace's signed URL reaches that namespace.
        ``key`` defaults to the ``orig``'s in the server's fixtures.
        """
        if email is not None and name_id is not None:
            raise ValueError("sign: give email or name_id, not both")
        if url.startswith("/"):
            url = self._url + url
        body: Dict[str, Any] = {"url": url, "orig": orig}
        for field, value in (("email", email), ("name_id", name_id), ("key", key)):
            if value is not None:
                body[field] = value
        return self.control("POST", "wcs/sign", body)["url"]

    def fault(self, **rule: Any) -> int:
        """Adds a fault rule (``path=``, ``status=``, ``count=``, ``latency_ms=``, …); its id."""
        if not rule:
            raise TypeError("fault: give the rule, e.g. fault(path='/api/v1/users', status=503)")
        return self.control("POST", "faults", rule)["id"]

    def requests(self, **filters: Any) -> List[Dict[str, Any]]:
        """Journal entries, oldest first: ``path=``, ``method=``, ``status=``, ``since=``, ``after=``, ``limit=``."""
        if isinstance(filters.get("since"), datetime.datetime):
            filters["since"] = _instant(filters["since"], "requests")
        return self.control("GET", "requests", query=filters)["requests"]

    def namespaces(self) -> List[Dict[str, Any]]:
        """The server's namespaces: ``name``, ``created``, ``last_used``, ``requests``."""
        root = self._root or self
        return root.control("GET", "namespaces")["namespaces"]

    def drop(self) -> bool:
        """Drops this namespace and all its state; False when the server had none by that name."""
        if self._root is None or self._name is None:
            raise DoublureError("drop() is for a namespace's handle; stop() ends a server")
        try:
            self._root.control("DELETE", "namespaces/" + self._name)
        except ControlPlaneError as error:
            # An unknown namespace is a JSON 404; a server without
            # namespaces answers a plain "Not Found", which is no "gone".
            if error.status == 404 and error.body is not None:
                return False
            raise
        return True

    def stop(self) -> Optional[int]:
        """Stops the process :meth:`start` ran (SIGTERM, then SIGKILL after 10 s); its exit status.

        On a handle from :meth:`connect` or :meth:`namespace`, there is no
        process of ours to stop, and this does nothing.
        """
        if self._process is None:
            return None
        status = self._process.stop()
        if self._ca_dir:
            shutil.rmtree(self._ca_dir, ignore_errors=True)
            self._ca_dir = None
        return status

    @property
    def output(self) -> str:
        """The last lines the started process wrote (empty for a connected server)."""
        return self._process.output() if self._process else ""


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _error_text(raw: bytes, reason: object) -> "Tuple[Any, str, List[str]]":
    """The decoded body (None when not JSON), its message and its problems."""
    try:
        body = json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", "replace").strip()
        return None, (text or str(reason)), []
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        problems = body.get("problems")
        return body, body["error"], [str(p) for p in problems] if isinstance(problems, list) else []
    return body, json.dumps(body), []


def _instant(value: Instant, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{what}: {value!r} has no time zone; give an aware datetime "
                "(tzinfo=datetime.timezone.utc) or an RFC 3339 string"
            )
        return value.isoformat()
    raise TypeError(f"{what}: expected a datetime or an RFC 3339 string, not {value!r}")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
