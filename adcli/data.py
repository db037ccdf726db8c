"""Data files (``--data``) → named float64 columns, and ``--with`` → parameter values
(SPEC §9). Loaded only when one of those options is given: this module imports numpy.

A data file's columns bind variables as vectors, one value per row. Only the columns
the expression uses are read where the format allows it: npz by key, parquet by
column; a CSV line is split to check its width, but only the used cells become
numbers, so a column of words beside the numbers is no error while unused.

CSV is read as ``--at @file`` reads it (``streams.py``): comments, quotes, ``;`` and
tab separators, a decimal comma under ``;``. A fast path hands clean files to
numpy's C parser; anything it refuses is read again line by line, which words the
error (or accepts what only Python's ``float`` does, like ``1_000``).
"""

from __future__ import annotations

import json
import os
import re
import sys
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, NamedTuple, TextIO

import numpy as np

from .errors import UsageError
from .points import _not_a_number, _number
from .streams import _check_separator, _content, _is_header, _Layout, _separator, read_text

STDIN = "standard input"
_TEXT = (".csv", ".tsv", ".txt")
_KNOWN = (
    ".csv, .tsv, .txt (each also .gz), .npz, NAME=FILE.npy, .parquet; - is CSV on standard input"
)
_NAME = r"[^\W\d]\w*"  # a letter or _, then letters, digits, _
_BOUND = re.compile(rf"({_NAME})=(.+)")  # NAME=FILE.npy
_SHOWN = 12  # the names describe() lists for one file; more are counted
# What numpy's readers raise for a file that is not what its name says, or is cut short.
_DAMAGED = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error)


@dataclass(frozen=True, eq=False)
class Data(Mapping[str, np.ndarray]):
    """The columns of the data files by name: float64 arrays, the first axis rows.

    ``columns`` holds the columns kept (the ones used, or all) and ``rows`` their
    common length (0 when none is kept); ``source`` names each one's file. ``files``
    lists each file's columns, kept or not, and ``names`` all of them in file order:
    what a message can offer when a name is not there.
    """

    columns: dict[str, np.ndarray]
    rows: int
    source: dict[str, str]
    files: dict[str, list[str]]

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(n for names in self.files.values() for n in names if n))

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __repr__(self) -> str:
        return f"Data({self.rows} row{'' if self.rows == 1 else 's'}; {describe(self)})"


class _Source(NamedTuple):
    """An opened data file: its columns' names (``""`` for an unnamed one) and how to
    read the ones kept; the names come first, so nothing is read before they are checked.
    ``vectors``: every column is a vector (a table's), so its shape is known unread."""

    label: str
    names: list[str]
    read: Callable[[list[str]], dict[str, np.ndarray]]
    vectors: bool = True
    words: Callable[[str], list[str]] | None = None  # a column as its cells' text


class Files:
    """The ``--data`` files, opened: their names now, a column's shape when the parser
    meets its name (``shapes``), the used columns when ``load`` is called. An array of
    an ``.npz`` is read when its shape is first asked for, and only once."""

    def __init__(self, specs: Sequence[str], stdin: TextIO | None = None) -> None:
        self.sources: list[_Source] = []
        for i, spec in enumerate(specs):
            spec = spec.strip()
            if spec in specs[:i]:
                raise UsageError(f"{spec} is given twice")
            self.sources.append(_open(spec, stdin or sys.stdin))
        self._read: dict[str, np.ndarray] = {}  # columns read for their shape

    @classmethod
    def opened(cls, sources: Sequence[_Source]) -> Files:
        """Files already opened: a partition of ``--engine dask`` (``partitions.source``)."""
        files = cls([])
        files.sources = list(sources)
        return files

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(n for s in self.sources for n in s.names if n))

    def shape(self, name: str) -> tuple | None:
        """The column's shape with its rows as None (``(None, 64)``); None: no such column."""
        source = next((s for s in self.sources if name and name in s.names), None)
        if source is None:
            return None
        if source.vectors:
            return (None,)
        if name not in self._read:
            self._read.update(source.read([name]))
        return (None, *self._read[name].shape[1:])

    @property
    def shapes(self) -> Mapping[str, tuple]:
        """The shapes as a mapping for ``adcli.compile``, asked name by name."""
        return _Shapes(self)

    def words(self, name: str) -> list[str] | None:
        """A column's cells as text (class labels may be words), or None where its
        file holds arrays, not text."""
        for source in self.sources:
            if name in source.names and source.words is not None:
                return source.words(name)
        return None

    def load(self, used: Collection[str] | None = None) -> Data:
        """The columns ``used`` (None: all), merged; two files with a used column of the
        same name, or used columns of different lengths, are errors naming both files."""
        wanted = None if used is None else set(used)
        columns: dict[str, np.ndarray] = {}
        source: dict[str, str] = {}
        files: dict[str, list[str]] = {}
        for opened in self.sources:
            files[opened.label] = opened.names
            keep = [n for n in dict.fromkeys(opened.names) if n and (wanted is None or n in wanted)]
            for name in keep:
                if name in source:
                    raise UsageError(
                        f"{name} is a column of both {source[name]} and {opened.label}",
                        "rename one of them, or leave one file out",
                    )
            unread = [n for n in keep if n not in self._read]
            values = {**{n: self._read[n] for n in keep if n in self._read}, **opened.read(unread)}
            for name in keep:
                columns[name], source[name] = values[name], opened.label
        return Data(columns, _rows(columns, source), source, files)


