"""SPEC §8, "settled by use": what broke when adcli was tried as a new user would.

Each test here failed before its fix (issue 10); the module follows the issue's
numbering where it can.
"""

from __future__ import annotations

import json
import math
import re
import subprocess

import pytest
from conftest import installed_adcli

import adcli

SEED_F = "x*sigmoid(x)/(x**2+1)"
ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"


def numbers(text: str) -> list[float]:
    return [float(t) for t in text.split()]


# --- 1. line breaks: a formula continued on the next line loses nothing -----------


def test_a_line_starting_with_plus_after_an_unused_assignment_is_an_error(run, tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("a = w*x\n    + b\n")
    r = run("eval", f"@{path}", "--at", "w=2,x=3,b=1")
    assert r.code == 2 and r.out == ""
    assert "a = w*x is never used; did line 2 mean to continue it?" in r.err
    assert "(line 1, column 1)" in r.err and "wrap the formula in (...)" in r.err


def test_an_unnamed_statement_that_is_not_last_is_an_error(run):
    r = run("eval", "x*2; x*3", "--at", "5")
    assert r.code == 2 and r.out == ""
    assert "x*2 is not the last statement and has no name" in r.err
    lines = r.err.splitlines()
    assert lines[1] == "  x*2; x*3" and lines[2] == "  ^"  # the caret under the statement
    assert "x*2, x*3" in r.err  # the fix: several outputs


def test_an_unnamed_line_followed_by_a_minus_line_asks_whether_it_continues(run, tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("x*2\n- 3\n")
    r = run("eval", f"@{path}", "--at", "5")
    assert r.code == 2 and "did line 2 mean to continue it?" in r.err


def test_new_lines_inside_brackets_are_blanks(run, tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("y = (w*x   # the weight\n     + b)\natan2(y,\n      1)\n")
    r = run("eval", f"@{path}", "--at", "w=2,x=3,b=1")
    assert r.code == 0, r.err
    assert numbers(r.out) == [math.atan2(7.0, 1.0)]


def test_a_semicolon_inside_brackets_is_still_an_error(run):
    r = run("eval", "(x;\ny)", "--at", "x=1,y=2")
    assert r.code == 2 and "unexpected ';'" in r.err


def test_an_assignment_nothing_reads_is_a_warning(run):
    r = run("eval", "a = x*2; y = 3*x", "--at", "1")
    assert r.code == 0 and numbers(r.out) == [3.0]
    assert "warning: line 1: a = x*2 is never used" in r.err
    read = run("eval", "a = x*2; y = a + 1", "--at", "1")
    assert read.code == 0 and read.err == ""
    equal = run("eval", "a = x*2; b = x*2; b", "--at", "1")  # one node, read as b
    assert equal.code == 0 and equal.err == ""
    assert adcli.compile("a = x*2; y = 3*x").warnings == [
        "line 1: a = x*2 is never used (only the last statement is the result)"
    ]


# --- 2. superscripts and other look-alikes -----------------------------------------


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("x²", "write x**2"),
        ("x³ + 1", "write x**3"),
        ("(x+1)²", "write (...)**2"),
        ("x⁻¹", "write x**(-1)"),
        ("2×x", "write *"),
        ("x·y", "write *"),
        ("2 − x", "write -"),
        ("x\u00a0+ 1", "replace it with a plain space"),
        ("√x", "write sqrt(x)"),
    ],
)
def test_look_alike_characters_are_errors_with_the_fix(run, text, fix):
    r = run("eval", text, "--at", "x=3,y=1" if "y" in text else "3")
    assert r.code == 2 and r.out == ""
    assert fix in r.err


def test_subscripts_may_continue_a_name():
    f = adcli.compile("x₁*x₂")
    assert f.variables == ("x₁", "x₂") and f(2.0, 3.0) == 6.0


# --- 3. --maximize speaks of the direction asked for -------------------------------


def test_maximize_reaching_a_maximum_has_converged_to_it(run):
    r = run("minimize", "4*x - x**2", "--start", "0", "--maximize")
    assert r.code == 0 and numbers(r.out)[0] == pytest.approx(2.0)
    assert "reason: converged" in r.err and "diagnosis: maximum: f'' = -2" in r.err
    assert "sits on a maximum" not in r.err and "rolls away" not in r.err


def test_maximize_on_a_minimum_is_warned(run):
    r = run("minimize", "x**2", "--start", "0", "--maximize")
    assert "minimum: gradient ascent started on a minimum" in r.err
    assert "start elsewhere" in r.err
    run_ = adcli.compile("x**2").minimize({"x": 0.0}, maximize=True)
    assert run_.warning


# --- 4. 0**b: the exponent's derivative is 0 for b > 0 ---------------------------


@pytest.mark.parametrize(("text", "at"), [("0**y", "2"), ("0**y", "0.5"), ("x**y", "x=0,y=2")])
def test_the_exponents_derivative_at_a_zero_base(run, text, at):
    r = run("grad", text, "--at", at, "--format", "json")
    assert r.code == 0, r.err
    row = json.loads(r.out)
    assert row["value"] == 0.0 and row["grad"]["y"] == 0.0


def test_at_zero_to_the_zero_the_culprit_says_there_is_no_derivative(run):
    r = run("grad", "0**y", "--at", "0")
    assert r.code == 1
    assert "0**b has no derivative at b = 0" in r.err


def test_the_exponent_rule_matches_the_textbook_away_from_zero():
    f = adcli.compile("x**y")
    value, grad = f.grad(x=2.5, y=1.5)
    assert grad["y"] == pytest.approx(2.5**1.5 * math.log(2.5), rel=1e-15)
    d = f.derivative("y")
    assert str(d) == "xlogy(x**y, x)"
    assert d(x=2.5, y=1.5) == pytest.approx(grad["y"], rel=1e-15) and d(x=0.0, y=2.0) == 0.0
    assert str(adcli.compile("2**x").derivative("x")) == "log(2)*2**x"  # a constant base


# --- 5. hessian names a kind only at a stationary point: tests/test_derivatives.py ---

# --- 6. divergence is only SPEC §3's ------------------------------------------------


def test_a_learning_rate_a_hair_past_two_over_curvature_grows_but_does_not_diverge(run):
    r = run("minimize", "x**2", "--start", "1", "--lr", "1.0000001")
    assert r.code == 0
    assert "reason: max-steps" in r.err and "growing" in r.err
    assert "lr·f'' = 2.0000002 ≥ 2" in r.err  # not "2 ≥ 2": the digits that make it so
    assert "lower --lr" in r.err and "raise --lr" not in r.err


def test_past_the_bound_it_diverges_and_names_the_step(run):
    r = run("minimize", "x**2", "--start", "1", "--lr", "1.1", "--steps", "200")
    assert r.code == 1 and "reason: diverged" in r.err and "diverged at step 76" in r.err


def test_a_damped_zig_zag_is_not_told_to_raise_the_rate(run):
    r = run("minimize", "x**2", "--start", "1", "--lr", "0.9", "--steps", "20")
    assert r.code == 0 and "zig-zag" in r.err and "raise --lr" not in r.err


@pytest.mark.parametrize(
    ("option", "value"), [("--lr", "-1"), ("--lr", "0"), ("--lr", "nan"), ("--tol", "-1"),
                          ("--beta", "1"), ("--decay", "0")],
)  # fmt: skip
def test_meaningless_descent_options_are_refused(run, option, value):
    r = run("minimize", "x**2", "--start", "1", option, value)
    assert r.code == 2 and option in r.err and r.out == ""


def test_a_negative_rate_points_to_maximize(run):
    assert "--maximize" in run("minimize", "x**2", "--start", "1", "--lr", "-1").err


# --- 7. internal errors -----------------------------------------------------------


def test_the_derivative_of_a_constant_is_zero(run):
    assert run("diff", "5").out == "0\n"
    assert run("diff", "2*pi").out == "0\n"
    assert json.loads(run("diff", "5", "--format", "json").out) == {}


@pytest.mark.parametrize("eps", ["0", "-1e-6", "nan"])
def test_a_zero_or_negative_check_step_is_an_input_error(run, eps):
    r = run("check", "x**2", "--at", "1", "--eps", eps)
    assert r.code == 2 and "--eps must be a positive number" in r.err


def test_plot_after_a_divergence_draws_the_finite_part(run):
    r = run("minimize", "exp(x)", "--start", "1", "--lr", "300", "--steps", "5", "--maximize",
            "--plot")  # fmt: skip
    assert r.code == 1 and "descent on f = exp(x)" in r.out
    assert "failed unexpectedly" not in r.err and "reason: diverged" in r.err


# --- 9. several points where one is needed ----------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["hessian", "x*y", "--at", "x=1,y=2", "--at", "x=3,y=4"],
        ["check", "x*y", "--at", "x=1,y=2", "--at", "x=3,y=4"],
        ["jacobian", "x*y, x+y", "--at", "x=1,y=2", "--at", "x=3,y=4"],
        ["graph", "x*y", "--at", "x=1,y=2", "--at", "x=3,y=4"],
        ["minimize", "x**2", "--start", "1", "--start", "2"],
    ],
)
def test_several_points_where_one_is_needed_are_an_error(run, args):
    r = run(*args)
    assert r.code == 2 and r.out == ""
    assert "works at one point" in r.err


