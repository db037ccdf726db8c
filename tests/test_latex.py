"""`--format latex` (issue 6): tables to paste into a paper, and `diff`'s formulas.

.ci/run installs a TeX engine (Debian's texlive-latex-base) so every table here is
compiled by pdflatex for real; outside CI, without pdflatex, only the structure is
checked.
"""

from __future__ import annotations

import pytest
from conftest import compile_latex, needs_tex

SEED = "x*sigmoid(x)/(x**2+1)"

TABLES = {
    "grad": ["grad", SEED, "--at", "2"],
    "tangent": ["grad", SEED, "--at", "2", "--mode", "forward"],
    "minimize": ["minimize", SEED, "--start", "1.33", "--lr", "1", "--steps", "30"],
    "hessian": ["hessian", "x**2 - y**2", "--at", "x=0,y=0"],
}


def _latex(run, args):
    r = run(*args, "--format", "latex")
    assert r.code == 0, r.err
    return r.out


def _structure_ok(text: str) -> None:
    assert text.isascii(), [c for c in text if not c.isascii()]
    body = text[: text.index(r"\end{tabular}" + "\n") + len(r"\end{tabular}")]
    lines = body.splitlines()
    spec = lines[0][len(r"\begin{tabular}{") : -1]
    for line in lines:
        if line.endswith(r" \\"):  # a row: one cell per column
            outer = line
            while r"\begin{tabular}[t]" in outer:  # drop nested cells' own separators
                start = outer.index(r"\begin{tabular}[t]")
                end = outer.index(r"\end{tabular}", start) + len(r"\end{tabular}")
                outer = outer[:start] + "CELL" + outer[end:]
            assert outer.count(" & ") == len(spec) - 1, line
    assert text.count("{") - text.count(r"\{") == text.count("}") - text.count(r"\}")
    assert text.count("$") % 2 == 0


@pytest.mark.parametrize("name", list(TABLES))
def test_latex_tables_have_one_cell_per_column_and_only_ascii(run, name):
    text = _latex(run, TABLES[name])
    assert text.startswith(r"\begin{tabular}{")
    _structure_ok(text)


def test_latex_table_has_the_same_columns_as_the_terminal_table(run):
    latex = _latex(run, TABLES["grad"]).splitlines()
    markdown = run(*TABLES["grad"], "--format", "markdown").out.splitlines()
    assert latex[2] == r"\# & node & op & value & local $\partial$ & $\partial$f/$\partial$node \\"
    assert markdown[0].count("|") - 1 == latex[2].count(" & ") + 1
    assert r"$\dot{x}$" in _latex(run, TABLES["tangent"]).splitlines()[2]


@needs_tex
@pytest.mark.parametrize("name", list(TABLES))
def test_latex_tables_compile(run, tmp_path, name):
    compile_latex(tmp_path, _latex(run, TABLES[name]))


@needs_tex
def test_diff_latex_compiles_as_display_math(run, tmp_path):
    lines = run("diff", SEED + " + sqrt(y)*erf(x/3)", "--format", "latex", "--cse").out
    math = "\n".join(rf"\[ {line} \]" for line in lines.splitlines())
    compile_latex(tmp_path, math, r"\usepackage{amsmath}")  # for \operatorname
