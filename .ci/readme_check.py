#!/usr/bin/env python3
"""The README and the guides, followed top to bottom as a newcomer would.

Usage: readme_check.py DOCUMENT.md...

Run from a fresh copy of the repository, with `doublure` on PATH and ports
8080 and 8081 free (`.ci/readme` arranges both). For each document, it
checks, printing one `ok`/`FAIL` line each:

- its relative links and `#anchors` (into itself or another Markdown file);
- a configuration table, where the document has one, against
  `doublure --help`: every flag, its environment variable and its default
  (one of the documents must have it);
- every fenced block, in order. A `console`, `sh` or `bash` block runs in
  one bash session per document: each command's output against what the
  document shows after it (a `console` block's lines, or an `sh` line's
  `# {…}` comment), `…` standing for what the document cuts. Any other
  block, or one that cannot run here, says so on the line before it:
  `<!-- not run: why -->` (reported and counted, never silently skipped),
  or `<!-- same as: PATH -->`, and then it must appear verbatim in PATH.
- what the document leaves behind: a server it started must be stopped by
  the end of the section that started it, and no file may be added to the
  clone (its commands work in a scratch directory).

Values that change on every run are compared by shape only (see VOLATILE),
and the documents say they change. Exits 1 if any check failed. Standard
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
    (re.compile(r'nonce "[0-9a-f]{32}"'), 'nonce "<nonce>"'),
    (re.compile(r"signature=[A-Za-z0-9/+%]+"), "signature=<signature>"),
    (re.compile(r"expired \d+ s ago"), "expired <n> s ago"),
    (re.compile(r"passed in [\d.]+s"), "passed in <n>s"),
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


# ------------------------------------------------------------ the documents

MARKER = re.compile(r"^\s*<!-- (not run|same as): (.+?) -->\s*$")


def parse(path):
    """A Markdown file as its lines and events, in order: ("heading", level,
    text) and ("block", language, lines, line number, marker), where marker
    is None or (kind, what) from the comment on the line before the fence.
    Fences may be indented (a block inside a list item)."""
    lines = open(path, encoding="utf-8").read().split("\n")
    events, i = [], 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^(\s*)```(\w*)", line)
        if fence:
            indent = len(fence.group(1))
            end = i + 1
            while not lines[end].strip().startswith("```"):
                end += 1
            body = [body_line[indent:] if body_line[:indent].strip() == "" else body_line for body_line in lines[i + 1 : end]]
            marker = MARKER.match(lines[i - 1]) if i > 0 else None
            events.append(("block", fence.group(2), body, i + 2, marker and (marker.group(1), marker.group(2))))
            i = end + 1
            continue
        heading = re.match(r"^(#{1,6}) (.*)$", line)
        if heading:
            events.append(("heading", len(heading.group(1)), heading.group(2)))
        i += 1
    return lines, events


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.lstrip("#").strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors_of(path):
    text = re.sub(r"```.*?```", "", open(path, encoding="utf-8").read(), flags=re.S)
    return {slug(line) for line in text.split("\n") if re.match(r"^#{1,6} ", line)}


def check_links(path, lines):
    prose = re.sub(r"```.*?```", "", "\n".join(lines), flags=re.S)
    links = re.findall(r"\]\(([^)\s]+)\)", prose)
    base = os.path.dirname(os.path.abspath(path))
    bad = []
    for link in links:
        if re.match(r"^[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        target_path = os.path.join(base, target) if target else os.path.abspath(path)
        if not os.path.exists(target_path):
            bad.append(f"{link}: no such file")
        elif anchor and (not target_path.endswith(".md") or anchor not in anchors_of(target_path)):
            bad.append(f"{link}: no such heading")
    report(f"{path}'s {len(links)} links: relative files and anchors exist", "\n".join(bad))


def configuration_table(lines):
    table = {}
    for line in lines:
        row = re.match(r"^\| `(--[a-z-]+)[^`]*` \| `([A-Z_]+)` \| ([^|]*) \|", line)
        if row:
            table[row.group(1)] = (row.group(2), row.group(3).strip().strip("`"))
    return table


def check_configuration(path, table):
    """A document's configuration table against `doublure --help`."""
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
    report(f"{path}'s configuration table and doublure --help agree on {len(options)} options", "\n".join(problems))


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
        # What the document started in the background (`doublure … &`),
        # which a Ctrl-C in the terminal does not reach.
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

    def still_running(self, pids):
        """Which of `pids` still run, once a stopped one has had a few
        seconds to exit."""
        deadline = time.monotonic() + 5
        while True:
            alive = self.children() & pids
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.05)

    def interrupt_children(self):
        """Ctrl-C, as a reader stops `curl -N`: SIGINT to bash's foreground children."""
        for pid in self.children() - self.background:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def close(self):
        """Stops what the document left running in the background, then bash."""
        try:
            self.run("kill $(jobs -p) 2>/dev/null; wait", timeout=30)
        finally:
            self.bash.stdin.close()
            self.bash.wait(timeout=30)


def wait_listening(shell, command):
    """After `doublure … &`, wait (as a reader would) until it answers, on
    its `--listen` address as the shell expands it."""
    listen = re.search(r"--listen (\S+)", command)
    address = shell.run(f"printf '%s' {listen.group(1)}")[0] if listen else "127.0.0.1:8080"
    url = f"http://{address}/__doublure/health"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    report(f"{command.split('#')[0].strip()} answers on {url}", "it did not within 20 s")


