"""A descent's trace and result as text: plain/csv/json for machines, a table for people.

In ``plain`` the stop reason and the diagnosis go to stderr, so stdout carries
only numbers (SPEC §3 ``minimize``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import spell
from .numtext import full, json_number
from .optimize import Run, Step

if TYPE_CHECKING:
    from .render import Output
    from .train import Training

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
    run: Run, names: Sequence[str], output: Output, trace: bool, every: int | None = None
) -> None:
    """The trace (every ``every``-th step, when ``trace``), the result, the stop
    reason and the diagnosis, in ``output``'s format."""
    fmt, out, err = output.fmt, output.out, output.err
    rows = shown(run.steps, every) if trace else []
    final = run.final
    if fmt == "plain":
        for s in rows:
            fields = [str(s.k), *map(full, s.point), full(s.value), full(s.gnorm)]
            out.write(" ".join(fields) + "\n")
        out.write(" ".join(map(full, [*final.point, final.value])) + "\n")
        out.flush()
        err.write(f"reason: {run.reason}\ndiagnosis: {_diagnosis(run, output)}\n")
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
        err.write(f"reason: {run.reason}\ndiagnosis: {_diagnosis(run, output)}\n")
    elif fmt == "json":
        for s in rows:
            step = {"step": s.k, "at": _at(names, s.point), "value": json_number(s.value)}
            step["grad_norm"] = json_number(s.gnorm)
            out.write(json.dumps(step, ensure_ascii=False) + "\n")
        out.write(
            json.dumps({"result": result_json(run, names, output)}, ensure_ascii=False) + "\n"
        )
    else:
        _table(run, names, rows, output)


def _diagnosis(run: Run, output: Output | None) -> str:
    """The diagnosis, options spelled as ``output`` spells them (flags on the command line)."""
    return spell(run.diagnosis_text, output.spelling) if output is not None else run.diagnosis


def result_json(run: Run, names: Sequence[str], output: Output | None = None) -> dict:
    final = run.final
    return {
        "method": run.method,
        "at": _at(names, final.point),
        "value": json_number(final.value),
        "grad_norm": json_number(final.gnorm),
        "steps": final.k,
        "reason": run.reason,
        "diagnosis": _diagnosis(run, output),
    }


def _table(run: Run, names: Sequence[str], rows: list[Step], output: Output) -> None:
    from .tables import Column

    fmt, out = output.fmt, output.out
    if rows:
        columns = [Column("step", True, "dim")]
        columns += [Column(n, True, "cyan") for n in names]
        columns += [Column("f", True, "bold"), Column("‖∇f‖", True)]

        def cells(num):
            return [[str(s.k), *map(num, (*s.point, s.value, s.gnorm))] for s in rows]

        output.table(columns, cells)
    final = run.final
    at = ", ".join(f"{n} = {full(v)}" for n, v in zip(names, final.point))
    summary = f"{run.method}: {at}, f = {full(final.value)} after {final.k} steps"
    verdict = f"{run.reason}: {_diagnosis(run, output)}"
    if fmt == "markdown":
        out.write(f"\n{summary}\n\n**{run.reason}**: {_diagnosis(run, output)}\n")
        return
    if fmt == "html":  # Jupyter's display (notebook.py)
        from html import escape

        out.write(f"<p>{escape(summary)}</p>\n<p><b>{escape(run.reason)}</b>: "
                  f"{escape(_diagnosis(run, output))}</p>\n")  # fmt: skip
        return
    if fmt == "latex":
        from .pasted import latex_text

        out.write(f"\n{latex_text(summary)}\n\n\\textbf{{{latex_text(run.reason)}}}: "
                  f"{latex_text(_diagnosis(run, output))}\n")  # fmt: skip
        return
    from rich.text import Text

    style = (
        "green" if run.reason == "converged" else "red" if run.reason == "diverged" else "yellow"
    )
    if run.warning and run.reason == "converged":
        style = "bold yellow"
    output.console.print(summary)
    output.console.print(Text(verdict, style=style))


def write_comparison(runs: list[Run], names: Sequence[str], output: Output) -> None:
    """Several methods from the same start, side by side."""
    fmt, out = output.fmt, output.out
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
            out.write(json.dumps(result_json(r, names, output), ensure_ascii=False) + "\n")
    else:
        from .tables import Column

        columns = [Column("method", style="bold")]
        columns += [Column(n, True, "cyan") for n in names]
        columns += [Column("f", True), Column("steps", True), Column("reason")]

        def cells(num):
            return [
                [r.method, *map(num, (*r.final.point, r.final.value)), str(r.final.k), r.reason]
                for r in runs
            ]

        output.table(columns, cells)
    out.flush()


# --- training on data (SPEC §9) ---------------------------------------------------------


