"""Shared helpers: run the CLI in-process, or the installed console script; the
Hypothesis profiles of the two test tiers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from adcli.cli import main
from adcli.ops import FUNCTIONS, OPS

# Two tiers (pyproject.toml): plain `pytest` leaves out the tests marked `slow`, and
# `-m slow` runs only them. Two Hypothesis profiles, chosen by ADCLI_HYPOTHESIS_PROFILE:
# "ci" (.ci/run sets it) runs every property test with the example count it names;
# "fast", the default, gives the property tests of the quick tier a few examples each.
HYPOTHESIS_PROFILE = os.environ.get("ADCLI_HYPOTHESIS_PROFILE", "fast")
settings.register_profile("ci", print_blob=True)  # the failing example's blob in the log
settings.register_profile("fast", max_examples=50)
settings.load_profile(HYPOTHESIS_PROFILE)


# Who runs arrays (adcli.compile's backend): the tests of the array paths run on each.
# JAX is in the test extra, so none of them is skipped.
BACKENDS = ["numpy", "jax"]


def examples(ci: int) -> int:
    """The example count of a quick-tier property test: ``ci`` under the "ci" profile,
    at most the loaded profile's ``max_examples`` otherwise. (A profile never lowers a
    count that a test's ``@settings`` names, so such tests ask here.)"""
    return ci if HYPOTHESIS_PROFILE == "ci" else min(ci, settings().max_examples)


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


def seed_000_passes(x: float) -> tuple[float, float, dict[str, dict[str, float]]]:
    """Seed 000's forward_pass and backward_pass, transcribed line by line.

    Returns f(x), f'(x), and the named nodes' values and adjoints.
    """
    import math

    t1 = 1.0 / (1.0 + math.exp(-x))
    t2 = t1 * x
    b1 = x**2
    b2 = b1 + 1.0
    b3 = 1.0 / b2
    y = t2 * b3
    dt2 = b3
    db3 = t2
    db2 = (-1.0 / b2**2) * db3
    db1 = 1.0 * db2
    dx = 2 * x * db1
    dt1 = x * dt2
    dx += t1 * dt2
    dx += t1 * (1.0 - t1) * dt1
    values = {"t1": t1, "t2": t2, "b2": b2, "b3": b3, "y": y}
    adjoints = {"t1": dt1, "t2": dt2, "b2": db2, "b3": db3, "y": 1.0}
    return y, dx, {"values": values, "adjoints": adjoints}


def on_terminal(args: list[str], env: dict[str, str]) -> str:
    """What ``adcli ARGS`` writes when stdout and stderr are a pseudo-terminal. (Not
    pty.fork: a fork of this process, where JAX's threads may run, can deadlock.)"""
    import pty

    script = "import sys; from adcli.cli import main; sys.exit(main(sys.argv[1:]))"
    parent, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdin=child, stdout=child,
                            stderr=child, env={**os.environ, **env})  # fmt: skip
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(parent, 4096)
        except OSError:  # the child's end is closed
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(parent)
    return b"".join(chunks).decode(errors="replace")


PDFLATEX = shutil.which("pdflatex")
# Under CI (ADCLI_CI) a missing TeX engine fails the LaTeX tests instead of skipping them.
needs_tex = pytest.mark.skipif(
    PDFLATEX is None and not os.environ.get("ADCLI_CI"), reason="no TeX engine installed"
)


def compile_latex(tmp_path, body: str, preamble: str = "") -> None:
    """Compile ``body`` in a minimal article with plain pdflatex; fail with its log."""
    document = "\n".join([r"\documentclass{article}", preamble, r"\begin{document}", body,
                          r"\end{document}"])  # fmt: skip
    (tmp_path / "t.tex").write_text(document)
    done = subprocess.run(
        [PDFLATEX or "pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "t.pdf").read_bytes()[:4] == b"%PDF"


# The ops of numbers (elementwise), which the scalar oracles (sympy, differences,
# codegen's scalar module) test; the array ops have an oracle of their own.
NUMBER_OPS = sorted(name for name, op in OPS.items() if op.elementwise and not op.internal)
# max(a)/min(a) with one argument reduce an array (amax/amin): not a function of numbers.
NUMBER_FUNCTIONS = {
    name: tuple(a for a in arities if a >= OPS[name].arity)
    for name, arities in FUNCTIONS.items()
    if OPS[name].elementwise
}
