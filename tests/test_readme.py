"""The README's examples are real: each `$ adcli ...` block runs and prints what it shows.

Examples drawn for a terminal (the per-node table) are checked under a pipe with
``--format table``, which renders the same table without colour.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import installed_adcli

README = Path(__file__).resolve().parent.parent / "README.md"


def examples() -> list[tuple[str, list[str]]]:
    found = []
    lines = README.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("    $ "):
            continue
        command = line[6:]
        expected = []
        for following in lines[i + 1 :]:
            if following.startswith("    $ ") or not following.startswith("    ") and following:
                break
            expected.append(following[4:].rstrip())
        while expected and not expected[-1]:
            expected.pop()
        while expected and not expected[0]:
            expected.pop(0)
        found.append((command, expected))
    return found


@pytest.mark.parametrize(("command", "expected"), examples())
def test_readme_example(command, expected, tmp_path):
    assert expected, f"README example without output: {command}"
    if expected[0].split()[:2] == ["#", "node"]:  # a table drawn for a terminal
        command += " --format table"
    adcli = " ".join(installed_adcli())
    proc = subprocess.run(
        ["bash", "-c", re.sub(r"\badcli\b", adcli, command, count=1)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "80"},
        timeout=60,
    )
    shown = [ln.rstrip() for ln in (proc.stdout + proc.stderr).splitlines()]
    while shown and not shown[0]:
        shown.pop(0)
    while shown and not shown[-1]:
        shown.pop()
    assert shown == expected
