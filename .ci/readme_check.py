#!/usr/bin/env python3
"""README.md, followed top to bottom as a newcomer would (issue 13).

Usage: readme_check.py README.md

Run from a fresh copy of the repository, with `doublure` on PATH and ports
8080 and 8081 free (`.ci/readme` arranges both). It checks, printing one
`ok`/`FAIL` line each:

- the configuration table against `doublure --help`: every flag, its
  environment variable and its default;
- every relative link and every `#anchor` of README.md;
- every `console` and `sh` block, in order, in one bash session: each
  command's output against what the README shows after it (a `console`
  block's lines, or an `sh` line's `# {…}` comment), `…` standing for what
  the README cuts. The blocks about building from source (`cargo run`,
  `cargo test`) and the Docker section are left to the rest of CI.

Values that change on every run are compared by shape only (see VOLATILE),
and the README says they change. Exits 1 if any check failed. Standard
library only.
"""

import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request

failures = 0
passed = 0


def report(name, problem=None):
    global failures, passed
    if problem:
        failures += 1
        print(f"FAIL  {name}\n" + "".join(f"      {line}\n" for line in problem.splitlines()), end="", flush=True)
    else:
        passed += 1
        print(f"ok    {name}", flush=True)


# What differs from one run to the next, replaced by a placeholder on both
# sides before comparing: tokens and the times of a running clock, nonces
# and signatures, how long a call took, and how late a token is (the
# seconds a reader takes between two commands count).
VOLATILE = [
    (re.compile(r'"access_token":"[A-Za-z0-9_-]{43}"'), '"access_token":"<token>"'),
    (re.compile(r'"(created_at|expires_at)":\d+'), r'"\1":<epoch>'),
    (re.compile(r'"now":"[^"]*","frozen":false'), '"now":"<now>","frozen":false'),
    (re.compile(r'"time":"\d{4}-\d\d-\d\dT[\d:.]+Z"'), '"time":"<time>"'),
    (re.compile(r'"duration_ms":[\d.]+'), '"duration_ms":<ms>'),
    (re.compile(r"timestamp=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\dZ"), "timestamp=<time>"),
    (re.compile(r"nonce=[0-9a-f]{32}"), "nonce=<nonce>"),
    (re.compile(r"signature=[A-Za-z0-9/+%]+"), "signature=<signature>"),
    (re.compile(r"expired \d+ s ago"), "expired <n> s ago"),
]


def normalize(text):
    for pattern, placeholder in VOLATILE:
        text = pattern.sub(placeholder, text)
    return text


def matches(expected, actual):
    """Whether `actual` is `expected`, where a line `…` stands for any lines
    (none included) and a `…` within a line for any characters."""
    pattern = ""
    for line in normalize(expected).split("\n"):
        if line.strip() == "…":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += "[^\n]*?".join(re.escape(part) for part in line.split("…")) + "\n"
    return re.fullmatch(pattern, normalize(actual) + "\n") is not None


# ---------------------------------------------------------------- README.md


def parse(path):
    """The fenced blocks of a Markdown file: (heading, language, lines, line number)."""
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, heading, i = [], "", 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^```(\w*)", line)
        if fence:
            end = i + 1
            while not lines[end].startswith("```"):
                end += 1
            blocks.append((heading, fence.group(1), lines[i + 1 : end], i + 2))
            i = end + 1
            continue
        if line.startswith("#"):
            heading = line
        i += 1
    return lines, blocks


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.lstrip("#").strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def check_links(path, lines):
    text = "\n".join(lines)
    in_code = re.compile(r"```.*?```", re.S)
    prose = in_code.sub("", text)
    anchors = {slug(line) for line in lines if re.match(r"^#{1,6} ", line)}
    links = re.findall(r"\]\(([^)\s]+)\)", prose)
    base = os.path.dirname(os.path.abspath(path))
    bad = []
    for link in links:
        if re.match(r"^[a-z]+:", link):
            continue
        if link.startswith("#"):
            if link[1:] not in anchors:
                bad.append(f"{link}: no such heading")
        elif not os.path.exists(os.path.join(base, link.split("#")[0])):
            bad.append(f"{link}: no such file")
    report(f"README.md's {len(links)} links: relative files and anchors exist", "\n".join(bad))


