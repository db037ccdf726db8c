"""Point streams: point lines from a file or from standard input (``--at @file``,
``--at -``); ``points.parse_at`` loads this module only when one is given.

Everything is lazy: a stream from standard input is read as it arrives and a bad
line raises only when it is reached, so the rows before it are already written.
Point lines are bare numbers, ``x=1,y=2``, or columns under a header, as people
write CSV (quoted fields, ``;`` or tab separators, R's ``write.csv``).
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence

from .errors import BindingError, UsageError
from .points import Block, Point, _decimal_comma_number, _named, _number

_QUOTED = re.compile(r'"[^"]*"')
_HEADER_FIELD = re.compile(r"[^\W\d]")  # a column name starts with a letter or _
# A character of neither numbers nor names: in a line of one field, the sign of
# columns split by a separator adcli does not know (x|y).
_STRANGE = re.compile(r"[^\w\s.+\-]")


def from_lines(
    lines: Iterable[str], variables: Sequence[str], source: str, note: Callable[[str], None],
    blocks: bool = False,
) -> Iterator[Point | Block]:  # fmt: skip
    """Points from lines: bare numbers, ``x=1,y=2``, or columns under a header or not.

    The first line of columns decides the separator of every line after it and,
    when it names columns, which field holds which variable. Each line is read when
    it is reached: nothing is read ahead, and a bad line raises after the points
    before it are taken. With ``blocks``, the lines after the first come a read at a
    time (a fast pipe's, a part of a file), each run of plain numbers as one
    ``Block`` (``_Layout.blocks``); every other line as before.
    """
    numbered = _Numbered(iter(lines))
    first = True  # only the first line may be a header
    for number, raw in numbered:
        line = _content(raw)
        if not line:
            continue
        where = f"line {number} of {source}: "
        if "=" in line and '"' not in line:
            yield _named_point(line, variables, where)
            first = False
            continue
        layout = _Layout(_separator(line), variables)
        try:
            fields = layout.fields(line)
            _check_separator(line, fields, variables)
            if first and _is_header(fields):
                layout.read_header(fields, source, note)
            else:
                yield layout.point(fields)
        except UsageError as e:
            raise UsageError(where + e.message, e.hint) from None
        yield from layout.blocks(numbered, source) if blocks else layout.points(numbered, source)
        return


class _Numbered:
    """Lines with their numbers (from 1), and ``ready()``: the lines a source has
    already read and not yet given (its ``ready``), taken at once, without a wait."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines, self.number = lines, 0

    def __iter__(self) -> _Numbered:
        return self

    def __next__(self) -> tuple[int, str]:
        line = next(self.lines)
        self.number += 1
        return self.number, line

    def ready(self) -> tuple[int, list[str]]:
        taken = self.lines.ready() if isinstance(self.lines, _Buffered) else []
        first, self.number = self.number + 1, self.number + len(taken)
        return first, taken

    def fill(self) -> bool:
        """Wait for the source's next read; False at its end, or for a source of lines
        one by one (then take them with ``next``)."""
        return isinstance(self.lines, _Buffered) and self.lines.fill()


class _Buffered:
    """Lines from chunks (lists of lines, each what one read gave): one at a time,
    and ``ready()``, the rest of the current chunk, which no read has to wait for."""

    def __init__(self, chunks: Iterator[list[str]]) -> None:
        self._chunks, self._lines, self._at = chunks, [], 0

    def __iter__(self) -> _Buffered:
        return self

    def __next__(self) -> str:
        while self._at >= len(self._lines):
            self._lines, self._at = next(self._chunks), 0
        self._at += 1
        return self._lines[self._at - 1]

    def ready(self) -> list[str]:
        lines = self._lines[self._at :] if self._at else self._lines
        self._lines, self._at = [], 0
        return lines

    def fill(self) -> bool:
        """The next chunk read (waiting for it) and kept, none of it taken; False at
        the end."""
        while self._at >= len(self._lines):
            chunk = next(self._chunks, None)
            if chunk is None:
                return False
            self._lines, self._at = chunk, 0
        return True


def _named_point(line: str, variables: Sequence[str], where: str) -> Point:
    bound = _named(line, variables, where)
    if any(len(v) != 1 for v in bound.values()):
        raise UsageError(f"{where}ranges are for --at; give one value per name")
    return [bound[v][0] for v in variables]


def _content(raw: str) -> str:
    """A line without its line end, end spaces and ``# comment`` (in quotes # is text);
    "" for a blank line.

    Tabs at the ends are kept: with tab as the separator, a line ending in a tab
    has an empty last field. The blanks before a comment belong to the comment.
    """
    if "#" not in raw:
        line = raw.strip(" \r\n")
    elif '"' not in raw:
        line = raw.split("#", 1)[0].rstrip().lstrip(" ")
    else:
        line = raw[: _comment_start(raw)].rstrip().lstrip(" ")
    return "" if line.isspace() else line


def _comment_start(raw: str) -> int:
    inside = False
    for i, char in enumerate(raw):
        if char == '"':
            inside = not inside  # a doubled "" inside quotes flips twice
        elif char == "#" and not inside:
            return i
    return len(raw)


def _separator(line: str) -> str | None:
    """Tab, else ``;``, else ``,`` (``;`` first: a ``;`` file writes 1,5 for 1.5),
    looked for outside quotes; None for blanks."""
    bare = _QUOTED.sub("", line) if '"' in line else line
    for separator in ("\t", ";", ","):
        if separator in bare:
            return separator
    return None


def _check_separator(line: str, fields: list[str], variables: Sequence[str]) -> None:
    """A first line of one field with a character of neither numbers nor names is
    columns split by a separator adcli does not know; for a single variable, a bad
    number (``(1)``) is left to the message about numbers."""
    if len(fields) != 1 or not _STRANGE.search(_QUOTED.sub("", line)):
        return
    if len(variables) != 1 or _HEADER_FIELD.match(fields[0]):
        raise UsageError(
            f"cannot tell how the columns are separated in {line!r}",
            "separate the columns with commas, semicolons, tabs or spaces",
        )


def _is_header(fields: list[str]) -> bool:
    """Names (or empty names, like the row-name column of R's ``write.csv``), not numbers."""
    return all(not f or _HEADER_FIELD.match(f) for f in fields) and not _all_numbers(fields)


def _all_numbers(fields: list[str]) -> bool:
    try:
        for f in fields:
            float(f)
    except ValueError:
        return False
    return True


class _OneLine:
    """The input of one ``csv.reader`` kept for the whole stream: a reader made for
    each line costs four times the parse. A quoted field left open asks for the
    next line and gets none, so the reader raises instead of reading ahead."""

    def __init__(self) -> None:
        self.line: str | None = None

    def __iter__(self) -> _OneLine:
        return self

    def __next__(self) -> str:
        line, self.line = self.line, None
        if line is None:
            raise StopIteration
        return line


class _Layout:
    """How lines of columns split into fields, and which field holds which variable.

    Its methods raise errors without the line's place; their callers add it.
    """

    def __init__(self, separator: str | None, variables: Sequence[str]) -> None:
        self.separator = separator
        self.variables = variables
        self.number = _decimal_comma_number if separator == ";" else _number
        self.columns: list[int] | None = None  # for each variable, its column in the header
        self.width = 0
        self._feed = _OneLine()
        self._csv = None  # made at the first line with quotes: a plain stream never needs it

    def fields(self, line: str) -> list[str]:
        if '"' in line:
            return self._quoted_fields(line)
        if self.separator is None:
            return line.split()
        return [f.strip() for f in line.split(self.separator)]

    def _quoted_fields(self, line: str) -> list[str]:
        import csv

        if self._csv is None:
            self._csv = csv.reader(self._feed, delimiter=self.separator or " ",
                                   skipinitialspace=True, strict=True)  # fmt: skip
        self._feed.line = line
        try:
            fields = next(self._csv)
        except csv.Error as e:
            why = "a quote is not closed" if "end of data" in str(e) else str(e)
            raise UsageError(f"cannot read the quoted fields of {line!r}: {why}") from None
        return [f.strip() for f in fields]

    def read_header(self, fields: list[str], source: str, note: Callable[[str], None]) -> None:
        self.columns, self.width = _header(fields, self.variables, source, note), len(fields)

    def point(self, fields: list[str]) -> Point:
        number = self.number
        if self.columns is not None:
            if len(fields) != self.width:
                raise _wrong_width(len(fields), self.width)
            return [number(fields[c], "") for c in self.columns]
        if len(fields) == len(self.variables):
            return [number(f, "") for f in fields]
        raise _wrong_count(len(fields), self.variables, self.separator)

    def blocks(self, numbered: _Numbered, source: str) -> Iterator[Point | Block]:
        """``points``, but each read's lines as ``Block``s of plain numbers (``_block``),
        with any other line read line by line between them: which rows come in blocks
        depends on the lines, never on how the input happened to be read."""
        while True:
            first, lines = numbered.ready()
            if lines:
                block = self._block(lines)
                yield from [block] if block is not None else self._mixed(lines, first, source)
                continue
            if numbered.fill():
                continue
            item = next(numbered, None)  # a source of lines one by one
            if item is None:
                return
            yield from self.points(iter([item]), source)

    def _mixed(self, lines: list[str], first: int, source: str) -> Iterator[Point | Block]:
        """Lines of which some are not plain numbers: the runs of plain ones as blocks,
        each other line through the line-by-line reader (its point, or its error)."""
        run: list[str] = []
        for number, line in enumerate(lines, first):
            if self._block([line]) is not None:
                run.append(line)
                continue
            if run:
                yield self._block(run)
                run = []
            yield from self.points(iter([(number, line)]), source)
        if run:
            yield self._block(run)

    def _block(self, lines: list[str]) -> Block | None:
        """The lines as an (m, k) array of the variables' values, when each line is
        plain numbers (split by spaces, commas or tabs, as the first line set); None
        for anything else (a blank line, a comment, a quote, a name, a ragged line,
        a decimal comma), which the line-by-line reader reads or words. numpy reads
        each field as ``float`` does, as that reader would."""
        if self.separator == ";":  # a decimal comma: float does not read it
            return None
        import numpy as np

        try:
            if self.separator is None and self.columns is None and len(self.variables) == 1:
                rows = np.array(lines, dtype=np.float64).reshape(-1, 1)
            else:
                split = str.split if self.separator is None else lambda line: line.split(
                    self.separator)  # fmt: skip
                rows = np.array([split(line) for line in lines], dtype=np.float64)
        except ValueError:  # ragged, or not a number: line by line
            return None
        width = self.width if self.columns is not None else len(self.variables)
        if rows.ndim != 2 or rows.shape[1] != width:
            return None
        return Block(rows if self.columns is None else rows[:, self.columns])

    def points(self, numbered: Iterator[tuple[int, str]], source: str) -> Iterator[Point]:
        """The points of the lines after the first line of columns: the loop that a
        stream of a million lines runs, so the common case is written out here."""
        separator, point = self.separator, self.point
        for number, raw in numbered:
            line = raw.strip(" \r\n") if "#" not in raw else _content(raw)
            if not line or line.isspace():
                continue
            if "=" in line and '"' not in line:
                yield _named_point(line, self.variables, f"line {number} of {source}: ")
                continue
            try:
                if '"' in line:
                    fields = self._quoted_fields(line)
                elif separator is None:
                    fields = line.split()
                else:
                    fields = [f.strip() for f in line.split(separator)]
                values = point(fields)
            except UsageError as e:  # the place is written only for an error
                raise UsageError(f"line {number} of {source}: {e.message}", e.hint) from None
            yield values


def _wrong_count(got: int, variables: Sequence[str], separator: str | None) -> UsageError:
    hint = "write name=value pairs, or start the input with a header line naming the columns"
    if separator == ",":  # 1,5 for one variable: a decimal comma, or two columns?
        hint += "; with a decimal comma (1,5), separate the columns with ;"
    listed = ", ".join(variables) or "none"
    return UsageError(f"{got} value(s) for {len(variables)} variable(s) ({listed})", hint)


def _wrong_width(got: int, width: int) -> UsageError:
    hint = None
    if got == width + 1:
        hint = "R's write.table gives row names no header column: use write.csv or row.names=FALSE"
    return UsageError(f"expected {width} values (the header's columns), got {got}", hint)


def _header(
    fields: list[str], variables: Sequence[str], source: str, note: Callable[[str], None]
) -> list[int]:
    """Each variable's column; the other columns are not read, and one note says so."""
    for v in variables:
        if v not in fields:
            shown = ", ".join(f or "(unnamed)" for f in fields)
            raise BindingError(f"the header of {source} has no column for {v}", f"columns: {shown}")
        if fields.count(v) > 1:
            at = " and ".join(str(i + 1) for i, f in enumerate(fields) if f == v)
            raise BindingError(f"the header of {source} names {v} twice (columns {at})")
    extra = [f or "(unnamed)" for f in fields if f not in variables]
    if extra:
        note(f"note: ignoring the columns {', '.join(extra)} of {source}: not variables")
    return [fields.index(v) for v in variables]


# --- sources of lines ------------------------------------------------------------


def stdin_lines(flush: Callable[[], None]) -> _Buffered:
    """Lines of standard input as they arrive, without a byte-order mark at the start.

    Output is flushed just before each read that may wait, so a reader on the
    other end of a pipe sees each row as soon as it is known, without a write
    per row when the input comes fast. The lines of one read are ``ready`` together.
    """
    return _Buffered(_stdin_chunks(flush))


def _stdin_chunks(flush: Callable[[], None]) -> Iterator[list[str]]:
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        for line in sys.stdin:  # not a real file (a test runner's stream)
            yield [line.removeprefix("\ufeff")]
        return
    pending, first = b"", True
    while True:
        flush()
        data = os.read(fd, 1 << 16)
        if not data:
            break
        pending += data
        end = pending.rfind(b"\n")
        if end < 0:
            continue
        whole, pending = pending[:end], pending[end + 1 :]
        try:
            chunk = whole.decode("utf-8").split("\n")
        except UnicodeDecodeError:  # the lines before the bad one first, then its error
            lines = whole.split(b"\n")
            good = list(itertools.takewhile(_utf8, lines))
            yield [line.decode("utf-8") for line in good]
            _decode(lines[len(good)])  # raises: standard input is not UTF-8 text
        if first:  # as a file opened as utf-8-sig skips it
            chunk[0], first = chunk[0].removeprefix("\ufeff"), False
        yield chunk
    if pending:
        yield [_decode(pending).removeprefix("\ufeff") if first else _decode(pending)]


def _utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("standard input is not UTF-8 text") from None


def read_text(path: str) -> str:
    """A whole UTF-8 file (a byte-order mark is skipped), or a UsageError saying why not."""
    return "".join(file_lines(path))


def file_lines(path: str) -> _Buffered:
    """The lines of a file, ``ready`` some thousands at a time."""
    return _Buffered(_file_chunks(path))


def _file_chunks(path: str) -> Iterator[list[str]]:
    try:
        with open(path, encoding="utf-8-sig") as f:
            while True:
                chunk = f.readlines(1 << 16)  # about 64 KiB of whole lines
                if not chunk:
                    break
                yield chunk
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except ValueError:  # a path with a NUL byte
        raise UsageError(f"cannot read {path!r}: not a file name") from None