class _Shapes(Mapping):
    def __init__(self, files: Files) -> None:
        self.files = files

    def __getitem__(self, name: str) -> tuple:
        shape = self.files.shape(name)
        if shape is None:
            raise KeyError(name)
        return shape

    def get(self, name: str, default=None):
        shape = self.files.shape(name)
        return default if shape is None else shape

    def __iter__(self) -> Iterator[str]:
        return iter(self.files.names)

    def __len__(self) -> int:
        return len(self.files.names)


def load(
    specs: Sequence[str], used: Collection[str] | None = None, *, stdin: TextIO | None = None
) -> Data:
    """The columns of the ``--data`` files, merged; only ``used`` ones (None: all).

    A spec is a ``.csv``/``.tsv``/``.txt`` file (each also ``.gz``), ``-`` (CSV from
    ``stdin``, default ``sys.stdin``), an ``.npz``, ``NAME=FILE.npy`` or a ``.parquet``.
    Two files with a kept column of the same name, or kept columns of different
    lengths, are errors naming both files.
    """
    return Files(specs, stdin).load(used)


def _rows(columns: dict[str, np.ndarray], source: dict[str, str]) -> int:
    if not columns:
        return 0
    first, *others = columns
    rows = len(columns[first])
    for name in others:
        if len(columns[name]) != rows:
            raise UsageError(
                f"{first} has {rows} rows ({source[first]}) and {name} has "
                f"{len(columns[name])} ({source[name]}): every column needs the same number of rows"
            )
    return rows


def describe(data: Data) -> str:
    """``data.csv has x, y; labels.npy has label``: what the files hold, for a hint."""
    parts = []
    for label, names in data.files.items():
        named = [n for n in names if n]
        shown = ", ".join(named[:_SHOWN]) if named else "no named columns"
        if len(named) > _SHOWN:
            shown += f" and {len(named) - _SHOWN} more"
        parts.append(f"{label} has {shown}")
    return "; ".join(parts) or "no data files"


# --- which reader ------------------------------------------------------------------


def _open(spec: str, stdin: TextIO) -> _Source:
    if spec == "-":
        return _csv(STDIN, _stdin_text(stdin))
    bound = _BOUND.fullmatch(spec)
    if bound and not os.path.exists(spec):  # a file named a=b.csv is still that file
        name, path = bound.groups()
        if _format(path) == ".npy":
            return _npy(name, path)
        if _format(path) in _READERS:
            raise UsageError(
                f"{spec}: NAME=FILE binds the one array of a .npy file",
                f"{path} names its own columns: give just {path}",
            )
    if os.path.isdir(spec):
        _check_file(spec)
    fmt = _format(spec)
    if fmt == ".npy":
        raise UsageError(
            f"{spec} holds one array without a name",
            f"bind it to the name the expression uses: NAME={spec}",
        )
    if fmt not in _READERS:
        shown = f"format {fmt!r}" if fmt else "format (no extension)"
        raise UsageError(f"{spec}: unknown data {shown}", f"data files are {_KNOWN}")
    _check_file(spec)
    return _READERS[fmt](spec)


