"""``--at`` specs and point streams (SPEC §2, §8 "Ranges stream", "CSV as people write it")."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
import threading
import tracemalloc

import pytest
from conftest import installed_adcli

from adcli.errors import AdcliError, BindingError, UsageError
from adcli.points import from_spec, linspace
from adcli.streams import from_lines, stdin_lines

BILLION = 10**9


def old_linspace(start: float, stop: float, num: int) -> list[float]:
    """The list the ranges were built from before they streamed: the oracle for every value."""
    if num == 1:
        return [start]
    step = (stop - start) / (num - 1)
    values = [start + i * step for i in range(num)]
    values[-1] = stop
    return values


def read(text: str, variables: list[str], notes: list[str] | None = None) -> list[list[float]]:
    """The points of a point file's text, as ``--at @file`` reads them."""
    lines = io.StringIO(text, newline="")  # keep \r\n as a file read in binary would
    sink = notes.append if notes is not None else lambda message: None
    return list(from_lines(lines, variables, "p.csv", sink))


# --- ranges stream ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "stop", "num"),
    [(0, 1, 11), (-1, 2.5, 7), (3, -2, 5), (0.1, 0.7, 3), (5, 5, 4), (2, 9, 1), (0, 1, 2),
     (1e-300, 1e300, 9), (-0.3, 0.3, 1000)],
)  # fmt: skip
def test_range_values_are_those_of_the_list_and_of_numpy(start, stop, num):
    values = linspace(start, stop, num)
    expected = old_linspace(start, stop, num)
    assert len(values) == num
    assert list(values) == expected  # iteration
    assert [values[i] for i in range(num)] == expected  # indexing
    assert [values[i] for i in range(-num, 0)] == expected  # negative indexing
    with pytest.raises(IndexError):
        values[num]
    np = pytest.importorskip("numpy")
    assert list(values) == list(np.linspace(start, stop, num))


