"""The language (SPEC §1), the graph it builds, and the evaluator's two forms."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import NUMBER_FUNCTIONS, NUMBER_OPS

import adcli
import adcli.evaluate
from adcli.errors import ParseError
from adcli.ops import OPS
from adcli.printing import to_text
from adcli.syntax import parse

GRAMMAR = Path(__file__).resolve().parent.parent / "grammar" / "adcli.lark"


def value(text: str, **at: float) -> float:
    return adcli.compile(text)(**at)


def test_grammar_has_no_conflicts():
    lark = pytest.importorskip("lark")
    pytest.importorskip("interegular")  # strict mode also checks terminal collisions
    lark.Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", strict=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-2**2", -4.0),  # unary minus binds looser than power
        ("2**-1", 0.5),
        ("2**3**2", 512.0),  # right-associative
        ("2^3^2", 512.0),
        ("8/4/2", 1.0),  # left-associative
        ("10-4-3", 3.0),
        ("2+3*4", 14.0),
        ("(2+3)*4", 20.0),
        ("--2", 2.0),
        ("+2", 2.0),
        (".5 + 5. + 1e-3 + 1E+3 + 2.5e1", 0.5 + 5.0 + 1e-3 + 1e3 + 25.0),
        ("pi", math.pi),
        ("e", math.e),
        ("log(8, 2)", 3.0),
        ("pow(2, 10)", 1024.0),
        ("1 # a comment", 1.0),
    ],
)
def test_precedence_and_tokens_as_in_python(text, expected):
    assert value(text) == pytest.approx(expected, rel=1e-15)


def test_unicode_names_and_variable_order():
    f = adcli.compile("θ*λ + x + θ")
    assert f.variables == ("θ", "λ", "x")
    assert f(θ=2.0, λ=3.0, x=1.0) == 9.0


def test_programs_label_nodes_and_return_the_last_statement():
    f = adcli.compile("a = x*2\n\nb = a + 1; # note\nc = b*b")
    assert f(x=1.0) == 9.0
    labels = [r.label for r in f.node_table([1.0])]
    assert labels == ["x", "a", "b", "c"]


def test_several_outputs():
    f = adcli.compile("x*y, x+y, sin(x)")
    assert f(x=2.0, y=3.0) == (6.0, 5.0, math.sin(2.0))


@pytest.mark.parametrize(
    ("text", "message", "column", "hint"),
    [
        ("2x", "implicit multiplication", 2, "2*x"),
        ("x(y+1)", "implicit multiplication", 1, "x*(...)"),
        ("sigmod(x)", "unknown function sigmod", 1, "did you mean sigmoid?"),
        ("sin(x, y)", "sin takes 1 argument, got 2", 1, None),
        ("atan2(x)", "atan2 takes 2 arguments, got 1", 1, None),
        ("x +", "unexpected end", 4, "expected"),
        ("x $ y", "unexpected character '$'", 3, None),
        ("y = y + 1", "used as a free variable", 1, None),
        ("a = 1; a = 2", "assigned twice", 8, None),
        ("pi = 3", "constant pi", 1, None),
        ("sin + 1", "sin is a function", 1, "sin(x)"),
        ("", "empty", 1, None),
    ],
)
def test_parse_errors_say_what_where_and_how_to_fix(text, message, column, hint):
    with pytest.raises(ParseError) as caught:
        parse(text)
    e = caught.value
    assert message in e.message
    assert (e.line, e.column) == (1, column)
    if hint:
        assert hint in (e.hint or "")
    rendered = e.render().splitlines()
    assert rendered[2].index("^") - 2 == column - 1  # the caret under the column


def test_error_position_on_a_later_line():
    with pytest.raises(ParseError) as caught:
        parse("a = x\nb = a +* 2")
    assert (caught.value.line, caught.value.column) == (2, 8)


def test_api_errors_are_adcli_errors_with_position():
    with pytest.raises(adcli.AdcliError) as caught:
        adcli.compile("x +* 2")
    assert caught.value.line == 1 and caught.value.column == 4
    with pytest.raises(adcli.AdcliError):
        adcli.compile("x*y")(x=1.0)  # no value for y


def test_every_function_is_callable_with_its_arity():
    for name, arities in NUMBER_FUNCTIONS.items():
        lo, hi = OPS[name].domain if name in OPS else (0.5, 2.0)
        for n in arities:
            args = ", ".join([repr(lo + (hi - lo) * 0.4)] * n)
            assert math.isfinite(value(f"{name}({args})")), name


# --- the graph -------------------------------------------------------------------


def test_hash_consing_makes_a_repeated_subexpression_one_node():
    p = parse("sin(x)*sin(x) + sin(x)")
    g = p.graph
    assert [g.op[n] for n in range(len(g))].count("sin") == 1


def test_constants_fold_and_identities_drop():
    p = parse("x*1 + 0 + (2*3 - 6) + --x")
    assert to_text(p.graph, p.outputs[0]) == "x + x"
    q = parse("x**1*0 + y")
    assert to_text(q.graph, q.outputs[0]) == "y"


@pytest.mark.parametrize(
    "text",
    [
        "-x**2",
        "2**-x",
        "(-2)**x",
        "(a**b)**c",
        "a - (b - c)",
        "a/(b*c)",
        "-(a + b)",
        "a*b/c - d + f",
    ],
)
def test_printing_round_trips_with_minimal_parentheses(text):
    p = parse(text)
    printed = to_text(p.graph, p.outputs[0])
    assert printed == text
    again = parse(printed)
    assert to_text(again.graph, again.outputs[0]) == printed


@pytest.mark.slow
def test_deep_inputs_do_not_recurse():
    depth = 100_000
    assert adcli.compile("(" * depth + "x" + ")" * depth).grad(x=3.0) == (3.0, {"x": 1.0})
    f = adcli.compile("sin(" * depth + "x" + ")" * depth)
    v, g = f.grad(x=0.5)
    assert math.isfinite(v) and math.isfinite(g["x"])
    assert adcli.compile("-" * depth + "x")(x=2.0) == 2.0
    long = "+".join(["x"] * 200_000)  # about 400 000 characters
    assert adcli.compile(long).grad(x=1.0)[1]["x"] == 200_000.0


# --- the evaluator -----------------------------------------------------------------


def test_scalar_and_array_forms_agree_and_broadcast():
    f = adcli.compile("x*sigmoid(x)/(x**2+1) + y")
    xs = np.linspace(-5, 5, 10_001)
    v, g = f.grad(x=xs, y=1.0)
    assert v.shape == xs.shape and g["y"].shape == xs.shape
    for i in (0, 1234, 5000, 10_000):
        sv, sg = f.grad(x=float(xs[i]), y=1.0)
        assert v[i] == pytest.approx(sv, rel=1e-14, abs=1e-300)
        assert g["x"][i] == pytest.approx(sg["x"], rel=1e-14, abs=1e-300)
    grid = f(x=np.array([[1.0], [2.0]]), y=np.array([0.0, 1.0, 2.0]))
    assert grid.shape == (2, 3)


def test_step_list_form_equals_source_form(monkeypatch):
    text = "t1 = sigmoid(x); t2 = t1*x; b2 = x**2 + 1; b3 = 1/b2; y = t2*b3 + log(x) - x**2"
    expected = adcli.compile(text)
    monkeypatch.setattr(adcli.evaluate, "SOURCE_LIMIT", 0)
    large = adcli.compile(text)
    for x in (0.5, 2.0, 7.0):
        assert large.grad(x=x) == expected.grad(x=x)
    xs = np.array([0.5, 2.0, 7.0])
    assert np.array_equal(large.grad(x=xs)[1]["x"], expected.grad(x=xs)[1]["x"])


def test_ieee_results_where_math_raises():
    f = adcli.compile("1/x + exp(y)")
    v, g = f.grad(x=0.0, y=1000.0)
    assert v == math.inf and g["x"] == -math.inf and g["y"] == math.inf
    assert math.isnan(adcli.compile("sqrt(x)")(x=-1.0))
    assert adcli.compile("log(x)")(x=0.0) == -math.inf


def test_every_op_has_scalar_array_and_partials():
    np_ = np
    for name in NUMBER_OPS:
        op = OPS[name]
        assert len(op.partials) == op.arity, name
        lo, hi = op.domain
        args = [lo + (hi - lo) * (0.3 + 0.1 * i) for i in range(op.arity)]
        scalar = op.scalar(*args)
        array = op.array(np_)(*[np_.array([a]) for a in args])
        assert float(array[0]) == pytest.approx(scalar, rel=1e-14), name


def test_node_table_after_another_gradient_lists_only_forward_nodes():
    f = adcli.compile("sin(x*y)")
    f.grad(["y"], x=1.0, y=2.0)  # appends y's adjoint nodes to the shared graph
    assert [r.label for r in f.node_table([1.0, 2.0])] == ["x", "y", "x*y", "sin(x*y)"]


def test_equal_statements_keep_both_names():
    f = adcli.compile("a = x*2; b = x*2; a + b")
    assert [r.label for r in f.node_table([1.0])][1] == "a = b"
