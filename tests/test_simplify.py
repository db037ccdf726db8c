"""The display simplifier and the formula printer behind `adcli diff` (issue 5).

Every printed derivative must parse back to the derivative's value (checked against
sympy on random compositions), each algebra rule shows up in the output it is for,
named constants round-trip to the same float, and a derivative whose one-line form
would be exponentially long is printed with named shared parts instead.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from test_gradient_oracles import SYMBOLS, close, random_cases, sym_eval

import adcli
from adcli.printing import MAX_LINE, _symbolic, constant, to_program
from adcli.simplify import _size, simplified


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("x*x*x", "3*x**2"),  # repeated factors become a power
        ("sin(x**2)", "2*x*cos(x**2)"),  # the coefficient first, the simplest factor next
        ("sqrt(x**2 + 1)", "x/sqrt(x**2 + 1)"),  # 0.5/s*(2*x): the constants cancel
        ("atan(x**2)", "2*x/(1 + x**4)"),  # (x**2)**2 → x**4, and 1/a*b → b/a
        ("exp(-x**2)", "-2*x*exp(-x**2)"),  # the sign joins the coefficient
        ("x*log(x)", "log(x) + 1"),  # x/x cancels
        ("x**3*sin(1/x)", "x*(3*x*sin(1/x) - cos(1/x))"),  # a common factor, a - c*b
        ("cbrt(x**2 + 1)", "2*x/(3*cbrt(x**2 + 1)**2)"),  # a fraction split p/q
        ("log2(x**2 + 1)", "2/log(2)*x/(x**2 + 1)"),  # named constants
        ("erf(x**2)", "4/sqrt(pi)*x*exp(-x**4)"),
        ("x/3 + x/3", "2/3"),  # like terms; 2/3 is that float exactly
        ("3*x - (x - y)*2", "d/dx: 1\nd/dy: 2"),
    ],
)
def test_each_rule_shows_in_the_printed_derivative(run, expr, expected):
    r = run("diff", "--no-cse", "--", expr)
    assert r.code == 0, r.err
    assert r.out == expected + "\n"


def test_named_constants_parse_back_to_the_same_float():
    table = _symbolic()
    assert len(table) > 500
    for value, (text, _) in table.items():
        assert adcli.compile(text)() == value, text
        assert adcli.compile("-" + text)() == -value, text
    assert constant(math.pi) == ("pi", 5)
    assert constant(1 / 3)[0] == "1/3" and constant(0.5)[0] == "0.5"  # the shorter text
    assert constant(0.1)[0] == "0.1" and constant(-2.0)[0] == "-2"


def _printed(f, names, cse):
    graph, roots = simplified(f.ir, f.derivative_nodes(names, 1))
    statements, formulas = to_program(graph, roots, cse)
    return adcli.compile("\n".join([*statements, ", ".join(formulas)])), graph, roots


@pytest.mark.slow
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(random_cases())
def test_printed_derivatives_parse_back_to_sympys_values(case):
    node, point = case
    f = adcli.compile(node.text)
    names = list(f.variables)
    if not names:
        return
    at = {n: point[n] for n in names}
    refs = [sym_eval(sp.diff(node.sym, SYMBOLS[n]), at) for n in names]
    for cse in (None, False, True):
        back, graph, roots = _printed(f, names, cse)
        values = back(**{n: at[n] for n in back.variables})
        values = values if isinstance(values, tuple) else (values,)
        for name, got, ref in zip(names, values, refs):
            assert close(got, ref, 1e-9), (node.text, name, at, got, ref, str(back))
    raw = f.derivative_nodes(names, 1)
    assert _size(graph, roots) <= _size(f.ir, raw)


def _doubling(n: int) -> str:
    """A program whose one-line derivative doubles with every statement."""
    lines = ["t0 = x"] + [f"t{i} = t{i - 1}*sin(t{i - 1}) + x/t{i - 1}" for i in range(1, n)]
    return "\n".join(lines)


def test_exponentially_long_formulas_are_printed_with_names(run):
    program = _doubling(40)
    r = run("diff", program)
    assert r.code == 0 and r.out.startswith("t1 = ")
    back = adcli.compile(r.out)
    f = adcli.compile(program)
    assert back(x=0.7) == pytest.approx(f.grad(x=0.7)[1]["x"], rel=1e-9)
    refused = run("diff", program, "--no-cse")
    assert refused.code == 2
    assert f"longer than {MAX_LINE:,} characters" in refused.err and "--no-cse" in refused.err
    assert run("diff", program, "--format", "latex").out.startswith("t_{1} = ")
    assert len(str(f)) < 10_000 and adcli.compile(str(f))(x=0.7) == f(x=0.7)


@pytest.mark.slow
def test_a_long_program_differentiates_and_prints_in_linear_time(run):
    # 5 000 statements: a quadratic printer or simplifier would take minutes
    r = run("diff", _doubling(5_000))
    assert r.code == 0
    assert adcli.compile(r.out)(x=1.3) == pytest.approx(
        adcli.compile(_doubling(5_000)).grad(x=1.3)[1]["x"], rel=1e-9
    )