def test_a_range_where_one_point_is_needed_is_an_error(run):
    r = run("hessian", "x**2", "--at", "x=0:1:3")
    assert r.code == 2 and "gives 3 points" in r.err


# --- 12. check at a large x ---------------------------------------------------------


@pytest.mark.parametrize(("text", "x"), [("sin(x)", 1e10), ("x**2", 1e10), ("1/x", 1e-5),
                                         ("sqrt(x)", 1e-12), ("exp(10*x)", 0.0)])  # fmt: skip
def test_check_picks_a_step_that_works_at_any_scale(text, x):
    result = adcli.compile(text).check([x])
    assert result.ok, [(r.ad, r.numeric, r.step) for r in result.rows]


def test_the_step_taken_is_reported(run):
    row = json.loads(run("check", "sin(x)", "--at", "1e10", "--format", "json").out)["rows"][0]
    assert row["ok"] and 1e-6 <= row["step"] <= 1e-2


def test_a_fixed_step_is_still_available(run):
    r = run("check", "sin(x)", "--at", "1e10", "--eps", "1e-6")  # h = 1e4: meaningless there
    assert r.code == 1


# --- 14. constant expressions -----------------------------------------------------------


def test_minimize_a_constant_says_there_is_nothing_to_minimize(run):
    r = run("minimize", "5", "--start", "1")
    assert r.code == 2 and "nothing to minimize" in r.err and "--at" not in r.err


