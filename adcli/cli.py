"""The adcli command line: options → one library call → one render call.

``main`` is the one place where errors become messages and exit codes (SPEC §5):
0 success, 1 a computation failed at a point, 2 wrong input, 130 interrupted.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Annotated

import typer

from . import __version__
from .api import Expression, check_backend
from .errors import AdcliError, EvaluationError, UsageError
from .points import Points, from_spec, parse_at
from .pointwise import write_rows
from .render import (
    PASTED,
    TABLES,
    Columns,
    Output,
    RowWriter,
    node_json,
    write_table,
)

_APP_SETTINGS = dict(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Computation graphs, values and exact gradients of formulas.\n\n"
    'Example: adcli grad "x*sigmoid(x)/(x**2+1)" --at 2',
)
app = typer.Typer(**_APP_SETTINGS)

Expr = Annotated[
    str,
    typer.Argument(
        metavar="EXPR", show_default=False,
        help="The expression: its text, - to read it from standard input, or @file.",
    ),
]  # fmt: skip
At = Annotated[
    list[str] | None,
    typer.Option(
        "--at", metavar="POINTS", show_default=False,
        help="Where to evaluate: 2 | x=2,y=-1 | x=0:1:11 (grid) | - (stdin) | @file; repeatable.",
    ),
]  # fmt: skip
Format = Annotated[
    str | None,
    typer.Option(
        "--format", "-f", metavar="FORMAT", show_default=False,
        help="table, plain, csv, json, markdown or latex (default: table on a terminal, "
        "else plain).",
    ),
]  # fmt: skip
Digits = Annotated[
    int,
    typer.Option("--digits", min=1, max=17, metavar="N", help="Significant digits in tables."),
]
NoColor = Annotated[bool, typer.Option("--no-color", help="No colour (also: NO_COLOR=1).")]
Strict = Annotated[
    bool, typer.Option("--strict", help="Stop at the first non-finite result (exit 1).")
]
Wrt = Annotated[
    list[str] | None,
    typer.Option("--wrt", metavar="x,y", show_default=False,
                 help="Differentiate with respect to these variables only; repeatable."),
]  # fmt: skip

Explain = Annotated[bool, typer.Option("--explain", help="Spell out the chain rule, edge by edge.")]
Mode = Annotated[
    str, typer.Option("--mode", metavar="MODE", help="reverse or forward (the tangent table).")
]
JacobianMode = Annotated[
    str,
    typer.Option("--mode", metavar="MODE",
                 help="forward, reverse, or auto: forward when inputs < outputs."),
]  # fmt: skip
NoTable = Annotated[bool, typer.Option("--no-table", help="Only the result, no per-node table.")]
Data = Annotated[
    list[str] | None,
    typer.Option("--data", metavar="FILE", show_default=False,
                 help="Columns bind variables as vectors: .csv/.tsv (.gz), -, .npz, "
                      "NAME=FILE.npy, .parquet. Repeatable."),
]  # fmt: skip
With = Annotated[
    list[str] | None,
    typer.Option("--with", metavar="NAME=V|@FILE", show_default=False,
                 help="Parameter values for every row: a=1,b=2, @params.npz, @result.json."),
]  # fmt: skip
Seed = Annotated[
    int, typer.Option("--seed", metavar="N", help="Draws the start values of params (and batches).")
]
Save = Annotated[
    str | None,
    typer.Option("--save", metavar="FILE", show_default=False,
                 help="Write the parameters (grad: the gradients) to FILE.npz or FILE.json."),
]  # fmt: skip
Nodes = Annotated[bool, typer.Option("--nodes", help="With --format json: the per-node table.")]
Engine = Annotated[
    str,
    typer.Option("--engine", metavar="ENGINE",
                 help="local, or dask: --data's partitions (a glob or a folder) on a Dask "
                      "cluster (the dask extra)."),
]  # fmt: skip
Backend = Annotated[
    str,
    typer.Option("--backend", metavar="BACKEND",
                 help="Who runs arrays: numpy, or jax (jit-compiled by XLA, for large "
                      "batches; the jax extra)."),
]  # fmt: skip
Scheduler = Annotated[
    str | None,
    typer.Option("--scheduler", metavar="ADDRESS", show_default=False,
                 help="With --engine dask: join a running cluster (tcp://HOST:8786, or the "
                      "scheduler's JSON file)."),
]  # fmt: skip
Workers = Annotated[
    int | None,
    typer.Option("--workers", metavar="N", show_default=False,
                 help="With --engine dask: start a local cluster of N worker processes "
                      "(default: one per core)."),
]  # fmt: skip


def flag(name: str, value: str | None) -> str:
    """An option the library names as ``{lr}`` or ``{method=central}``, as this command
    line spells it: ``--lr``, ``--method central``, ``--no-cse``; ``{at}`` is ``--at ``."""
    option = "--" + name.replace("_", "-")
    if value is None:
        return option + " " if name == "at" else option
    if value in ("True", "False"):
        return option if value == "True" else "--no-" + name.replace("_", "-")
    return f"{option} {value}"


def _names(options: list[str] | None) -> list[str] | None:
    """``--wrt x,y`` and ``--wrt x --wrt y`` alike: every name given, in order."""
    if options is None:
        return None
    return [name for option in options for name in option.split(",")]


def _on_dask(engine: str, scheduler: str | None, workers: int | None) -> bool:
    """Whether ``--engine`` asks for Dask (SPEC §11); ``--scheduler`` and ``--workers``
    are for it only. Here, not in daskrun: a local command imports nothing of it."""
    if engine not in ("local", "dask"):
        raise UsageError(f"unknown engine {engine!r}", "choose local or dask")
    if engine == "local":
        for option, value in (("--scheduler", scheduler), ("--workers", workers)):
            if value is not None:
                raise UsageError(f"{option} is for --engine dask", "add --engine dask")
    return engine == "dask"


def _version(value: bool) -> None:
    if value:
        print(f"adcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Computation graphs, values and exact gradients of formulas."""


