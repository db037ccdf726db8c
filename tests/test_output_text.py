"""What adcli writes for people and machines: tables on narrow terminals, zeros without
a sign, the fan-out sum, and LaTeX that plain pdflatex takes (SPEC §4, §8).

Narrow tables are rendered on a rich console of a fixed width, with no colour, and
read back: every number printed must parse, and be the true value rounded to the
digits it shows (or a shorter scientific form of it) — never a cut ``0.880…``.
"""

from __future__ import annotations

import io
import json
import math
import re

import pytest
from conftest import compile_latex, needs_tex

# The tables are drawn on a console of a set width, as a terminal of that width would
# show them, and measured as rich measures them (wide characters count twice).
from rich.cells import cell_len  # noqa: TID251
from rich.console import Console  # noqa: TID251

from adcli import compile as adcli_compile
from adcli.numtext import full, json_number, rounded
from adcli.pasted import latex_text
from adcli.render import Columns, Output, RowWriter, node_table, tangent_table

SEED = "x*sigmoid(x)/(x**2+1)"
WIDTHS = [30, 40, 60, 80, 120]
FITS = 40  # from this width on, every table here fits the terminal; below, some are wider

# a number standing on its own: not part of a name (x1, x**2), a node reference (#3)
# or a longer number
_NUMBER = re.compile(r"(?<![\w#*^/.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])")


