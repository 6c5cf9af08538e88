"""Instructions per request, counted by valgrind's callgrind: the one
figure of the benchmark that does not move with the machine's load.

A server runs twice under callgrind, once answering `small` keep-alive
requests of the same call and once `large`; everything else (start-up,
the health check, a token fetched first, shutdown) is the same in both
runs, so the difference of the two totals divided by `large - small` is
what one more request costs, in user-space instructions (the kernel's
share is not counted). Two runs agree within about 1 %.

Used by bench/run (the table of docs/performance.md) and bench/budget
(the check of .ci/perf).
"""

import base64
import datetime
import glob
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

VALGRIND = "valgrind"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_response(sock, buffered):
    """One HTTP/1.1 response off `sock` (Content-Length or chunked);
    returns (status, head, body, leftover bytes)."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before a response head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    if "content-length" in fields:
        length = int(fields["content-length"])
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed within a body")
            rest += chunk
        return status, fields, rest[:length], rest[length:]
    if fields.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += sock.recv(65536)
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += sock.recv(65536)
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                return status, fields, body, rest
    return status, fields, rest, b""


def request_bytes(method, path, headers=None, body=b""):
    """The bytes of one keep-alive request."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def call(port, raw):
    """One request on a connection of its own: (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(raw)
        status, _, body, _ = read_response(sock, b"")
        return status, body


def send_many(port, raw, count):
    """`count` times the request `raw` on one keep-alive connection, one
    after the other; every answer must be a 2xx."""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        left = b""
        for _ in range(count):
            sock.sendall(raw)
            status, _, body, left = read_response(sock, left)
            if not 200 <= status < 300:
                raise RuntimeError(f"answered {status}: {body[:300]!r}")


def total_instructions(out_dir):
    """The Ir total of every callgrind file in `out_dir` (one per
    process)."""
    total = 0
    files = glob.glob(os.path.join(out_dir, "callgrind.out.*"))
    if not files:
        raise RuntimeError("callgrind wrote no output (did the server exit cleanly?)")
    for path in files:
        with open(path, errors="replace") as f:
            text = f.read()
        m = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
        if not m:
            raise RuntimeError(f"no total in {path}")
        total += int(m.group(1))
    return total


def one_run(command, health, prepare, count, env=None):
    """Total instructions of one server process under callgrind that
    answered `count` requests. `command` holds `{port}`; `prepare(port)`
    returns the request's bytes (after fetching a token, say)."""
    out_dir = tempfile.mkdtemp(prefix="callgrind-")
    port = free_port()
    args = [a.replace("{port}", str(port)) for a in command]
    proc = subprocess.Popen(
        [VALGRIND, "--tool=callgrind", f"--callgrind-out-file={out_dir}/callgrind.out.%p", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=dict(os.environ, **(env or {})), cwd=tempfile.gettempdir())
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                status, _ = call(port, request_bytes("GET", health))
                if status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"{args[0]} exited under callgrind: {proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{args[0]} did not become healthy under callgrind")
            time.sleep(0.05)
        raw = prepare(port)
        send_many(port, raw, count)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    try:
        return total_instructions(out_dir)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def per_request(command, health, prepare, small, large, env=None):
    """Instructions per request: the difference of a run of `large`
    requests and one of `small`, over `large - small`."""
    a = one_run(command, health, prepare, small, env)
    b = one_run(command, health, prepare, large, env)
    return (b - a) / (large - small)


def have_valgrind():
    return shutil.which(VALGRIND) is not None


# The three routes of doublure called by the thousand, as bench/run loads
# them.
PAGE = "/api/v1/users?per_page=25"
FORMS_QUERY = "email=fred%40example.net&orig=demo"
FORMS_KEY = "demo-secret"
TOKEN_BODY = "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET"
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}
ROUTES = ("page", "token", "forms")


def sign(query, key, algo="sha256"):
    """w.c.s.'s reference signer, without a nonce so that a load can
    repeat the URL within the 30-second window."""
    ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = f"{query}&algo={algo}&timestamp={urllib.parse.quote(ts)}"
    digest = hmac.new(key.encode(), query.encode(), getattr(hashlib, algo)).digest()
    return query + "&signature=" + urllib.parse.quote(base64.b64encode(digest))


def token_request():
    return request_bytes("POST", "/oauth/token", FORM_TYPE, TOKEN_BODY.encode())


def fetch_token(port):
    status, body = call(port, token_request())
    if status != 200:
        raise RuntimeError(f"/oauth/token answered {status}: {body[:300]!r}")
    return json.loads(body)["access_token"]


def doublure_prepares():
    """route -> prepare(port): the request of each route, made against a
    running doublure."""
    return {
        "page": lambda port: request_bytes("GET", PAGE, {"Authorization": f"Bearer {fetch_token(port)}"}),
        "token": lambda port: token_request(),
        "forms": lambda port: request_bytes("GET", "/api/user/forms?" + sign(FORMS_QUERY, FORMS_KEY)),
    }


def doublure_counts(binary, small, large, routes=ROUTES):
    """Instructions per request of doublure's routes (built-in fixtures)."""
    prepares = doublure_prepares()
    command = [binary, "--listen", "127.0.0.1:{port}"]
    env = {"DOUBLURE_LOG_LEVEL": "warn"}
    return {r: per_request(command, "/__doublure/health", prepares[r], small, large, env) for r in routes}
