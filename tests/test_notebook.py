"""Results show themselves (issue 16, SPEC §12): HTML for Jupyter's display protocol,
made by the terminal's own writers, and, as ``repr``, the text the terminal shows.
Nothing of IPython is imported for it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import seed_000_passes
from test_graph import needs_dot

import adcli
from adcli.errors import BindingError

SEED_F = "x*sigmoid(x)/(x**2+1)"


def cells(html: str) -> list[list[str]]:
    """The rows of an HTML table's body, each a list of its cells' texts."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body)
    return [[re.sub(r"<[^>]+>", "", c.replace("<br>", "\n"))
             for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]  # fmt: skip


def titles(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<th[^>]*>(.*?)</th>", html)]


def test_the_seed_table_shows_the_seeds_nodes_and_adjoints_as_html():
    html = adcli.compile(SEED_F).table(x=2)._repr_html_()
    assert titles(html) == ["#", "node", "op", "value", "local ∂", "∂f/∂node"]
    rows = cells(html)
    assert [r[1] for r in rows] == ["x", "sigmoid(x)", "x*sigmoid(x)", "x**2", "x**2 + 1",
                                   "x*sigmoid(x)/(x**2 + 1)"]  # fmt: skip
    _, dx, nodes = seed_000_passes(2.0)
    values = {r[1]: float(r[3]) for r in rows}
    assert values["sigmoid(x)"] == pytest.approx(nodes["values"]["t1"], rel=5e-6)  # 6 digits
    assert values["x*sigmoid(x)"] == pytest.approx(nodes["values"]["t2"], rel=5e-6)
    assert values["x**2 + 1"] == 5.0
    adjoints = {r[1]: float(r[5].split()[0]) for r in rows}  # "1 (seed ∂f/∂f)" for f
    assert adjoints["x*sigmoid(x)"] == pytest.approx(nodes["adjoints"]["t2"], rel=1e-6)  # 0.2
    assert adjoints["x"] == pytest.approx(dx, rel=1e-5)  # -0.0636982
    for shown in ("0.880797", "1.76159", "-0.0636982", "= -0.281855 from #4"):
        assert shown in html
    assert "f(x=2) = 0.3523188311911529" in html and "∂f/∂x = -0.06369821519594324" in html


def test_the_tangent_table_shows_a_tangent_column():
    html = adcli.compile(SEED_F).table(x=2, mode="forward")._repr_html_()
    assert titles(html)[-1] == "x\u0307"  # x with a dot above: the tangent ∂node/∂x
    assert [r[-1] for r in cells(html)] == ["1", "0.104994", "1.09078", "4", "4", "-0.0636982"]


@pytest.mark.parametrize("args, make", [
    (["grad", SEED_F, "--at", "2"], lambda f: f.table(x=2)),
    (["grad", SEED_F, "--at", "2", "--mode", "forward"], lambda f: f.table([2.0], mode="forward")),
    (["grad", "x*y + sin(x)", "--at", "x=1,y=2", "--wrt", "y"], None),
])  # fmt: skip
def test_outside_jupyter_repr_is_what_the_terminal_shows(run, monkeypatch, args, make):
    monkeypatch.setenv("COLUMNS", "100")
    terminal = run(*args, "--format", "table")
    assert terminal.code == 0
    f = adcli.compile(args[1])
    table = make(f) if make else f.table(x=1, y=2, wrt=["y"])
    assert repr(table) + "\n" == terminal.out


def test_a_descent_shows_its_trace_result_and_diagnosis(run, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    f = adcli.compile(SEED_F)
    result = f.minimize({"x": 1.33}, lr=1, steps=5)
    terminal = run("minimize", SEED_F, "--start", "1.33", "--lr", "1", "--steps", "5",
                   "--format", "table")  # fmt: skip
    assert repr(result) + "\n" == terminal.out.replace("--steps", "steps").replace("--lr", "lr")
    html = result._repr_html_()
    assert titles(html) == ["step", "x", "f", "‖∇f‖"] and len(cells(html)) == 6
    assert "<b>max-steps</b>" in html and "raise steps or lr" in html  # the API's words


def test_a_fit_shows_its_parameter_table(run, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(tmp_path)
    x = np.linspace(0, 4, 40)
    y = 2.5 * np.exp(-1.3 * x) + 0.4 + 0.01 * np.sin(7 * x)
    np.savez("d.npz", x=x, y=y)
    terminal = run("fit", "y ~ a*exp(-b*x) + c", "--data", "d.npz", "--start", "a=1,b=1,c=0",
                   "--format", "table")  # fmt: skip
    fit = adcli.compile("a*exp(-b*x) + c", shapes={"x": (None,)}).fit(
        y, {"x": x}, {"a": 1.0, "b": 1.0, "c": 0.0}
    )
    assert repr(fit) + "\n" == terminal.out
    html = fit._repr_html_()
    assert titles(html) == ["parameter", "estimate", "std error", "t value", "95 % interval"]
    want = json.loads(run("fit", "y ~ a*exp(-b*x) + c", "--data", "d.npz", "--start",
                          "a=1,b=1,c=0", "-f", "json").out)  # fmt: skip
    for row in cells(html):
        assert float(row[1]) == pytest.approx(want["params"][row[0]], rel=1e-5)
    assert "R²:" in html


def test_an_expression_shows_its_program_variables_and_size():
    f = adcli.compile("param W = zeros(3, 2)\nsum(tanh(X @ W))", shapes={"X": (None, 3)})
    assert repr(f).splitlines() == [
        "adcli.compile('param W = zeros(3, 2)\\nsum(tanh(X @ W))')",
        "variables: W [3, 2], X [rows, 3]; 5 nodes; 1 output",  # X, W, X @ W, tanh, sum
    ]
    shown = f._repr_html_()
    assert "<pre>param W = zeros(3, 2)" in shown and "W [3, 2], X [rows, 3]" in shown
    html = adcli.compile("a < b").table(a=1, b=2)._repr_html_()
    assert "a &lt; b" in html and "<b" not in html.replace("<br>", "")  # escaped, not markup


def test_a_point_is_given_by_position_or_by_name_not_both():
    f = adcli.compile("x*y")
    assert repr(f.table([1.0, 2.0])) == repr(f.table(x=1, y=2))
    with pytest.raises(BindingError, match="by position or by name"):
        f.table([1.0, 2.0], x=1)
    with pytest.raises(BindingError, match="no value for y"):
        f.table(x=1)


def test_showing_imports_nothing_of_ipython_and_importing_adcli_nothing_of_rich():
    code = ("import sys, adcli; imported = 'rich' in sys.modules\n"
            "adcli.compile('x*x').table(x=2)._repr_html_()\n"
            "print(imported, 'IPython' in sys.modules)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.split() == ["False", "False"], done


@pytest.mark.parametrize("args, make", [
    (["graph", SEED_F, "--at", "2"], lambda f: f.graph(x=2)),
    (["graph", SEED_F], lambda f: f.graph()),
    (["graph", "x*y + sin(x)", "--at", "x=1,y=2", "--wrt", "y"], lambda f: f.graph([1, 2], ["y"])),
])  # fmt: skip
def test_a_graph_shows_as_adcli_graph_draws_it(run, args, make):
    terminal = run(*args)
    assert terminal.code == 0
    assert repr(make(adcli.compile(args[1]))) + "\n" == terminal.out


@needs_dot
def test_in_jupyter_a_graph_is_the_svg_graphviz_draws(run):
    picture = adcli.compile(SEED_F).graph(x=2)
    svg = picture._repr_svg_()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for shown in ("sigmoid", "0.880797", "1.76159", "&#45;0.0636982"):  # SVG escapes "-"
        assert shown in svg
    assert picture._repr_html_() == svg  # a page shows the same picture


def test_without_graphviz_a_graph_shows_its_text_drawing(monkeypatch):
    from adcli import drawing

    monkeypatch.setattr(drawing.shutil, "which", lambda name: None)
    picture = adcli.compile(SEED_F).graph(x=2)
    assert picture._repr_svg_() is None
    html = picture._repr_html_()
    assert "<pre>#6 ÷" in html and "install graphviz" in html
    assert "0.880797" in html


@pytest.mark.parametrize("text, start, plotted", [
    (SEED_F, {"x": 1.33}, True),
    ("(x - 1)**2 + 3*(y + 2)**2", {"x": 0.0, "y": 0.0}, True),  # over f's contour lines
    ("x**2 + y**2 + z**2", {"x": 1.0, "y": 1.0, "z": 1.0}, False),  # no picture of three
])  # fmt: skip
def test_in_jupyter_a_descent_shows_its_path_as_minimize_plot_draws_it(text, start, plotted):
    from adcli.plotting import terminal_descent

    f = adcli.compile(text)
    run = f.minimize(start, lr=0.1, steps=20)
    html = run._repr_html_()
    assert ("<pre>" in html) == plotted
    if plotted:
        from html import escape

        assert escape(terminal_descent(f, run, color=False)) in html
    assert "<pre>" not in repr(run)  # the terminal shows the plot only when asked (--plot)