def _console(width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(width=width, file=out, color_system=None), out


def _shows(token: str, value: float) -> bool:
    """``token`` is ``value`` rounded to some number of significant digits (in any of
    Python's forms: ``0.881``, ``8.81e-01``, ``8.8e-1``). The sign is left out: the
    fan-out sum writes ``- 0.23`` for a term of -0.23 (its own test checks signs)."""
    shown = abs(float(token))
    return any(abs(float(f"{value:.{k}g}")) == shown for k in range(1, 18))


def _table_part(text: str) -> list[str]:
    """The lines of the first table: rich draws a blank line above and below it."""
    lines = [line.rstrip() for line in text.splitlines()]
    end = lines.index("", 1) if "" in lines[1:] else len(lines)
    return lines[:end]


def _check_numbers(text: str, width: int | None, known: list[float], must: list[float],
                   counts: int = 0) -> None:  # fmt: skip
    """No number in ``text`` is cut, every one is a rounding of a known value (or a
    count up to ``counts``: node and step numbers), and each of ``must`` is shown."""
    lines = _table_part(text)
    if width is not None and width >= FITS:
        assert all(cell_len(line) <= width for line in lines), text
    table = "\n".join(lines)
    cut = re.findall(r"[\d.]…|…[\d.]", table)
    assert not cut, f"a number is cut: {cut}\n{table}"
    tokens = _NUMBER.findall(table)
    for token in tokens:
        whole = token.lstrip("-").isdigit() and int(token) <= counts
        assert whole or any(_shows(token, v) for v in known), f"{token!r} is no value\n{table}"
    for value in must:
        assert any(_shows(t, value) for t in tokens), f"{value} is not shown\n{table}"


# --- 1. narrow terminals never cut a number ------------------------------------------


def _node_values(rows) -> list[float]:
    values = []
    for r in rows:
        values += [r.value, *(p for p in r.partials if p is not None)]
        values += [] if r.adjoint is None else [r.adjoint]
        values += [t for _, t in r.terms]
    return values


@pytest.mark.parametrize("width", WIDTHS)
def test_the_node_table_never_cuts_a_number(width):
    e = adcli_compile(SEED)
    rows = e.node_table([2.0])
    console, out = _console(width)
    node_table(rows, Output("table", 6, out=io.StringIO(), console=console))
    must = [r.value for r in rows] + [r.adjoint for r in rows]
    _check_numbers(out.getvalue(), width, _node_values(rows), must, counts=len(rows))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_tangent_table_never_cuts_a_number(width):
    e = adcli_compile("x*sigmoid(y)/(x**2+1) + y")
    rows = e.tangent_table([2.0, -0.75])
    console, out = _console(width)
    tangent_table(rows, ["x", "y"], Output("table", 6, out=io.StringIO(), console=console))
    must = [r.value for r in rows] + [t for r in rows for _, t in r.terms]
    _check_numbers(out.getvalue(), width, _node_values(rows), must, counts=len(rows))


def test_the_local_detail_goes_first_and_says_so():
    e = adcli_compile(SEED)
    rows = e.node_table([2.0])
    texts = {}
    for width in (60, 120):
        console, out = _console(width)
        node_table(rows, Output("table", 6, out=io.StringIO(), console=console))
        texts[width] = out.getvalue()
    assert "∂/∂#1 = 0.104994" in texts[120] and "left out" not in texts[120]
    assert "∂/∂#" not in texts[60] and "local ∂ left out to fit 60 columns" in texts[60]
    # and what is left keeps every digit: the values and the whole fan-out sum
    for text in ("0.880797", "0.352319", "= -0.281855 from #4", "+ 0.0419974 from #2"):
        assert text in texts[60]


def test_the_seed_table_at_80_columns_is_untouched():
    program = "t1 = sigmoid(x); t2 = t1*x; b2 = x**2 + 1; b3 = 1/b2; y = t2*b3"
    console, out = _console(80)
    node_table(
        adcli_compile(program).node_table([2.0]),
        Output("table", 6, out=io.StringIO(), console=console),
    )
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    assert lines[1] == ("  #   node   op               value   local ∂"
                        "                       ∂f/∂node")  # fmt: skip
    assert lines[3] == ("  1   x      input                2"
                        "                               -0.0636982")  # fmt: skip


ROWS = [
    (1.234567891, -9.87654321e-7),
    (-1234567.5, 0.000123456789),
    (3.0, 42.0),
]


@pytest.mark.parametrize("width", WIDTHS)
def test_row_tables_never_cut_a_number(width):
    e = adcli_compile("x*exp(y) + y**2")
    compiled = e.compiled(e.value_and_grad_nodes(["x", "y"]))
    console, out = _console(width)
    writer = RowWriter(
        Columns(["x", "y"], 1, ["x", "y"]), Output("table", 6, out=io.StringIO(), console=console)
    )
    known = []
    for point in ROWS:
        values = compiled.scalar(*point)
        writer.row(point, values)
        known += [*point, *values]
    writer.close()
    _check_numbers(out.getvalue(), width, known, known)


def _json_numbers(data) -> list[float]:
    """Every number in a JSON document, walked without recursion."""
    found, todo = [], [data]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo += item.values()
        elif isinstance(item, list):
            todo += item
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            found.append(float(item))
    return found


COMMANDS = {
    "check": ["check", SEED + " + y**3", "--at", "x=2,y=1.5"],
    "hessian": ["hessian", "x**2*y - y**3 + exp(x)*z + z**4/7", "--at", "x=1.3,y=2.1,z=-0.77"],
    "jacobian": ["jacobian", "x*y*z, x+y-z, sin(x)*1e5, exp(y)/z", "--at", "x=1.1,y=2.5,z=-3"],
    "minimize": ["minimize", SEED, "--start", "1.33", "--lr", "1", "--steps", "12"],
    "compare": ["minimize", "(x-1)**2 + 3*(y+2)**2", "--start", "x=0,y=0", "--steps", "50",
                "--compare", "gd,momentum,adam"],
}  # fmt: skip


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_other_table_never_cuts_a_number(run, monkeypatch, name, width):
    args = COMMANDS[name]
    data = [json.loads(line) for line in run(*args, "--format", "json").out.splitlines()]
    known = _json_numbers(data)
    monkeypatch.setenv("COLUMNS", str(width))  # rich sizes its console from COLUMNS
    r = run(*args, "--format", "table", "--no-color")
    matrix = data[0].get(name, [])  # a Jacobian or Hessian: every entry must be there
    _check_numbers(r.out, width, known, _json_numbers(matrix), counts=50)


def test_a_table_too_wide_for_any_digits_is_shown_whole_not_cut():
    e = adcli_compile(SEED)
    rows = e.node_table([2.0])
    console, out = _console(12)
    node_table(rows, Output("table", 6, out=io.StringIO(), console=console))
    _check_numbers(out.getvalue(), None, _node_values(rows), [r.value for r in rows], 6)


# --- 2. no -0.0 where the answer is 0 ------------------------------------------------


def test_a_zero_has_no_sign_in_text_and_keeps_it_in_json():
    assert full(-0.0) == full(0.0) == "0.0"
    assert rounded(-0.0, 6) == rounded(0.0, 6) == "0"
    assert math.copysign(1, json_number(-0.0)) == -1  # JSON keeps the float as computed
    assert full(-1e-300) == "-1e-300" and rounded(-1e-300, 3) == "-1e-300"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("plain", "0.0 -1.0 0.0\n"), ("csv", "x,y,value,grad_x,grad_y\n0.0,1.0,0.0,-1.0,0.0\n")],
)
def test_a_zero_gradient_prints_without_a_sign(run, fmt, expected):
    r = run("grad", "--at", "x=0,y=1", "--format", fmt, "--", "-x*y")
    assert r.code == 0 and r.out == expected