def _note(message: str) -> None:
    sys.stdout.flush()  # what came before it, first
    print(message, file=sys.stderr)


def _read_expression(source: str) -> Expression:
    return _program(source, None)[0]


def _program(source: str, data: list[str] | None, given: list[str] | None = None,
             start: list[str] | None = None, backend: str = "numpy"):  # fmt: skip
    """The expression, compiled with the shapes of the ``--data`` columns it reads and
    of the arrays given (``--with``, files of ``--start``); the opened data files
    (None without ``--data``) and the values given."""
    from .datarun import read

    if source == "-" and data and "-" in [d.strip() for d in data]:
        raise UsageError("EXPR and --data cannot both read standard input",
                         "put the expression in a file: adcli eval @f.adcli --data -")  # fmt: skip

    e, files, values = read(_read_text(source), data, given or [], start or [], backend)
    for warning in e.warnings:
        _note(f"warning: {warning}")
    return e, files, values


def _read_text(source: str) -> str:
    if source == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        try:
            text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        except UnicodeDecodeError:
            raise UsageError("standard input is not UTF-8 text") from None
    elif source.startswith("@"):
        from .streams import read_text

        text = read_text(source[1:])
    else:
        text = source
    return text


def _points(expr: Expression, at: list[str] | None, source: str, writer: RowWriter | None = None,
            fixed: dict[str, float] | None = None, blocks: bool = False):  # fmt: skip
    """The points of ``--at``; ``fixed`` (``--with``) holds some variables at one value,
    and ``--at`` gives the others. ``blocks``: a stream may give ``Block``s of points
    (for ``pointwise.write_rows``, which evaluates them with numpy)."""
    if source == "-" and at and "-" in at:
        raise UsageError(
            "EXPR and --at cannot both read standard input",
            "put the points in a file: --at @points.txt",
        )
    flush = writer.flush if writer is not None else sys.stdout.flush
    fixed = fixed or {}
    free = [v for v in expr.variables if v not in fixed]
    points = parse_at(at or [], free, flush, _note, blocks=blocks and not fixed)
    if not fixed:
        return points

    def whole(point: list[float]) -> list[float]:
        given = iter(point)
        return [fixed[v] if v in fixed else next(given) for v in expr.variables]

    return Points((whole(p) for p in points.points), points.count)


@app.command("eval")
def eval_(
    expr: Expr, at: At = None, format: Format = None, digits: Digits = 6,
    no_color: NoColor = False, strict: Strict = False, data: Data = None, with_: With = None,
    seed: Seed = 0, backend: Backend = "numpy", engine: Engine = "local",
    scheduler: Scheduler = None, workers: Workers = None,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", metavar="DIR/", show_default=False,
        help="With --engine dask: the rows, a file per partition in DIR.")] = None,
) -> None:  # fmt: skip
    """The value(s) of EXPR at each point, or for each row of --data.

    Example: adcli eval "x**2 + y" --at x=0:1:5,y=1
    """
    from .datarun import bind, fixed_numbers, on_arrays, write_values

    check_backend(backend)
    if _on_dask(engine, scheduler, workers):
        from . import daskrun

        out = Output(format, digits, no_color, spelling=flag)
        daskrun.eval_(scheduler, workers, _read_text(expr), data, with_, at, seed, out,
                      (output, format or "csv"), strict, _note, backend)  # fmt: skip
        return
    if output is not None:
        raise UsageError("-o DIR/ is for --engine dask", "redirect the output: > rows.csv")
    e, files, given = _program(expr, data, with_, backend=backend)
    out = Output(format, digits, no_color, spelling=flag)
    if on_arrays(e, files, given, points=True):
        write_values(bind(e, files, given, seed, at, "--at"), out, strict, _note)
        return
    writer = out.writer(Columns(e.variables, len(e.outputs), None))
    points = _points(e, at, expr, writer, fixed_numbers(e, given), blocks=True)
    write_rows(e, e.outputs, points, writer, wrt=None, strict=strict, warn=_note)


