"""python/README.md: its script prints what the README shows, and its pytest
example is the example file's code, which test_plugin.py runs."""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "README.md")
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "python-plugin", "test_with_plugin.py")


def _blocks(section):
    with open(README, encoding="utf-8") as file:
        text = file.read()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", body, re.S)


def test_the_script_prints_what_the_readme_shows(tmp_path):
    [(_, code), (_, shown)] = [b for b in _blocks("In a script") if b[0] in ("python", "text")]
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert printed.stderr == ""
    assert printed.stdout == shown


def test_the_pytest_example_is_the_example_files_code():
    with open(EXAMPLE, encoding="utf-8") as file:
        example = file.read()
    [code] = [c for kind, c in _blocks("With pytest") if kind == "python" and "def test_" in c]
    for chunk in code.split("\n\n\n"):
        assert chunk.strip() in example, chunk


def test_the_container_example_is_the_example_files_code():
    path = os.path.join(HERE, "..", "..", "examples", "testcontainers", "test_doublure_container.py")
    with open(path, encoding="utf-8") as file:
        example = file.read()
    [code] = [c for kind, c in _blocks("In a container (Testcontainers)") if kind == "python"]
    assert code.strip() in example