def check_configuration(lines):
    """The table under ## Configuration against `doublure --help`."""
    table = {}
    for line in lines:
        row = re.match(r"^\| `(--[a-z-]+)[^`]*` \| `([A-Z_]+)` \| ([^|]*) \|", line)
        if row:
            table[row.group(1)] = (row.group(2), row.group(3).strip().strip("`"))
    help_text = subprocess.run(["doublure", "--help"], capture_output=True, text=True, check=True).stdout
    options = {}
    for chunk in re.split(r"\n(?=\s{2,}(?:-\w, )?--)", help_text):
        flag = re.match(r"\s+(?:-\w, )?(--[a-z-]+)", chunk)
        if not flag or flag.group(1) in ("--help", "--version"):
            continue
        env = re.search(r"\[env: ([A-Z_]+)=", chunk)
        default = re.search(r"\[default: ([^\]\n]*)\]\n", chunk)
        options[flag.group(1)] = (env and env.group(1), default and default.group(1))
    problems = []
    for flag in sorted(set(options) | set(table)):
        if flag not in table:
            problems.append(f"{flag} is in --help, not in the table")
        elif flag not in options:
            problems.append(f"{flag} is in the table, not in --help")
        else:
            (env, default), (table_env, table_default) = options[flag], table[flag]
            if env != table_env:
                problems.append(f"{flag}: --help says {env}, the table {table_env}")
            if default is not None and default != table_default:
                problems.append(f"{flag}: --help's default is {default}, the table's {table_default}")
    report(f"the configuration table and doublure --help agree on {len(options)} options", "\n".join(problems))


# ------------------------------------------------------------ one bash session


