"""``--at`` specs and point streams → points in the order of the variables.

Everything is lazy: a stream from standard input is read as it arrives and a bad
line raises only when it is reached, so the rows before it are already written.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence

from .errors import BindingError, UsageError, no_value, not_a_variable

Point = list[float]
_NAME = r"[^\W\d]\w*"


class Points:
    """The points to evaluate; ``count`` is None for streams of unknown length."""

    def __init__(self, points: Iterable[Point], count: int | None) -> None:
        self.points = points
        self.count = count


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{where}expected a number, got {text.strip()!r}") from None


def linspace(start: float, stop: float, num: int) -> list[float]:
    """``numpy.linspace`` in plain Python: same points, the end exactly ``stop``."""
    if num == 1:
        return [start]
    step = (stop - start) / (num - 1)
    values = [start + i * step for i in range(num)]
    values[-1] = stop
    return values


def _values(text: str, name: str) -> list[float]:
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
    return linspace(start, stop, num)


def _named(text: str, variables: Sequence[str], where: str = "") -> dict[str, list[float]]:
    """``x=1,y=0:1:3`` → each variable's values; ``where`` prefixes errors of a point line."""
    bound: dict[str, list[float]] = {}
    for item in text.split(","):
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise UsageError(f"{where}expected name=value, got {item.strip()!r}")
        if name not in variables:
            e = not_a_variable(name, variables)
            e.message = where + e.message
            raise e
        if name in bound:
            raise UsageError(f"{where}{name} is given twice")
        bound[name] = _values(value.strip(), name)
    for name in variables:
        if name not in bound:
            every = ",".join(f"{v}=..." for v in variables)
            hint = None if where else f"one --at binds every variable: --at {every}"
            e = no_value(name, hint)
            e.message = where + e.message
            raise e
    return bound


def _grid(bound: dict[str, list[float]], variables: Sequence[str]) -> Iterator[Point]:
    """All combinations, the first variable slowest (like nested loops)."""
    axes = [bound[v] for v in variables]
    index = [0] * len(axes)
    if any(not a for a in axes):
        return
    while True:
        yield [axis[i] for axis, i in zip(axes, index)]
        k = len(axes) - 1
        while k >= 0:
            index[k] += 1
            if index[k] < len(axes[k]):
                break
            index[k] = 0
            k -= 1
        if k < 0:
            return


def from_spec(spec: str, variables: Sequence[str]) -> Points:
    """Points from one ``--at`` text that is not a stream."""
    if "=" in spec:
        bound = _named(spec, variables)
        return Points(_grid(bound, variables), math.prod(len(v) for v in bound.values()))
    if len(variables) != 1:
        if not variables:
            raise UsageError(f"--at {spec}: the expression has no variables", "drop --at")
        raise UsageError(
            f"--at {spec} is ambiguous: the expression has {len(variables)} variables "
            f"({', '.join(variables)})",
            "name them: --at " + ",".join(f"{v}=..." for v in variables),
        )
    values = _values(spec, variables[0])
    return Points(([v] for v in values), len(values))


def from_lines(
    lines: Iterable[str], variables: Sequence[str], source: str, note: Callable[[str], None]
) -> Iterator[Point]:
    """Points from lines: bare numbers, ``x=1,y=2``, or columns under a header."""
    columns: list[int] | None = None  # for each variable, its column in the header
    width = 0
    first = True
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"line {number} of {source}: "
        if "=" in line:
            bound = _named(line, variables, where)
            if any(len(v) != 1 for v in bound.values()):
                raise UsageError(f"{where}ranges are for --at; give one value per name")
            first = False
            yield [bound[v][0] for v in variables]
            continue
        # CSV splits on commas (an empty field is an error), otherwise on blanks
        fields = [f.strip() for f in line.split(",")] if "," in line else line.split()
        if first and all(re.fullmatch(_NAME, f) for f in fields) and not _all_numbers(fields):
            columns, width = _header(fields, variables, source, note)
            first = False
            continue
        first = False
        if columns is not None:
            if len(fields) != width:
                raise UsageError(
                    f"{where}expected {width} values (the header's columns), got {len(fields)}"
                )
            yield [_number(fields[c], where) for c in columns]
        elif len(fields) == len(variables):
            yield [_number(f, where) for f in fields]
        else:
            raise UsageError(
                f"{where}{len(fields)} value(s) for {len(variables)} variable(s) "
                f"({', '.join(variables) or 'none'})",
                "write name=value pairs, or start the input with a header line naming the columns",
            )


def _all_numbers(fields: list[str]) -> bool:
    try:
        for f in fields:
            float(f)
    except ValueError:
        return False
    return True


def _header(
    fields: list[str], variables: Sequence[str], source: str, note: Callable[[str], None]
) -> tuple[list[int], int]:
    for v in variables:
        if v not in fields:
            raise BindingError(
                f"the header of {source} has no column for {v}", f"columns: {', '.join(fields)}"
            )
    extra = [f for f in fields if f not in variables]
    if extra:
        note(f"note: ignoring the columns {', '.join(extra)} of {source}: not variables")
    return [fields.index(v) for v in variables], len(fields)


def stdin_lines(flush: Callable[[], None]) -> Iterator[str]:
    """Lines of standard input as they arrive.

    Output is flushed just before each read that may wait, so a reader on the
    other end of a pipe sees each row as soon as it is known, without a write
    per row when the input comes fast.
    """
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        yield from sys.stdin  # not a real file (a test runner's stream)
        return
    pending = b""
    while True:
        flush()
        data = os.read(fd, 1 << 16)
        if not data:
            break
        pending += data
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield _decode(line)
    if pending:
        yield _decode(pending)


def _decode(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("standard input is not UTF-8 text") from None


def read_text(path: str) -> str:
    """A whole UTF-8 file (a byte-order mark is skipped), or a UsageError saying why not."""
    return "".join(file_lines(path))


def file_lines(path: str) -> Iterator[str]:
    try:
        with open(path, encoding="utf-8-sig") as f:
            yield from f
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except ValueError:  # a path with a NUL byte
        raise UsageError(f"cannot read {path!r}: not a file name") from None


def parse_at(
    specs: Sequence[str],
    variables: Sequence[str],
    flush: Callable[[], None],
    note: Callable[[str], None],
) -> Points:
    """All the points that the ``--at`` options give, in order."""
    if not specs:
        if variables:
            raise no_value(variables[0])
        return Points([[]], 1)
    parts: list[Points] = []
    for spec in specs:
        spec = spec.strip()
        if spec == "-":
            parts.append(
                Points(from_lines(stdin_lines(flush), variables, "standard input", note), None)
            )
        elif spec.startswith("@"):
            parts.append(Points(from_lines(file_lines(spec[1:]), variables, spec[1:], note), None))
        else:
            parts.append(from_spec(spec, variables))
    counts = [p.count for p in parts]
    count = None if None in counts else sum(counts)  # type: ignore[arg-type]
    return Points((point for part in parts for point in part.points), count)
