"""The command line: every --at form, every format, errors and exit codes (SPEC §2, §4, §5)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import BACKENDS, installed_adcli, on_terminal

import adcli
from adcli.numtext import full

SEED_F = "x*sigmoid(x)/(x**2+1)"


def numbers(text: str) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in text.splitlines() if line.strip()]


# --- the main job --------------------------------------------------------------


def test_grad_on_a_pipe_prints_bare_numbers(shell):
    r = shell("grad", SEED_F, "--at", "2")
    assert r.code == 0 and r.err == ""
    assert r.out == "0.3523188311911529 -0.06369821519594324\n"


def test_eval_without_variables_needs_no_at(run):
    assert run("eval", "2**10").out == "1024.0\n"
    r = run("grad", "2**10")
    assert r.code == 0 and r.out == "1024.0\n"  # its value and no partials


def test_python_dash_m_and_version(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "adcli", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("adcli ")
    help_ = subprocess.run([*installed_adcli(), "grad", "--help"], capture_output=True, text=True)
    assert help_.returncode == 0 and "Example" in help_.stdout


# --- --at forms ----------------------------------------------------------------


def test_named_grid_and_repeated_points(run):
    r = run("eval", "x*10 + y", "--at", "x=0:1:3,y=1:2:2")
    assert numbers(r.out) == [[1.0], [2.0], [6.0], [7.0], [11.0], [12.0]]  # first variable slowest
    r = run("eval", "x**2", "--at", "1", "--at", "2", "--at", "3")
    assert numbers(r.out) == [[1.0], [4.0], [9.0]]


def test_range_matches_numpy_linspace(run):
    np = pytest.importorskip("numpy")
    r = run("eval", "x", "--at", "x=-1:2.5:7")
    assert [v[0] for v in numbers(r.out)] == list(np.linspace(-1, 2.5, 7))


def test_points_from_a_file_with_header_comments_and_extra_columns(run, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("# measured\ny,x,note\n1,2,5  # first\n\n3,4,6\n")
    r = run("grad", "x*y", "--at", f"@{path}")
    assert r.code == 0
    assert numbers(r.out) == [[2.0, 1.0, 2.0], [12.0, 3.0, 4.0]]
    assert "note" in r.err  # one note naming the ignored column


def test_points_from_stdin_bare_named_and_positional(run):
    assert numbers(run("eval", "x+1", "--at", "-", stdin="1\n# c\n2.5\n").out) == [[2.0], [3.5]]
    r = run("eval", "x-y", "--at", "-", stdin="x=5,y=1\n7 2\n")
    assert numbers(r.out) == [[4.0], [5.0]]


def test_expression_from_stdin_and_from_a_file(run, tmp_path):
    assert run("eval", "-", "--at", "3", stdin="x**2 # square\n").out == "9.0\n"
    path = tmp_path / "f.adcli"
    path.write_text("t1 = sigmoid(x)\nt2 = t1*x\n")
    assert numbers(run("eval", f"@{path}", "--at", "0").out) == [[0.0]]


def test_bad_point_line_names_its_number_and_keeps_earlier_rows(shell):
    r = shell("eval", "x**2", "--at", "-", stdin="1\n2\nabc\n4\n")
    assert r.code == 2
    assert numbers(r.out) == [[1.0], [4.0]]
    assert "line 3" in r.err and "abc" in r.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grad", "x*y", "--at", "1"], "x, y"),
        (["grad", "x*y", "--at", "x=1"], "no value for y"),
        (["grad", "x**2", "--at", "z=1"], "variables: x"),
        (["eval", "x", "--at", "e=1"], "e is a constant"),
        (["grad", "x**2", "--at", "1", "--wrt", "y"], "not a variable"),
        (["eval", "x**2", "--at", "x=abc"], "abc"),
        (["eval", "x**2", "--at", "x=0:1:0"], "count"),
        (["grad", "x**2", "--at", "1", "--format", "nonsense"], "unknown format"),
        (["grad", "x*y, x+y", "--at", "x=1,y=2"], "one output"),
        (["eval", "x", "--at", "@/nonexistent/points"], "cannot read"),
    ],
)
def test_input_mistakes_exit_2_with_a_message(run, args, message):
    r = run(*args)
    assert r.code == 2, r
    assert message in r.err
    assert "Traceback" not in r.err


# --- formats -------------------------------------------------------------------


def test_csv_and_json_carry_the_point_and_full_precision(run):
    r = run("grad", SEED_F, "--at", "2", "--format", "csv")
    assert r.out.splitlines() == ["x,value,grad_x", "2.0,0.3523188311911529,-0.06369821519594324"]
    r = run("grad", SEED_F, "--at", "2", "--format", "json")
    assert json.loads(r.out) == {
        "at": {"x": 2.0},
        "value": 0.3523188311911529,
        "grad": {"x": -0.06369821519594324},
    }
    r = run("eval", "x, 2*x", "--at", "1", "--format", "csv")
    assert r.out.splitlines()[0] == "x,value_1,value_2"


def test_json_nodes_is_the_node_table(run):
    r = run("grad", "t1 = sigmoid(x); y = t1*x", "--at", "2", "--format", "json", "--nodes")
    row = json.loads(r.out)
    assert [n["node"] for n in row["nodes"]] == ["x", "t1", "y"]
    x = row["nodes"][0]
    assert math.fsum(t["value"] for t in x["terms"]) == pytest.approx(x["adjoint"])
    assert row["nodes"][2]["adjoint"] == 1.0


def test_non_finite_numbers_are_spelled_and_json_stays_valid(run):
    r = run("grad", "log(x)", "--at", "0", "--at", "1", "--format", "json")
    first = json.loads(r.out.splitlines()[0])
    assert first["value"] == "-inf" and first["grad"]["x"] == "inf"
    r = run("eval", "log(x)", "--at", "-1", "--at", "0", "--at", "1")
    assert r.out.split() == ["nan", "-inf", "0.0"]


def test_table_format_rounds_to_digits_and_has_no_escape_codes_off_a_terminal(run):
    r = run("grad", SEED_F, "--at", "2", "--format", "table", "--digits", "3")
    assert "0.352" in r.out and "0.3523188" not in r.out.split("f(x=2)")[0]
    assert "\x1b[" not in r.out


def test_table_with_several_points_is_one_row_each(run):
    r = run("grad", "x**2", "--at", "x=1:3:3", "--format", "table")
    assert r.code == 0
    rows = [line.split() for line in r.out.splitlines() if line.strip()[:1].isdigit()]
    assert rows == [["1", "1", "2"], ["2", "4", "4"], ["3", "9", "6"]]
    assert "∂f/∂x" in r.out


def test_no_color_on_a_terminal():
    """Under a pseudo-terminal, NO_COLOR and --no-color keep escape codes out."""
    args = ["grad", SEED_F, "--at", "2"]
    env = {"TERM": "xterm-256color", "NO_COLOR": "", "COLUMNS": "100"}
    coloured = on_terminal(args, env)
    assert "seed ∂f/∂f" in coloured  # the per-node table is the default on a terminal
    assert "\x1b[" in coloured
    plain = on_terminal([*args, "--no-color"], env)
    assert "seed ∂f/∂f" in plain and "\x1b[" not in plain
    quiet = on_terminal(args, {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in quiet


# --- the node table's markings -------------------------------------------------


def test_unused_and_no_wrt_nodes_are_marked(run):
    r = run("grad", "a = sin(y); b = cos(x); c = b*x", "--at", "x=1,y=2", "--format", "table")
    assert "unused" in r.out  # a = sin(y) does not reach the output
    r = run("grad", "b = x*y; c = b + y", "--at", "x=1,y=2", "--wrt", "x", "--format", "table")
    assert r.code == 0 and "not needed" in r.out
    assert "∂f/∂x = 2.0" in r.out and "∂f/∂y" not in r.out


def test_wrt_orders_the_partials(run):
    r = run("grad", "x*y**2", "--at", "x=3,y=2", "--wrt", "y,x")
    assert numbers(r.out) == [[12.0, 12.0, 4.0]]


# --- non-finite results --------------------------------------------------------


def test_single_point_non_finite_names_the_culprit_and_exits_1(run):
    r = run("grad", "log(x)*2 + x", "--at", "0")
    assert r.code == 1 and r.out == ""
    assert "node #2 log(x) is -inf at x=0: log of 0" in r.err


def test_backward_pass_culprit(run):
    r = run("grad", "sqrt(x)", "--at", "0")
    assert r.code == 1
    assert "∂f/∂node" in r.err and "sqrt'(0) is infinite" in r.err


def test_many_points_warn_once_and_exit_0_strict_stops(run):
    r = run("eval", "1/x", "--at", "1", "--at", "0", "--at", "-1", "--at", "0")
    assert r.code == 0 and r.out.split() == ["1.0", "inf", "-1.0", "inf"]
    assert r.err.count("warning") == 1 and "division by 0" in r.err
    r = run("eval", "1/x", "--at", "1", "--at", "0", "--at", "-1", "--strict")
    assert r.code == 1 and r.out.split() == ["1.0"]


# --- streaming -----------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_stdin_streams_each_row_before_the_input_ends(backend):
    proc = subprocess.Popen(
        [*installed_adcli(), "grad", "x*sigmoid(x)", "--at", "-", "--backend", backend],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for x in (1, 2):
            proc.stdin.write(f"{x}\n")
            proc.stdin.flush()
            line = proc.stdout.readline()  # would block forever if rows waited for EOF
            value, grad = map(float, line.split())
            assert value == pytest.approx(x / (1 + math.exp(-x)))
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fast_stream_is_read_and_evaluated_in_blocks(shell, tmp_path, backend):
    """Lines that come together are parsed, evaluated and written as blocks (issue 15):
    the rows are the array path's numbers, in order, and a file and a pipe agree."""
    xs = np.linspace(-30.0, 30.0, 50_001)
    text = "".join(f"{x!r}\n" for x in xs.tolist())
    (tmp_path / "points.txt").write_text(text)
    f = adcli.compile("x*sigmoid(x)/(x**2+1)", backend=backend)
    value, grad = f.grad(x=xs)
    expected = [f"{full(v)} {full(g)}" for v, g in zip(value.tolist(), grad["x"].tolist())]
    piped = shell("grad", "x*sigmoid(x)/(x**2+1)", "--at", "-", "--backend", backend, stdin=text)
    from_file = shell("grad", "x*sigmoid(x)/(x**2+1)", "--at", "@points.txt", "--backend", backend)
    assert piped.code == from_file.code == 0
    assert piped.out.splitlines() == from_file.out.splitlines() == expected
    csv = shell("eval", "x, -x", "--at", "-", "-f", "csv", stdin="0\n1.5\n").out.splitlines()
    assert csv == ["x,value_1,value_2", "0.0,0.0,0.0", "1.5,1.5,-1.5"]  # no -0.0


