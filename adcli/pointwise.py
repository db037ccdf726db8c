"""Evaluate at every point and write each row as it is known.

The one policy for non-finite results (SPEC §5): at a single point it is an
error naming the culprit node; over many points the row is written with
``nan``/``inf`` and one warning names the first such point; with ``strict`` the
first such row stops the run and the rows before it stay written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .api import Expression
from .errors import EvaluationError
from .points import Points
from .render import RowWriter


def write_rows(
    expr: Expression,
    outputs: list[int],
    points: Points,
    writer: RowWriter,
    *,
    wrt: Sequence[str] | None,
    strict: bool,
    warn: Callable[[str], None],
    extra: Callable[[list[float]], dict] | None = None,
) -> None:
    run = expr.compiled(outputs).scalar
    warned = False
    try:
        for point in points.points:
            values = run(*point)
            if not all(math.isfinite(v) for v in values):
                if strict or points.count == 1:
                    raise EvaluationError(expr.culprit(point, wrt))
                if not warned:
                    warned = True
                    warn("warning: non-finite result (first of them): " + expr.culprit(point, wrt))
            writer.row(point, values, extra(point) if extra else None)
    finally:
        writer.close()  # a table keeps the rows it has when a later point fails
