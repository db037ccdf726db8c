"""A descent's trace and result as text: plain/csv/json for machines, a table for people.

In ``plain`` the stop reason and the diagnosis go to stderr, so stdout carries
only numbers (SPEC §3 ``minimize``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import IO

from .optimize import Run, Step
from .render import full, json_number, rounded

AUTO_ROWS = 20


def shown(steps: Sequence[Step], every: int | None) -> list[Step]:
    """Every K-th step, the first and the last always; auto: about 20 rows."""
    last = len(steps) - 1
    if every is None:
        every = 1 if last <= AUTO_ROWS else math.ceil(last / AUTO_ROWS)
    indices = list(range(0, last + 1, every))
    if indices[-1] != last:
        indices.append(last)
    return [steps[i] for i in indices]


def _at(names: Sequence[str], point: Sequence[float]) -> dict:
    return {n: json_number(v) for n, v in zip(names, point)}


def write_run(
    run: Run,
    names: Sequence[str],
    fmt: str,
    trace: bool,
    every: int | None,
    out: IO[str],
    err: IO[str],
    console=None,
    digits: int = 6,
) -> None:
    rows = shown(run.steps, every) if trace else []
    final = run.final
    if fmt == "plain":
        for s in rows:
            fields = [str(s.k), *map(full, s.point), full(s.value), full(s.gnorm)]
            out.write(" ".join(fields) + "\n")
        out.write(" ".join(map(full, [*final.point, final.value])) + "\n")
        out.flush()
        err.write(f"reason: {run.reason}\ndiagnosis: {run.diagnosis}\n")
    elif fmt == "csv":
        if trace:
            out.write(",".join(["step", *names, "value", "grad_norm"]) + "\n")
            for s in rows:
                out.write(",".join([str(s.k), *map(full, s.point), full(s.value), full(s.gnorm)]))
                out.write("\n")
        else:
            out.write(",".join([*names, "value"]) + "\n")
            out.write(",".join(map(full, [*final.point, final.value])) + "\n")
        out.flush()
        err.write(f"reason: {run.reason}\ndiagnosis: {run.diagnosis}\n")
    elif fmt == "json":
        for s in rows:
            step = {"step": s.k, "at": _at(names, s.point), "value": json_number(s.value)}
            step["grad_norm"] = json_number(s.gnorm)
            out.write(json.dumps(step, ensure_ascii=False) + "\n")
        out.write(json.dumps({"result": result_json(run, names)}, ensure_ascii=False) + "\n")
    else:
        _table(run, names, rows, console, digits)


def result_json(run: Run, names: Sequence[str]) -> dict:
    final = run.final
    return {
        "method": run.method,
        "at": _at(names, final.point),
        "value": json_number(final.value),
        "grad_norm": json_number(final.gnorm),
        "steps": final.k,
        "reason": run.reason,
        "diagnosis": run.diagnosis,
    }


def _table(run: Run, names: Sequence[str], rows: list[Step], console, digits: int) -> None:
    from rich.table import Table
    from rich.text import Text

    from .render import _box

    if rows:
        table = Table(box=_box())
        table.add_column("step", justify="right", style="dim")
        for n in names:
            table.add_column(n, justify="right", style="cyan", no_wrap=True)
        table.add_column("f", justify="right", style="bold", no_wrap=True)
        table.add_column("‖∇f‖", justify="right")
        for s in rows:
            cells = [rounded(v, digits) for v in (*s.point, s.value, s.gnorm)]
            table.add_row(str(s.k), *cells)
        console.print(table)
    final = run.final
    at = ", ".join(f"{n} = {full(v)}" for n, v in zip(names, final.point))
    console.print(f"{run.method}: {at}, f = {full(final.value)} after {final.k} steps")
    style = (
        "green" if run.reason == "converged" else "red" if run.reason == "diverged" else "yellow"
    )
    if run.diagnosis.startswith("maximum"):
        style = "bold yellow"
    console.print(Text(f"{run.reason}: {run.diagnosis}", style=style))


def write_comparison(
    runs: list[Run], names: Sequence[str], fmt: str, out: IO[str], console=None, digits: int = 6
) -> None:
    """Several methods from the same start, side by side."""
    if fmt == "plain":
        for r in runs:
            f = r.final
            fields = [r.method, *map(full, f.point), full(f.value), str(f.k), r.reason]
            out.write(" ".join(fields) + "\n")
    elif fmt == "csv":
        out.write(",".join(["method", *names, "value", "steps", "reason"]) + "\n")
        for r in runs:
            f = r.final
            out.write(",".join([r.method, *map(full, f.point), full(f.value), str(f.k), r.reason]))
            out.write("\n")
    elif fmt == "json":
        for r in runs:
            out.write(json.dumps(result_json(r, names), ensure_ascii=False) + "\n")
    else:
        from rich.table import Table

        from .render import _box

        table = Table(box=_box())
        table.add_column("method", style="bold")
        for n in names:
            table.add_column(n, justify="right", style="cyan")
        table.add_column("f", justify="right", no_wrap=True)
        table.add_column("steps", justify="right")
        table.add_column("reason")
        for r in runs:
            f = r.final
            cells = [rounded(v, digits) for v in (*f.point, f.value)]
            table.add_row(r.method, *cells, str(f.k), r.reason)
        console.print(table)
    out.flush()
