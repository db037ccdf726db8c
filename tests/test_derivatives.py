"""`hessian` and `check` (issue 5): second derivatives from the graph, and a gradient check."""

from __future__ import annotations

import json
import math

import pytest
from conftest import NUMBER_OPS

import adcli
from adcli.ops import OPS

ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"


def test_hessian_kinds(run):
    r = run("hessian", "x**2 - y**2", "--at", "x=0,y=0")
    assert r.code == 0 and "kind: saddle" in r.err
    assert [list(map(float, line.split())) for line in r.out.splitlines()] == [
        [2.0, 0.0], [0.0, -2.0], [-2.0, 2.0]
    ]  # fmt: skip
    assert "kind: minimum" in run("hessian", "x**2+y**2", "--at", "x=0,y=0").err


def test_hessian_names_a_kind_only_where_the_gradient_vanishes(run):
    # SPEC §8: Rosenbrock at (0, 0) has ‖g‖ = 2 and a positive definite Hessian; it
    # is not a minimum, only convex there.
    r = run("hessian", ROSENBROCK, "--at", "x=0,y=0")
    assert r.code == 0
    assert "minimum" not in r.err
    assert "kind: not a stationary point (‖g‖ = 2); the curvature here is convex" in r.err
    away = run("hessian", "x**2 - y**2", "--at", "x=1,y=1").err
    assert "not a stationary point" in away and "indefinite" in away and "saddle" not in away


def test_hessian_of_rosenbrock_at_its_minimum_is_the_analytic_matrix(run):
    # ∂²/∂x² = 2 - 400(y - 3x²) = 802, ∂²/∂x∂y = -400x = -400, ∂²/∂y² = 200 at (1, 1)
    row = json.loads(run("hessian", ROSENBROCK, "--at", "x=1,y=1", "--format", "json").out)
    assert row["hessian"] == [[802.0, -400.0], [-400.0, 200.0]]
    assert row["kind"] == "minimum"
    spread = math.sqrt(501**2 - 802 * 200 + 400**2)  # eigenvalues of [[802, -400], [-400, 200]]
    assert row["eigenvalues"] == pytest.approx([501 - spread, 501 + spread])


def test_hessian_is_symmetric_and_matches_differences_of_the_gradient():
    f = adcli.compile("x*sin(y) + exp(x*y) - log(1 + x**2*y**2)")
    point = [0.3, -0.7]
    h = f.hessian(point)
    assert h[0][1] == pytest.approx(h[1][0], rel=1e-14)
    for j in range(2):
        step = 1e-6
        plus = [v + (step if k == j else 0.0) for k, v in enumerate(point)]
        minus = [v - (step if k == j else 0.0) for k, v in enumerate(point)]
        gp = f.grad(**dict(zip(("x", "y"), plus)))[1]
        gm = f.grad(**dict(zip(("x", "y"), minus)))[1]
        for i, other in enumerate(("x", "y")):
            assert h[i][j] == pytest.approx((gp[other] - gm[other]) / (2 * step), rel=1e-7)


def test_check_at_a_kink_exits_1_and_explains_the_convention(run):
    r = run("check", "relu(x)", "--at", "0")
    assert r.code == 1
    assert "kink" in r.err and "relu'(0) = 0" in r.err and "DISAGREE" in r.err


def test_check_on_the_seed_passes_both_ways(run):
    central = run("check", "x*sigmoid(x)/(x**2+1)", "--at", "2")
    assert central.code == 0 and "agree with central differences" in central.err
    complex_ = run("check", "x*sigmoid(x)/(x**2+1)", "--at", "2", "--method", "complex",
                   "--format", "json")  # fmt: skip
    row = json.loads(complex_.out)["rows"][0]
    assert complex_.code == 0 and row["rel_error"] <= 1e-15
    assert row["ad"] == -0.06369821519594324


def test_check_disagrees_on_a_wrong_tolerance_and_names_missing_complex_extensions(run):
    assert run("check", "sin(x)", "--at", "1", "--tol", "0").code == 1
    r = run("check", "erf(x)", "--at", "1", "--method", "complex")
    assert r.code == 2 and "erf has no complex extension" in r.err


def test_complex_step_matches_the_gradient_for_every_analytic_op():
    for name in NUMBER_OPS:
        op = OPS[name]
        if op.complex is None:
            continue
        lo, hi = op.domain
        args = [lo + (hi - lo) * (0.35 + 0.1 * i) for i in range(op.arity)]
        names = ["x", "y"][: op.arity]
        text = f"{name}({', '.join(names)})"
        if op.symbol is not None:  # an operator: write it infix
            text = "-x" if op.arity == 1 else f"(x){op.symbol}(y)"
        f = adcli.compile(text)
        _, grad = f.grad(**dict(zip(names, args)))
        result = f.check(args, method="complex")
        for row in result.rows:
            assert row.rel_err <= 1e-12, (name, row.name, row.ad, row.numeric)
            assert row.ad == grad[row.name]