def _format(path: str) -> str:
    """The extension that says how to read ``path``: ``.csv`` for ``a.CSV.gz`` too."""
    lower = path.lower()
    ext = os.path.splitext(lower.removesuffix(".gz"))[1]
    if lower.endswith(".gz") and ext not in _TEXT:
        return ext + ".gz"  # only text is read through gzip
    return ext


def _check_file(path: str) -> None:
    partitions = "a folder or a pattern of files is the partitions of --engine dask"
    if os.path.isdir(path):
        raise UsageError(f"{path} is a folder, not a file", partitions)
    if not os.path.exists(path):
        raise UsageError(f"no such file: {path}", partitions if re.search(r"[*?[]", path) else None)


# --- CSV -------------------------------------------------------------------------


def _text_file(path: str) -> _Source:
    return _csv(path, _file_text(path), path)


def _file_text(path: str) -> str:
    """The whole file (gunzipped for ``.gz``), line ends made ``\\n``: one read is
    several times faster than a loop over lines."""
    import gzip

    try:
        opener = gzip.open if path.lower().endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8-sig") as f:
            return f.read()
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text", "save it as UTF-8 (CSV UTF-8)") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:  # EOFError: the data stops early
        why = str(e) or "cut short"
        raise UsageError(f"cannot read {path}: not gzip data, or damaged ({why})") from None
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None


def _stdin_text(stdin: TextIO) -> str:
    try:
        text = stdin.read()
    except UnicodeDecodeError:
        raise UsageError("standard input is not UTF-8 text") from None
    # As a file opened in text mode reads them (a StringIO or a binary pipe keeps \r).
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _csv(label: str, text: str, path: str | None = None) -> _Source:
    """The header now (names, separator); the rows when ``read`` is called (``path``:
    a file numpy may read again itself)."""
    number, header, body = _first_line(text, label)
    layout = _Layout(_separator(header), ())
    try:
        fields = layout.fields(header)
        _check_separator(header, fields, ())  # x|y: a separator adcli does not know
    except UsageError as e:
        raise e.prefixed(f"line {number} of {label}: ") from None
    if not _is_header(fields):
        example = (layout.separator or " ").join(f"x{i}" for i in range(1, len(fields) + 1))
        raise UsageError(
            f"the first line of {label} must name the columns, got {header!r}",
            f"add a header line above the rows, e.g. {example}",
        )

    def read(keep: list[str]) -> dict[str, np.ndarray]:
        at = [_column(fields, name, label) for name in keep]
        table = _fast(body, layout.separator, len(fields), at, (path, number) if path else None)
        if table is None:
            table = _exact(body, number + 1, layout, fields, at, label)
        return dict(zip(keep, table))

    def words(name: str) -> list[str]:
        at = [_column(fields, name, label)]
        return _exact(body, number + 1, layout, fields, at, label, convert=str.strip)[0]

    return _Source(label, fields, read, words=words)


def _first_line(text: str, label: str) -> tuple[int, str, str]:
    """The first line that is not blank or a comment: its number, text, and the rest."""
    start, number = 0, 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        number += 1
        line = _content(text[start:end])
        start = end + 1
        if line:
            return number, line, text[start:]
    raise UsageError(f"{label} is empty", "a data file starts with a line naming the columns")


def _column(fields: list[str], name: str, label: str) -> int:
    if fields.count(name) > 1:
        at = " and ".join(str(i + 1) for i, f in enumerate(fields) if f == name)
        raise UsageError(f"the header of {label} names {name} twice (columns {at})")
    return fields.index(name)


