"""The README's examples are real: each `$ adcli ...` block runs and prints what it shows.

Examples drawn for a terminal (the per-node table) are checked under a pipe with
``--format table``, which renders the same table without colour.
"""

from __future__ import annotations

import os
import re
import shutil
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
    shutil.copytree(README.parent / "examples", tmp_path / "examples")  # the tour's data
    adcli = " ".join(installed_adcli())
    # every adcli that starts a command (a tour line may chain two, or read a pipe)
    proc = subprocess.run(
        ["bash", "-c", re.sub(r"(^|&& |\| )adcli\b", lambda m: m.group(1) + adcli, command)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # as a terminal shows them: in the order written
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "80"},
        timeout=60,
    )
    shown = [ln.rstrip() for ln in proc.stdout.splitlines()]
    while shown and not shown[0]:
        shown.pop(0)
    while shown and not shown[-1]:
        shown.pop()
    assert shown == expected


ARRAYS = {"a": [3.0, 1.0, 2.0], "A": [[1.0, 2.0], [3.0, 4.0]], "y": [1.0, 0.0]}


def array_examples() -> list[tuple[str, str]]:
    """The rows of the README's table of array ops: (example, value shown)."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| op | example | value |") :].split("\n\n")[0]
    return re.findall(r"^\| [^|]+ \| `([^`]+)` \| `([^`]+)` \|$", table, re.M)


@pytest.mark.parametrize(("example", "shown"), array_examples())
def test_readme_array_example(example, shown):
    import numpy as np

    import adcli
    from adcli.numtext import rounded

    values = {n: np.array(v) for n, v in ARRAYS.items()}
    f = adcli.compile(example, shapes={n: v.shape for n, v in values.items()})
    assert rounded(f(**{n: values[n] for n in f.variables}), 4) == shown


def test_the_readme_shows_every_array_op():
    from adcli.ops import FUNCTIONS, OPS

    examples = " ".join(e for e, _ in array_examples())
    ops = [n for n in FUNCTIONS if not OPS[n].elementwise] + ["where"]
    assert [n for n in ops if f"{n}(" not in examples] == []
    assert len(array_examples()) >= 24