# --- forward mode and the Jacobian (seed 001) ---------------------------------------------

SEED_001_TANH = "y = exp(-2.0*x); (1.0 - y)/(1.0 + y)"
ONE_NEURON = "z = w*a0 + b; a = sigmoid(z); C0 = (a - t)**2"


def test_seed_001_tanh_first_and_second_derivatives():
    f = adcli.compile(SEED_001_TANH)
    for x in (-1.3, 0.0, 0.4, 2.0):
        _, grad = f.grad(x=x)
        assert grad["x"] == pytest.approx(1 - math.tanh(x) ** 2, rel=1e-13, abs=1e-15)
        fpp = f.hessian([x])[0][0]
        assert fpp == pytest.approx(-2 * math.tanh(x) * (1 - math.tanh(x) ** 2), abs=1e-13)


def test_seed_001_one_neuron_chain_in_both_modes(run):
    at = {"w": 0.7, "a0": 0.4, "b": -0.2, "t": 1.0}
    z = at["w"] * at["a0"] + at["b"]
    a = 1 / (1 + math.exp(-z))
    ds = a * (1 - a)
    expected = {  # the lecture's ∂C0/∂w = 2(a − y)·σ'(z)·a(L−1), and its siblings
        "w": 2 * (a - at["t"]) * ds * at["a0"],
        "b": 2 * (a - at["t"]) * ds,
        "a0": 2 * (a - at["t"]) * ds * at["w"],
        "t": -2 * (a - at["t"]),
    }
    point = ",".join(f"{k}={v}" for k, v in at.items())
    reverse = [float(v) for v in run("grad", ONE_NEURON, "--at", point).out.split()]
    forward = [
        float(v) for v in run("grad", ONE_NEURON, "--at", point, "--mode", "forward").out.split()
    ]
    names = adcli.compile(ONE_NEURON).variables
    for i, name in enumerate(names):
        assert reverse[1 + i] == pytest.approx(expected[name], rel=1e-14)
        assert forward[1 + i] == pytest.approx(reverse[1 + i], rel=1e-14)


def test_tangent_table_has_one_tangent_column_per_variable(run):
    r = run("grad", "t1 = sigmoid(x); y = t1*x*z", "--at", "x=2,z=3", "--mode", "forward",
            "--format", "markdown")  # fmt: skip
    header = r.out.splitlines()[0]
    assert header == "| # | node | op | value | local ∂ | x\u0307 | z\u0307 |"
    y_row = [c.strip() for c in r.out.splitlines()[6].split("|")]
    assert y_row[2] == "y" and y_row[6:8] == ["3.27235", "1.76159"]


def test_jacobian_modes_agree_and_auto_picks_forward_for_few_inputs(run):
    expr = "x*y, x+y, sin(x)*exp(y)"
    f = adcli.compile(expr)
    forward, reverse = f.jacobian([1.0, 2.0], "forward"), f.jacobian([1.0, 2.0], "reverse")
    for row_f, row_r in zip(forward, reverse):
        assert row_f == pytest.approx(row_r, rel=1e-15)
    out = run("jacobian", expr, "--at", "x=1,y=2").out
    rows = [[float(v) for v in line.split()] for line in out.splitlines()]
    expected = [[2.0, 1.0], [1.0, 1.0], [math.cos(1) * math.exp(2), math.sin(1) * math.exp(2)]]
    for row, want in zip(rows, expected, strict=True):
        assert row == pytest.approx(want, rel=1e-15)
    assert f.jacobian_nodes("auto") == f.jacobian_nodes("forward")  # 2 inputs < 3 outputs


# --- diff: the derivative as a formula --------------------------------------------------

sp = pytest.importorskip("sympy")


def _sympy(text: str):
    from test_gradient_oracles import SYMPY

    names = {name: fn for name, fn in SYMPY.items()}
    names.update(x=sp.Symbol("x", real=True), y=sp.Symbol("y", real=True), e=sp.E, pi=sp.pi)
    parsed = sp.sympify(text.replace("^", "**"), locals=names)
    if isinstance(parsed, sp.core.relational.Relational):  # a comparison: 1.0 or 0.0
        return sp.Piecewise((1, parsed), (0, True))
    return parsed


def _diff_text(run, expr: str, *options: str) -> str:
    r = run("diff", *options, "--", expr)
    assert r.code == 0, r
    return r.out


@pytest.mark.parametrize("order", [1, 2, 3])
def test_diff_of_the_seed_parses_back_and_matches_sympy(run, order):
    expr = "x*sigmoid(x)/(x**2+1)"
    formula = _diff_text(run, expr, "--order", str(order))
    f = adcli.compile(formula)
    reference = sp.diff(_sympy(expr), sp.Symbol("x", real=True), order)
    for i in range(20):
        x = -4.0 + 0.41 * i
        want = float(reference.subs(sp.Symbol("x", real=True), x).evalf(30))
        assert f(x=x) == pytest.approx(want, rel=1e-9, abs=1e-12), (order, x)


