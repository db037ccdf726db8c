"""The worked examples of the seed documents, with their exact numbers.

000 (Polish notebook): the forward/backward pass of f(x) = x·σ(x)/(x²+1) at 2,
written node by node; its hand-written backward pass is the reference here.
004 (Chinese): the apple example and σ'(2).
"""

from __future__ import annotations

import math

import pytest
from conftest import seed_000_passes

import adcli

SEED_F = "x*sigmoid(x)/(x**2+1)"
SEED_PROGRAM = "t1 = sigmoid(x); t2 = t1*x; b2 = x**2 + 1; b3 = 1/b2; y = t2*b3"


def test_seed_f_value_and_gradient_match_the_hand_written_pass():
    y, dx, _ = seed_000_passes(2.0)
    value, grad = adcli.compile(SEED_F).grad(x=2.0)
    assert value == pytest.approx(y, rel=1e-15)
    assert grad["x"] == pytest.approx(dx, rel=1e-12)
    assert value == pytest.approx(0.3523188311911529, rel=1e-12)
    assert grad["x"] == pytest.approx(-0.06369821519594324, rel=1e-12)


def test_seed_program_node_table_rows_values_and_adjoints():
    f = adcli.compile(SEED_PROGRAM)
    rows = {r.label: r for r in f.node_table([2.0])}
    _, dx, ref = seed_000_passes(2.0)
    for name in ("t1", "t2", "b2", "b3", "y"):
        assert rows[name].value == pytest.approx(ref["values"][name], rel=1e-15)
        assert rows[name].adjoint == pytest.approx(ref["adjoints"][name], rel=1e-12)
    assert [rows[n].value for n in ("t1", "t2", "b2", "b3", "y")] == [
        0.8807970779778823,
        1.7615941559557646,
        5.0,
        0.2,
        0.3523188311911529,
    ]
    # x feeds sigmoid, the product t2 and the square: its adjoint is the sum of three uses.
    x = rows["x"]
    assert len(x.terms) == 3
    assert math.fsum(t for _, t in x.terms) == pytest.approx(x.adjoint, rel=1e-15)
    assert x.adjoint == pytest.approx(dx, rel=1e-12)
    assert rows["y"].terms == [] and rows["y"].adjoint == 1.0  # the seed ∂f/∂f


def test_seed_program_table_on_a_terminal_shows_rows_and_the_fan_out_sum(run):
    r = run("grad", SEED_PROGRAM, "--at", "2", "--format", "table", "--no-color")
    assert r.code == 0, r
    lines = r.out.splitlines()
    labels = [ln.split()[1] for ln in lines if ln.strip()[:1].isdigit()]
    assert labels == ["x", "t1", "t2", "x**2", "b2", "b3", "y"]
    for shown in ("0.880797", "1.76159", "0.352319", "-0.0636982", "seed ∂f/∂f"):
        assert shown in r.out
    assert r.out.count(" from #") == 3  # x's adjoint: three contributions
    assert "∂f/∂x = -0.06369821519594324" in r.out


def test_apple_example():
    value, grad = adcli.compile("apple*n*tax").grad(apple=100.0, n=2.0, tax=1.1)
    assert value == pytest.approx(220, rel=1e-15)
    assert grad == pytest.approx({"apple": 2.2, "n": 110.0, "tax": 200.0}, rel=1e-15)


def test_apple_example_on_the_command_line(shell):
    r = shell("grad", "apple*n*tax", "--at", "apple=100,n=2,tax=1.1")
    assert r.code == 0, r
    numbers = [float(v) for v in r.out.split()]
    assert numbers == pytest.approx([220.0, 2.2, 110.0, 200.0], rel=1e-15)


def test_sigmoid_derivative_at_2():
    _, grad = adcli.compile("sigmoid(x)").grad(x=2.0)
    assert grad["x"] == 0.10499358540350662
    # the seed's check: y·y·e^-2 with y = σ(2)
    y = 1 / (1 + math.exp(-2))
    assert grad["x"] == pytest.approx(y * y * math.exp(-2), rel=1e-15)