def test_json_keeps_the_negative_zero(run):
    r = run("grad", "--at", "x=0,y=1", "--format", "json", "--", "-x*y")
    assert json.loads(r.out) == {"at": {"x": 0.0, "y": 1.0}, "value": -0.0,
                                 "grad": {"x": -1.0, "y": -0.0}}  # fmt: skip
    assert '"value": -0.0' in r.out


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_tables_show_a_zero_without_a_sign(run, mode):
    for fmt in ("table", "markdown"):
        r = run("grad", "--at", "x=0,y=1", "--format", fmt, "--mode", mode, "--", "-x*y")
        assert r.code == 0 and not re.search(r"-0(?![.\d])|-0\.0\b", r.out), r.out
    r = run("eval", "--at", "x=0,y=1", "--format", "table", "--", "-x*y")
    assert "-0" not in r.out


# --- 3. the fan-out sum reads as a sum ------------------------------------------------


def test_a_negative_later_term_is_subtracted(run):
    r = run("grad", "sin(x) + cos(x)", "--at", "1", "--format", "markdown")
    cell = r.out.splitlines()[2].split(" | ")[-1]
    assert cell == "-0.301169<br>= -0.841471 from #3<br>+ 0.540302 from #2 |"
    r = run("grad", "cos(x) + sin(x)", "--at", "1", "--format", "markdown")
    cell = r.out.splitlines()[2].split(" | ")[-1]
    assert cell == "-0.301169<br>= 0.540302 from #3<br>- 0.841471 from #2 |"
    assert "+ -" not in r.out


# --- 4. LaTeX in ASCII ----------------------------------------------------------------

UNICODE = "θ λ Σ é ü 😀 Α ϑ ά ǘ í ż ç ą x² ﬁ 中 ß ø “q” a|b<c [x]"


def test_latex_text_is_ascii_with_greek_as_math_and_accents_as_latex():
    text = latex_text(UNICODE)
    assert text.isascii(), [c for c in text if not c.isascii()]
    words = text.split(" ")
    assert words[:6] == [r"$\theta$", r"$\lambda$", r"$\Sigma$", r"\'{e}", r"\"{u}",
                         r"\texttt{U+1F600}"]  # fmt: skip
    assert words[6:11] == ["A", r"$\vartheta$", r"$\acute{\alpha}$", r"\'{\"{u}}", r"\'{\i}"]
    assert r"\c{c}" in words and "x$^{2}$" in words and r"\texttt{U+4E2D}" in words
    assert "{[}x]" in words and "a$|$b$<$c" in words  # OT1 would print | < as — ¡
    assert latex_text("x\u0307") == r"$\dot{x}$" == latex_text("ẋ")  # the tangent's dot


@needs_tex
def test_latex_text_compiles_with_plain_pdflatex(tmp_path):
    compile_latex(tmp_path, latex_text(UNICODE) + "\\\\\n" + latex_text("[y] after a line break"))


@needs_tex
def test_a_greek_table_compiles(run, tmp_path):
    r = run("grad", "θ*exp(λ) + é", "--at", "θ=1,λ=2,é=3", "--format", "latex")
    assert r.code == 0 and r.out.isascii(), r.out
    assert r"$\theta$*exp($\lambda$) + \'{e}" in r.out
    compile_latex(tmp_path, r.out)
