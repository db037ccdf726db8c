"""Evaluate at every point and write each row as it is known.

The one policy for non-finite results (SPEC §5): at a single point it is an
error naming the culprit node; over many points the row is written with
``nan``/``inf`` and one warning names the first such point; with ``strict`` the
first such row stops the run and the rows before it stay written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence

from .api import Expression
from .errors import EvaluationError
from .points import Block, Points
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
    compiled = expr.compiled(outputs)
    run = compiled.scalar
    warned = False
    try:
        for point in _points_of_blocks(points.points, compiled, writer):
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


def _points_of_blocks(points: Iterable, compiled, writer: RowWriter) -> Iterator:
    """The points, a ``Block`` of them evaluated at once with numpy and written as
    one (the same rows, in the array path's numbers). A block with a non-finite
    result is given back point by point, for the warning, the culprit and ``strict``
    of each."""
    for item in points:
        if item.__class__ is not Block:
            yield item
            continue
        import numpy as np  # here: a stream of blocks has numpy loaded already

        values = compiled.batch(*item.rows.T)
        if all(np.isfinite(v).all() for v in values):
            writer.block(item.rows, values)
        else:
            yield from item.rows.tolist()
