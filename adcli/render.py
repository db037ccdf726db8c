"""Results → text: ``plain``, ``csv`` and ``json`` for machines, rich tables for people.

Machine formats print every number in full precision (``repr``), spell non-finite
numbers ``nan``/``inf``/``-inf`` (strings in JSON, so the output stays valid), and
never import rich. Tables (``tables.py``) round to ``--digits`` significant digits,
and on a narrow terminal give way without ever cutting a number.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import IO, Any

from .errors import UsageError
from .numtext import Num, full, json_number, rounded
from .ops import shape_text

FORMATS = ("table", "plain", "csv", "json", "markdown", "latex")
TABLES = ("table", "markdown", "latex")  # formats that round to --digits and wait for all rows
PASTED = ("markdown", "latex")  # tables as text to paste into notes
# Tables (tables.py, pasted.py, rich) are imported where a table is made: plain
# output, the common case on a pipe, never loads them.


class Output:
    """Where results go and how they look: the format, the digits of tables, colour,
    the two streams, and a rich console made only when a table needs it. Every
    writer takes one of these."""

    def __init__(
        self,
        fmt: str | None = None,
        digits: int = 6,
        no_color: bool = False,
        out: IO[str] | None = None,
        err: IO[str] | None = None,
        console=None,
        spelling=None,
        width: int | None = None,
    ) -> None:
        if fmt is not None and fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}", "choose one of: " + ", ".join(FORMATS))
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.fmt = fmt or ("table" if self.out.isatty() else "plain")
        self.digits = digits
        self.spelling = spelling  # how what is said spells options (None: API keywords)
        self.no_color = no_color or bool(os.environ.get("NO_COLOR"))
        self._console = console
        self.width = width  # the console's columns; None: the terminal's, or 80 on a pipe

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            # color_system=None: no escape codes at all (no_color alone keeps bold).
            # force_jupyter=False: in a notebook kernel rich would otherwise show the
            # table itself, as a display of its own, instead of writing it to ``out``.
            plain = {"color_system": None} if self.no_color else {}
            self._console = Console(file=self.out, markup=False, highlight=False,
                                    width=self.width, force_jupyter=False, **plain)  # fmt: skip
        return self._console

    def table(self, columns: list, cells) -> None:
        """A people's table: rich on a terminal, Markdown or LaTeX to paste."""
        from .tables import show_table

        show_table(columns, cells, self)

    def say(self, text: str) -> None:
        """Lines under a table: through rich on a terminal, as text to paste otherwise."""
        if self.fmt == "table":
            self.console.print(text)
        else:
            from .pasted import pasted_lines

            self.out.write(pasted_lines(text.split("\n"), self.fmt))

    def writer(self, columns: Columns) -> RowWriter:
        return RowWriter(columns, self)


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


PAGE = 1000  # rows of a table shown together: a range of 10^8 points is never held


class RowWriter:
    """Writes one row per point as soon as it is known.

    Rows collect in a buffer written out at ``flush``: the point reader flushes
    before every read that may wait, so a pipe sees each row promptly without a
    system call per row (even under PYTHONUNBUFFERED). A table waits for its rows
    to size its columns, a page of ``PAGE`` rows at most; on a terminal it also
    shows what it has before a read that may wait (points typed by hand).
    """

    def __init__(self, columns: Columns, output: Output) -> None:
        self.output = output
        self.fmt = output.fmt
        self.columns = columns
        self.out = output.out
        self._table_rows: list[list[float]] = []
        self._pending: list[str] = []
        if self.fmt == "csv":
            self._write(",".join(columns.csv_header()) + "\n")

    def _write(self, line: str) -> None:
        self._pending.append(line)
        if len(self._pending) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.out.write("".join(self._pending))
            self._pending.clear()
        if self.fmt == "table" and self._table_rows:
            self._page()
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
        else:  # a table: rows wait, to size the columns (and pick the digits)
            self._table_rows.append([*point, *values])
            if len(self._table_rows) >= PAGE:
                self._page()

    def block(self, points: Any, values: Sequence[Any]) -> None:
        """The rows of many points at once: ``points`` an (m, k) array, ``values`` an
        array of m for each output; plain and CSV are formatted a block at a time."""
        if self.fmt not in ("plain", "csv"):
            for point, row in zip(points.tolist(), zip(*(v.tolist() for v in values))):
                self.row(point, row)
            return
        # + 0.0 makes -0.0 0.0, as full() writes it; repr is full() for the rest
        columns = [c + 0.0 for c in ([*points.T, *values] if self.fmt == "csv" else values)]
        separator = "," if self.fmt == "csv" else " "
        texts = zip(*(map(repr, c.tolist()) for c in columns))
        self._write("\n".join(map(separator.join, texts)) + "\n")

    def close(self) -> None:
        self.flush()
        if self._table_rows:
            self._page()

    def _page(self) -> None:
        """The rows so far as one table."""
        from .tables import Column

        c = self.columns
        columns = [Column(name, True, "cyan") for name in c.variables]
        columns += [Column(name.replace("value", "f"), True, "bold") for name in c.value_names()]
        columns += [Column(f"∂f/∂{name}", True) for name in c.wrt or []]

        rows, self._table_rows = self._table_rows, []

        def cells(num: Num) -> list[list[str]]:
            return [[num(v) for v in row] for row in rows]

        self.output.table(columns, cells)


