"""Shared helpers: run the CLI in-process, or the installed console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adcli.cli import main


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def run(capsys, monkeypatch):
    """Run ``adcli ARGS`` in-process; stdin text optional."""

    def invoke(*args: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            import io

            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def installed_adcli() -> list[str]:
    """The console script of the environment running the tests."""
    script = Path(sys.executable).parent / "adcli"
    if script.exists():
        return [str(script)]
    found = shutil.which("adcli")
    return [found] if found else [sys.executable, "-m", "adcli"]


@pytest.fixture
def shell(tmp_path):
    """Run the installed ``adcli`` as a user would, from another directory."""

    def invoke(*args: str, stdin: str | None = None, env: dict | None = None) -> Result:
        proc = subprocess.run(
            [*installed_adcli(), *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, **(env or {})},
            timeout=60,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return invoke