def test_hessian_of_a_constant_is_empty_with_a_note(run):
    r = run("hessian", "5")
    assert r.code == 0 and "no variables" in r.err
    assert json.loads(run("hessian", "5", "--format", "json").out)["hessian"] == []


def test_plot_of_a_constant_draws_a_flat_line(run):
    r = run("plot", "2")
    assert r.code == 0 and "f = 2" in r.out and "constant function of x" in r.err


# --- 15. a closed pipe is not a failure ---------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["eval", "x*2", "--at", "-"], ["eval", "x*2", "--at", "x=0:1:100000"],
     ["grad", "x*2", "--at", "x=0:1:100000", "--format", "json"]],
)  # fmt: skip
def test_a_reader_that_stops_reading_is_not_a_failure(args):
    feed = subprocess.Popen(["seq", "1", "200000"], stdout=subprocess.PIPE)
    tool = subprocess.Popen([*installed_adcli(), *args], stdin=feed.stdout,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    feed.stdout.close()
    first = tool.stdout.readline()
    tool.stdout.close()  # as `| head -1` does
    err = tool.stderr.read()
    code = tool.wait(timeout=60)
    feed.wait(timeout=60)
    assert first and code == 0 and err == b""


# --- 16. the Python API ----------------------------------------------------------------


def test_the_api_takes_positional_points_and_returns_floats():
    import numpy as np

    f = adcli.compile("x*y")
    assert f(2.0, 3.0) == 6.0 and f(2.0, y=3.0) == 6.0
    assert f.grad(2.0, 3.0) == (6.0, {"x": 3.0, "y": 2.0})
    assert f.grad(["y"], 2.0, 3.0) == (6.0, {"y": 2.0})
    value = adcli.compile("x**2")(x=np.float32(2))
    assert type(value) is float and value == 4.0
    assert isinstance(adcli.compile("x**2")(np.array([1.0, 2.0])), np.ndarray)
    jac = adcli.compile("x*y, x+y").jacobian([1, 2])
    assert jac == [[2.0, 1.0], [1.0, 1.0]] and all(type(v) is float for r in jac for v in r)


@pytest.mark.parametrize(
    "call",
    [
        lambda f: f(x=None, y=1),
        lambda f: f(x="a", y=1),
        lambda f: f(1, 2, 3),
        lambda f: f(1, x=2, y=3),
        lambda f: f(x=1j, y=1),
        lambda f: f(x=[[1], [2, 3]], y=1),
        lambda f: f.jacobian([1]),
        lambda f: f.hessian([1, 2, 3]),
        lambda f: f(x=[1.0, 2.0, 3.0], y=[1.0, 2.0]),
        lambda f: f.minimize({"x": 1, "y": 1}, lr=-1),
        lambda f: f.check([1, 2], eps=0),
        lambda f: f.jacobian([1, 2], mode="sideways"),
    ],
)
def test_every_mistake_of_the_caller_is_an_adcli_error(call):
    with pytest.raises(adcli.AdcliError):
        call(adcli.compile("x*y"))


def test_public_functions_show_their_real_signature():
    import inspect

    signature = str(inspect.signature(adcli.compile))
    assert signature.startswith("(text: 'str'") and signature.endswith("-> 'Expression'")
    assert "Parse" in (adcli.compile.__doc__ or "")


# --- 17. smaller ones ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hint"),
    [("ln(x)", "did you mean log?"), ("tg(x)", "did you mean tan?"),
     ("arctan(x)", "did you mean atan?"), ("Sin(x)", "did you mean sin?"),
     ("ctg(x)", "write 1/tan(x)"), ("sin x", "write sin(x)")],
)  # fmt: skip
def test_function_names_from_other_tools_get_the_right_hint(run, text, hint):
    r = run("eval", text, "--at", "1")
    assert r.code == 2 and hint in r.err and "*(...)" not in r.err