@app.command()
def grad(
    expr: Expr, at: At = None, wrt: Wrt = None, format: Format = None, digits: Digits = 6,
    no_color: NoColor = False, strict: Strict = False,
    no_table: NoTable = False, nodes: Nodes = False, mode: Mode = "reverse",
    explain: Explain = False, data: Data = None, with_: With = None, seed: Seed = 0,
    save: Save = None, backend: Backend = "numpy", engine: Engine = "local",
    scheduler: Scheduler = None, workers: Workers = None,
) -> None:  # fmt: skip
    """The value and the gradient; on a terminal, the per-node backward table
    (reverse mode) or the tangent table (--mode forward). With --data, the gradient
    of each parameter (of its own shape) over the data.

    Example: adcli grad "x*sigmoid(x)/(x**2+1)" --at 2
    """
    from .datarun import bind, fixed_numbers, on_arrays, write_gradient

    if mode not in ("reverse", "forward"):
        raise UsageError(f"unknown mode {mode!r}", "choose reverse or forward")
    check_backend(backend)
    if _on_dask(engine, scheduler, workers):
        from . import daskrun

        for option, used in (("--mode forward", mode == "forward"), ("--explain", explain),
                             ("--nodes", nodes)):  # fmt: skip
            if used:
                raise UsageError(f"{option} is for one machine", "leave out --engine dask")
        out = Output(format, digits, no_color, spelling=flag)
        daskrun.grad(scheduler, workers, _read_text(expr), data, with_, at, _names(wrt), seed,
                     out, save, _note, backend)  # fmt: skip
        return
    e, files, given = _program(expr, data, with_, backend=backend)
    out = Output(format, digits, no_color, spelling=flag)
    if on_arrays(e, files, given, points=True):
        for option, used in (("--mode forward", mode == "forward"), ("--explain", explain)):
            if used:
                raise UsageError(f"{option} is for programs of numbers",
                                 "on arrays, grad sweeps back (reverse mode)")  # fmt: skip
        bound = bind(e, files, given, seed, at, "--at")
        write_gradient(bound, out, _names(wrt), no_table, nodes, save, _note)
        return
    if save:
        raise UsageError("--save writes the gradients of arrays", "use --format json here")
    fixed = fixed_numbers(e, given)
    names = e.wrt(_names(wrt))
    if mode == "forward":
        outputs = e.forward_value_and_grad_nodes(names)
    else:
        outputs = e.value_and_grad_nodes(names)
    if out.fmt in TABLES and not no_table:
        points = _points(e, at, expr, fixed=fixed)
        if points.count == 1:
            point = next(iter(points.points))
            table = e.table(point, names, mode)
            write_table(table, out)
            table.check_finite()
            if explain:
                out.say("\n".join(e.explain(point, names, mode)))
            return
    writer = out.writer(Columns(e.variables, 1, names))
    points = _points(e, at, expr, writer, fixed, blocks=not (nodes or explain))

    def extra(point: list[float]) -> dict:
        more = {"nodes": node_json(e.node_table(point, names))} if nodes else {}
        return {**more, "explain": e.explain(point, names, mode)} if explain else more

    write_rows(e, outputs, points, writer, wrt=names, strict=strict, warn=_note,
               extra=extra if nodes or explain else None)  # fmt: skip


@app.command()
def jacobian(
    expr: Expr, at: AtOne = None, mode: JacobianMode = "auto", format: Format = None,
    digits: Digits = 6, no_color: NoColor = False, wrt: Wrt = None, data: Data = None,
    with_: With = None, seed: Seed = 0,
) -> None:  # fmt: skip
    """The Jacobian of a comma list of outputs: one row per output, one column per
    variable; of arrays, one per element (up to 1000 each way).

    Example: adcli jacobian "x*y, x+y, sin(x)" --at x=1,y=2 --mode forward
    """
    from .datarun import bind, on_arrays, trained
    from .render import write_jacobian

    if mode not in ("auto", "forward", "reverse"):
        raise UsageError(f"unknown mode {mode!r}", "choose forward, reverse or auto")
    e, files, given = _program(expr, data, with_)
    out = Output(format, digits, no_color, spelling=flag)
    if on_arrays(e, files, given):
        if mode != "auto":
            raise UsageError("--mode chooses the sweeps of a Jacobian of numbers",
                             "on arrays, each element is swept back (reverse mode)")  # fmt: skip
        bound = bind(e, files, given, seed, at, "--at")
        matrix, rows, columns = e.array_jacobian(bound.args(), trained(bound, _names(wrt)))
        write_jacobian(matrix.tolist(), [], columns, out, rows)
        if not all(math.isfinite(v) for v in matrix.flat):
            raise EvaluationError("the Jacobian is not finite here")
        return
    if wrt:
        raise UsageError("--wrt chooses among the parameters of arrays",
                         "the Jacobian of numbers takes every variable")  # fmt: skip
    point = _one_point(e, at, command="jacobian")
    matrix = e.jacobian(point, mode)
    write_jacobian(matrix, point, e.variables, out)
    if not all(math.isfinite(v) for row in matrix for v in row):
        raise EvaluationError(e.culprit(point))


Cse = Annotated[
    bool | None,
    typer.Option("--cse/--no-cse", show_default=False,
                 help="Name shared subexpressions t1 = ... (default: when it is shorter)."),
]  # fmt: skip
Order = Annotated[
    int, typer.Option("--order", min=1, max=8, metavar="N", help="Differentiate N times.")
]


@app.command()
def diff(
    expr: Expr, wrt: Wrt = None, order: Order = 1, cse: Cse = None,
    format: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMAT", help="plain, latex or json.")
    ] = "plain",
) -> None:  # fmt: skip
    """The derivative as a formula in adcli's own syntax (it parses back), simplified.

    Example: adcli diff "x*sigmoid(x)/(x**2+1)"
    """
    if format not in ("plain", "json", "latex"):
        raise UsageError(f"unknown format {format!r}", "choose plain, latex or json")
    e = _read_expression(expr)
    d = e.derivatives(_names(wrt), order, cse)
    if format == "json":
        import json

        print(json.dumps(d.as_dict(), ensure_ascii=False))
    else:
        print("\n".join(d.latex() if format == "latex" else d.lines()))


AtOne = Annotated[
    list[str] | None,
    typer.Option("--at", metavar="POINT", show_default=False, help="One point: 2 or x=1,y=2."),
]
CheckTol = Annotated[
    float | None,
    typer.Option("--tol", metavar="TOL", show_default=False,
                 help="Relative tolerance (default: 1e-6 central, 1e-12 complex)."),
]  # fmt: skip


