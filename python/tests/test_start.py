"""Starting, finding, connecting to and stopping doublure, and the errors on the way."""

import http.server
import os
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
import threading

import pytest

import doublure
from doublure import ControlPlaneError, Doublure, StartError, UnhealthyError, find_binary


def test_the_wheel_puts_doublure_beside_the_interpreter_and_on_the_path():
    scripts = os.path.dirname(sys.executable)
    assert find_binary() == os.path.join(scripts, "doublure")
    assert shutil.which("doublure") == os.path.join(scripts, "doublure")


def test_the_package_version_is_the_binarys():
    printed = subprocess.run(["doublure", "--version"], capture_output=True, text=True, check=True)
    assert printed.stdout == f"doublure {doublure.__version__}\n"


def test_options_become_the_binarys_flags(call):
    with Doublure.start(generate_logora_users=10, seed=7, journal_size=5) as server:
        token = server.token()
        _, headers, _ = call(
            "GET", server.url + "/api/v1/users", headers={"Authorization": "Bearer " + token}
        )
        assert headers["total"] == "58"
        assert server.control("GET", "requests")["capacity"] == 5


@pytest.mark.parametrize("quiet", [{"log_level": "error"}, {"env": {"DOUBLURE_LOG_LEVEL": "off"}}])
def test_a_quiet_log_level_still_lets_the_address_be_read(quiet, call):
    with Doublure.start(**quiet) as server:
        call("GET", server.url + "/api/v1/users")  # refused: logged at info
        assert "doublure listening on" in server.output
        assert "refused" not in server.output.lower()
        # The refusal's log line (`… status=401 …`), not any 401: the port
        # may hold one.
        assert "status=401" not in server.output


def test_a_fixture_directory_is_served(tmp_path, call):
    source = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures")
    fixtures = tmp_path / "fixtures"
    shutil.copytree(source, fixtures)
    users = fixtures / "logora" / "users.json"
    users.write_text(
        users.read_text(encoding="utf-8").replace('"Aurélie Legrand"', '"Aurélie Test"'),
        encoding="utf-8",
    )
    with Doublure.start(fixtures) as server:
        _, _, body = call("GET", server.url + "/api/v1/users?per_page=1&api_key=API_KEY")
        assert body["data"][0]["full_name"] == "Aurélie Test"


def test_an_unknown_option_raises_with_the_binarys_stderr():
    with pytest.raises(StartError) as raised:
        Doublure.start(no_such_option=1)
    message = str(raised.value)
    assert message.startswith("doublure exited with status 2 before listening:\n")
    assert "error: unexpected argument '--no-such-option' found" in message
    assert raised.value.returncode == 2


def test_an_invalid_fixture_directory_raises_with_the_problem(tmp_path):
    with pytest.raises(StartError) as raised:
        Doublure.start(tmp_path / "missing")
    assert f"{tmp_path / 'missing'}: not a directory" in str(raised.value)
    assert raised.value.returncode == 2


def test_an_option_name_that_is_no_flag_is_a_type_error():
    with pytest.raises(TypeError, match="not a doublure flag name"):
        Doublure.start(**{"--listen": "x"})


def test_a_missing_binary_is_named(tmp_path):
    with pytest.raises(
        StartError, match="binary= names '.*nothing-here', which is not an executable file"
    ):
        Doublure.start(binary=tmp_path / "nothing-here")


def test_doublure_binary_in_the_environment_is_used(monkeypatch, tmp_path):
    fake = _script(tmp_path, "echo 'fake doublure failing on purpose' >&2; exit 3")
    monkeypatch.setenv("DOUBLURE_BINARY", str(fake))
    assert find_binary() == str(fake)
    with pytest.raises(
        StartError, match="status 3 before listening:\nfake doublure failing on purpose"
    ):
        Doublure.start()


def test_a_binary_that_never_listens_is_stopped_and_reported(tmp_path):
    silent = _script(tmp_path, f"exec {sys.executable} -c 'import signal; signal.pause()'")
    with pytest.raises(
        StartError, match=r"did not report its address within 0\.5 s \(it wrote nothing\)"
    ):
        Doublure.start(binary=silent, startup_timeout=0.5)


def test_stop_ends_the_process_gracefully():
    server = Doublure.start()
    assert server.stop() == 0
    assert "shutting down: finishing in-flight requests" in server.output
    assert server.stop() == 0


def test_the_admin_token_is_used_by_the_handle_and_kept_out_of_errors_and_argv(call):
    with Doublure.start(admin_token="s3cret-admin") as server:
        server.reset()
        status, _, body = call("POST", server.url + "/__doublure/reset")
        assert status == 401
        assert server._process._popen.args.count("s3cret-admin") == 0
        anonymous = Doublure.connect(server.url, admin_token=None)
        with pytest.raises(ControlPlaneError) as raised:
            anonymous.reset()
        assert raised.value.status == 401
        assert "s3cret-admin" not in str(raised.value)
        assert "s3cret-admin" not in repr(server)


def test_connect_reads_the_admin_token_from_the_environment(monkeypatch):
    with Doublure.start(admin_token="from-env") as server:
        monkeypatch.setenv("DOUBLURE_ADMIN_TOKEN", "from-env")
        Doublure.connect(server.url).reset()


def test_connect_to_nothing_raises_with_the_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(
        UnhealthyError, match=f"doublure at {url} is not healthy: cannot reach"
    ) as raised:
        Doublure.connect(url)
    assert raised.value.url == url + "/__doublure/health"


def test_connect_to_an_unhealthy_server_raises_with_the_url_and_answer():
    class Unhealthy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"error": "still loading"}'
            self.send_response(503)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Unhealthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(
            UnhealthyError,
            match=f"doublure at {url} is not healthy: .* answered 503: still loading",
        ):
            Doublure.connect(url)
    finally:
        server.shutdown()
        server.server_close()


def test_connect_refuses_what_is_not_an_http_url():
    with pytest.raises(ValueError, match="is not an http:// or https:// URL"):
        Doublure.connect("localhost:8080")


def test_a_connected_handle_does_not_stop_the_server():
    with Doublure.start() as server:
        with Doublure.connect(server.url + "/") as connected:
            assert connected.url == server.url
        assert connected.stop() is None
        server.reset()


def _script(directory, body):
    path = directory / "fake-doublure"
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body) + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path
