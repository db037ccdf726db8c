"""The partitions of ``--data`` on ``--engine dask`` (SPEC §11): a glob, a folder or a
file, each file a partition, and a large file cut into blocks (CSV by byte ranges at
line ends, Parquet by row groups), so that no partition outgrows a worker.

Paths are taken as the workers see them: the engine expands and reads them on a
worker, never on the client, which needs no access to the data at all. A URL
(``s3://bucket/rows/``, ``gs://…``, ``file://…``) is read through fsspec, which Dask
brings, with the filesystem's own package (s3fs, gcsfs) where it is installed.
Nothing here imports Dask.
"""

from __future__ import annotations

import glob
import os
import re
from typing import NamedTuple

from .data import (
    _TEXT,
    _csv,
    _file_text,
    _first_line,
    _format,
    _npz,
    _parquet,
    _Source,
    pyarrow,
)  # fmt: skip
from .errors import UsageError

BLOCK = 64 * 2**20  # bytes: a bigger file is read as several partitions (Dask's own size)
_FORMATS = (*_TEXT, ".parquet", ".npz")
_GLOB = re.compile(r"[*?\[]")
_KINDS = "partitions are .csv, .tsv, .txt (also .gz), .parquet or .npz files"
_HEAD = 1 << 20  # bytes read from a file's start for its header line (comments above it)


class Part(NamedTuple):
    """One partition: a file, or a block of it. For text, the lines that start in the
    byte range ``[start, end)``; for Parquet, the row groups ``start`` to ``end − 1``;
    ``end`` None: the whole file."""

    path: str
    start: int = 0
    end: int | None = None

    @property
    def label(self) -> str:
        if self.end is None:
            return self.path
        unit = "row groups" if _format(self.path) == ".parquet" else "bytes"
        return f"{self.path} ({unit} {self.start}–{self.end})"


def expand(spec: str, block: int = BLOCK) -> list[Part]:
    """The partitions ``spec`` names: the files a glob matches or a folder holds (CSV,
    TSV, text, each also .gz, and Parquet), in natural order (``part-2`` before
    ``part-10``), each cut into blocks of about ``block`` bytes."""
    fs = _filesystem(spec)
    if fs.isdir(spec):
        paths = [p for p in fs.ls(spec, detail=False) if fs.isfile(p) and _format(p) in _FORMATS]
        where = f"the folder {spec}"
    elif _GLOB.search(spec):
        paths = [p for p in fs.glob(spec) if fs.isfile(p)]
        where = f"the pattern {spec}"
    elif fs.isfile(spec):
        paths = [spec]
        where = spec
    else:
        raise UsageError(f"no such file or folder: {spec}",
                         "give a file, a folder, or a pattern: 'data/part-*.csv'")  # fmt: skip
    if "://" in spec:  # fsspec names them without the protocol
        paths = [fs.unstrip_protocol(p) for p in paths]
    if not paths:
        raise UsageError(f"{where} has no data files", _KINDS)
    odd = [p for p in paths if _format(p) not in _FORMATS]
    if odd:
        raise UsageError(f"{odd[0]} is not a file a partition can be", _KINDS)
    return [part for path in sorted(paths, key=_natural) for part in _blocks(path, block)]


def _filesystem(path: str):
    """fsspec's filesystem for a URL; for a plain path, the local one (``_Local``)."""
    if "://" not in path:
        return _LOCAL
    try:
        import fsspec

        return fsspec.core.url_to_fs(path)[0]
    except ImportError as e:  # fsspec itself, or the filesystem's package (s3fs, gcsfs)
        raise UsageError(f"cannot read {path}: {e}",
                         "install the filesystem's package: s3fs for s3://, gcsfs for "
                         "gs://; fsspec comes with the dask extra") from None  # fmt: skip
    except ValueError as e:  # a protocol fsspec does not know
        raise UsageError(f"cannot read {path}: {e}") from None


class _Local:
    """The local filesystem with the few calls of fsspec's that ``expand`` makes."""

    isdir = staticmethod(os.path.isdir)
    isfile = staticmethod(os.path.isfile)
    size = staticmethod(os.path.getsize)

    @staticmethod
    def ls(path: str, detail: bool = False) -> list[str]:
        return [os.path.join(path, name) for name in os.listdir(path)]

    @staticmethod
    def glob(pattern: str) -> list[str]:
        return glob.glob(pattern)

    @staticmethod
    def open(path: str, mode: str = "rb"):
        return open(path, mode)


