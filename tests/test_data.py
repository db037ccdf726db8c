"""Data files (``--data``) and ``--with`` bindings (SPEC §9; CSV as in §8)."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adcli import data
from adcli.data import bindings, describe, load
from adcli.errors import UsageError


def write(path, text: str, newline: str = "\n"):
    """A text file written byte for byte (``\\r\\n`` stays ``\\r\\n``)."""
    path.write_bytes(text.replace("\n", newline).encode())
    return str(path)


def columns(d) -> dict[str, list]:
    return {name: values.tolist() for name, values in d.items()}


def error(specs, used=None, **kwargs) -> str:
    """The whole text a user sees for the error ``load`` raises."""
    with pytest.raises(UsageError) as caught:
        load(specs, used, **kwargs)
    assert caught.value.exit_code == 2
    return caught.value.render()


# --- CSV as people write it --------------------------------------------------------


def test_csv_columns_are_float64_vectors_with_their_file(tmp_path):
    path = write(tmp_path / "data.csv", "x,y\n1,2\n3,4.5\n-1e3,nan\n")
    d = load([path])
    assert d.rows == 3 and d.names == ["x", "y"] and list(d) == ["x", "y"]
    assert d["x"].dtype == np.float64 and d["x"].shape == (3,)
    assert d["x"].tolist() == [1.0, 3.0, -1000.0]
    assert np.isnan(d["y"][2]) and d["y"][1] == 4.5
    assert d.source == {"x": path, "y": path}
    assert set(dict(d)) == {"x", "y"} and len(d) == 2


@pytest.mark.parametrize(
    ("name", "text"),
    [("t.tsv", "x\ty\n1\t2\n3\t4\n"),
     ("s.csv", "x;y\n1,5;2\n3;4,25\n"),  # ; with a decimal comma (R's write.csv2)
     ("w.txt", "x   y\n 1  2\n3\t4  \n"),  # columns under spaces
     ("b.csv", "\ufeffx,y\n1,2\n3,4\n"),  # a byte-order mark, as Excel writes
     ("q.csv", '"x","y"\n1,2\n"3","4"\n')],
)  # fmt: skip
def test_csv_separators_and_quotes(tmp_path, name, text):
    d = load([write(tmp_path / name, text)])
    expected = {"x": [1.0, 3.0], "y": [2.0, 4.0]}
    if name == "s.csv":
        expected = {"x": [1.5, 3.0], "y": [2.0, 4.25]}
    assert columns(d) == expected


def test_r_write_csv_with_row_names_and_crlf(tmp_path):
    text = '"","x","y"\n"1",0.5,"a"\n"2",1.5,"b"\n'
    path = write(tmp_path / "r.csv", text, newline="\r\n")
    d = load([path], ["x"])
    assert columns(d) == {"x": [0.5, 1.5]}
    assert d.names == ["x", "y"]  # the unnamed row-name column is never a column


def test_crlf_plain_file_reads_every_row(tmp_path):
    path = write(tmp_path / "c.csv", "x,y\n1,2\n3,4\n", newline="\r\n")
    assert columns(load([path])) == {"x": [1.0, 3.0], "y": [2.0, 4.0]}


def test_comments_and_blank_lines_are_skipped_and_lines_still_counted(tmp_path):
    text = "# made by hand\n\nx,y\n1,2  # first\n\n# a note\n3,4\n"
    path = write(tmp_path / "c.csv", text)
    assert columns(load([path])) == {"x": [1.0, 3.0], "y": [2.0, 4.0]}
    bad = write(tmp_path / "bad.csv", text + "# more\n5,oops\n")
    assert error([bad]) == f"line 9 of {bad}, column y: 'oops' is not a number"


def test_gzip_by_extension(tmp_path):
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(b"x,y\r\n1,2\r\n3,4\r\n"))
    assert columns(load([str(path)])) == {"x": [1.0, 3.0], "y": [2.0, 4.0]}


def test_standard_input_is_csv():
    stdin = io.StringIO("x;y\r\n1,5;2\r\n3;4\r\n")
    d = load(["-"], stdin=stdin)
    assert columns(d) == {"x": [1.5, 3.0], "y": [2.0, 4.0]}
    assert d.source["x"] == "standard input"
    bad = io.StringIO("x,y\n1,2\n3\n")
    assert error(["-"], stdin=bad) == "line 3 of standard input has 1 field; the header has 2"


def test_numbers_python_reads_that_numpy_does_not(tmp_path):
    # 1_000 is a number to float() (and to --at @file); the fast path refuses it and
    # the exact path reads it, so the two paths never disagree on what is a number.
    path = write(tmp_path / "u.csv", "x,y\n1_000,2\n3,4\n")
    assert columns(load([path])) == {"x": [1000.0, 3.0], "y": [2.0, 4.0]}


# --- only the columns used ---------------------------------------------------------


def test_unused_columns_are_not_kept_nor_converted(tmp_path):
    path = write(tmp_path / "d.csv", "name,x,note,y\nann,1,n/a,2\nbob,3,,4\n")
    d = load([path], ["x", "y", "w"])  # w is a parameter: no file has it
    assert columns(d) == {"x": [1.0, 3.0], "y": [2.0, 4.0]}
    assert d.names == ["name", "x", "note", "y"]
    assert error([path], ["name"]) == f"line 2 of {path}, column name: 'ann' is not a number"


def test_npz_members_not_used_are_not_read(tmp_path):
    path = str(tmp_path / "d.npz")
    np.savez(path, X=np.arange(6).reshape(3, 2), labels=np.array([{}, 1, 2], dtype=object))
    d = load([path], ["X"])  # reading labels would fail: it holds Python objects
    assert d["X"].dtype == np.float64 and d["X"].tolist() == [[0, 1], [2, 3], [4, 5]]
    assert d.rows == 3 and d.names == ["X", "labels"]
    assert error([path], ["labels"]) == (
        f"cannot read labels from {path}: it holds Python objects, not numbers (an object array)"
    )


def test_a_npy_not_used_is_not_read(tmp_path):
    path = tmp_path / "w.npy"
    path.write_bytes(b"not numpy at all")
    assert dict(load([f"w={path}"], ["x"])) == {}
    assert error([f"w={path}"], ["w"]).startswith(f"cannot read {path}: not a .npy file")


# --- numpy files, several files ----------------------------------------------------


def test_npz_arrays_by_name_of_any_shape(tmp_path):
    path = str(tmp_path / "d.npz")
    np.savez(path, X=np.ones((4, 2, 3)), y=np.arange(4), ok=np.array([True, False] * 2))
    d = load([path])
    assert d["X"].shape == (4, 2, 3) and d["y"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert d["ok"].tolist() == [1.0, 0.0, 1.0, 0.0] and d.rows == 4
    assert all(a.dtype == np.float64 for a in d.values())


def test_name_equals_npy_binds_one_array(tmp_path):
    path = str(tmp_path / "labels.npy")
    np.save(path, np.array([0, 1, 1]))
    d = load([f"label={path}"])
    assert columns(d) == {"label": [0.0, 1.0, 1.0]} and d.source == {"label": path}


def test_several_files_merge_and_describe_them(tmp_path):
    features = write(tmp_path / "data.csv", "x,y\n1,2\n3,4\n")
    labels = str(tmp_path / "labels.npy")
    np.save(labels, np.array([1.0, 0.0]))
    d = load([features, f"label={labels}"])
    assert columns(d) == {"x": [1.0, 3.0], "y": [2.0, 4.0], "label": [1.0, 0.0]}
    assert d.source == {"x": features, "y": features, "label": labels}
    assert describe(d) == f"{features} has x, y; {labels} has label"
    assert repr(d) == f"Data(2 rows; {features} has x, y; {labels} has label)"


def test_describe_counts_what_it_does_not_list(tmp_path):
    names = [f"c{i}" for i in range(15)]
    path = write(tmp_path / "wide.csv", ",".join(names) + "\n" + ",".join("1" * 15) + "\n")
    shown = ", ".join(names[:12])
    assert describe(load([path], [])) == f"{path} has {shown} and 3 more"


# --- the errors ----------------------------------------------------------------------


def test_ragged_row(tmp_path):
    path = write(tmp_path / "data.csv", "x,y\n1,2\n3,4\n5,6\n7,8,9\n")
    assert error([path]) == f"line 5 of {path} has 3 fields; the header has 2"
    # ragged even where the extra field is in no column used
    assert error([path], ["x"]) == f"line 5 of {path} has 3 fields; the header has 2"


def test_one_more_field_on_the_first_row_suggests_r_row_names(tmp_path):
    path = write(tmp_path / "t.txt", "x y\n1 2 3\n")
    assert error([path]) == (
        f"line 2 of {path} has 3 fields; the header has 2\n"
        "R's write.table gives row names no header column: use write.csv or row.names=FALSE"
    )


def test_non_numeric_cell_names_line_and_column(tmp_path):
    path = write(tmp_path / "data.csv", "x,y\n" + "1,2\n" * 5 + "3,abc\n")
    assert error([path]) == f"line 7 of {path}, column y: 'abc' is not a number"


def test_empty_cell_is_an_error(tmp_path):
    path = write(tmp_path / "data.csv", "x,y\n1,2\n3,  \n")
    assert error([path]) == (
        f"line 3 of {path}, column y: the cell is empty\nwrite nan where a value is missing"
    )


def test_a_minus_sign_from_a_document_is_named(tmp_path):
    path = write(tmp_path / "data.csv", "x\n\u22121.5\n")
    message = error([path])
    assert message.startswith(f"line 2 of {path}, column x: '\u22121.5' is not a number\n")
    assert "write -1.5" in message


def test_columns_of_different_lengths(tmp_path):
    a = write(tmp_path / "a.csv", "x\n" + "1\n" * 100)
    b = str(tmp_path / "b.npy")
    np.save(b, np.zeros(99))
    assert error([a, f"y={b}"]) == (
        f"x has 100 rows ({a}) and y has 99 ({b}): every column needs the same number of rows"
    )
    assert load([a, f"y={b}"], ["x"]).rows == 100  # y is not used: no conflict


def test_same_name_in_two_files(tmp_path):
    a = write(tmp_path / "a.csv", "x,id\n1,7\n")
    b = write(tmp_path / "b.csv", "id,y\n7,2\n")
    assert error([a, b]) == (
        f"id is a column of both {a} and {b}\nrename one of them, or leave one file out"
    )
    assert columns(load([a, b], ["x", "y"])) == {"x": [1.0], "y": [2.0]}


def test_same_name_twice_in_one_header(tmp_path):
    path = write(tmp_path / "d.csv", "x,y,x\n1,2,3\n")
    assert error([path]) == f"the header of {path} names x twice (columns 1 and 3)"
    assert columns(load([path], ["y"])) == {"y": [2.0]}


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert error(["data.csv"]) == "no such file: data.csv"
    assert error(["w=weights.npy"]) == "no such file: weights.npy"


def test_unknown_extension_names_the_known_formats(tmp_path):
    message = error([str(tmp_path / "data.xlsx")])
    assert message.startswith(f"{tmp_path / 'data.xlsx'}: unknown data format '.xlsx'\n")
    for known in (".csv", ".tsv", ".txt", ".gz", ".npz", "NAME=FILE.npy", ".parquet"):
        assert known in message


def test_a_npy_needs_a_name(tmp_path):
    path = str(tmp_path / "y.npy")
    np.save(path, np.zeros(2))
    assert error([path]) == (
        f"{path} holds one array without a name\n"
        f"bind it to the name the expression uses: NAME={path}"
    )


def test_parquet_without_pyarrow_says_which_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    assert error([str(path)]) == (
        "reading .parquet needs the parquet extra: pip install 'adcli[parquet]'"
    )


def test_parquet_columns_when_pyarrow_is_there(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = str(tmp_path / "d.parquet")
    pq.write_table(pa.table({"x": [1, 2], "name": ["a", "b"], "y": [0.5, None]}), path)
    assert columns(load([path], ["x"])) == {"x": [1.0, 2.0]}
    assert error([path], ["y"]) == f"column y of {path} has 1 missing values (nulls)"
    assert error([path], ["name"]).startswith(f"name in {path} does not hold real numbers")


def test_corrupt_gzip(tmp_path):
    fake = write(tmp_path / "fake.csv.gz", "x,y\n1,2\n")
    assert error([fake]).startswith(f"cannot read {fake}: not gzip data, or damaged")
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gzip.compress(b"x,y\n" + b"1,2\n" * 1000)[:40])
    assert error([str(cut)]).startswith(f"cannot read {cut}: not gzip data, or damaged")


def test_corrupt_npz(tmp_path):
    text = write(tmp_path / "t.npz", "x,y\n1,2\n")
    assert (
        error([text])
        == f"cannot read {text}: not an .npz archive\nnumpy.savez writes .npz archives"
    )
    good = tmp_path / "g.npz"
    np.savez(good, x=np.arange(100))
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:150])
    assert error([str(cut)]).startswith(f"cannot read {cut}: not an .npz archive, or a damaged one")


def test_pickled_npy_is_refused_without_unpickling(tmp_path):
    path = str(tmp_path / "o.npy")
    np.save(path, np.array([{"a": 1}, 2], dtype=object))
    message = error([f"o={path}"])
    assert message == f"cannot read {path}: it holds Python objects, not numbers (an object array)"
    assert "allow_pickle" not in message


def test_text_and_scalars_are_not_columns(tmp_path):
    path = str(tmp_path / "d.npz")
    np.savez(path, s=np.float64(2.0), w=np.array(["a", "b"]))
    assert error([path], ["s"]) == f"s in {path} is a single number, not a column of rows"
    assert error([path], ["w"]) == f"w in {path} does not hold real numbers (dtype <U1)"


def test_header_missing(tmp_path):
    path = write(tmp_path / "d.csv", "# numbers only\n1,2\n3,4\n")
    assert error([path]) == (
        f"the first line of {path} must name the columns, got '1,2'\n"
        "add a header line above the rows, e.g. x1,x2"
    )


def test_separator_not_recognised_shows_the_line(tmp_path):
    path = write(tmp_path / "d.csv", "x|y\n1|2\n")
    assert error([path]) == (
        f"line 1 of {path}: cannot tell how the columns are separated in 'x|y'\n"
        "separate the columns with commas, semicolons, tabs or spaces"
    )


def test_empty_file_unclosed_quote_and_not_utf8(tmp_path):
    empty = write(tmp_path / "e.csv", "# nothing\n\n")
    assert error([empty]) == f"{empty} is empty\na data file starts with a line naming the columns"
    quote = write(tmp_path / "q.csv", 'x,y\n1,2\n"3,4\n')
    assert error([quote]) == (
        f"line 3 of {quote}: cannot read the quoted fields of '\"3,4': a quote is not closed"
    )
    latin = tmp_path / "l.csv"
    latin.write_bytes("größe,y\n1,2\n".encode("latin-1"))
    assert error([str(latin)]).startswith(f"{latin} is not UTF-8 text")


def test_same_file_twice_and_a_folder(tmp_path):
    path = write(tmp_path / "d.csv", "x\n1\n")
    assert error([path, path]) == f"{path} is given twice"
    folder = tmp_path / "f.csv"
    folder.mkdir()
    assert error([str(folder)]) == (f"{folder} is a folder, not a file\n"
                                    "a folder or a pattern of files is the partitions of "
                                    "--engine dask")  # fmt: skip
    assert error([str(tmp_path)]).startswith(f"{tmp_path} is a folder, not a file")
    assert error([str(tmp_path / "part-*.csv")]).endswith("the partitions of --engine dask")


def test_name_equals_is_only_for_npy(tmp_path):
    path = write(tmp_path / "d.csv", "x\n1\n")
    assert error([f"y={path}"]) == (
        f"y={path}: NAME=FILE binds the one array of a .npy file\n"
        f"{path} names its own columns: give just {path}"
    )


# --- the fast path reads as the exact one ------------------------------------------

CELLS = ["1", "-2.5", " 3 ", "1e3", "nan", "-inf", "1_0", "abc", "", "0x10", "1,5", "\u22121", "  "]


@given(
    separator=st.sampled_from([",", ";", "\t", None]),
    table=st.lists(st.lists(st.sampled_from(CELLS), min_size=2, max_size=2), max_size=4),
    ragged=st.booleans(),
)
def test_fast_path_agrees_with_exact_path(separator, table, ragged):
    header = ["x", "y"]
    lines = [(separator or " ").join(row) for row in table]
    if ragged and lines:
        lines[-1] += separator or " 1"
    body = "".join(line + "\n" for line in lines)
    layout = data._Layout(separator, ())
    try:
        exact = data._exact(body, 2, layout, header, [0, 1], "t.csv")
    except UsageError:
        exact = None
    fast = data._fast(body, separator, 2, [0, 1])
    if fast is not None:  # what the fast path accepts, the exact one reads the same
        assert exact is not None
        for a, b in zip(fast, exact, strict=True):
            np.testing.assert_array_equal(a, b)
    plain = {"1", "-2.5", "1e3", "nan", "-inf"}
    if not ragged and all(cell in plain for row in table for cell in row):
        assert fast is not None  # clean files do take the fast path


def test_clean_files_take_the_fast_path(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(1000, 3))
    path = str(tmp_path / "big.csv")
    np.savetxt(path, values, delimiter=",", header="x,y,z", comments="", fmt="%.17g")
    monkeypatch.setattr(data, "_exact", None)  # fails if called
    d = load([path], ["x", "z"])
    assert np.array_equal(d["x"], values[:, 0]) and np.array_equal(d["z"], values[:, 2])
    assert d["x"].flags["C_CONTIGUOUS"]


# --- --with ----------------------------------------------------------------------


def test_with_pairs_and_later_wins():
    assert bindings(["a=1,b=2.5", " b = -3 "]) == {"a": 1.0, "b": -3.0}


def test_with_json_flat_and_saved_result(tmp_path):
    flat = tmp_path / "p.json"
    flat.write_text(json.dumps({"w": [[1, 2], [3, 4]], "b": 0.5, "c": "nan"}))
    saved = tmp_path / "fit.json"
    saved.write_text(json.dumps({"params": {"b": 2, "k": "-inf"}, "rss": 1.0, "reason": "x"}))
    bound = bindings([f"@{flat}", f"@{saved}"])
    assert list(bound) == ["w", "b", "c", "k"]
    assert bound["w"].dtype == np.float64 and bound["w"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert bound["b"] == 2.0 and isinstance(bound["b"], float)
    assert np.isnan(bound["c"]) and bound["k"] == -np.inf


def test_with_npz(tmp_path):
    path = tmp_path / "params.npz"
    np.savez(path, W1=np.ones((2, 3), dtype=np.float32), lr=np.float64(0.1))
    bound = bindings([f"@{path}", "lr=0.5"])
    assert bound["W1"].dtype == np.float64 and bound["W1"].shape == (2, 3)
    assert bound["lr"] == 0.5


def with_error(*specs: str) -> str:
    with pytest.raises(UsageError) as caught:
        bindings(list(specs))
    return caught.value.render()


def test_with_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert with_error("a=1,b=x1") == "b=x1: expected a number, got 'x1'"
    assert with_error("a=1,2") == "expected name=value, got '2'"
    assert with_error("a=1,a=2") == "a is given twice in a=1,a=2"
    assert with_error("@result.json") == "no such file: result.json"
    assert with_error("@p.csv") == "@p.csv: parameters come from a .json or .npz file"
    (tmp_path / "bad.json").write_text("{'w': 1}")
    assert with_error("@bad.json").startswith("bad.json is not valid JSON: Expecting property")
    (tmp_path / "list.json").write_text("[1, 2]")
    assert with_error("@list.json").startswith("list.json holds list, not an object of parameters")
    (tmp_path / "text.json").write_text('{"w": [1, "two"]}')
    assert with_error("@text.json") == 'text.json: w holds "two", not a number or a list of numbers'
    (tmp_path / "bool.json").write_text('{"w": true}')
    assert with_error("@bool.json") == "bool.json: w holds true, not a number or a list of numbers"
    (tmp_path / "ragged.json").write_text('{"w": [[1, 2], [3]]}')
    assert (
        with_error("@ragged.json") == "ragged.json: w is a ragged list (its rows differ in length)"
    )
    (tmp_path / "huge.json").write_text('{"w": 1' + "0" * 400 + "}")
    assert with_error("@huge.json") == "huge.json: w holds a number too large for a float"
    (tmp_path / "bad.npz").write_text("not an archive")
    assert with_error("@bad.npz").startswith("cannot read bad.npz: not an .npz archive")


# --- layering --------------------------------------------------------------------


def test_the_command_line_does_not_load_this_module():
    code = "import adcli, adcli.cli, sys; print('adcli.data' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name, text", [
    ("plain.csv", "x,y\n1,2\n3.5,-4e3\n"),
    ("crlf.csv", "x,y\r\n1,2\r\n3.5,-4e3\r\n"),
    ("bom.csv", "\ufeffx,y\n1,2\n3.5,-4e3"),
    ("late.csv", "# made by hand\n\n# columns:\nx,y\n1,2\n3.5,-4e3\n"),
    ("spaces.txt", "x y\n1 2\n3.5   -4e3\n"),
    ("tabs.tsv", "x\ty\n1\t2\n3.5\t-4e3\n"),
])  # fmt: skip
def test_numpy_reading_the_file_itself_reads_what_the_lines_say(tmp_path, name, text):
    """Where every column is used, numpy reads a plain file from disk, skipping the
    lines up to the header: the same numbers as from the text, however it is laid out."""
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    gz = tmp_path / (name + ".gz")
    gz.write_bytes(gzip.compress(text.encode("utf-8")))
    for file in (path, gz):
        data = load([str(file)], ["x", "y"])
        assert data["x"].tolist() == [1.0, 3.5] and data["y"].tolist() == [2.0, -4000.0]


def test_a_blank_line_among_the_rows_is_read_as_the_exact_reader_reads_it(tmp_path):
    path = tmp_path / "gap.csv"
    path.write_text("x,y\n1,2\n\n3,4\n")
    assert load([str(path)], ["x", "y"])["x"].tolist() == [1.0, 3.0]
