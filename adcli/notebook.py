"""What adcli's results show of themselves (SPEC §12): in Jupyter, HTML made by the
terminal's own writers; elsewhere, as ``repr``, the text those writers give a
terminal. ``adcli/__init__`` installs ``show`` as ``displayed.Displayed.show``.

The same writers, so the same columns and numbers: a per-node table is
``render.write_table``'s, a descent ``trace.write_run``'s, a fit
``fitreport.write_fit``'s. Nothing here imports IPython, and nothing is imported
until an object is shown.
"""

from __future__ import annotations

import io
from typing import Any


def show(obj: Any, kind: str) -> str | None:
    """``obj`` as HTML (``kind="html"``), as SVG (``"svg"``: a graph's picture only) or
    as the terminal's text (``"text"``); None for what it has not to show."""
    from .report import Picture

    if isinstance(obj, Picture):
        return _picture(obj, kind)
    if kind == "svg":
        return None
    write = _writer(obj)
    if write is None:
        return None
    output = _HtmlOutput() if kind == "html" else _text()
    write(output)
    text = output.out.getvalue()
    return f'<div class="adcli">\n{text}</div>' if kind == "html" else text.rstrip("\n")


def _writer(obj: Any):
    """How ``obj`` is written, given an ``Output``; None for another kind of object."""
    from .api import Expression
    from .fit import Fit
    from .optimize import Run
    from .report import Table

    if isinstance(obj, Table):
        from .render import write_table

        return lambda output: write_table(obj, output)
    if isinstance(obj, Run):
        return lambda output: _run(obj, output)
    if isinstance(obj, Fit):
        from .fitreport import write_fit

        return lambda output: write_fit(obj, output)
    if isinstance(obj, Expression):
        return lambda output: _expression(obj, output)
    return None


def _run(run: Any, output: Any) -> None:
    """A descent: the trace, the result and the diagnosis; in Jupyter also the path
    over f (one variable) or over its contour lines (two), as ``--plot`` draws it."""
    from .trace import write_run

    names = run.names or [f"x{i + 1}" for i in range(len(run.final.point))]
    write_run(run, names, output, trace=True)
    if output.fmt == "html" and run.expression is not None and len(names) <= 2:
        from html import escape

        from .plotting import terminal_descent

        plot = terminal_descent(run.expression, run, color=False)
        output.out.write(f"<pre>{escape(plot)}</pre>\n")


def _picture(picture: Any, kind: str) -> str | None:
    """A graph as Graphviz draws it (SVG), or as ``adcli graph`` prints it (text)."""
    from html import escape

    from .drawing import draw, svg

    e, point, wrt = picture.e, picture.point, picture.wrt
    if kind == "text":
        return draw(e, "text", point, wrt, 6).rstrip("\n")
    drawn = svg(draw(e, "dot", point, wrt, 6))
    if kind == "svg" or drawn is not None:
        return drawn
    text = escape(draw(e, "text", point, wrt, 6))
    return (
        f'<div class="adcli">\n<pre>{text}</pre>\n<p>(the text drawing: Graphviz\'s '
        "dot program draws the picture; install graphviz)</p>\n</div>"
    )


def _expression(e: Any, output: Any) -> None:
    """What a compiled expression is: its program, its variables, its size."""
    from .ops import shape_text

    g = e.ir
    variables = ", ".join(
        f"{n} {shape_text(g.shape[g.variables[n]])}" if g.shape[g.variables[n]] else n
        for n in e.variables
    )  # fmt: skip
    lines = [f"adcli.compile({e.text!r})",
             f"variables: {variables or 'none'}; {len(e.numbers)} nodes; "
             f"{len(e.outputs)} output{'s' if len(e.outputs) != 1 else ''}"]  # fmt: skip
    if output.fmt == "html":
        from html import escape

        output.out.write(f"<pre>{escape(e.text)}</pre>\n<p>{escape(lines[1])}</p>\n")
    else:
        output.out.write("\n".join(lines) + "\n")


def _text():
    """The terminal's output, uncoloured, into a string, as wide as the terminal (as
    ``--format table`` writes to a pipe: 80 columns, or ``COLUMNS``)."""
    import shutil

    from .render import Output

    return Output("table", out=io.StringIO(), err=io.StringIO(), no_color=True,
                  width=shutil.get_terminal_size().columns)  # fmt: skip


class _HtmlOutput:
    """An ``Output`` that writes HTML: a table as an HTML table, lines as a paragraph."""

    fmt = "html"
    digits = 6
    spelling = None  # options named as the API names them

    def __init__(self) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()

    def table(self, columns: list, cells: Any) -> None:
        from .numtext import numbers
        from .pasted import html

        self.out.write(html(columns, cells(numbers(self.digits))))

    def say(self, text: str) -> None:
        from .pasted import pasted_lines

        self.out.write(pasted_lines(text.split("\n"), "html"))