@app.command()
def graph(
    expr: Expr,
    at: Annotated[
        list[str] | None,
        typer.Option("--at", metavar="POINT", show_default=False,
                     help="Show each node's value and gradient at this point."),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", metavar="FORMAT", show_default=False,
                     help="text, dot (Graphviz), mermaid, json, or html: a page that steps "
                          "through the passes at --at (default: text, or what the extension "
                          "of -o FILE says)."),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="FILE", show_default=False,
                     help="Write to FILE in the format its extension says (.txt, .dot, .json, "
                          ".mmd); .svg, .png and .pdf are drawn by Graphviz's dot."),
    ] = None,
    wrt: Wrt = None,
    digits: Annotated[int, typer.Option("--digits", min=1, max=17, metavar="N",
                                        help="Significant digits of the numbers.")] = 6,
    data: Data = None, with_: With = None, seed: Seed = 0,
) -> None:  # fmt: skip
    """The computation graph: a tree in the terminal, Graphviz, Mermaid or JSON; with
    --data, each node's shape (and its values and gradients over the data).

    Example: adcli graph "x*sigmoid(x)/(x**2+1)" --at 2 -o graph.png
    """
    from . import drawing
    from .datarun import bind, on_arrays, trained

    fmt, picture = drawing.output_format(format, output)
    e, files, given = _program(expr, data, with_)
    if on_arrays(e, files, given):
        # values shown when the data or --with (or --at) gives them
        shown = at is not None or files is not None or bool(given)
        bound = bind(e, files, given, seed, at, "--at") if shown else None
        point = bound.args() if bound else None
        # the gradients of the parameters, if any (a program of data alone: values)
        params = [n for n in e.variables if bound and n not in bound.columns]
        names = trained(bound, _names(wrt)) if bound and (params or wrt) else []
    else:
        names = e.wrt(_names(wrt)) if at is not None else None
        point = _one_point(e, at, command="graph --at") if at is not None else None
    if point is not None:
        e.single_output("graph --at")
    if fmt == "html":
        text = _lesson_page(e, files, given, point, names, digits, expr)
    else:
        text = drawing.draw(e, fmt, point, names, digits)
    if picture:
        drawing.render_with_graphviz(text, output)
    elif output:
        _write_text(output, text + "\n")
    else:
        print(text)


def _lesson_page(e: Expression, files, given, point, names, digits: int, source: str) -> str:
    """``graph --format html``: the page that steps through both passes at a point."""
    from . import lesson
    from .datarun import on_arrays

    if on_arrays(e, files, given):
        raise UsageError("the lesson page steps through a program of numbers",
                         "draw a program of arrays with --format text or dot")  # fmt: skip
    if point is None:
        raise UsageError("the lesson page shows each node's value and adjoint at a point",
                         "give one: --at x=2")  # fmt: skip
    title = f"Backpropagation through {e.text.strip() if source != '-' else 'f'}"
    return lesson.page(e, point, names, digits, title)


@app.command()
def plot(
    expr: Expr,
    range_: Annotated[str, typer.Option("--range", metavar="A:B", help="The x range.")] = "-3:3",
    grad: Annotated[bool, typer.Option("--grad/--no-grad", help="Draw f′ too.")] = True,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="FILE.png", show_default=False,
                     help="Write a PNG (needs the plot extra: matplotlib)."),
    ] = None,
    no_color: NoColor = False,
) -> None:  # fmt: skip
    """f and f′ of one variable, in the terminal or into a PNG.

    Example: adcli plot "x*sigmoid(x)/(x**2+1)" --range -10:10
    """
    e = _read_expression(expr)
    if len(e.variables) > 1:
        raise UsageError(
            f"plot draws a function of one variable; this one has {len(e.variables)} "
            f"({', '.join(e.variables)})",
            "write the other variables' values into the expression",
        )
    if not e.variables:
        _note(f"note: {e.text.strip()} has no variables: it is drawn as a constant function of x")
    lo, hi = _range(range_)
    from . import plotting

    curves = plotting.Curves(e, lo, hi)
    if output:
        plotting.png_curves(curves, grad, output)
    else:
        color = sys.stdout.isatty() and not (no_color or os.environ.get("NO_COLOR"))
        print(plotting.terminal_curves(curves, grad, color))
    for note in curves.notes(grad):
        _note(note)