@pytest.mark.parametrize("name", NUMBER_OPS)
def test_diff_of_every_primitive_matches_sympy(run, name):
    op = OPS[name]
    if op.symbol is not None:
        text = "-x" if op.arity == 1 else f"(x){op.symbol}(y)"
    else:
        text = {1: f"{name}(x)", 2: f"{name}(x, y)", 3: f"{name}(x, y, x*y)"}[op.arity]
    lo, hi = op.domain
    spread = [0.05 + 0.9 * i / 19 for i in range(20)]  # 20 points inside the domain
    points = [(lo + (hi - lo) * t, lo + (hi - lo) * (1 - t) * 0.9) for t in spread]
    symbols = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
    for var, symbol in zip(("x", "y")[: op.arity], symbols):
        for order in (1, 2, 3):
            formula = _diff_text(run, text, "--wrt", var, "--order", str(order), "--no-cse")
            f = adcli.compile(formula)
            reference = sp.diff(_sympy(text), symbol, order)
            for x, y in points:
                if name in ("min", "max") and x == y:
                    continue
                if op.kinks and order >= 2:
                    want = 0.0  # piecewise linear away from its kinks; sympy keeps a Piecewise
                else:
                    want = float(reference.subs({symbols[0]: x, symbols[1]: y}).evalf(30))
                at = {k: v for k, v in (("x", x), ("y", y)) if k in f.variables}
                got = f(**at) if f.variables else float(formula)
                assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (text, var, order, x, y)


def test_diff_simplifies_and_names_shared_parts(run):
    assert _diff_text(run, "x*1 + 0*y + --x") == "d/dx: 2\nd/dy: 0\n"
    assert _diff_text(run, "x*x*x") == "3*x**2\n"  # a power, not three factors
    shared = _diff_text(run, "x*sigmoid(x)/(x**2+1)", "--cse")
    assert "t1 = sigmoid(x)" in shared.splitlines()
    single = _diff_text(run, "x*sigmoid(x)/(x**2+1)", "--no-cse")
    assert len(single.splitlines()) == 1 and "t1" not in single


def test_derivative_in_the_api_is_an_expression():
    f = adcli.compile("x*sigmoid(x)/(x**2+1)")
    d = f.derivative("x")
    assert d(x=2.0) == pytest.approx(f.grad(x=2.0)[1]["x"], rel=1e-15)
    assert adcli.compile(str(d))(x=2.0) == pytest.approx(d(x=2.0), rel=1e-15)
    dd = d.derivative("x")
    assert dd(x=2.0) == pytest.approx(f.hessian([2.0])[0][0], rel=1e-12)


def test_explain_spells_out_each_edge_in_both_modes(run):
    program = "t1 = sigmoid(x); y = t1*x"
    r = run("grad", program, "--at", "2", "--explain")
    lines = r.out.splitlines()
    assert lines[0] == "1.7615941559557646 1.0907842487848955"
    assert lines[1:] == [
        "∂f/∂#2 = ∂f/∂#3 · ∂#3/∂#2 = 1 · 2 = 2",
        "∂f/∂#1 += ∂f/∂#3 · ∂#3/∂#1 = 1 · 0.880797 = 0.880797",
        "∂f/∂#1 += ∂f/∂#2 · ∂#2/∂#1 = 2 · 0.104994 = 0.209987",
    ]
    forward = run("grad", program, "--at", "2", "--explain", "--mode", "forward").out
    assert "∂#3/∂x += ∂#3/∂#2 · ∂#2/∂x = 2 · 0.104994 = 0.209987" in forward
    row = json.loads(run("grad", program, "--at", "2", "--explain", "--format", "json").out)
    assert row["explain"] == lines[1:]


def test_diff_latex_is_balanced_and_names_the_partials(run):
    out = run("diff", "x*sigmoid(x)/(x**2+1) + sqrt(y)", "--format", "latex", "--cse").out
    lines = out.splitlines()
    assert lines[0] == r"t_{1} = \operatorname{sigmoid}\left(x\right)"
    assert lines[-2].startswith(r"\frac{\partial f}{\partial x} = ")
    assert lines[-1] == r"\frac{\partial f}{\partial y} = \frac{1}{2 \cdot \sqrt{y}}"
    for line in lines:  # a TeX engine is not installed here: check the structure
        assert line.count("{") == line.count("}")
        assert line.count(r"\left") == line.count(r"\right")
    second = run("diff", "x**3", "--order", "2", "--format", "latex").out
    assert second == "\\frac{\\partial^{2} f}{\\partial x^{2}} = 6 \\cdot x\n"


def test_an_op_numpy_lacks_is_its_scalar_form_on_each_element():
    import numpy as np

    from adcli.ops import Op

    op = Op("gamma", 1, math.gamma, ())  # no numpy function, no kernel
    xs = np.array([0.5, 1.0, 3.5])
    out = np.empty(3)
    assert op.array(np)(xs, out=out) is out
    assert out.tolist() == [math.gamma(v) for v in xs.tolist()]