def _fast(body: str, separator: str | None, width: int, at: list[int],
          file: tuple[str, int] | None = None) -> list[np.ndarray] | None:  # fmt: skip
    """The columns ``at`` by numpy's C parser, or None where it cannot be trusted to
    read the file as ``_exact`` would: quotes, comments, blank or ragged lines, and
    non-ASCII space between columns (``str.split`` splits there; numpy does not).
    ``file`` (its path, and the header's line number) lets numpy read a file itself."""
    if '"' in body or "#" in body or (separator is None and not body.isascii()):
        return None
    if separator == ";":
        body, file = body.replace(",", "."), None  # the decimal comma, as _exact reads it
    rows = body.removesuffix("\n").count("\n") + 1 if body else 0
    # Where most columns are used, numpy reads them all, and itself refuses a line of
    # another width; else only the used ones are parsed, the widths checked here first.
    whole = width <= 2 * len(at)
    from_file = bool(whole and file and rows and at)
    if from_file:  # numpy reads the rows from the file: no list of a million lines made
        source, skip = file[0], file[1]
    else:
        lines = body.removesuffix("\n").split("\n") if body else []
        if not at or not lines:
            return None if _widths_differ(lines, separator, width) else [np.empty(0) for _ in at]
        if not whole and _widths_differ(lines, separator, width):
            return None
        source, skip = lines, 0
    try:
        table = np.loadtxt(source, np.float64, comments=None, delimiter=separator,
                           skiprows=skip, usecols=None if whole else at, ndmin=2)  # fmt: skip
    except ValueError:
        return None  # a ragged line, a cell that is no number: _exact words it
    if len(table) != rows or table.shape[1] != (width if whole else len(at)):
        return None  # a blank line, which _exact reads as _exact does
    return [np.ascontiguousarray(table[:, j if not whole else at[j]]) for j in range(len(at))]


def _widths_differ(lines: list[str], separator: str | None, width: int) -> bool:
    """Whether a line has another number of fields than the header (or is blank)."""
    if separator is None:
        return bool(set(map(len, map(str.split, lines))) - {width})
    return bool(set(map(str.count, lines, repeat(separator))) - {width - 1})


def _exact(
    body: str, first: int, layout: _Layout, header: list[str], at: list[int], label: str,
    convert: Callable[[str], Any] | None = None,
) -> list[Any]:  # fmt: skip
    """The columns ``at``, line by line as ``streams.py`` reads point lines; the
    first bad line raises, with its number. A plain line (no quote, no comment) is
    split here and its fields not stripped: ``float`` ignores the spaces. With
    ``convert`` (``str.strip``: the cells' text), lists of what it makes of them."""
    separator = layout.separator
    number_of = _comma_float if separator == ";" else float
    text = convert is not None
    convert = convert or number_of
    values: list[list[float]] = [[] for _ in at]
    wanted = list(zip(at, values))
    width = len(header)
    for number, raw in enumerate(body.split("\n"), first):
        if '"' in raw or "#" in raw:
            line = _content(raw)
            try:
                fields = layout.fields(line) if line else []
            except UsageError as e:
                raise e.prefixed(f"line {number} of {label}: ") from None
        else:
            line = raw.strip(" ")  # as _content: a tab at the end is an empty last field
            fields = (line.split(separator) if separator else line.split()) if line else []
        if not fields or line.isspace():
            continue  # a blank line, or a comment
        if len(fields) != width:
            before = body.split("\n", number - first)[: number - first]  # only for the message
            raise _ragged(number, label, len(fields), width, not any(map(_content, before)))
        try:
            for k, column in wanted:
                column.append(convert(fields[k]))
        except ValueError:
            raise _bad_cell(f"line {number} of {label}", fields, header, at, convert) from None
    return values if text else [np.array(v, dtype=np.float64) for v in values]


def _comma_float(text: str) -> float:
    return float(text.replace(",", "."))


def _ragged(number: int, label: str, got: int, width: int, first: bool) -> UsageError:
    hint = None
    if got == width + 1 and first:  # the first row, so maybe every row: R's row names
        hint = "R's write.table gives row names no header column: use write.csv or row.names=FALSE"
    fields = "field" if got == 1 else "fields"
    return UsageError(f"line {number} of {label} has {got} {fields}; the header has {width}", hint)


def _bad_cell(
    where: str, fields: list[str], header: list[str], at: list[int], convert: Callable[[str], float]
) -> UsageError:
    for k in at:
        cell = fields[k].strip()
        try:
            convert(cell)
        except ValueError:
            if not cell:
                return UsageError(
                    f"{where}, column {header[k]}: the cell is empty",
                    "write nan where a value is missing",
                )
            hint = _not_a_number(cell, "").hint  # a − or a no-break space copied in
            return UsageError(f"{where}, column {header[k]}: {cell!r} is not a number", hint)
    raise AssertionError("no bad cell")  # only called after a cell failed