def write_training(run: Training, output: Output, trace: bool, every: int | None = None) -> None:
    """A run on data: the trace by step (and epoch), the loss on each step's batch and
    per row, the gradient norm, the numbers among the params; then the result."""
    fmt, out, err = output.fmt, output.out, output.err
    names = [n for n, v in run.params.items() if not getattr(v, "ndim", 0)]  # the numbers
    steps = shown(range(len(run)), every) if trace and len(run) else []
    epochs = not run.full_batch

    def head(k: int) -> list[str]:
        return [str(run.steps[k])] + ([str(run.epochs[k])] if epochs else [])

    if fmt in ("plain", "csv"):
        separator = " " if fmt == "plain" else ","
        if fmt == "csv" and trace:
            titles = ["step", *(["epoch"] if epochs else []), *names, "loss",
                      *(["loss_per_row"] if run.per_row else []), "grad_norm"]  # fmt: skip
            out.write(",".join(titles) + "\n")
        for k in steps:
            out.write(separator.join([*head(k), *map(full, _fields(run, k))]) + "\n")
        if fmt == "plain" or not trace:
            if fmt == "csv":
                out.write(",".join([*names, "loss"]) + "\n")
            final = [run.params[n] for n in names]
            out.write(separator.join(map(full, [*final, run.final_loss])) + "\n")
        out.flush()
        err.write(f"reason: {run.reason}\ndiagnosis: {training_diagnosis(run)}\n")
    elif fmt == "json":
        for k in steps:
            step = {
                "step": run.steps[k],
                **({"epoch": run.epochs[k]} if epochs else {}),
                "at": _at(names, run.points[k]),
                "loss": json_number(run.losses[k]),
            }
            if run.per_row:
                step["loss_per_row"] = json_number(run.losses[k] / run.rows[k])
            step["grad_norm"] = json_number(run.gnorms[k])
            out.write(json.dumps(step, ensure_ascii=False) + "\n")
        result = {"params": {n: json_number(v) for n, v in run.params.items()},
                  "loss": json_number(run.final_loss), "steps": _updates(run),
                  "reason": run.reason, "diagnosis": training_diagnosis(run)}  # fmt: skip
        if epochs and run.epochs:
            result["epochs"] = run.epochs[-1] + 1
        out.write(json.dumps({"result": result}, ensure_ascii=False) + "\n")
    else:
        _training_table(run, names, steps, epochs, output)


def _fields(run: Training, k: int) -> list[float]:
    """Step k's numbers: the params that are numbers, the loss (per row for a sum over
    the rows, as seed 002's mse), the gradient norm."""
    loss = run.losses[k]
    per_row = [loss / run.rows[k]] if run.per_row else []
    return [*run.points[k], loss, *per_row, run.gnorms[k]]


def training_diagnosis(run: Training) -> str:
    """What happened to the loss over every row, in one line, in the direction asked
    for (SPEC §8)."""
    if not run.losses:
        return "no step was taken"
    first, last = run.start_loss, run.final_loss
    if run.note:
        return run.note
    if run.reason == "diverged":
        return f"the loss became {full(run.losses[-1])} at step {run.steps[-1]}: lower --lr"
    went = f"the loss went from {full(first)} to {full(last)}"
    if run.reason == "interrupted":
        return f"stopped at step {run.steps[-1]}; {went}"
    if run.reason == "converged":
        return f"the gradient vanished: {went}"
    wanted, done = ("rise", "rose") if run.maximize else ("fall", "fell")
    better = last > first if run.maximize else last < first
    trend = done if better else f"did not {wanted}"
    return f"the loss {trend} from {full(first)} to {full(last)} in {_steps(_updates(run))}"


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _updates(run: Training) -> int:
    """The updates made: a full-batch trace ends with the final point, not a step."""
    return run.steps[-1] if run.full_batch and run.reason != "interrupted" else len(run)


def _training_table(run: Training, names, steps, epochs: bool, output: Output) -> None:
    from .numtext import rounded
    from .tables import Column

    if steps:
        columns = [Column("step", True, "dim")] + ([Column("epoch", True, "dim")] if epochs else [])
        columns += [Column(n, True, "cyan") for n in names]
        columns += [Column("loss", True, "bold")]
        columns += [Column("loss/n", True)] if run.per_row else []
        columns += [Column("‖∇‖", True)]

        def cells(num):
            rows = []
            for k in steps:
                values = _fields(run, k)
                rows.append([str(run.steps[k]), *([str(run.epochs[k])] if epochs else []),
                             *map(num, values)])  # fmt: skip
            return rows

        output.table(columns, cells)
    shown_params = ", ".join(
        f"{n} = {rounded(v, output.digits) if getattr(v, 'ndim', 0) else full(v)}"
        for n, v in run.params.items()
    )
    output.say(f"{shown_params}\nloss = {full(run.final_loss)} after {_steps(_updates(run))}"
               + (f" ({run.epochs[-1] + 1} epochs)" if epochs and run.epochs else ""))  # fmt: skip
    output.say(f"{run.reason}: {training_diagnosis(run)}")