def test_a_billion_point_range_costs_no_memory():
    tracemalloc.start()
    try:
        points = from_spec("x=0:1:1000000000", ["x"])
        first = list(itertools.islice(points.points, 1000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # a list of 10^9 floats would be 8 GB
    assert points.count == BILLION
    step = 1 / (BILLION - 1)
    assert first == [[i * step] for i in range(1000)]
    assert points.points[-1] == [1.0] and points.points[BILLION - 1] == [1.0]
    assert points.points[123_456_789] == [0.0 + 123_456_789 * step]
    bare = from_spec("-1:1:1000000000", ["x"])  # the same without the name
    assert bare.count == BILLION and bare.points[0] == [-1.0] and bare.points[-1] == [1.0]


def test_a_grid_of_two_huge_ranges_streams_in_the_same_order():
    tracemalloc.start()
    try:
        points = from_spec("x=0:1:1000000000,y=-1:1:1000000000", ["x", "y"])
        first = list(itertools.islice(points.points, 3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert points.count == BILLION**2
    sx, sy = 1 / (BILLION - 1), 2 / (BILLION - 1)
    assert first == [[0.0, -1.0], [0.0, -1.0 + sy], [0.0, -1.0 + 2 * sy]]  # y fastest
    assert points.points[BILLION] == [sx, -1.0]  # x moves once y has gone round
    assert points.points[-1] == [1.0, 1.0]


def test_small_grids_are_the_nested_loops_of_the_lists():
    spec = "z=0:1:3,x=5,y=-2:2:4"
    variables = ["z", "x", "y"]
    points = from_spec(spec, variables)
    axes = [old_linspace(0, 1, 3), [5.0], old_linspace(-2, 2, 4)]
    expected = [list(p) for p in itertools.product(*axes)]
    assert points.count == len(expected) == 12
    assert list(points.points) == expected
    assert [points.points[i] for i in range(-12, 12)] == expected + expected
    got = list(from_spec(spec, variables).points)  # each point is a list of its own
    got[0][0] = 99.0
    assert got[1][0] == 0.0


def test_a_count_too_large_to_be_evenly_spaced_is_an_input_error():
    with pytest.raises(UsageError, match="count"):
        from_spec("x=0:1:100000000000000000000", ["x"])
    assert from_spec("x=0:1:9007199254740992", ["x"]).count == 2**53


def test_a_huge_range_on_the_command_line_writes_its_first_rows_at_once():
    proc = subprocess.Popen(
        [*installed_adcli(), "eval", "x", "--at", "x=0:1:100000000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    guard = threading.Timer(30, proc.kill)  # a hang fails the test instead of stalling it
    guard.start()
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
        status = f"/proc/{proc.pid}/status"
        peak = None
        if os.path.exists(status):
            with open(status) as f:
                fields = dict(line.split(":", 1) for line in f)
            peak = int(fields["VmHWM"].split()[0])  # peak resident memory, in kB
    finally:
        guard.cancel()
        proc.kill()
        proc.communicate(timeout=30)
    step = (1.0 - 0.0) / (100_000_000 - 1)
    assert [float(line) for line in lines] == [0.0, 0.0 + 1 * step]
    assert lines[1].strip() == repr(step)
    if peak is not None:
        assert peak < 300_000  # kB; the list of 10^8 points took 3.9 GB


# --- CSV as people write it ------------------------------------------------------------


def test_r_write_csv_with_its_row_names_and_crlf():
    notes: list[str] = []
    text = '"","x","y"\r\n"1",1.5,2\r\n"2",3,-4e-3\r\n'
    assert read(text, ["x", "y"], notes) == [[1.5, 2.0], [3.0, -0.004]]
    assert read(text, ["y"]) == [[2.0], [-0.004]]
    assert len(notes) == 1 and "unnamed" in notes[0]


def test_quoted_header_and_fields():
    assert read('"x","y"\n"1","2"\n3,4\n', ["x", "y"]) == [[1.0, 2.0], [3.0, 4.0]]
    assert read('"y", "x"\n1, 2\n', ["x", "y"]) == [[2.0, 1.0]]  # a space after the comma
    text = 'x,note\n1,"a, b"\n2,"sample #3" # measured\n3,"say ""hi"""\n'
    assert read(text, ["x"]) == [[1.0], [2.0], [3.0]]  # commas and # inside quotes are text


def test_r_write_table_with_spaces_and_quotes():
    assert read('"x" "y"\n1 2\n', ["x", "y"]) == [[1.0, 2.0]]
    with pytest.raises(UsageError) as e:  # write.table's row names have no header column
        read('"x" "y"\n"1" 1 2\n', ["x", "y"])
    assert "line 2" in e.value.message and "row names" in e.value.hint


def test_semicolons_take_a_decimal_comma():
    assert read("x;y\n1,5;2\n-0,25;3.5\n", ["x", "y"]) == [[1.5, 2.0], [-0.25, 3.5]]
    r_csv2 = '"";"x";"y"\r\n"1";1,5;2\r\n'  # R's write.csv2
    assert read(r_csv2, ["x", "y"]) == [[1.5, 2.0]]
    assert read("1,5;2\n", ["x", "y"]) == [[1.5, 2.0]]  # no header
    with pytest.raises(UsageError, match="line 1 of p.csv: expected a number, got '1,5'"):
        read('"1,5"\n', ["x"])  # quoted, so not two columns; and no ; so no decimal comma
    with pytest.raises(UsageError, match="line 2.*'1,5'"):
        read('x,y\n"1,5",2\n', ["x", "y"])  # a decimal comma only where ; separates


def test_tabs():
    assert read("x\ty\tnote\n1\t2\t\n3\t4\tok # c\n", ["x", "y"]) == [[1.0, 2.0], [3.0, 4.0]]
    assert read("1\t2\n", ["y", "x"]) == [[1.0, 2.0]]
    with pytest.raises(UsageError, match="line 2"):
        read("x\ty\n1\t\t2\n", ["x", "y"])  # an empty field is not skipped


def test_the_separator_is_decided_by_the_first_line():
    with pytest.raises(UsageError, match="line 3 of p.csv: expected 2 values"):
        read("x,y\n1,2\n3;4\n", ["x", "y"])
    with pytest.raises(UsageError, match="line 2"):
        read("1 2\n3,4\n", ["x", "y"])
    # a named line does not decide it: the first line of columns does
    assert read("x=5,y=1\n7 2\n", ["x", "y"]) == [[5.0, 1.0], [7.0, 2.0]]


@pytest.mark.parametrize(
    ("text", "variables"),
    [("x|y\n1|2\n", ["x", "y"]), ("1|2\n", ["x", "y"]), ("x|note\n1|a\n", ["x"])],
)
def test_an_unknown_separator_shows_the_first_line(text, variables):
    with pytest.raises(UsageError) as e:
        read(text, variables)
    shown = e.value.render()
    assert text.splitlines()[0] in shown
    for separator in ("comma", "semicolon", "tab", "space"):
        assert separator in shown


def test_a_variable_named_twice_in_the_header_is_an_error():
    with pytest.raises(BindingError, match="x.*twice"):
        read("x,y,x\n1,2,3\n", ["x", "y"])
    assert read("x,n,n\n1,2,3\n", ["x"]) == [[1.0]]  # repeated columns that are not read


def test_unclosed_quote_names_its_line():
    with pytest.raises(UsageError, match="line 2"):
        read('x,note\n1,"unclosed\n', ["x"])


def test_what_already_worked_still_works():
    assert read("# c\n1\n\n  2.5  # two\n", ["x"]) == [[1.0], [2.5]]
    assert read("y,x,note\n1,2,5  # first\n\n3,4,6\n", ["x", "y"]) == [[2.0, 1.0], [4.0, 3.0]]
    assert read("y x\n1 2\n", ["x", "y"]) == [[2.0, 1.0]]
    assert read("nan inf\n", ["x", "y"])[0][1] == float("inf")  # numbers, not a header
    assert read("x=1,y=2\n", ["x", "y"]) == [[1.0, 2.0]]
    with pytest.raises(UsageError, match="line 2"):
        read("x,y\n1,,2\n", ["x", "y"])
    with pytest.raises(BindingError, match="no column for y"):
        read("x,z\n1,2\n", ["x", "y"])


def test_a_bad_line_raises_only_when_reached_and_nothing_is_read_ahead():
    taken = []

    def lines():
        for line in ['"","x"\r\n', '"1",2\r\n', '"2",oops\r\n']:
            taken.append(line)
            yield line

    points = from_lines(lines(), ["x"], "standard input", lambda message: None)
    assert next(points) == [2.0]
    assert len(taken) == 2  # the header and the first row: no more
    with pytest.raises(UsageError, match="line 3 of standard input: expected a number"):
        next(points)


def test_standard_input_from_a_pipe_with_a_bom_and_crlf(monkeypatch):
    read_end, write_end = os.pipe()
    os.write(write_end, '\ufeff"x";"y"\r\n1,5;2\r\n3;4'.encode())
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        monkeypatch.setattr(sys, "stdin", pipe)
        lines = stdin_lines(lambda: None)
        points = list(from_lines(lines, ["x", "y"], "standard input", lambda message: None))
    assert points == [[1.5, 2.0], [3.0, 4.0]]


def test_point_files_on_the_command_line(run, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b'"","x","y"\r\n"1",1,2\r\n"2",3,4\r\n')
    r = run("eval", "x*y", "--at", f"@{path}")
    assert r.code == 0 and r.out.split() == ["2.0", "12.0"]
    assert r.err.count("note") == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("x|y\n1|2\n")
    r = run("eval", "x*y", "--at", f"@{bad}")
    assert r.code == 2 and "x|y" in r.err and "Traceback" not in r.err


def test_every_error_is_an_adcli_error():
    for text in ['"x', "x,y\n1,2,3\n", "x;y\n1;2;3\n", ",\n1\n", 'x\n""\n']:
        with pytest.raises(AdcliError):
            read(text, ["x", "y"])