class Shell:
    """One bash, as a reader's terminal: each command's output (standard
    output and error) up to a marker that says its exit status."""

    MARK = "__readme_check_done__"

    def __init__(self):
        self.bash = subprocess.Popen(
            ["bash", "--norc", "--noprofile"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Ctrl-C must reach what runs in the foreground, as in a
            # terminal, also when this check was started with SIGINT
            # ignored (from a background job of a script), which bash and
            # its children would inherit.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        # What the README started in the background (`doublure … &`), which
        # a Ctrl-C in the terminal does not reach.
        self.background = set()

    def run(self, command, interrupt_after=None, timeout=120):
        """(output, exit status) of one command; `interrupt_after` seconds
        later, Ctrl-C for a command that runs until stopped (a stream)."""
        self.bash.stdin.write(f"{command}\nprintf '\\n{self.MARK} %s\\n' $?\n".encode())
        self.bash.stdin.flush()
        out = b""
        started = time.monotonic()
        interrupted = False
        while True:
            wait = timeout if interrupted or interrupt_after is None else interrupt_after
            ready, _, _ = select.select([self.bash.stdout], [], [], max(0.0, started + wait - time.monotonic()))
            if not ready:
                if interrupt_after is None or interrupted:
                    raise TimeoutError(f"no end after {timeout} s: {command}")
                self.interrupt_children()
                interrupted = True
                started = time.monotonic()
                continue
            chunk = os.read(self.bash.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError(f"bash exited during: {command}")
            out += chunk
            end = re.search(rb"\n" + self.MARK.encode() + rb" (\d+)\n$", out)
            if end:
                return out[: end.start()].decode(errors="replace").replace("\r\n", "\n"), int(end.group(1))

    def children(self):
        found = subprocess.run(["pgrep", "-P", str(self.bash.pid)], capture_output=True, text=True).stdout
        return {int(pid) for pid in found.split()}

    def interrupt_children(self):
        """Ctrl-C, as a reader stops `curl -N`: SIGINT to bash's foreground children."""
        for pid in self.children() - self.background:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def close(self):
        """Stops what the README left running in the background, then bash."""
        try:
            self.run("kill $(jobs -p) 2>/dev/null; wait", timeout=30)
        finally:
            self.bash.stdin.close()
            self.bash.wait(timeout=30)


def wait_listening(command):
    """After `doublure … &`, wait (as a reader would) until it answers."""
    listen = re.search(r"--listen (\S+)", command)
    url = f"http://{listen.group(1) if listen else '127.0.0.1:8080'}/__doublure/health"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    report(f"{command.split('#')[0].strip()} answers on {url}", "it did not within 20 s")


def commands(lines):
    """A block's commands: lines joined where they end with a backslash."""
    out, current = [], ""
    for line in lines:
        current = current + "\n" + line if current else line
        if not line.endswith("\\"):
            out.append(current)
            current = ""
    return out


SKIPPED_SECTIONS = ("## Docker", "### docker compose", "### GitHub Actions", "### GitLab CI")


def skip_reason(heading, text):
    if "cargo run" in text or "cargo test" in text:
        return "building from source: .ci/run builds and tests the crate"
    if heading in SKIPPED_SECTIONS or "docker " in text:
        return "Docker: .ci/image builds, runs and checks the image"
    return None


def shown_in_comment(lines, index):
    """What an `sh` line says it prints: a trailing `# {…}`/`# […]`, or the
    comment lines after it (`# {…}`, `# 400 {…}`, `# link: …`, continued by
    `#   …`). The status before a body is not printed by `curl -s`."""
    line = lines[index]
    trailing = re.search(r"\s#\s+([\[{].*)$", line)
    if trailing:
        return trailing.group(1)
    shown = None
    for follow in lines[index + 1 :]:
        if shown is not None and follow.startswith("#   "):
            shown += follow[4:].lstrip()
            continue
        comment = re.match(r"^# (?:\d{3} )?([\[{].*|link: .*)$", follow)
        if shown is None and comment:
            shown = comment.group(1)
            continue
        break
    return shown


def run_blocks(blocks):
    shell = Shell()
    try:
        for heading, language, lines, number in blocks:
            if language not in ("console", "sh"):
                continue
            text = "\n".join(lines)
            reason = skip_reason(heading, text)
            if reason:
                print(f"skip  README.md:{number} ({heading.lstrip('# ')}): {reason}", flush=True)
                continue
            if language == "console":
                run_console(shell, lines, number)
            else:
                run_sh(shell, lines, number)
    finally:
        shell.close()


def run_one(shell, command):
    stream = "curl -sN" in command
    output, status = shell.run(command, interrupt_after=2 if stream else None)
    if re.search(r"&\s*(#.*)?$", command):
        shell.background = shell.children()
    if re.match(r"^doublure\b[^|]*&\s*(#.*)?$", command):
        wait_listening(command)
    return output.rstrip("\n"), status, stream


def run_console(shell, lines, number):
    steps = []
    for offset, line in enumerate(lines):
        if line.startswith("$ "):
            steps.append([line[2:], [], number + offset])
        elif steps and steps[-1][0].endswith("\\") and not steps[-1][1]:
            steps[-1][0] += "\n" + line
        elif steps:
            steps[-1][1].append(line)
    for command, shown, line_number in steps:
        output, status, _ = run_one(shell, command)
        shown = "\n".join(shown).rstrip("\n")
        name = f"README.md:{line_number} $ {command if len(command) < 90 else command[:87] + '...'}"
        if matches(shown, output):
            report(name)
        else:
            report(name, f"exit status {status}; shows:\n{shown}\nprints:\n{output}")


def run_sh(shell, lines, number):
    for index, command in enumerate(lines):
        if not command.strip() or command.lstrip().startswith("#"):
            continue
        output, status, stream = run_one(shell, command)
        shown = shown_in_comment(lines, index)
        name = f"README.md:{number + index} {command.split('  #')[0].strip()[:90]}"
        if status != 0 and not (stream and status == 130):
            report(name, f"exit status {status}:\n{output}")
        elif shown is not None and not matches(shown, output):
            report(name, f"shows:\n{shown}\nprints:\n{output}")
        else:
            report(name)


def main():
    path = sys.argv[1]
    lines, blocks = parse(path)
    print("\n== README.md: configuration table and links", flush=True)
    check_configuration(lines)
    check_links(path, lines)
    print("\n== README.md: every block, in order, in one shell", flush=True)
    run_blocks(blocks)
    print(f"\nREADME.md: {passed} passed, {failures} failed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
