"""The scalar fast paths (issue 15): ``f.value_and_grad()``, a compiled function of
floats returning ``(value, (partials…))``, and ``f.grad(x=…)``/``f.grad(2.0)`` on floats,
which go straight to it. Each gives what the general path gives, to the bit, IEEE
inf/nan included; anything else (ints, arrays, other names, a list of names) takes
the general path and behaves as it always did."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import adcli
from adcli.errors import BindingError, UsageError

EXPRESSIONS = [
    "x*sigmoid(x)/(x**2+1)",
    "log(x) + sqrt(y)",
    "x**y + atan2(y, x)",
    "t1 = sigmoid(x); t2 = t1*x; b2 = x**2 + 1; b3 = 1/b2; y = t2*b3",
    "1/x + exp(y)",
    "tanh(x*y) - max(x, y)**2",
]
FLOATS = st.floats(-50, 50, allow_nan=False) | st.sampled_from([0.0, -0.0, 1e300, -1.0])


def general(f, point: list[float]):
    """The general path: a list of names first, which the fast path never takes."""
    return f.grad(list(f.variables), *point)


def same(a, b) -> bool:
    """Equal to the bit, nan equal to nan."""
    (va, ga), (vb, gb) = a, b
    pairs = [(va, vb), *zip(ga, gb)]
    return all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in pairs)


@pytest.mark.parametrize("text", EXPRESSIONS)
@given(point=st.lists(FLOATS, min_size=2, max_size=2))
def test_value_and_grad_is_the_general_path_to_the_bit(text, point):
    f = adcli.compile(text)
    point = point[: len(f.variables)]
    value, partials = f.value_and_grad()(*point)
    expected_value, expected = general(f, point)
    assert same((value, partials), (expected_value, [expected[n] for n in f.variables]))
    by_name = f.grad(**dict(zip(f.variables, point)))
    by_position = f.grad(*point)
    for got in (by_name, by_position):
        assert same((got[0], list(got[1].values())), (value, partials))
        assert list(got[1]) == list(f.variables)


def test_ieee_values_where_math_raises():
    f = adcli.compile("log(x) + sqrt(y)")
    assert f.value_and_grad()(0.0, 4.0) == (-math.inf, (math.inf, 0.25))
    value, (dx, dy) = f.value_and_grad()(-1.0, 4.0)
    assert math.isnan(value) and dx == -1.0 and dy == 0.25


def test_wrt_picks_and_orders_the_partials():
    f = adcli.compile("x*y**2 + y")
    assert f.value_and_grad(["y"])(2.0, 3.0) == (21.0, (13.0,))
    assert f.value_and_grad(["y", "x"])(2.0, 3.0) == (21.0, (13.0, 9.0))


def test_a_program_too_big_for_source_runs_its_steps(monkeypatch):
    text = "t1 = sigmoid(x); t2 = t1*x; b2 = x**2 + 1; b3 = 1/b2; y = t2*b3 + log(x)"
    expected = adcli.compile(text).value_and_grad()(2.0)
    monkeypatch.setattr(adcli.evaluate, "SOURCE_LIMIT", 0)
    large = adcli.compile(text)
    assert large.value_and_grad()(2.0) == expected
    assert large.grad(x=2.0) == (expected[0], {"x": expected[1][0]})
    assert math.isnan(large.value_and_grad()(-1.0)[0])


def test_what_is_not_floats_takes_the_general_path():
    f = adcli.compile("x*x + y")
    assert f.grad(x=2, y=1) == (5.0, {"x": 4.0, "y": 1.0})  # ints become floats
    assert isinstance(f.grad(x=2, y=1)[0], float)
    value, grads = f.grad(x=np.array([1.0, 2.0]), y=0.0)
    assert value.tolist() == [1.0, 4.0] and grads["x"].tolist() == [2.0, 4.0]
    assert f.grad(["y"], x=2.0, y=1.0) == (5.0, {"y": 1.0})
    with pytest.raises(BindingError, match="z is not a variable"):
        f.grad(x=1.0, z=2.0)
    with pytest.raises(BindingError, match="given twice"):
        f.grad(1.0, x=2.0)


def test_a_program_of_arrays_has_no_function_of_numbers():
    f = adcli.compile("sum(v*v)", shapes={"v": (3,)})
    with pytest.raises(UsageError, match="value_and_grad\\(\\) is a function of numbers"):
        f.value_and_grad()
    value, grads = f.grad(v=np.array([1.0, 2.0, 3.0]))  # grad itself still works
    assert value == 14.0 and grads["v"].tolist() == [2.0, 4.0, 6.0]
