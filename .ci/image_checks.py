#!/usr/bin/env python3
"""Checks a running doublure container from outside, over HTTP, as its
users would: health, a Logora token and a users page, a signed w.c.s. call.

Usage: image_checks.py BASE_URL DOUBLURE_BINARY [--fixtures DIR]

BASE_URL is where the container answers (also its DOUBLURE_PUBLIC_URL).
DOUBLURE_BINARY signs the w.c.s. URLs (`doublure sign`). With --fixtures,
the container serves the Kubernetes example fixtures of DIR instead of the
built-in ones. Prints one `ok`/`FAIL` line per check; exits 1 if any failed.
Standard library only.
"""

import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

failures = 0


def report(name, problem):
    global failures
    if problem:
        failures += 1
        print(f"FAIL  {name}: {problem}", flush=True)
    else:
        print(f"ok    {name}", flush=True)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(method, url, data=None, headers=None):
    """(status, lower-cased headers, body text) of one request."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode()


def expect(name, got, want):
    """Reports `name`: each key of `want` must equal the same key of `got`."""
    wrong = {k: got.get(k) for k, v in want.items() if got.get(k) != v}
    report(name, f"expected {want}, got {wrong}" if wrong else None)


def token(base, client_id, secret):
    body = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    ).encode()
    status, headers, text = call(
        "POST", base + "/oauth/token", body, {"content-type": "application/x-www-form-urlencoded"}
    )
    return status, headers, text


def signed(binary, url, orig, email, fixtures):
    cmd = [binary, "sign", url, "--orig", orig, "--email", email]
    if fixtures:
        cmd += ["--fixtures", fixtures]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def main():
    args = sys.argv[1:]
    fixtures = None
    if "--fixtures" in args:
        i = args.index("--fixtures")
        fixtures = args[i + 1]
        del args[i : i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    base, binary = args[0].rstrip("/"), args[1]
    if fixtures:
        client, secret, total, orig, email, name = (
            "TEAM_KEY", "TEAM_SECRET", "3", "team", "camille.martin@exemple.fr", "Camille Martin"
        )
    else:
        client, secret, total, orig, email, name = (
            "API_KEY", "API_SECRET", "48", "demo", "fred@example.net", "Fred Cuadrado"
        )

    status, _, text = call("GET", base + "/__doublure/health")
    expect("health answers 200 {\"status\":\"ok\"}", {"status": status, "body": text},
           {"status": 200, "body": '{"status":"ok"}'})

    status, _, text = token(base, client, secret)
    body = json.loads(text) if status == 200 else {}
    access = body.get("access_token", "")
    expect(f"a Logora token for {client}", {"status": status, "type": body.get("token_type"), "length": len(access)},
           {"status": 200, "type": "Bearer", "length": 43})

    status, headers, text = call(
        "GET", base + "/api/v1/users?per_page=2", headers={"authorization": "Bearer " + access, "origin": "http://app.example"}
    )
    body = json.loads(text) if status == 200 else {}
    expect(
        "a Logora users page, with pagination headers, CORS and public URL",
        {
            "status": status,
            "total": headers.get("total"),
            "current-page": headers.get("current-page"),
            "page-items": headers.get("page-items"),
            "link starts with the public URL": headers.get("link", "").startswith(f"<{base}/api/v1/users?per_page=2&page=1>"),
            "allow-origin": headers.get("access-control-allow-origin"),
            "success": body.get("success"),
            "users": len(body.get("data", [])),
        },
        {
            "status": 200,
            "total": total,
            "current-page": "1",
            "page-items": "2",
            "link starts with the public URL": True,
            "allow-origin": "*",
            "success": True,
            "users": 2,
        },
    )

    status, headers, text = token(base, client, "WRONG")
    body = json.loads(text) if text.startswith("{") else {}
    expect("a wrong client secret is Doorkeeper's 401 invalid_client",
           {"status": status, "error": body.get("error")}, {"status": 401, "error": "invalid_client"})

    if fixtures:
        status, _, _ = token(base, "API_KEY", "API_SECRET")
        expect("the built-in client is not served beside the mounted fixtures", {"status": status}, {"status": 401})

    url = signed(binary, base + "/api/user/", orig, email, fixtures)
    status, _, text = call("GET", url)
    body = json.loads(text) if status == 200 else {}
    expect(f"a signed w.c.s. /api/user/ as {email}",
           {"status": status, "user_email": body.get("user_email"), "user_display_name": body.get("user_display_name")},
           {"status": 200, "user_email": email, "user_display_name": name})

    status, _, text = call("GET", url)
    body = json.loads(text) if text.startswith("{") else {}
    expect("the same signed URL again is refused: its nonce is used",
           {"status": status, "err_desc": body.get("err_desc")}, {"status": 403, "err_desc": "Nonce already used."})

    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