def _range(spec: str) -> tuple[float, float]:
    parts = spec.split(":")
    try:
        lo, hi = (float(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        lo = hi = None
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise UsageError(f"--range {spec} is not a range", "write A:B with A < B, e.g. -3:3")
    return lo, hi


def _one_point(
    e: Expression, specs: list[str] | str | None, option: str = "--at", command: str = ""
) -> list[float]:
    """The one point a command works at; several are an error, never the last one
    silently (SPEC §8)."""
    specs = [specs] if isinstance(specs, str) else specs or []
    every = ",".join(f"{v}=..." for v in e.variables)
    if len(specs) > 1:
        raise UsageError(
            f"{command or 'this command'} works at one point; {option} was given "
            f"{len(specs)} times",
            f"give one {option} that binds every variable: {option} {every}"
            + ("; eval and grad take many points" if option == "--at" else ""),
        )
    if not specs:
        if e.variables:
            raise UsageError(f"{option} is required", f"{option} {every}")
        return []
    spec = specs[0]
    if spec.strip() == "-" or spec.strip().startswith("@"):
        raise UsageError(f"{option} {spec}: {command or 'this command'} works at one point",
                         f"give it here: {option} {every}")  # fmt: skip
    points = from_spec(spec, e.variables)
    if points.count != 1:
        raise UsageError(f"{option} {spec} gives {points.count} points", "give one point")
    return next(iter(points.points))


@app.command()
def hessian(
    expr: Expr,
    at: AtOne = None,
    format: Format = None, digits: Digits = 6, no_color: NoColor = False,
    wrt: Wrt = None, data: Data = None, with_: With = None, seed: Seed = 0,
) -> None:  # fmt: skip
    """The Hessian (reverse over reverse), its eigenvalues and the kind of point; of
    arrays, over their elements (up to 1000).

    Example: adcli hessian "x**2 - y**2" --at x=0,y=0
    """
    from .datarun import bind, on_arrays, trained
    from .optimize import PointKind, eigenvalues
    from .render import write_hessian

    e, files, given = _program(expr, data, with_)
    out = Output(format, digits, no_color, spelling=flag)
    if on_arrays(e, files, given):
        bound = bind(e, files, given, seed, at, "--at")
        h, labels, value, norm = e.array_hessian(bound.args(), trained(bound, _names(wrt)))
        matrix = h.tolist()
        write_hessian(matrix, PointKind(eigenvalues(matrix), value, norm), labels, out)
        if not all(math.isfinite(v) for row in matrix for v in row):
            raise EvaluationError("the Hessian is not finite here")
        return
    if wrt:
        raise UsageError("--wrt chooses among the parameters of arrays",
                         "the Hessian of numbers takes every variable")  # fmt: skip
    e.gradient()  # one output, or say so
    point = _one_point(e, at, command="hessian")
    h, kind = e.hessian_at(point)
    write_hessian(h, kind, e.variables, out)
    if not all(math.isfinite(v) for row in h for v in row):
        raise EvaluationError("the Hessian is not finite here: " + e.culprit(point, e.variables))


@app.command()
def check(
    expr: Expr,
    at: AtOne = None,
    method: Annotated[
        str, typer.Option("--method", metavar="METHOD", help="central or complex.")
    ] = "central",
    eps: Annotated[
        float | None,
        typer.Option("--eps", metavar="H", show_default=False,
                     help="A fixed central step, times max(1, |x|) (default: chosen per "
                          "variable, where the differences settle)."),
    ] = None,
    tol: CheckTol = None,
    format: Format = None, digits: Digits = 6, no_color: NoColor = False,
    data: Data = None, with_: With = None, seed: Seed = 0,
) -> None:  # fmt: skip
    """The AD gradient beside central differences or the complex step; exit 1 if they
    disagree. Arrays are compared along random directions (drawn from --seed).

    Example: adcli check "x*sigmoid(x)/(x**2+1)" --at 2 --method complex
    """
    from .check import check_directions
    from .datarun import bind, on_arrays, trained
    from .render import write_check

    e, files, given = _program(expr, data, with_)
    out = Output(format, digits, no_color, spelling=flag)
    if on_arrays(e, files, given):
        e.single_output("check")
        bound = bind(e, files, given, seed, at, "--at")
        names = trained(bound, None)
        e._scalar_output(e.outputs[0])
        result = check_directions(e, bound.args(), names, method, eps, tol, seed)
        numbers = {n: v for n, v in bound.params.items() if not getattr(v, "ndim", 0)}
        write_check(result, list(numbers.values()), list(numbers), out)
    else:
        point = _one_point(e, at, command="check")
        result = e.check(point, method, eps, tol)
        write_check(result, point, e.variables, out)
    if not result.ok:
        raise typer.Exit(1)


Start = Annotated[
    list[str] | None,
    typer.Option("--start", metavar="POINT", show_default=False,
                 help="1.33 or x=1,y=2; with --data also @params.npz or W=@w.npy."),
]  # fmt: skip
LineSearch = Annotated[bool, typer.Option("--line-search", help="Backtracking (Armijo) steps.")]
Every = Annotated[
    int | None,
    typer.Option("--every", min=1, metavar="K", show_default=False,
                 help="Show every K-th step (auto: about 20 rows)."),
]  # fmt: skip
Trace = Annotated[
    bool | None,
    typer.Option("--trace/--no-trace", show_default=False,
                 help="Write the trace (default: on in table and json)."),
]  # fmt: skip
Compare = Annotated[
    str | None,
    typer.Option("--compare", metavar="M1,M2", show_default=False,
                 help="Run several methods from the same start, side by side."),
]  # fmt: skip


@app.command()
def minimize(
    expr: Expr,
    start: Start = None,
    lr: Annotated[float, typer.Option("--lr", metavar="LR", help="Learning rate.")] = 0.1,
    steps: Annotated[
        int, typer.Option("--steps", min=0, metavar="N", help="Maximum number of steps.")
    ] = 100,
    tol: Annotated[
        float, typer.Option("--tol", metavar="TOL", help="Stop when ‖∇f‖ ≤ tol.")
    ] = 1e-8,
    method: Annotated[
        str, typer.Option("--method", metavar="METHOD", help="gd, momentum, nesterov or adam.")
    ] = "gd",
    beta: Annotated[float, typer.Option("--beta", metavar="B", help="Momentum (adam: β1).")] = 0.9,
    decay: Annotated[
        float, typer.Option("--decay", metavar="D", help="Step k uses lr·decay**k.")
    ] = 1.0,
    line_search: LineSearch = False,
    maximize: Annotated[bool, typer.Option("--maximize", help="Ascend instead.")] = False,
    every: Every = None, trace: Trace = None, compare: Compare = None,
    format: Format = None, digits: Digits = 6, no_color: NoColor = False,
    plot: Annotated[bool, typer.Option(
        "--plot", help="Draw the path over f (one variable) or its contour lines (two).")] = False,
    data: Data = None, with_: With = None, seed: Seed = 0, save: Save = None,
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", metavar="B", show_default=False,
        help="Minibatch SGD: B rows a step, shuffled each epoch.")] = None,
    epochs: Annotated[int | None, typer.Option(
        "--epochs", metavar="E", show_default=False,
        help="With --batch-size: E passes over the rows (then --steps is not used).")] = None,
    no_shuffle: Annotated[bool, typer.Option(
        "--no-shuffle", help="Minibatches in the file's order.")] = False,
    backend: Backend = "numpy", engine: Engine = "local", scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:  # fmt: skip
    """Gradient descent with a trace, the stop reason and a diagnosis; with --data,
    training on the rows (full batch, or minibatches with --batch-size).

    Example: adcli minimize "x*sigmoid(x)/(x**2+1)" --lr 1 --start 1.33
    """
    from .datarun import on_arrays
    from .optimize import METHODS
    from .trace import write_comparison, write_run

    check_backend(backend)
    if _on_dask(engine, scheduler, workers):
        for option, value in (("--compare", compare), ("--plot", plot)):
            if value:
                raise UsageError(f"{option} is for minimize without --data")
        if batch_size is not None or epochs is not None:
            raise UsageError("on --engine dask, training is full batch",
                             "leave out --batch-size and --epochs")  # fmt: skip
        _train_on_dask(expr, data, Output(format, digits, no_color, spelling=flag), start=start,
                       given=with_, seed=seed, save=save, trace=trace, every=every,
                       scheduler=scheduler, workers=workers, method=method, lr=lr,
                       steps=steps, tol=tol, beta=beta, decay=decay, maximize=maximize,
                       line_search=line_search, backend=backend)  # fmt: skip
        return
    e, files, given = _program(expr, data, with_, start, backend)
    out = Output(format, digits, no_color, spelling=flag)
    if on_arrays(e, files, given):
        for option, value in (("--compare", compare), ("--plot", plot)):
            if value:
                raise UsageError(f"{option} is for minimize without --data",
                                 "compare methods on data by running each one")  # fmt: skip
        _train(e, files, out, start=start, given=with_, seed=seed, save=save, trace=trace,
               every=every, batch_size=batch_size, epochs=epochs, shuffle=not no_shuffle,
               method=method, lr=lr, steps=steps, tol=tol, beta=beta, decay=decay,
               maximize=maximize, line_search=line_search)  # fmt: skip
        return
    for option, value in (("--save", save), ("--batch-size", batch_size), ("--epochs", epochs)):
        if value is not None:
            raise UsageError(f"{option} is for training on --data", "give --data FILE")
    methods = compare.split(",") if compare else [method]
    for m in methods:
        if m.strip() not in METHODS:
            raise UsageError(
                f"unknown method {m.strip()!r}", "choose one of: " + ", ".join(METHODS)
            )
    e.check_minimizable()
    point = dict(zip(e.variables, _one_point(e, start, "--start", "minimize")))
    options = dict(lr=lr, steps=steps, tol=tol, beta=beta, decay=decay,
                   line_search=line_search, maximize=maximize)  # fmt: skip
    if compare:
        runs = [e.minimize(point, method=m.strip(), **options) for m in methods]
        write_comparison(runs, e.variables, out)
        failed = any(r.reason == "diverged" for r in runs)
        interrupted = any(r.reason == "interrupted" for r in runs)
    else:
        with _progress(steps) as on_step:
            run = e.minimize(point, method=method, on_step=on_step, **options)
        shown_trace = trace if trace is not None else out.fmt in ("table", "json", *PASTED)
        write_run(run, e.variables, out, shown_trace, every)
        failed, interrupted = run.reason == "diverged", run.reason == "interrupted"
        if plot:
            _plot_descent(e, run, out)
    if interrupted:
        raise typer.Exit(130)
    if failed:
        raise typer.Exit(1)


def _train(e: Expression, files, out: Output, *, start, given, seed: int, save, trace,
           every, batch_size, epochs, shuffle: bool, **options) -> None:  # fmt: skip
    """``minimize --data``: train, write the trace and the result, save the params."""
    from .datarun import bind, check_save, values_of
    from .trace import AUTO_ROWS

    if save:
        check_save(save)  # before the training, not after it
    fixed = values_of(given or [], e.variables)  # held, not trained
    bound = bind(e, files, fixed, seed, start, "--start")
    fixed = {n: v for n, v in fixed.items() if n in e.ir.variables}
    starts = {n: v for n, v in bound.params.items() if n not in fixed}
    rows = bound.rows or 0
    total = options["steps"] if batch_size is None or epochs is None else (
        epochs * math.ceil(rows / batch_size) if rows else 0)  # fmt: skip
    # a minibatch step's gradient norm is worked out only for the rows the trace shows
    last = total - 1  # trace.shown's rule, for a run that takes every step
    shown = every or (1 if last <= AUTO_ROWS else math.ceil(last / AUTO_ROWS))
    per_epoch = math.ceil(rows / batch_size) if batch_size and rows else None
    with _progress(total, per_epoch, least=200) as on_step:  # a step on data takes longer
        run = e.train(bound.columns, starts, fixed=fixed, seed=seed, batch_size=batch_size,
                      epochs=epochs, shuffle=shuffle, on_step=on_step,
                      norm_at=lambda k: k % shown == 0 or k >= total - 1, **options)  # fmt: skip
    if run.reason == "diverged" and len(run) == 1:  # not finite at the start: say where
        args = [bound.columns[n] if n in bound.columns else {**starts, **fixed}[n]
                for n in e.variables]  # fmt: skip
        run.note = "the loss is not finite at the start: " + e.culprit(args)
    _finish_training(run, out, trace, every, save)


def _train_on_dask(expr: str, data, out: Output, *, start, given, seed: int, save, trace, every,
                   scheduler, workers, backend, **options) -> None:  # fmt: skip
    """``minimize --data --engine dask``: full-batch training over the partitions."""
    from . import daskrun
    from .datarun import check_save

    if save:
        check_save(save)
    with _progress(options["steps"], least=200) as on_step:
        run = daskrun.minimize(scheduler, workers, _read_text(expr), data, given, start, seed,
                               on_step, backend, **options)  # fmt: skip
    _finish_training(run, out, trace, every, save)


def _finish_training(run, out: Output, trace, every, save) -> None:
    """A training's trace and result written, its params saved, its exit status."""
    from .datarun import save_values
    from .trace import write_training

    shown_trace = trace if trace is not None else out.fmt in ("table", "json", *PASTED)
    write_training(run, out, shown_trace, every)
    if save:
        save_values(save, run.params, {"loss": run.final_loss, "reason": run.reason})
        reached = "reached when interrupted " if run.reason == "interrupted" else ""
        _note(f"saved the parameters {reached}to {save}")
    elif run.reason == "interrupted":
        _note("the parameters reached are not saved: --save FILE.npz keeps them")
    if run.reason == "interrupted":
        raise typer.Exit(130)
    if run.reason == "diverged":
        raise typer.Exit(1)


def _plot_descent(e: Expression, run, out: Output) -> None:
    from . import plotting

    if len(e.variables) > 2:
        _note(f"--plot draws one or two variables; this expression has {len(e.variables)}")
        return
    print(plotting.terminal_descent(e, run, sys.stdout.isatty() and not out.no_color))


class _progress:
    """A progress bar on stderr for long runs, only when stderr is a terminal; by
    epoch for minibatch training (``per_epoch`` steps each)."""

    def __init__(self, steps: int, per_epoch: int | None = None, least: int = 2000) -> None:
        self.steps, self.per_epoch, self.least = steps, per_epoch, least
        self.bar = None

    def __enter__(self):
        if self.steps < self.least or not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task("descending", total=self.steps)
        every = max(1, self.steps // 200)
        per_epoch, epochs = self.per_epoch, math.ceil(self.steps / (self.per_epoch or 1))

        def on_step(k: int) -> None:
            if k % every == 0:
                what = f"epoch {k // per_epoch + 1}/{epochs}" if per_epoch else "descending"
                self.bar.update(task, completed=k, description=what)

        return on_step

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command()
def fit(
    formula: Annotated[str, typer.Argument(
        metavar="TARGET~MODEL", show_default=False,
        help='The fit: "y ~ a*exp(-b*x) + c", - to read it from standard input, or @file.')],
    data: Data = None, start: Start = None,
    weights: Annotated[str | None, typer.Option(
        "--weights", metavar="COL", show_default=False,
        help="Minimise Σ w·(target − model)² with the weights in this column.")] = None,
    bounds: Annotated[str | None, typer.Option(
        "--bounds", metavar="b=LO:HI,...", show_default=False,
        help="Keep parameters within bounds (inf for none).")] = None,
    method: Annotated[str, typer.Option(
        "--method", metavar="METHOD", help="auto, lm (Levenberg–Marquardt) or trf.")] = "auto",
    corr: Annotated[bool, typer.Option("--corr", help="The correlation of the estimates.")] = False,
    predict: Annotated[bool, typer.Option(
        "--predict", help="The data rows with fitted and residual columns instead.")] = False,
    plot: Annotated[bool, typer.Option(
        "--plot", help="Draw the data, the fitted curve and the residuals (one input).")] = False,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", metavar="FILE.png", show_default=False,
        help="With --plot: write a PNG (needs the plot extra: matplotlib).")] = None,
    loss: Annotated[str, typer.Option(
        "--loss", metavar="LOSS",
        help="squares (least squares); huber or absolute (robust); logistic (a 0/1 target, "
             "the model its log-odds), poisson (a count, the model its log-rate) or softmax "
             "(class labels, the model a comma list of logits), by maximum likelihood.")
    ] = "squares",
    save: Save = None, format: Format = None, digits: Digits = 6, no_color: NoColor = False,
    backend: Backend = "numpy", engine: Engine = "local", scheduler: Scheduler = None,
    workers: Workers = None,
) -> None:  # fmt: skip
    """Fit a model's parameters to data by least squares on its exact Jacobian, or by
    maximum likelihood on its exact Hessian: the estimates, standard errors, t values,
    95 % intervals, and RSS and R² (or the deviance).

    Example: adcli fit "y ~ a*exp(-b*x) + c" --data decay.csv --start a=1,b=0.1
    """
    from .datarun import FitInput, check_save
    from .fitreport import as_json, verdict, write_fit, write_predictions

    if not data:
        raise UsageError("fit needs the data: --data FILE", "e.g. --data points.csv")
    if save and not save.lower().endswith(".json"):
        raise UsageError(f"--save {save}: a fit is saved as .json", "e.g. --save fit.json")
    if save:
        check_save(save)
    check_backend(backend)
    out = Output(format, digits, no_color, spelling=flag)
    if _on_dask(engine, scheduler, workers):
        from . import daskrun

        for option, used in (("--predict", predict), ("--plot", plot or output)):
            if used:
                raise UsageError(f"{option} is for a fit on one machine",
                                 "on Dask: --save fit.json, then adcli eval MODEL --data ... "
                                 "--with @fit.json --engine dask -o DIR/")  # fmt: skip
        result = daskrun.fit(scheduler, workers, _read_text(formula), data, start, weights,
                             bounds, method, loss, _note, backend)  # fmt: skip
        given = None
    else:
        given = FitInput(_read_text(formula), data, start, weights, bounds, _note, loss,
                         backend)  # fmt: skip
        if plot or output:
            given.check_curve()  # before the fit, not after it
        result = given.run(method)
    if predict:
        write_predictions(given.shown, result, out)
        _note(f"reason: {verdict(result)}")
    else:
        write_fit(result, out, corr)
    if save:
        _write_text(save, json.dumps(as_json(result), ensure_ascii=False) + "\n")
        _note(f"saved the fit to {save}")
    if plot or output:
        _plot_fit(given, result, output, no_color, formula)
    if not result.converged:
        raise typer.Exit(1)


