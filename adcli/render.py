"""Results → text: ``plain``, ``csv`` and ``json`` for machines, rich tables for people.

Machine formats print every number in full precision (``repr``), spell non-finite
numbers ``nan``/``inf``/``-inf`` (strings in JSON, so the output stays valid), and
never import rich. Tables round to ``--digits`` significant digits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import IO, Any

FORMATS = ("table", "plain", "csv", "json", "markdown", "latex")
TABLES = ("table", "markdown", "latex")  # formats that round to --digits and wait for all rows
PASTED = ("markdown", "latex")  # tables as text to paste into notes


class Column:
    """A column of a people's table: its title, alignment and terminal style."""

    def __init__(self, title: str, right: bool = False, style: str = "", no_wrap: bool = False):
        self.title, self.right, self.style, self.no_wrap = title, right, style, no_wrap


def show_table(columns: list[Column], rows: list[list[str]], fmt: str, console, out: IO[str]):
    """Rows of text as a rich table on the console, a GitHub Markdown table or a
    LaTeX ``tabular``."""
    if fmt in PASTED:
        out.write(markdown(columns, rows) if fmt == "markdown" else latex(columns, rows))
        out.flush()
        return
    from rich.table import Table

    table = Table(box=_box())
    for c in columns:
        table.add_column(
            c.title, justify="right" if c.right else "left", style=c.style, no_wrap=c.no_wrap
        )
    for r in rows:
        table.add_row(*r)
    console.print(table)