_LOCAL = _Local()


def _natural(path: str) -> list:
    return [int(piece) if piece.isdigit() else piece for piece in re.split(r"(\d+)", path)]


def _blocks(path: str, block: int) -> list[Part]:
    fs = _filesystem(path)
    size = fs.size(path)
    if _format(path) == ".npz":  # arrays of any shape: a file is a partition
        return [Part(path)]
    if _format(path) == ".parquet":
        _, pq = pyarrow()
        with fs.open(path, "rb") as f:
            groups = pq.ParquetFile(f).metadata.num_row_groups
        if groups < 2 or size <= block:
            return [Part(path)]
        per = max(1, groups * block // size)
        return [Part(path, g, min(g + per, groups)) for g in range(0, groups, per)]
    if path.lower().endswith(".gz") or size <= block:  # gzip cannot be entered midway
        return [Part(path)]
    return [Part(path, at, min(at + block, size)) for at in range(0, size, block)]


def source(part: Part) -> _Source:
    """The partition opened as a data file: its columns' names, and a reader."""
    fmt, fs = _format(part.path), _filesystem(part.path)
    if not fs.isfile(part.path):
        raise UsageError(f"no such file: {part.path}", "paths are as the workers see them")
    if fmt == ".parquet":
        groups = None if part.end is None else list(range(part.start, part.end))
        return _parquet(part.path, groups, None if fs is _LOCAL else fs)
    if fmt == ".npz":
        if fs is not _LOCAL:
            raise UsageError(f"{part.path}: .npz partitions are read from local paths",
                             "put them on a filesystem the workers mount")  # fmt: skip
        return _npz(part.path)
    if part.end is None and fs is _LOCAL:
        return _csv(part.path, _file_text(part.path), part.path)
    return _csv(part.label, _block_text(part, fs))


def shapes(part: Part) -> dict[str, tuple]:
    """Each column's shape, its rows as None: ``(None,)`` for a table's, an .npz
    array's from its header (the array itself is not read)."""
    if _format(part.path) != ".npz":
        return {name: (None,) for name in source(part).names if name}
    import zipfile

    import numpy as np

    found = {}
    with zipfile.ZipFile(part.path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            with archive.open(member) as f:
                version = np.lib.format.read_magic(f)
                read = {(1, 0): np.lib.format.read_array_header_1_0}.get(
                    version, np.lib.format.read_array_header_2_0
                )
                shape = read(f)[0]
            found[member.removesuffix(".npy")] = (None, *shape[1:])
    return found


def _block_text(part: Part, fs) -> str:
    """The file's header line, then the lines that start in the block's byte range:
    a line that crosses the range's end is the block's, one that crosses its start is
    the block before's. A whole file of a URL: all of it (gunzipped where it says .gz)."""
    if part.end is None:
        import gzip

        try:
            with fs.open(part.path, "rb") as f:
                data = f.read()
            if part.path.lower().endswith(".gz"):
                data = gzip.decompress(data)
            return data.decode("utf-8-sig").replace("\r\n", "\n")
        except UnicodeDecodeError:
            raise UsageError(f"{part.label} is not UTF-8 text", "save it as UTF-8") from None
        except (OSError, EOFError) as e:  # gzip's errors are OSErrors too
            raise UsageError(f"cannot read {part.label}: {e}") from None
    with fs.open(part.path, "rb") as f:
        head = f.read(_HEAD) if part.start else b""  # where the header line is
        f.seek(max(part.start - 1, 0))
        if part.start:
            f.readline()  # the end of a line that started in the block before
        at = f.tell()
        body = f.read(part.end - at) if at < part.end else b""
        if body and not body.endswith(b"\n"):
            body += f.readline()
    try:
        text = body.decode("utf-8-sig").replace("\r\n", "\n")
        if not part.start:
            return text
        head_text = head.decode("utf-8-sig", "replace").replace("\r\n", "\n")
        _, header, _ = _first_line(head_text, part.path)
    except UnicodeDecodeError:
        raise UsageError(f"{part.label} is not UTF-8 text", "save it as UTF-8") from None
    return header + "\n" + text