@pytest.mark.parametrize("text", ["x + 1 )", "sin(x", "(x+1"])
def test_expected_tokens_are_what_the_grammar_takes_there(run, text):
    # LALR tables reduce before they see the token does not fit, so the state where
    # the error shows had lost '*', '/' and '**' (sin(x + 1 ... could go on with them)
    r = run("eval", text, "--at", "1")
    assert "'*'" in r.err and "'/'" in r.err and "'**'" in r.err


def test_adcli_alone_prints_the_help_not_an_error(run):
    r = run()
    assert r.code == 0 and "Usage: adcli" in r.out and "error" not in r.err


def test_help_has_no_type_placeholders(run):
    for command in ["eval", "grad", "minimize", "diff", "jacobian", "hessian", "check",
                    "graph", "codegen", "plot"]:  # fmt: skip
        text = run(command, "--help").out
        assert not re.search(r"<[a-z ]+>", text) and "Usage" in text


# --- 18. no stray files -------------------------------------------------------------------


def test_no_wheel_or_archive_is_committed():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    listed = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    assert not [p for p in listed.stdout.split() if p.endswith((".whl", ".tar.gz", ".zip"))]


# --- 20. one cache per transform ------------------------------------------------------------


@pytest.mark.parametrize("name", ["tangents", "hessian", "jacobian"])
def test_a_variable_named_like_a_cache_key_does_not_collide(name):
    f = adcli.compile(f"{name}*x")
    assert f.grad([name, "x"], 1.0, 2.0) == (2.0, {name: 2.0, "x": 1.0})
    assert f.jacobian([1.0, 2.0], mode="forward") == [[2.0, 1.0]]
    assert f.hessian([1.0, 2.0]) == [[0.0, 1.0], [1.0, 0.0]]


def test_a_minus_sign_copied_from_a_document_is_named_in_a_point(run):
    r = run("eval", "x", "--at", "x=\u22121")
    assert r.code == 2 and "'−' is not part of a number here: write -1" in r.err


def test_a_table_of_many_points_is_shown_a_page_at_a_time(run):
    # a table holds a page of rows, not every row of a range (which may be 10^8)
    from adcli.render import PAGE

    r = run("eval", "x*2", "--at", f"x=0:1:{2 * PAGE + 500}", "--format", "markdown")
    assert r.code == 0
    assert r.out.count("| x | f |") == 3 and r.out.count("\n") == 2 * PAGE + 500 + 3 * 2


def test_wrt_given_twice_keeps_both(run):
    # a repeated --wrt once kept only the last one, dropping the other silently
    assert run("grad", "x*y", "--at", "x=2,y=3", "--wrt", "y", "--wrt", "x").out == "6.0 2.0 3.0\n"


def test_a_cyrillic_letter_that_looks_latin_is_named(run):
    # a formula typed on a Ukrainian keyboard: х (U+0445) is not x
    r = run("eval", "\u0445*2", "--at", "x=3")
    assert r.code == 2 and "U+0445" in r.err
    both = run("eval", "\u0445*x", "--at", "x=3,\u0445=2")
    assert both.code == 0 and "look alike but are different names" in both.err


# --- 10. -o picks the format from the extension; 14. constants draw one node --------------


@pytest.mark.parametrize(
    ("name", "starts"),
    [("g.dot", "digraph adcli {"), ("g.gv", "digraph adcli {"), ("g.json", '{"nodes": '),
     ("g.mmd", "flowchart LR"), ("g.txt", "#3 ")],
)  # fmt: skip
def test_graph_output_takes_the_format_of_its_extension(run, tmp_path, name, starts):
    path = tmp_path / name
    r = run("graph", "x*sigmoid(x)", "-o", str(path))
    assert r.code == 0 and path.read_text().startswith(starts)


def test_graph_output_with_an_unknown_or_contradicting_extension_is_refused(run, tmp_path):
    r = run("graph", "x*2", "-o", str(tmp_path / "g.xyz"))
    assert r.code == 2 and ".dot" in r.err and ".mmd" in r.err and not (tmp_path / "g.xyz").exists()
    r = run("graph", "x*2", "-o", str(tmp_path / "g.dot"), "--format", "json")
    assert r.code == 2 and "holds dot, not json" in r.err


def test_a_constant_draws_one_node(run):
    assert run("graph", "5").out == "#1 5\n"
    data = json.loads(run("graph", "5", "--format", "json").out)
    assert data == {"nodes": [{"id": 1, "node": "5", "op": "const", "inputs": []}], "edges": [],
                    "outputs": [1]}  # fmt: skip