def markdown(columns: list[Column], rows: list[list[str]]) -> str:
    """A GitHub table; line breaks inside a cell become <br>, pipes are escaped."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(cell(c.title) for c in columns) + " |"]
    lines.append("|" + "|".join("---:" if c.right else "---" for c in columns) + "|")
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}",
}  # fmt: skip
_LATEX_MATH = {
    "∂": r"\partial", "∇": r"\nabla", "‖": r"\|", "·": r"\cdot", "σ": r"\sigma",
    "≤": r"\le", "≥": r"\ge", "…": r"\ldots", "ẋ": r"\dot{x}", "²": "^2",
}  # fmt: skip
_LATEX_PLAIN = {"−": "-", "′": "'", "↑": "", "—": "--", "–": "--"}


def latex_text(text: str) -> str:
    """Plain text for LaTeX: its special characters escaped, and the few symbols the
    tables use (∂, ∇, ‖, ·, a dotted x) written as math, so pdflatex needs no
    unicode setup."""
    out = []
    for ch in text:
        if ch in _LATEX_SPECIAL:
            out.append(_LATEX_SPECIAL[ch])
        elif ch in _LATEX_MATH:
            out.append(f"${_LATEX_MATH[ch]}$")
        elif ch in _LATEX_PLAIN:
            out.append(_LATEX_PLAIN[ch])
        elif ch == "\u0307" and out:  # combining dot: ẋ
            out[-1] = rf"$\dot{{{out[-1]}}}$"
        else:
            out.append(ch)
    return "".join(out).replace("--", "-{}-")  # not an en dash: --steps stays an option


def latex(columns: list[Column], rows: list[list[str]]) -> str:
    """A ``tabular`` with ``\\hline`` rules (no package needed); a line break inside a
    cell becomes a nested ``tabular`` stacking the lines."""

    def cell(text: str) -> str:
        lines = [latex_text(t) for t in text.split("\n")]
        if len(lines) == 1:
            return lines[0]
        return r"\begin{tabular}[t]{@{}l@{}}" + r" \\ ".join(lines) + r"\end{tabular}"

    spec = "".join("r" if c.right else "l" for c in columns)
    lines = [rf"\begin{{tabular}}{{{spec}}}", r"\hline"]
    lines.append(" & ".join(cell(c.title) for c in columns) + r" \\")
    lines.append(r"\hline")
    lines += [" & ".join(cell(v) for v in r) + r" \\" for r in rows]
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def pasted_lines(lines: list[str], fmt: str) -> str:
    """Lines under a pasted table: Markdown hard breaks, or LaTeX paragraphs."""
    if fmt == "latex":
        return "\n" + "\\\\\n".join(latex_text(t) for t in lines) + "\n"
    return "\n" + "  \n".join(lines) + "\n"


def full(value: float) -> str:
    """The shortest text that reads back to the same float."""
    return repr(float(value))


def rounded(value: float | None, digits: int) -> str:
    if value is None:
        return ""
    value = float(value)
    return f"{value:.{digits}g}" if math.isfinite(value) else repr(value)


def json_number(value: float) -> float | str:
    value = float(value)
    return value if math.isfinite(value) else repr(value)


class Columns:
    """The names of what a row holds: the point, the values, the partials."""

    def __init__(self, variables: Sequence[str], n_values: int, wrt: Sequence[str] | None) -> None:
        self.variables = list(variables)
        self.n_values = n_values
        self.wrt = list(wrt) if wrt is not None else None

    def value_names(self) -> list[str]:
        return ["value"] if self.n_values == 1 else [f"value_{i + 1}" for i in range(self.n_values)]

    def csv_header(self) -> list[str]:
        return self.variables + self.value_names() + [f"grad_{v}" for v in self.wrt or []]

    def json_row(self, point: Sequence[float], values: Sequence[float]) -> dict[str, Any]:
        row: dict[str, Any] = {"at": {v: json_number(x) for v, x in zip(self.variables, point)}}
        outs = [json_number(v) for v in values[: self.n_values]]
        row["value"] = outs[0] if self.n_values == 1 else outs
        if self.wrt is not None:
            row["grad"] = {v: json_number(g) for v, g in zip(self.wrt, values[self.n_values :])}
        return row


class RowWriter:
    """Writes one row per point as soon as it is known (tables wait for the end).

    Rows collect in a buffer written out at ``flush``: the point reader flushes
    before every read that may wait, so a pipe sees each row promptly without a
    system call per row (even under PYTHONUNBUFFERED).
    """

    def __init__(self, fmt: str, columns: Columns, out: IO[str], digits: int, console=None) -> None:
        self.fmt = fmt
        self.columns = columns
        self.out = out
        self.digits = digits
        self.console = console
        self._table_rows: list[list[str]] = []
        self._pending: list[str] = []
        if fmt == "csv":
            self._write(",".join(columns.csv_header()) + "\n")

    def _write(self, line: str) -> None:
        self._pending.append(line)
        if len(self._pending) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.out.write("".join(self._pending))
            self._pending.clear()
        self.out.flush()

    def row(
        self, point: Sequence[float], values: Sequence[float], extra: dict | None = None
    ) -> None:
        if self.fmt == "plain":
            self._write(" ".join(full(v) for v in values) + "\n")
            for line in (extra or {}).get("explain", []):  # --explain: lines after the row
                self._write(line + "\n")
        elif self.fmt == "csv":
            self._write(",".join(full(v) for v in [*point, *values]) + "\n")
        elif self.fmt == "json":
            import json

            row = self.columns.json_row(point, values)
            if extra:
                row.update(extra)
            self._write(json.dumps(row, ensure_ascii=False) + "\n")
        else:  # a table: rows wait for the end, to size the columns
            self._table_rows.append([rounded(v, self.digits) for v in [*point, *values]])

    def close(self) -> None:
        self.flush()
        if self.fmt not in TABLES or not self._table_rows:
            return
        c = self.columns
        columns = [Column(name, True, "cyan") for name in c.variables]
        columns += [Column(name.replace("value", "f"), True, "bold") for name in c.value_names()]
        columns += [Column(f"∂f/∂{name}", True) for name in c.wrt or []]
        show_table(columns, self._table_rows, self.fmt, self.console, self.out)


def _box():
    from rich import box

    return box.SIMPLE_HEAD


NODE_COLUMNS = [
    Column("#", True, "dim"),
    Column("node", style="cyan"),
    Column("op"),
    Column("value", True),
    Column("local ∂"),
    Column("∂f/∂node", True, "bold", no_wrap=True),
]


def node_table(rows, digits: int, fmt: str, console, out: IO[str]) -> None:
    """The per-node backward table: forward order, so bottom-up is the backward sweep."""
    cells = [
        [
            str(r.number),
            r.label,
            op_text(r),
            rounded(r.value, digits),
            local_text(r, digits),
            adjoint_text(r, digits),
        ]
        for r in rows
    ]
    show_table(NODE_COLUMNS, cells, fmt, console, out)


def op_text(row) -> str:
    if row.op == "var":
        return "input"
    return f"{row.op}({', '.join(row.inputs)})"


def local_text(row, digits: int) -> str:
    return "\n".join(
        f"∂/∂{name} = {rounded(p, digits)}"
        for name, p in zip(row.inputs, row.partials)
        if p is not None
    )


def adjoint_text(row, digits: int) -> str:
    if row.adjoint is None:
        return {"unused": "— unused", "no wrt": "— not needed"}.get(row.status, "—")
    text = rounded(row.adjoint, digits)
    if not row.terms:
        return f"{text} (seed ∂f/∂f)"
    if len(row.terms) > 1:  # fan-out: the sum of what each use sends back
        parts = [f"{rounded(t, digits)} from #{c}" for c, t in row.terms]
        return "\n".join([text, "= " + parts[0], *("+ " + p for p in parts[1:])])
    return text


def node_json(rows) -> list[dict[str, Any]]:
    """The per-node table as data, for ``--format json --nodes``."""
    return [
        {
            "id": r.number,
            "node": r.label,
            "op": r.op,
            "inputs": r.inputs,
            "value": json_number(r.value),
            "local": [None if p is None else json_number(p) for p in r.partials],
            "adjoint": None if r.adjoint is None else json_number(r.adjoint),
            "terms": [{"from": c, "value": json_number(t)} for c, t in r.terms],
            "status": r.status or "used",
        }
        for r in rows
    ]


def write_check(result, point, names, fmt: str, out: IO[str], err: IO[str], console, digits: int):
    """The AD gradient beside the numerical one; the verdict and kink notes after it."""
    verdict = "agree" if result.ok else "DISAGREE"
    how = "central differences" if result.method == "central" else "the complex step"
    summary = f"{verdict} with {how}: tolerance {result.tol:g}·max(1, |AD|)"
    if fmt == "json":
        import json

        rows = [
            {"variable": r.name, "ad": json_number(r.ad), "numeric": json_number(r.numeric),
             "abs_error": json_number(r.abs_err), "rel_error": json_number(r.rel_err), "ok": r.ok}
            for r in result.rows
        ]  # fmt: skip
        at = {n: json_number(v) for n, v in zip(names, point)}
        line = {"at": at, "method": result.method, "tolerance": result.tol, "rows": rows,
                "ok": result.ok, "kinks": result.kinks}  # fmt: skip
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    if fmt in ("plain", "csv"):
        sep = " " if fmt == "plain" else ","
        if fmt == "csv":
            out.write("variable,ad,numeric,abs_error,rel_error,ok\n")
        for r in result.rows:
            fields = [r.name, *map(full, (r.ad, r.numeric, r.abs_err, r.rel_err))]
            out.write(sep.join([*fields, "ok" if r.ok else "FAIL"]) + "\n")
        out.flush()
        err.write("".join(f"note: {k}\n" for k in result.kinks) + summary + "\n")
        return
    columns = [Column("variable", style="cyan"), Column("AD", True), Column("numeric", True)]
    columns += [Column("abs error", True), Column("rel error", True), Column("ok")]
    cells = [
        [r.name, rounded(r.ad, digits), rounded(r.numeric, digits), f"{r.abs_err:.2g}",
         f"{r.rel_err:.2g}", "ok" if r.ok else "FAIL"]
        for r in result.rows
    ]  # fmt: skip
    show_table(columns, cells, fmt, console, out)
    lines = [f"note: {k}" for k in result.kinks] + [summary]
    if fmt in PASTED:
        out.write(pasted_lines(lines, fmt))
    else:
        for line in lines:
            console.print(line)


def write_hessian(h, eigs, kind, names, fmt: str, out: IO[str], err: IO[str], console, digits):
    """The Hessian matrix, its eigenvalues and the kind of point."""
    if fmt == "json":
        import json

        line = {"hessian": [[json_number(v) for v in row] for row in h],
                "eigenvalues": [json_number(e) for e in eigs], "kind": kind}  # fmt: skip
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    if fmt in ("plain", "csv"):
        sep = " " if fmt == "plain" else ","
        if fmt == "csv":
            out.write(",".join(["", *names]) + "\n")
            for name, row in zip(names, h):
                out.write(",".join([name, *map(full, row)]) + "\n")
        else:
            for row in h:
                out.write(sep.join(map(full, row)) + "\n")
            out.write(sep.join(map(full, eigs)) + "\n")
        out.flush()
        err.write(f"eigenvalues: {' '.join(map(full, eigs))}\nkind: {kind}\n")
        return
    columns = [Column("", style="cyan")] + [Column(f"∂/∂{n}", True) for n in names]
    cells = [[f"∂/∂{n}", *(rounded(v, digits) for v in row)] for n, row in zip(names, h)]
    show_table(columns, cells, fmt, console, out)
    lines = [f"eigenvalues: {', '.join(rounded(e, digits) for e in eigs)}", f"kind: {kind}"]
    if fmt in PASTED:
        out.write(pasted_lines(lines, fmt))
    else:
        for line in lines:
            console.print(line)


def tangent_table(rows, names, digits: int, fmt: str, console, out: IO[str]) -> None:
    """Forward mode's evaluation trace: one tangent column per variable (ẋ = ∂node/∂x)."""
    columns = NODE_COLUMNS[:5] + [Column(f"{n}\u0307", True, "bold") for n in names]
    cells = [
        [str(r.number), r.label, op_text(r), rounded(r.value, digits), local_text(r, digits),
         *(rounded(t, digits) for _, t in r.terms)]
        for r in rows
    ]  # fmt: skip
    show_table(columns, cells, fmt, console, out)


def write_jacobian(matrix, point, names, fmt: str, out: IO[str], console, digits: int) -> None:
    """One point's Jacobian: rows are outputs, columns variables."""
    if fmt == "json":
        import json

        line = {"at": {n: json_number(v) for n, v in zip(names, point)},
                "jacobian": [[json_number(v) for v in row] for row in matrix]}  # fmt: skip
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    elif fmt == "plain":
        out.write("".join(" ".join(map(full, row)) + "\n" for row in matrix))
    elif fmt == "csv":
        out.write(",".join(["output", *(f"d_{n}" for n in names)]) + "\n")
        for i, row in enumerate(matrix):
            out.write(",".join([str(i + 1), *map(full, row)]) + "\n")
    else:
        columns = [Column("output", True, "dim")] + [Column(f"∂/∂{n}", True) for n in names]
        cells = [[f"f{i + 1}", *(rounded(v, digits) for v in row)] for i, row in enumerate(matrix)]
        show_table(columns, cells, fmt, console, out)
    out.flush()