def _plot_fit(given, result, output: str | None, no_color: bool, formula: str) -> None:
    from . import plotting

    name, x, grid, curve = given.curve(result)
    title = " ~ ".join(given.texts)
    if output:
        plotting.png_fit(name, x, given.target, grid, curve, result.residuals, title, output)
    else:
        color = sys.stdout.isatty() and not (no_color or os.environ.get("NO_COLOR"))
        print(plotting.terminal_fit(name, x, given.target, grid, curve, result.residuals,
                                    color, title))  # fmt: skip


@app.command()
def codegen(
    expr: Expr, wrt: Wrt = None,
    numpy: Annotated[bool, typer.Option("--numpy", help="For numpy arrays, in chunks.")] = False,
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="The function's name.")] = "f",
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="FILE", show_default=False,
                     help="Write the module to FILE (default: standard output)."),
    ] = None,
    data: Data = None, with_: With = None,
) -> None:  # fmt: skip
    """A Python module whose function returns the value and the gradient, as straight-line
    code: the forward pass, then the backward pass, one line per node.

    Example: adcli codegen "x*sigmoid(x)/(x**2+1)" -o f.py && python3 f.py 2
    """
    from .codegen import python_module

    e = _program(expr, data, with_)[0]  # the data and --with give shapes only
    text = python_module(e, _names(wrt), name, numpy)
    if output is None:
        sys.stdout.write(text)
    else:
        _write_text(output, text)


