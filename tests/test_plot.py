"""`adcli plot` and `minimize --plot` (issue 6): f and f′ in a terminal, a PNG, a path."""

from __future__ import annotations

import re

from conftest import on_terminal

SEED = "x*sigmoid(x)/(x**2+1)"
_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")


def test_plot_draws_f_and_its_derivative_in_an_80_column_terminal():
    out = on_terminal(["plot", SEED, "--range", "-10:10"], {"COLUMNS": "80", "LINES": "24"})
    lines = _ESCAPES.sub("", out).replace("\r", "").splitlines()
    assert "f = x*sigmoid(x)/(x**2+1)  and f′" in lines[0]
    assert max(len(line) for line in lines) <= 80
    assert any("f′" in line for line in lines[1:4])  # the legend
    assert any(line.strip().startswith("-10") and line.strip().endswith("10") for line in lines)
    assert sum(line.count("⠉") + line.count("⣀") for line in lines) > 20  # braille curves
    assert "\x1b[" in out  # colour on a terminal


def test_plot_without_colour_tells_the_curves_apart(run):
    out = run("plot", SEED, "--range", "-10:10").out
    assert "\x1b[" not in out
    assert "•" in out and "⠉" in out  # f′ dotted, f in braille


def test_plot_marks_where_f_is_not_finite(run):
    r = run("plot", "log(x)", "--range", "-1:1", "--no-grad")
    assert r.code == 0
    assert "f is not finite on [-1, " in r.err
    assert "│" in r.out


def test_plot_writes_a_png(shell, tmp_path):
    r = shell("plot", SEED, "--range", "-10:10", "-o", "f.png")
    assert r.code == 0, r.err
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_png_without_matplotlib_says_how_to_get_it(shell, tmp_path):
    fake = tmp_path / "shadow" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('simulated: not installed')\n")
    r = shell("plot", SEED, "-o", "f.png", env={"PYTHONPATH": str(tmp_path / "shadow")})
    assert r.code == 1
    assert "pip install 'adcli[plot]'" in r.err and "Traceback" not in r.err
    assert not (tmp_path / "f.png").exists()


def test_plot_mistakes_are_usage_errors(run):
    assert "not a range" in run("plot", "x", "--range", "3:1").err
    r = run("plot", "x*y")
    assert r.code == 2 and "one variable" in r.err


def test_minimize_plot_draws_the_path_over_f(run):
    r = run("minimize", SEED, "--lr", "1", "--start", "1.33", "--plot")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0] == "-0.6399041929263058 -0.1567521201185028"  # the result comes first
    assert "descent on f = x*sigmoid(x)/(x**2+1)" in r.out
    assert "S" in r.out and "E" in r.out and "start" in r.out


def test_minimize_plot_draws_contours_for_two_variables(run):
    r = run("minimize", "(x-1)**2 + 10*(y+2)**2", "--start", "x=-2,y=1", "--lr", "0.05",
            "--plot")  # fmt: skip
    assert "contours of f" in r.out and "steps" in r.out
    assert r.out.count("•") > 10