def commands(lines):
    """A block's commands, with the number of their last line: lines joined
    where they end with a backslash."""
    out, current = [], ""
    for offset, line in enumerate(lines):
        current = current + "\n" + line if current else line
        if not line.endswith("\\"):
            out.append((current, offset))
            current = ""
    return out


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


class Document:
    """One document's blocks, run in a bash of its own."""

    def __init__(self, path):
        self.path = path
        self.shell = Shell()
        self.counts = {"run": 0, "not run": 0, "same as": 0}
        # What runs in the background: the heading level of the section
        # that started it (which must stop it by its end), that heading,
        # the line, and the processes.
        self.started = []
        self.level, self.heading = 0, path

    def enter(self, level, heading):
        self.leave(level)
        self.level, self.heading = level, heading

    def leave(self, level):
        """A section of `level` or above ends: what it started is stopped."""
        ending = [s for s in self.started if s[0] >= level]
        if not ending:
            return
        self.started = [s for s in self.started if s[0] < level]
        alive = self.shell.still_running(set().union(*(pids for *_, pids in ending)))
        names = ", ".join(f"line {number} ({heading})" for _, heading, number, _ in ending)
        report(
            f"{self.path}: what {names} started is stopped by the section's end",
            f"still running: {sorted(alive)}" if alive else None,
        )

    def block(self, language, lines, number, marker):
        text = "\n".join(lines)
        if marker and marker[0] == "not run":
            self.counts["not run"] += 1
            print(f"skip  {self.path}:{number} ({self.heading}): not run: {marker[1]}", flush=True)
        elif marker and marker[0] == "same as":
            self.counts["same as"] += 1
            source = marker[1]
            found = os.path.exists(source) and text.strip("\n") in open(source, encoding="utf-8").read()
            report(f"{self.path}:{number} is the same as {source}", None if found else f"{source} does not hold this block")
        elif language in ("console", "sh", "bash"):
            self.counts["run"] += 1
            if language == "console":
                self.run_console(lines, number)
            else:
                self.run_sh(lines, number)
        else:
            report(
                f"{self.path}:{number} ({language or 'no language'} block)",
                "a block that does not run says why: <!-- not run: … --> or <!-- same as: PATH --> on the line before it",
            )

    def run_one(self, command, number):
        stream = "curl -sN" in command
        output, status = self.shell.run(command, interrupt_after=2 if stream else None)
        if re.search(r"&\s*(#.*)?$", command):
            pids = self.shell.children() - self.shell.background
            self.shell.background |= pids
            self.started.append((max(self.level, 1), self.heading, number, pids))
        if re.match(r"^doublure\b[^|]*&\s*(#.*)?$", command):
            wait_listening(self.shell, command)
        return output.rstrip("\n"), status, stream

    def run_console(self, lines, number):
        steps = []
        for offset, line in enumerate(lines):
            if line.startswith("$ "):
                steps.append([line[2:], [], number + offset])
            elif steps and steps[-1][0].endswith("\\") and not steps[-1][1]:
                steps[-1][0] += "\n" + line
            elif steps:
                steps[-1][1].append(line)
        for command, shown, line_number in steps:
            output, status, _ = self.run_one(command, line_number)
            shown = "\n".join(shown).rstrip("\n")
            name = f"{self.path}:{line_number} $ {command if len(command) < 90 else command[:87] + '...'}"
            if matches(shown, output):
                report(name)
            else:
                report(name, f"exit status {status}; shows:\n{shown}\nprints:\n{output}")

    def run_sh(self, lines, number):
        for command, last in commands(lines):
            if not command.strip() or command.lstrip().startswith("#"):
                continue
            output, status, stream = self.run_one(command, number + last)
            shown = shown_in_comment(lines, last)
            name = f"{self.path}:{number + last} {command.split('  #')[0].strip()[:90]}"
            if status != 0 and not (stream and status == 130):
                report(name, f"exit status {status}:\n{output}")
            elif shown is not None and not matches(shown, output):
                report(name, f"shows:\n{shown}\nprints:\n{output}")
            else:
                report(name)


def files_of(root):
    found = set()
    for directory, _, names in os.walk(root):
        found.update(os.path.relpath(os.path.join(directory, name), root) for name in names)
    return found


def follow(path, events):
    before = files_of(".")
    document = Document(path)
    try:
        for event in events:
            if event[0] == "heading":
                document.enter(event[1], event[2])
            else:
                document.block(*event[1:])
        document.leave(1)
    finally:
        document.shell.close()
    added = sorted(files_of(".") - before)
    report(f"{path} leaves no file in the clone", "added: " + ", ".join(added[:20]) if added else None)
    return document.counts


def main():
    paths = sys.argv[1:]
    tables = 0
    summary = []
    for path in paths:
        lines, events = parse(path)
        print(f"\n== {path}: links and tables", flush=True)
        check_links(path, lines)
        table = configuration_table(lines)
        if table:
            tables += 1
            check_configuration(path, table)
        print(f"\n== {path}: every block, in order, in one shell", flush=True)
        counts = follow(path, events)
        summary.append(f"{path}: {counts['run']} blocks run, {counts['same as']} held to a file, {counts['not run']} marked not run")
    report("one of the documents has the configuration table", None if tables else "none has it")
    print("\n" + "\n".join(summary))
    print(f"\n{passed} passed, {failures} failed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