def node_columns() -> list:
    """The per-node table's columns (the tangent table shares the first five)."""
    from .tables import Column

    return [
        Column("#", True, "dim"),
        Column("node", style="cyan"),
        Column("op"),
        Column("value", True),
        Column("local ∂", kind="words", detail=True),
        Column("∂f/∂node", True, "bold", kind="words"),
    ]


def node_table(rows, output: Output) -> None:
    """The per-node backward table: forward order, so bottom-up is the backward sweep."""

    def cells(num: Num) -> list[list[str]]:
        return [
            [str(r.number), r.label, op_text(r), num(r.value), local_text(r, num),
             adjoint_text(r, num)]
            for r in rows
        ]  # fmt: skip

    output.table(*_with_shapes(rows, node_columns(), cells))


def _with_shapes(rows, columns: list, cells):
    """With arrays among the values, a ``shape`` column after ``op`` (SPEC §10)."""
    if not any(getattr(r.value, "ndim", 0) for r in rows):
        return columns, cells
    from .tables import Column

    shapes = [shape_text(getattr(r.value, "shape", ())) for r in rows]

    def with_shape(num: Num) -> list[list[str]]:
        return [[*row[:3], shape, *row[3:]] for row, shape in zip(cells(num), shapes)]

    shape = Column("shape", style="dim", kind="number")  # a shape is never wrapped
    return [*columns[:3], shape, *columns[3:]], with_shape


def op_text(row) -> str:
    if row.op == "var":
        return "input"
    return f"{row.op}({', '.join(row.inputs)})"


def local_text(row, num: Num) -> str:
    return "\n".join(
        f"∂/∂{name} = {num(p)}" for name, p in zip(row.inputs, row.partials) if p is not None
    )


def adjoint_text(row, num: Num) -> str:
    if row.adjoint is None:
        return {"unused": "— unused", "no wrt": "— not needed"}.get(row.status, "—")
    text = num(row.adjoint)
    if row.status == "stopped":
        return f"{text} (no derivative reaches it)"
    if not row.terms:
        return f"{text} (seed ∂f/∂f)"
    if len(row.terms) > 1:  # fan-out: the sum of what each use sends back
        lines = [text]
        for c, t in row.terms:
            part = num(t)
            if len(lines) == 1:
                lines.append(f"= {part} from #{c}")
            elif part.startswith("-"):  # a sum written as one reads it: "- 0.2", not "+ -0.2"
                lines.append(f"- {part[1:]} from #{c}")
            else:
                lines.append(f"+ {part} from #{c}")
        return "\n".join(lines)
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