def test_which_rows_come_in_blocks_depends_on_the_lines_alone(shell, tmp_path):
    """A blank line and a row with a comment among 40 000 plain ones: the first row and
    the commented one are read line by line (the scalar path's numbers), every other
    row in blocks (the array path's), through a pipe or from a file alike."""
    xs = np.linspace(-20.0, 20.0, 40_000)
    lines = [repr(x) for x in xs.tolist()]
    lines[25_000] += "  # a note"
    text = "\n".join(lines[:12_345]) + "\n\n" + "\n".join(lines[12_345:]) + "\n"
    (tmp_path / "p.txt").write_text(text)
    f = adcli.compile("x*sigmoid(x)/(x**2+1)")
    expected = [full(v) for v in f(x=xs).tolist()]
    for i in (0, 25_000):
        expected[i] = full(f(x=float(xs[i])))
    piped = shell("eval", "x*sigmoid(x)/(x**2+1)", "--at", "-", stdin=text)
    from_file = shell("eval", "x*sigmoid(x)/(x**2+1)", "--at", "@p.txt")
    assert piped.out.split() == from_file.out.split() == expected


def test_columns_under_a_header_come_in_blocks_too(shell, tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=20_000), rng.normal(size=20_000)
    rows = "".join(f"row{i},{b!r},{a!r}\n" for i, (a, b) in enumerate(zip(x.tolist(), y.tolist())))
    (tmp_path / "xy.csv").write_text("name,y,x\n" + rows)
    numeric = "".join(f"7,{b!r},{a!r}\n" for a, b in zip(x.tolist(), y.tolist()))
    (tmp_path / "numbers.csv").write_text("id,y,x\n" + numeric)
    f = adcli.compile("x*exp(-y)")
    expected = [full(v) for v in f(x=x, y=y).tolist()]
    for name in ("xy.csv", "numbers.csv"):  # words in a column: line by line, same rows
        r = shell("eval", "x*exp(-y)", "--at", f"@{name}")
        assert r.code == 0 and "ignoring the columns" in r.err
        got = r.out.split()
        assert len(got) == 20_000
        if name == "numbers.csv":
            assert got == expected
        else:  # the line-by-line reader: the scalar path's numbers
            assert np.allclose([float(v) for v in got], f(x=x, y=y), rtol=1e-15, atol=0)


