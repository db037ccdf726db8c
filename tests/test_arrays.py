"""Arrays (SPEC §10): shapes in the graph, the array ops, and their gradients checked
against an independent AD library (HIPS autograd) to 1e-12 relative."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import adcli
from adcli.errors import BindingError, ParseError, UsageError

RNG = np.random.default_rng(12)

# Shapes of the free variables every case below may use ("rows" is the data's rows).
SHAPES = {
    "X": (None, 3), "W": (3, 2), "V": (2, 3), "b": (2,), "u": (3,), "v": (3,),
    "A": (4, 3), "B": (3, 4), "c": (), "y": (None,),
}  # fmt: skip
ROWS = 5


def value_of(name: str) -> np.ndarray | float:
    shape = tuple(ROWS if d is None else d for d in SHAPES[name])
    return float(RNG.normal()) if shape == () else RNG.normal(size=shape)


# (adcli text, the same function in autograd's numpy)
CASES = [
    ("sum(tanh(X @ W + b))", lambda X, W, b: anp.sum(anp.tanh(X @ W + b))),
    ("sum(u * v) + c", lambda u, v, c: anp.sum(u * v) + c),  # elementwise, then all
    ("sum(A * u)", lambda A, u: anp.sum(A * u)),  # [4,3] with [3]: u broadcast over rows
    ("sum(A + c * u)", lambda A, c, u: anp.sum(A + c * u)),  # a number broadcast too
    ("sum(exp(A / u) - u)", lambda A, u: anp.sum(anp.exp(A / u) - u)),
    ("sum((A - u) ** 2)", lambda A, u: anp.sum((A - u) ** 2)),
    ("u @ v", lambda u, v: u @ v),  # 1-D @ 1-D: a dot product
    ("sum(A @ u)", lambda A, u: anp.sum(A @ u)),  # 2-D @ 1-D
    ("sum(sin(u @ B))", lambda u, B: anp.sum(anp.sin(u @ B))),  # 1-D @ 2-D
    ("sum((A @ B) ** 2)", lambda A, B: anp.sum((A @ B) ** 2)),  # 2-D @ 2-D
    ("sum(transpose(A) @ A)", lambda A: anp.sum(anp.transpose(A) @ A)),
    ("sum(transpose(V) * W)", lambda V, W: anp.sum(anp.transpose(V) * W)),
    ("mean(A)", lambda A: anp.mean(A)),
    ("sum(sum(A, 0) ** 2)", lambda A: anp.sum(anp.sum(A, 0) ** 2)),
    ("sum(mean(A, 1) ** 2)", lambda A: anp.sum(anp.mean(A, 1) ** 2)),
    ("sum(mean(A, -1) * sum(B, 0))", lambda A, B: anp.sum(anp.mean(A, -1) * anp.sum(B, 0))),
    ("mean((X @ W @ V - X) ** 2)", lambda X, W, V: anp.mean((X @ W @ V - X) ** 2)),
    ("mean((X @ u - y) ** 2)", lambda X, u, y: anp.mean((X @ u - y) ** 2)),
    ("sum(u ** c)", lambda u, c: anp.sum(anp.abs(u) ** c)),  # |u|: a real power
    ("sum(sigmoid(A) * log(1 + exp(A)))",
     lambda A: anp.sum(1 / (1 + anp.exp(-A)) * anp.log(1 + anp.exp(A)))),
    ("t = X @ W; sum(t * t) / mean(t)", lambda X, W: anp.sum((X @ W) ** 2) / anp.mean(X @ W)),
]  # fmt: skip


def _names(text: str) -> list[str]:
    return [n for n in adcli.compile(text, shapes=SHAPES).variables]


@pytest.mark.parametrize("text, reference", CASES, ids=[c[0] for c in CASES])
def test_value_and_gradient_agree_with_autograd(text, reference):
    names = _names(text)
    point = {n: value_of(n) for n in names}
    if "u ** c" in text:
        point["u"] = np.abs(point["u"])
    f = adcli.compile(text, shapes=SHAPES)
    value, grads = f.grad(**point)
    args = [point[n] for n in reference.__code__.co_varnames[: reference.__code__.co_argcount]]
    assert value == pytest.approx(float(reference(*args)), rel=1e-12, abs=1e-300)
    for i, name in enumerate(reference.__code__.co_varnames[: len(args)]):
        expected = autograd.grad(reference, i)(*args)
        got = grads[name]
        assert np.shape(got) == np.shape(point[name]), name  # a gradient of its own shape
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, err_msg=name)


def test_shapes_are_inferred_as_the_graph_is_built():
    f = adcli.compile("h = tanh(X @ W + b); s = sum(h, 1); mean(s)", shapes=SHAPES)
    g = f.graph
    shapes = {g.label[n]: g.shape[n] for n in range(len(g)) if g.label[n]}
    assert shapes["X"] == (None, 3) and shapes["W"] == (3, 2)
    assert shapes["h"] == (None, 2)
    assert shapes["s"] == (None,)


def test_numbers_keep_their_programs_and_values():
    """A program of numbers makes the same graph with or without the shapes of names
    it does not use; its nodes are all numbers."""
    text = "x*sigmoid(x)/(x**2+1)"
    plain, shaped = adcli.compile(text), adcli.compile(text, shapes={"X": (3,)})
    assert plain.graph.op == shaped.graph.op and plain.graph.args == shaped.graph.args
    assert all(plain.graph.shape[n] == () for n in range(len(plain.graph)))
    assert plain.grad(x=2.0) == shaped.grad(x=2.0)


def test_reductions_of_numbers_are_the_numbers():
    assert adcli.compile("sum(x) + mean(x) + transpose(x)")(x=1.5) == 4.5


def _parse_error(text: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        adcli.compile(text, shapes=SHAPES)
    return caught.value


def test_matmul_mismatch_names_both_shapes_and_the_fix_under_the_operator():
    adcli.compile("sum(A @ W)", shapes=SHAPES)  # they fit
    error = _parse_error("sum(A @ A)")
    assert (
        error.message
        == "shapes [4, 3] and [4, 3] don't fit for @ (3 ≠ 4): did you mean transpose(...)?"
    )
    assert (error.line, error.column) == (1, 7)  # the caret under @


def test_broadcast_mismatch_points_at_the_operator():
    error = _parse_error("sum(u + b)")
    assert "shapes [3] and [2] don't fit" in error.message
    assert error.column == 7


def test_rows_fit_only_rows():
    error = _parse_error("sum(y + u)")
    assert "[rows] and [3]" in error.message


def test_matmul_on_numbers_says_what_it_takes():
    with pytest.raises(ParseError) as caught:
        adcli.compile("x @ y")
    assert "@ takes vectors and matrices" in caught.value.message
    assert caught.value.column == 3


def test_an_axis_must_be_an_integer_constant_of_the_array():
    assert "must be an integer constant" in _parse_error("sum(A, c)").message
    assert "must be an integer constant" in _parse_error("sum(A, 0.5)").message
    assert "axis 2 is not an axis of a value of shape [4, 3]" in _parse_error("mean(A, 2)").message


def test_a_gradient_needs_one_number():
    f = adcli.compile("X @ W", shapes=SHAPES)
    with pytest.raises(UsageError, match="one value per data row: wrap it in mean"):
        f.grad(X=value_of("X"), W=value_of("W"))
    f = adcli.compile("A @ u", shapes=SHAPES)
    with pytest.raises(UsageError, match=r"has shape \[4\], not one number"):
        f.grad(A=value_of("A"), u=value_of("u"))


def test_values_of_the_wrong_shape_are_named():
    f = adcli.compile("sum(X @ u - y)", shapes=SHAPES)
    with pytest.raises(BindingError, match=r"u has shape \[4\]; the expression takes \[3\]"):
        f(X=np.ones((5, 3)), u=np.ones(4), y=np.ones(5))
    with pytest.raises(BindingError, match="X has 5 rows and y has 6"):
        f(X=np.ones((5, 3)), u=np.ones(3), y=np.ones(6))
    assert f(X=np.ones((5, 3)), u=np.ones(3), y=np.ones(5)) == pytest.approx(10.0)