def write_check(result, point, names, output: Output) -> None:
    """The AD gradient beside the numerical one; the verdict and kink notes after it."""
    fmt, out, err = output.fmt, output.out, output.err
    verdict = "agree" if result.ok else "DISAGREE"
    how = "central differences" if result.method == "central" else "the complex step"
    summary = f"{verdict} with {how}: tolerance {result.tol:g}·max(1, |AD|)"
    if fmt == "json":
        import json

        rows = [
            {"variable": r.name, "ad": json_number(r.ad), "numeric": json_number(r.numeric),
             "abs_error": json_number(r.abs_err), "rel_error": json_number(r.rel_err), "ok": r.ok,
             "step": json_number(r.step)}
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
    from .tables import Column

    columns = [Column("variable", style="cyan"), Column("AD", True), Column("numeric", True)]
    columns += [Column("abs error", True), Column("rel error", True), Column("ok")]

    def cells(num: Num) -> list[list[str]]:
        return [
            [r.name, num(r.ad), num(r.numeric), f"{r.abs_err:.2g}", f"{r.rel_err:.2g}",
             "ok" if r.ok else "FAIL"]
            for r in result.rows
        ]  # fmt: skip

    output.table(columns, cells)
    output.say("\n".join([f"note: {k}" for k in result.kinks] + [summary]))


def write_hessian(h, point_kind, names, output: Output) -> None:
    """The Hessian matrix, its eigenvalues and what they say about the point
    (``optimize.PointKind``: a kind only where the gradient is zero)."""
    fmt, out, err = output.fmt, output.out, output.err
    eigs, kind = point_kind.eigenvalues, point_kind.describe()
    if fmt == "json":
        import json

        line = {"hessian": [[json_number(v) for v in row] for row in h],
                "eigenvalues": [json_number(e) for e in eigs], "kind": point_kind.kind,
                "stationary": point_kind.stationary, "curvature": point_kind.curvature,
                "grad_norm": json_number(point_kind.grad_norm)}  # fmt: skip
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
    from .tables import Column

    columns = [Column("", style="cyan")] + [Column(f"∂/∂{n}", True) for n in names]

    def cells(num: Num) -> list[list[str]]:
        return [[f"∂/∂{n}", *map(num, row)] for n, row in zip(names, h)]

    output.table(columns, cells)
    shown = ", ".join(rounded(e, output.digits) for e in eigs)
    output.say(f"eigenvalues: {shown}\nkind: {kind}")


def tangent_table(rows, names, output: Output) -> None:
    """Forward mode's evaluation trace: one tangent column per variable (ẋ = ∂node/∂x)."""
    from .tables import Column

    columns = node_columns()[:5] + [Column(f"{n}\u0307", True, "bold") for n in names]

    def cells(num: Num) -> list[list[str]]:
        return [
            [str(r.number), r.label, op_text(r), num(r.value), local_text(r, num),
             *(num(t) for _, t in r.terms)]
            for r in rows
        ]  # fmt: skip

    output.table(*_with_shapes(rows, columns, cells))


def write_jacobian(matrix, point, names, output: Output, rows: list[str] | None = None) -> None:
    """One point's Jacobian: rows are outputs, columns variables; of arrays, ``rows``
    and ``names`` name the elements (``f[0]``, ``W[0, 1]``) and ``point`` is empty."""
    fmt, out = output.fmt, output.out
    if fmt == "json":
        import json

        line = {"at": {n: json_number(v) for n, v in zip(names, point)},
                "jacobian": [[json_number(v) for v in row] for row in matrix]}  # fmt: skip
        if rows is not None:
            line.update(outputs=rows, variables=list(names))
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    elif fmt == "plain":
        out.write("".join(" ".join(map(full, row)) + "\n" for row in matrix))
    elif fmt == "csv":
        out.write(",".join(["output", *(f"d_{n}" for n in names)]) + "\n")
        for i, row in enumerate(matrix):
            out.write(",".join([rows[i] if rows else str(i + 1), *map(full, row)]) + "\n")
    else:
        from .tables import Column

        columns = [Column("output", True, "dim", kind="text")]
        columns += [Column(f"∂/∂{n}", True) for n in names]

        def cells(num: Num) -> list[list[str]]:
            return [[rows[i] if rows else f"f{i + 1}", *map(num, row)]
                    for i, row in enumerate(matrix)]  # fmt: skip

        output.table(columns, cells)
    out.flush()


def write_table(table, output: Output) -> None:
    """A ``report.Table``: its rows (the per-node or the tangent table), then the value
    and the gradient."""
    if table.rows:
        if table.mode == "forward":
            tangent_table(table.rows, table.names, output)
        else:
            node_table(table.rows, output)
    output.say("\n".join(table.summary()))
