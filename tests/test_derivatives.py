"""`hessian` and `check` (issue 5): second derivatives from the graph, and a gradient check."""

from __future__ import annotations

import json
import math

import pytest

import adcli
from adcli.ops import COMPLEX, OPS

ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"


def test_hessian_kinds(run):
    r = run("hessian", "x**2 - y**2", "--at", "x=0,y=0")
    assert r.code == 0 and "kind: saddle" in r.err
    assert [list(map(float, line.split())) for line in r.out.splitlines()] == [
        [2.0, 0.0], [0.0, -2.0], [-2.0, 2.0]
    ]  # fmt: skip
    assert "kind: minimum" in run("hessian", "x**2+y**2", "--at", "x=1,y=1").err


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
    for name, op in OPS.items():
        if name not in COMPLEX:
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