# --- numpy and parquet -----------------------------------------------------------


def _npz(path: str) -> _Source:
    with _archive(path) as archive:
        names = list(archive.files)

    def read(keep: list[str]) -> dict[str, np.ndarray]:
        with _archive(path) as archive:  # lazy: only the members asked for are read
            return {name: _as_rows(name, _member(archive, name, path), path) for name in keep}

    return _Source(path, names, read, vectors=False)


def _archive(path: str) -> np.lib.npyio.NpzFile:
    try:
        archive = np.load(path, allow_pickle=False)
    except _DAMAGED as e:
        raise UsageError(
            f"cannot read {path}: {_why(e, 'an .npz archive')}", "numpy.savez writes .npz archives"
        ) from None
    if isinstance(archive, np.ndarray):
        raise UsageError(
            f"{path} is one .npy array, not an .npz archive of named arrays",
            f"rename it to .npy and bind it to a name: NAME={path[:-4]}.npy",
        )
    return archive


def _member(archive: np.lib.npyio.NpzFile, name: str, path: str) -> np.ndarray:
    try:
        return archive[name]
    except _DAMAGED as e:
        raise UsageError(f"cannot read {name} from {path}: {_why(e, 'an array')}") from None


def _npy(name: str, path: str) -> _Source:
    _check_file(path)

    def read(keep: list[str]) -> dict[str, np.ndarray]:
        return {name: _as_rows(name, _load_npy(path), path)} if keep else {}

    return _Source(path, [name], read, vectors=False)


def _load_npy(path: str) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except _DAMAGED as e:
        raise UsageError(f"cannot read {path}: {_why(e, 'a .npy file')}") from None
    if not isinstance(array, np.ndarray):
        array.close()
        raise UsageError(
            f"{path} is an .npz archive, not one .npy array",
            "rename it to .npz: its arrays bind by their names",
        )
    return array


def _why(error: Exception, kind: str) -> str:
    """What is wrong with a file that should be ``kind``, in words; never numpy's
    advice to load it with pickle (which runs code from the file)."""
    text = str(error) or type(error).__name__
    if text.startswith("Object arrays"):
        return "it holds Python objects, not numbers (an object array)"
    if "pickle" in text:  # np.load tries pickle on what is neither .npy nor .npz
        return f"not {kind}"
    return f"not {kind}, or a damaged one: {text[:1].lower() + text[1:]}"


def _as_rows(name: str, array: np.ndarray, label: str) -> np.ndarray:
    """A data column as float64 with a first axis of rows: not a single number."""
    if array.ndim == 0:
        raise UsageError(f"{name} in {label} is a single number, not a column of rows")
    return _real(name, array, label)


def _real(name: str, array: np.ndarray, label: str) -> np.ndarray:
    """float64 from integers or bools too; text, objects, complex or dates are errors."""
    if array.dtype.kind not in "biuf":
        raise UsageError(f"{name} in {label} does not hold real numbers (dtype {array.dtype})")
    return np.asarray(array, dtype=np.float64)


def pyarrow() -> tuple[Any, Any]:
    """``pyarrow`` and ``pyarrow.parquet``, or a ``UsageError`` that says how to get them."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError(
            "reading .parquet needs the parquet extra: pip install 'adcli[parquet]'"
        ) from None
    return pa, pq


def _parquet(path: str, groups: list[int] | None = None, filesystem: Any = None) -> _Source:
    """A Parquet file, or only its row ``groups`` (a partition of ``--engine dask``);
    ``filesystem``: fsspec's, for a URL (``s3://…``)."""
    pa, pq = pyarrow()
    failed = (OSError, ValueError, NotImplementedError, pa.ArrowException)
    where = {"filesystem": filesystem} if filesystem is not None else {}
    inside = filesystem._strip_protocol(path) if filesystem is not None else path
    try:
        names = list(pq.read_schema(inside, **where).names)
    except failed as e:
        raise UsageError(f"cannot read {path}: {_why(e, 'a parquet file')}") from None

    def read(keep: list[str]) -> dict[str, np.ndarray]:
        try:
            if groups is None:  # only these columns are read
                table = pq.read_table(inside, columns=keep, **where)
            else:
                table = pq.ParquetFile(inside, **where).read_row_groups(groups, columns=keep)
            columns = {name: table.column(name) for name in keep}
            for name, column in columns.items():
                if column.null_count:
                    raise UsageError(
                        f"column {name} of {path} has {column.null_count} missing values (nulls)"
                    )
            return {name: _as_rows(name, c.to_numpy(), path) for name, c in columns.items()}
        except failed as e:
            raise UsageError(f"cannot read {path}: {_why(e, 'a parquet file')}") from None

    label = path if groups is None else f"{path} (row groups {groups[0]}–{groups[-1] + 1})"
    return _Source(label, names, read)


