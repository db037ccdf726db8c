"""``--at`` specs (``2``, ``x=1,y=2``, ``x=0:1:11``, grids) → points in the order of
the variables, and every ``--at`` option together (``parse_at``); streams of point
lines are ``streams.py``'s.

Everything is lazy: a range or a grid computes each point when it is reached, so
``x=0:1:1000000000`` costs no memory and its first row is written at once.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from .errors import UsageError, no_value, not_a_variable
from .ops import CONSTANTS

Point = list[float]
# Beyond 2**53 the indices i in start + i*step are rounded to floats, so the points
# would no longer be evenly spaced (nor would a run of them ever end).
_MAX_COUNT = 2**53


class Block:
    """Points of a stream read together: an (m, k) float array, a row per point. A
    stream yields them only to a reader that asks (``parse_at(..., blocks=True)``)."""

    __slots__ = ("rows",)

    def __init__(self, rows: Any) -> None:
        self.rows = rows


class Points:
    """The points to evaluate; ``count`` is None for streams of unknown length."""

    def __init__(self, points: Iterable[Point], count: int | None) -> None:
        self.points = points
        self.count = count


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _not_a_number(text, where) from None


def _decimal_comma_number(text: str, where: str) -> float:
    """``1,5`` is 1.5, as ``;``-separated files (R's ``write.csv2``, spreadsheets) write it."""
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise _not_a_number(text, where) from None


# A minus sign or a space copied from a document: say which character it was.
_LOOKALIKES = {"−": "-", "–": "-", "—": "-", "‐": "-", "\u00a0": "", "\u202f": ""}


def _not_a_number(text: str, where: str) -> UsageError:
    found = next((c for c in _LOOKALIKES if c in text), None)
    hint = None
    if found is not None:
        fixed = text.strip()
        for c, plain in _LOOKALIKES.items():
            fixed = fixed.replace(c, plain)
        hint = f"{found!r} is not part of a number here: write {fixed}"
    return UsageError(f"{where}expected a number, got {text.strip()!r}", hint)


# --- ranges and grids ----------------------------------------------------------


class Range(Sequence[float]):
    """``numpy.linspace(start, stop, num)`` with each value computed when asked.

    Value i is ``start + i*step`` and the last is exactly ``stop``, the very floats
    the list of all values used to hold, but nothing is stored: a range of 10^9
    points is four numbers.
    """

    __slots__ = ("start", "stop", "num", "step", "last")

    def __init__(self, start: float, stop: float, num: int) -> None:
        self.start, self.stop, self.num = start, stop, num
        self.step = (stop - start) / (num - 1) if num > 1 else 0.0
        self.last = stop if num > 1 else start

    def __len__(self) -> int:
        return self.num

    def __getitem__(self, i: int) -> float:
        i = operator.index(i)  # r[0.5] is a mistake, not a value between two points
        if i < 0:
            i += self.num
        if not 0 <= i < self.num:
            raise IndexError("range index out of range")
        return self.last if i == self.num - 1 else self.start + i * self.step

    def __iter__(self) -> Iterator[float]:
        start, step = self.start, self.step
        for i in range(self.num - 1):
            yield start + i * step
        yield self.last

    def __repr__(self) -> str:
        return f"Range({self.start!r}, {self.stop!r}, {self.num})"


def linspace(start: float, stop: float, num: int) -> Range:
    """``numpy.linspace`` in plain Python: same points, the end exactly ``stop``, lazily."""
    return Range(start, stop, num)


class Grid(Sequence[Point]):
    """All combinations of the axes, the first axis slowest (like nested loops).

    Points are made as they are reached: ``itertools.product`` would first copy
    every axis into a tuple, which for a range of 10^9 points is 8 GB.
    """

    def __init__(self, axes: Sequence[Sequence[float]]) -> None:
        self.axes = list(axes)
        self.size = math.prod(len(a) for a in self.axes)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> Point:
        """The i-th point: i written in the mixed radix of the axes' lengths."""
        i = operator.index(i)
        if i < 0:
            i += self.size
        if not 0 <= i < self.size:
            raise IndexError("grid index out of range")
        point = []
        for axis in reversed(self.axes):
            i, k = divmod(i, len(axis))
            point.append(axis[k])
        point.reverse()
        return point

    def __iter__(self) -> Iterator[Point]:
        """An odometer: the last axis turns each step, and a wrap carries one to the left."""
        if self.size == 0:
            return
        turning = [iter(a) for a in self.axes]
        current = [next(t) for t in turning]
        last = len(self.axes) - 1
        while True:
            yield current.copy()  # a list of its own: a caller may keep or change it
            k = last
            while k >= 0:
                value = next(turning[k], None)
                if value is not None:
                    current[k] = value
                    break
                turning[k] = iter(self.axes[k])
                current[k] = next(turning[k])
                k -= 1
            if k < 0:
                return


def _values(text: str, name: str) -> Sequence[float]:
    """One binding's values: a number, or ``a:b:n`` for n evenly spaced points."""
    parts = text.split(":")
    where = f"{name}={text}: "
    if len(parts) == 1:
        return [_number(text, where)]
    if len(parts) != 3:
        raise UsageError(f"bad range {name}={text}", "write start:stop:count, e.g. 0:1:11")
    start, stop = (_number(p, where) for p in parts[:2])
    try:
        num = int(parts[2])
    except ValueError:
        num = 0
    if num < 1:
        raise UsageError(f"bad range {name}={text}: the count must be a whole number ≥ 1")
    if num > _MAX_COUNT:
        raise UsageError(
            f"bad range {name}={text}: the count is too large to space the points evenly",
            "give at most 2**53 = 9007199254740992 points",
        )
    return linspace(start, stop, num)


def _named(text: str, variables: Sequence[str], where: str = "") -> dict[str, Sequence[float]]:
    """``x=1,y=0:1:3`` → each variable's values; ``where`` prefixes errors of a point line."""
    bound: dict[str, Sequence[float]] = {}
    for item in text.split(","):
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise UsageError(f"{where}expected name=value, got {item.strip()!r}")
        if name not in variables:
            raise not_a_variable(name, variables, CONSTANTS).prefixed(where)
        if name in bound:
            raise UsageError(f"{where}{name} is given twice")
        bound[name] = _values(value.strip(), name)
    for name in variables:
        if name not in bound:
            every = ",".join(f"{v}=..." for v in variables)
            hint = None if where else f"one --at binds every variable: --at {every}"
            raise no_value(name, hint).prefixed(where)
    return bound


def from_spec(spec: str, variables: Sequence[str]) -> Points:
    """Points from one ``--at`` text that is not a stream."""
    if "=" in spec:
        bound = _named(spec, variables)
        grid = Grid([bound[v] for v in variables])
        return Points(grid, grid.size)
    if len(variables) != 1:
        if not variables:
            raise UsageError(f"--at {spec}: the expression has no variables", "drop --at")
        raise UsageError(
            f"--at {spec} is ambiguous: the expression has {len(variables)} variables "
            f"({', '.join(variables)})",
            "name them: --at " + ",".join(f"{v}=..." for v in variables),
        )
    grid = Grid([_values(spec, variables[0])])
    return Points(grid, grid.size)


# --- point lines ---------------------------------------------------------------


def parse_at(
    specs: Sequence[str],
    variables: Sequence[str],
    flush: Callable[[], None],
    note: Callable[[str], None],
    blocks: bool = False,
) -> Points:
    """All the points that the ``--at`` options give, in order. Streams (``-``,
    ``@file``) are read by ``streams.py``, loaded only when one is given; with
    ``blocks``, a stream's runs of plain numbers come as ``Block``s (for a reader
    that evaluates them with numpy)."""
    if not specs:
        if variables:
            raise no_value(variables[0])
        return Points([[]], 1)
    parts: list[Points] = []
    for spec in specs:
        spec = spec.strip()
        if spec == "-" or spec.startswith("@"):
            from .streams import file_lines, from_lines, stdin_lines
        if spec == "-":
            stream = from_lines(stdin_lines(flush), variables, "standard input", note, blocks)
            parts.append(Points(stream, None))
        elif spec.startswith("@"):
            stream = from_lines(file_lines(spec[1:]), variables, spec[1:], note, blocks)
            parts.append(Points(stream, None))
        else:
            parts.append(from_spec(spec, variables))
    counts = [p.count for p in parts]
    count = None if None in counts else sum(counts)  # type: ignore[arg-type]
    return Points((point for part in parts for point in part.points), count)