def test_a_bad_line_deep_in_a_fast_stream_keeps_the_rows_before_it(shell):
    lines = [f"{i}" for i in range(1, 30_001)]
    lines[20_000] = "2,5"  # line 20001
    r = shell("eval", "x*2", "--at", "-", stdin="\n".join(lines) + "\n")
    assert r.code == 2
    assert "line 20001 of standard input" in r.err
    assert r.out.split() == [repr(2.0 * i) for i in range(1, 20_001)]


def test_non_finite_rows_in_a_fast_stream_warn_once_or_stop(shell):
    stdin = "".join(f"{x}\n" for x in [*range(1, 5000), 0, *range(1, 5000)])
    r = shell("eval", "1/x", "--at", "-", stdin=stdin)
    assert r.code == 0 and len(r.out.split()) == 9999 and r.err.count("warning") == 1
    assert r.out.split()[4999] == "inf" and "division by 0" in r.err
    strict = shell("eval", "1/x", "--at", "-", "--strict", stdin=stdin)
    assert strict.code == 1 and len(strict.out.split()) == 4999


@pytest.mark.parametrize("args", [
    ["grad", "x*sigmoid(x)", "--at", "2"], ["eval", "x**2", "--at", "x=0:1:5"],
    ["fit", "y ~ a*x", "--help"], ["minimize", "x**2", "--start", "1", "--steps", "3"],
])  # fmt: skip
def test_commands_of_numbers_never_import_numpy(args):
    """Start-up stays lean (issue 15): numpy is loaded only where arrays are."""
    script = ("import sys; from adcli.cli import main; code = main(sys.argv[1:]); "
              "print('numpy' in sys.modules, file=sys.stderr); sys.exit(code)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr.splitlines()[-1] == "False", done


def test_interrupt_exits_130():
    proc = subprocess.Popen(
        [*installed_adcli(), "eval", "x", "--at", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdin.write("1\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "1.0\n"
    time.sleep(0.2)
    proc.send_signal(2)  # SIGINT, as Ctrl-C sends
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Traceback" not in err


def test_internal_errors_ask_for_a_report_without_a_traceback(run, monkeypatch):
    import adcli.api

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(adcli.api.Expression, "value_and_grad_nodes", broken)
    r = run("grad", "x", "--at", "1")
    assert r.code == 1 and "report" in r.err and "Traceback" not in r.err
    monkeypatch.setenv("ADCLI_DEBUG", "1")
    with pytest.raises(RuntimeError):
        run("grad", "x", "--at", "1")


def test_markdown_node_table_has_the_terminal_columns(run):
    from adcli.render import node_columns

    r = run("grad", "t1 = sigmoid(x); y = t1*x", "--at", "2", "--format", "markdown")
    lines = r.out.splitlines()
    assert lines[0] == "| " + " | ".join(c.title for c in node_columns()) + " |"
    assert lines[1].startswith("|---:|---|")
    assert [line.split("|")[2].strip() for line in lines[2:5]] == ["x", "t1", "y"]
    assert "<br>= 0.880797 from #3<br>+ 0.209987 from #2" in lines[2]  # the fan-out sum
    assert "∂f/∂x = 1.0907842487848955" in r.out


def test_markdown_rows_for_several_points(run):
    r = run("eval", "x**2", "--at", "x=0:1:3", "--format", "markdown")
    assert r.out.splitlines() == [
        "| x | f |",
        "|---:|---:|",
        "| 0 | 0 |",
        "| 0.5 | 0.25 |",
        "| 1 | 1 |",
    ]


GOLDEN_SEED_TABLE = """\

  #   node   op               value   local ∂                       ∂f/∂node
 ────────────────────────────────────────────────────────────────────────────
  1   x      input                2                               -0.0636982
                                                         = -0.281855 from #4
                                                          + 0.176159 from #3
                                                         + 0.0419974 from #2
  2   t1     sigmoid(#1)   0.880797   ∂/∂#1 = 0.104994                   0.4
  3   t2     mul(#2, #1)    1.76159   ∂/∂#2 = 2                          0.2
                                      ∂/∂#1 = 0.880797
  4   x**2   pow(#1, 2)           4   ∂/∂#1 = 4                   -0.0704638
  5   b2     add(#4, 1)           5   ∂/∂#4 = 1                   -0.0704638
  6   b3     div(1, #5)         0.2   ∂/∂#5 = -0.04                  1.76159
  7   y      mul(#3, #6)   0.352319   ∂/∂#3 = 0.2             1 (seed ∂f/∂f)
                                      ∂/∂#6 = 1.76159

f(x=2) = 0.3523188311911529
∂f/∂x = -0.06369821519594324
"""


def test_the_seed_table_exactly_at_80_columns(shell):
    program = "t1 = sigmoid(x); t2 = t1*x; b2 = x**2 + 1; b3 = 1/b2; y = t2*b3"
    r = shell("grad", program, "--at", "2", "--format", "table", env={"COLUMNS": "80"})
    # rich pads every line to the width; the golden text is kept without the padding
    assert [line.rstrip() for line in r.out.splitlines()] == GOLDEN_SEED_TABLE.splitlines()


# --- found in review -------------------------------------------------------------------


@pytest.mark.parametrize("point", ["nan", "inf", "x=-inf", "1e309"])
def test_non_finite_inputs_are_named_not_an_internal_error(run, point):
    r = run("eval", "x + 1", "--at", point)
    assert r.code == 1 and "the input x is" in r.err and "report" not in r.err
    r = run("eval", "x + 1", "--at", point, "--at", "1")
    assert r.code == 0 and r.err.count("warning") == 1


def test_point_line_errors_name_their_line(run):
    r = run("eval", "x*y", "--at", "-", stdin="x=1,y=2\nx=3\n")
    assert r.code == 2 and r.out == "2.0\n" and "line 2 of standard input: no value for y" in r.err
    r = run("eval", "x*y", "--at", "-", stdin="x=1,z=2\n")
    assert r.code == 2 and "line 1 of standard input: z is not a variable" in r.err
    r = run("eval", "x+y", "--at", "-", stdin="x,y\n1,,2\n")
    assert r.code == 2 and "line 2" in r.err  # an empty CSV field is not skipped


def test_bindings_split_over_several_at_options_get_a_hint(run):
    r = run("eval", "x*y", "--at", "x=1", "--at", "y=2")
    assert r.code == 2 and "--at x=...,y=..." in r.err


@pytest.mark.parametrize(
    ("wrt", "message"), [("x,x", "twice"), ("", "empty"), (",", "empty"), ("z", "not a variable")]
)
def test_wrt_mistakes(run, wrt, message):
    r = run("grad", "x*y", "--at", "x=1,y=2", "--wrt", wrt)
    assert r.code == 2 and message in r.err


def test_wrt_names_may_have_spaces(run):
    assert run("grad", "x*y", "--at", "x=1,y=2", "--wrt", "y, x").out == "2.0 1.0 2.0\n"


def test_byte_order_mark_in_files(run, tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes("\ufeffx**2\n".encode())
    points = tmp_path / "p.csv"
    points.write_bytes("\ufeffx\n3\n".encode())
    assert run("eval", f"@{path}", "--at", f"@{points}").out == "9.0\n"


def test_expression_starting_with_minus_gets_a_hint(run):
    r = run("eval", "-x**2", "--at", "3")
    assert r.code == 2 and 'adcli eval --at 3 -- "-x**2"' in r.err
    assert run("eval", "--at", "3", "--", "-x**2").out == "-9.0\n"