def _write_text(path: str, text: str) -> None:
    """``-o FILE`` for text; a path that cannot be written is the user's to fix."""
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every error becomes one message on stderr and an exit code."""
    # typer re-exports Exit and Abort; ClickException is the base of its errors
    # whether typer vendors click or depends on it.
    click_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    try:
        command = typer.main.get_command(_lean(app, sys.argv[1:] if argv is None else argv))
        # Without standalone mode typer returns an exit code where it would exit:
        # after --version/--help, and 130 when it turns Ctrl-C into an exit.
        code = command.main(args=argv, prog_name="adcli", standalone_mode=False)
        code = code if isinstance(code, int) else 0
        if code == 130:
            _flush_quietly()
            print("interrupted", file=sys.stderr)
        else:
            sys.stdout.flush()
        return code
    except AdcliError as e:
        _flush_quietly()
        print(f"error: {e.render(flag)}", file=sys.stderr)
        return e.exit_code
    except typer.Exit as e:
        return e.exit_code
    except click_error as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # plain `adcli`: the help, not an error
            try:
                print(e.format_message(), flush=True)
            except BrokenPipeError:
                return _pipe_closed()
            return 0
        hint = ""
        if getattr(e, "ctx", None) is not None:
            hint = f"\nTry '{e.ctx.command_path} --help' for help."
        unknown = e.format_message().partition("No such option: ")[2].split(" ")[0]
        if unknown.startswith("-") and not unknown.startswith("--"):
            # An expression that starts with '-' reads as an option: '--' ends the options.
            hint = "\nAn EXPR that starts with '-' goes after the options and '--': "
            hint += 'adcli eval --at 3 -- "-x**2"'
        print(f"error: {e.format_message()}{hint}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, typer.Abort):
        _flush_quietly()
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _pipe_closed()
    except SystemExit as e:
        # click turns a closed pipe into exit 1 (SystemExit raised while handling
        # the BrokenPipeError); a reader that stopped reading is not a failure.
        if isinstance(e.__context__, BrokenPipeError):
            return _pipe_closed()
        raise
    except Exception:
        if os.environ.get("ADCLI_DEBUG") == "1":
            raise
        print(
            "error: adcli failed unexpectedly; please report it with the command you ran "
            "(set ADCLI_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return 1


def _lean(full: typer.Typer, argv: list[str]) -> typer.Typer:
    """The app with only the command being run: typer reads the signature of every
    command it is given, and the 20 of them cost a start-up of its own. ``adcli``,
    ``--help`` or a name that is no command get the whole app (and its messages)."""
    name = argv[0] if argv else None
    chosen = [c for c in full.registered_commands if (c.name or c.callback.__name__) == name]
    if not chosen:
        return full
    lean = typer.Typer(**_APP_SETTINGS)
    lean.registered_callback = full.registered_callback
    lean.registered_commands = chosen
    return lean


def _pipe_closed() -> int:
    """The reader went away (``| head``): nothing more to say to anyone, exit 0."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 0


def _flush_quietly() -> None:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