_READERS: dict[str, Callable[[str], _Source]] = {
    ".csv": _text_file, ".tsv": _text_file, ".txt": _text_file,
    ".npz": _npz, ".parquet": _parquet,
}  # fmt: skip


# --- --with ------------------------------------------------------------------------


def bindings(specs: Sequence[str]) -> dict[str, float | np.ndarray]:
    """The values of the ``--with`` options: ``a=1,b=2``, ``@result.json`` (a flat
    object, or a saved result's ``"params"``), ``@params.npz``; a later one wins."""
    bound: dict[str, float | np.ndarray] = {}
    for spec in specs:
        spec = spec.strip()
        if not spec.startswith("@"):
            bound.update(_pairs(spec))
            continue
        path = spec[1:]
        fmt = _format(path)
        if fmt not in (".json", ".npz"):
            raise UsageError(f"{spec}: parameters come from a .json or .npz file")
        _check_file(path)
        bound.update(_json_params(path) if fmt == ".json" else _npz_params(path))
    return bound


def _pairs(spec: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in spec.split(","):
        name, eq, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not re.fullmatch(_NAME, name):
            raise UsageError(f"expected name=value, got {item.strip()!r}")
        if name in values:
            raise UsageError(f"{name} is given twice in {spec}")
        values[name] = _number(value, f"{name}={value}: ")
    return values


def _json_params(path: str) -> dict[str, float | np.ndarray]:
    try:
        found = json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise UsageError(
            f"{path} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
        ) from None
    if isinstance(found, dict) and isinstance(found.get("params"), dict):
        found = found["params"]  # a saved fit or minimize result
    if not isinstance(found, dict):
        hint = 'write {"w": 1.5, "b": [0.1, 0.2]}, or give a saved result (its "params")'
        raise UsageError(f"{path} holds {type(found).__name__}, not an object of parameters", hint)
    return {name: _json_value(name, value, path) for name, value in found.items()}


def _json_value(name: str, value: object, path: str) -> float | np.ndarray:
    """A number, or nested lists of them as a float64 array. ``"nan"``, ``"inf"`` and
    ``"-inf"`` are numbers: adcli's JSON writes non-finite floats so."""
    pending = [value]
    while pending:  # every leaf, without recursion: a list may nest deeply
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif not _json_number(item):
            shown = json.dumps(item)  # as the file writes it: true, "two", null
            raise UsageError(f"{path}: {name} holds {shown}, not a number or a list of numbers")
    try:
        if not isinstance(value, list):
            return float(value)  # type: ignore[arg-type]
        return np.array(value, dtype=np.float64)
    except OverflowError:  # JSON integers have no limit: 1e400 written out
        raise UsageError(f"{path}: {name} holds a number too large for a float") from None
    except ValueError:
        raise UsageError(f"{path}: {name} is a ragged list (its rows differ in length)") from None


def _json_number(item: object) -> bool:
    if isinstance(item, bool):
        return False  # true is not 1 here
    return isinstance(item, (int, float)) or item in ("nan", "inf", "-inf")


def _npz_params(path: str) -> dict[str, float | np.ndarray]:
    with _archive(path) as archive:
        arrays = {name: _member(archive, name, path) for name in archive.files}
    values = {name: _real(name, array, path) for name, array in arrays.items()}
    return {name: float(a) if a.ndim == 0 else a for name, a in values.items()}
