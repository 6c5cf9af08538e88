"""Finding the doublure binary, and running it as a child process.

The child listens on ``127.0.0.1:0``; its bound address is read from its
log line ``doublure listening on http://127.0.0.1:PORT`` (``https://``
with ``tls``; on standard output, in text or JSON format). Both output streams are drained for the
whole life of the process: a child whose pipe fills up would stop answering
once it logs enough refused calls.
"""

from __future__ import annotations

import atexit
import collections
import os
import re
import shutil
import subprocess
import sysconfig
import threading
from typing import IO, Deque, Dict, List, Mapping, Optional, Set, Tuple, Union

from ._errors import StartError

_EXE = "doublure.exe" if os.name == "nt" else "doublure"
_LISTENING = re.compile(r"doublure listening on (https?://[^\s\"]+)")
# Enough of the output to explain a failure, bounded so a long-lived server
# that logs every refused call does not grow without limit.
_KEPT_LINES = 200

PathLike = Union[str, "os.PathLike[str]"]


def find_binary(binary: Optional[PathLike] = None) -> str:
    """The doublure executable to run.

    In order: ``binary``, the ``DOUBLURE_BINARY`` environment variable, the
    one the wheel installed beside this Python's scripts, then ``PATH``.
    """
    if binary is not None:
        return _must_exist(os.fspath(binary), "binary=")
    from_env = os.environ.get("DOUBLURE_BINARY")
    if from_env:
        return _must_exist(from_env, "DOUBLURE_BINARY")
    for scripts in _script_dirs():
        if scripts:
            candidate = os.path.join(scripts, _EXE)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    on_path = shutil.which("doublure")
    if on_path:
        return on_path
    raise StartError(
        "cannot find the doublure binary: pass binary=, set DOUBLURE_BINARY, "
        "or install the package (pip install doublure) so that doublure is on the PATH"
    )


def _script_dirs() -> List[str]:
    # The running interpreter's own scripts (a virtual environment's bin/),
    # then the user scheme's, where `pip install --user` puts them.
    dirs = [sysconfig.get_path("scripts")]
    user = f"{os.name}_user"
    if user in sysconfig.get_scheme_names():
        dirs.append(sysconfig.get_path("scripts", user))
    return dirs


def _must_exist(path: str, source: str) -> str:
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    found = shutil.which(path)
    if found:
        return found
    raise StartError(f"{source} names {path!r}, which is not an executable file")


def flags(options: Mapping[str, object]) -> List[str]:
    """``generate_logora_users=1000`` becomes ``--generate-logora-users 1000``."""
    args: List[str] = []
    for key, value in options.items():
        if value is None:
            continue
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise TypeError(f"option {key!r} is not a doublure flag name (see doublure --help)")
        args.append("--" + key.replace("_", "-"))
        if isinstance(value, bool):
            args.append("true" if value else "false")
        elif isinstance(value, (list, tuple)):
            args.append(",".join(str(v) for v in value))
        elif isinstance(value, os.PathLike):
            args.append(os.fspath(value))
        else:
            args.append(str(value))
    return args


class Process:
    """A running doublure child, its address, and the tail of its output."""

    def __init__(self, command: List[str], env: Dict[str, str], timeout: float) -> None:
        self._lines: Deque[Tuple[str, str]] = collections.deque(maxlen=_KEPT_LINES)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._url: Optional[str] = None
        self._open_streams = 2
        try:
            self._popen = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
        except OSError as error:
            raise StartError(f"cannot run {command[0]}: {error}") from error
        self._readers = [
            threading.Thread(target=self._read, args=(self._popen.stdout, "stdout"), daemon=True),
            threading.Thread(target=self._read, args=(self._popen.stderr, "stderr"), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        _LIVE.add(self)
        with self._changed:
            self._changed.wait_for(
                lambda: self._url is not None or self._open_streams == 0, timeout
            )
            url = self._url
        if url is None:
            self._fail(timeout)
        self.url: str = url  # type: ignore[assignment]

    @property
    def pid(self) -> int:
        return self._popen.pid

    def _read(self, stream: IO[bytes], name: str) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._changed:
                self._lines.append((name, line))
                if self._url is None:
                    found = _LISTENING.search(line)
                    if found:
                        self._url = _loopback(found.group(1))
                        self._changed.notify_all()
        stream.close()
        with self._changed:
            self._open_streams -= 1
            self._changed.notify_all()

    def output(self) -> str:
        """The last lines the process wrote: standard error, then standard output."""
        with self._lock:
            lines = list(self._lines)
        stderr = [line for name, line in lines if name == "stderr"]
        stdout = [line for name, line in lines if name == "stdout"]
        return "\n".join(stderr + stdout)

    def _fail(self, timeout: float) -> None:
        if self._open_streams == 0:
            returncode = self._popen.wait()
            if returncode < 0:
                reason = f"doublure was killed by signal {-returncode} before listening"
            else:
                reason = f"doublure exited with status {returncode} before listening"
        else:
            self.stop()
            returncode = self._popen.returncode
            reason = f"doublure did not report its address within {timeout:g} s"
        for reader in self._readers:
            reader.join(timeout=5)
        _LIVE.discard(self)
        output = self.output()
        message = reason + (":\n" + output if output else " (it wrote nothing)")
        raise StartError(message, returncode=returncode, output=output)

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """SIGTERM (a graceful stop), then SIGKILL if it lingers; the exit status."""
        if self._popen.poll() is None:
            self._popen.terminate()
            try:
                self._popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        _LIVE.discard(self)
        return self._popen.returncode


def _loopback(url: str) -> str:
    # A server bound to every interface logs the unspecified address, which
    # is no address to call.
    return re.sub(r"^(https?)://0\.0\.0\.0:", r"\1://127.0.0.1:", url).replace(
        "://[::]:", "://[::1]:"
    )


def command(binary: str, options: Mapping[str, object], env: Mapping[str, str]) -> List[str]:
    """The command line: a free port on loopback unless ``listen`` says otherwise."""
    rest = dict(options)
    listen = rest.pop("listen", None) or "127.0.0.1:0"
    # The address is read from an info line of doublure::startup: keep that
    # module at info whatever level the caller chose for the rest.
    level = rest.pop("log_level", None) or env.get("DOUBLURE_LOG_LEVEL") or "info"
    rest["log_level"] = f"{level},doublure::startup=info"
    return [binary, "--listen", str(listen), *flags(rest)]


# Servers a test session forgot to stop are stopped when Python exits, so
# no orphan keeps a port and a CI job alive.
_LIVE: Set[Process] = set()


@atexit.register
def _stop_leftovers() -> None:
    for process in list(_LIVE):
        process.stop(timeout=5)
