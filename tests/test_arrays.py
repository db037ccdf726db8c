"""Arrays (SPEC §10): shapes in the graph, the array ops, and their gradients checked
against an independent AD library (HIPS autograd) to 1e-12 relative."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from conftest import BACKENDS

import adcli
from adcli.errors import BindingError, ParseError, UsageError

RNG = np.random.default_rng(12)

# Shapes of the free variables every case below may use ("rows" is the data's rows).
SHAPES = {
    "X": (None, 3), "W": (3, 2), "V": (2, 3), "b": (2,), "u": (3,), "v": (3,),
    "A": (4, 3), "B": (3, 4), "c": (), "y": (None,), "y2": (None,),
}  # fmt: skip
ROWS = 5


def value_of(name: str) -> np.ndarray | float:
    shape = tuple(ROWS if d is None else d for d in SHAPES[name])
    if name == "y2":  # class labels of two classes
        return RNG.integers(0, 2, size=shape).astype(float)
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
    # indexing and slices
    ("u[0] * u[2] + u[-1]", lambda u: u[0] * u[2] + u[-1]),
    ("sum(A[1] * B[:, 2])", lambda A, B: anp.sum(A[1] * B[:, 2])),
    ("sum(A[1:3, ::2] ** 2)", lambda A: anp.sum(A[1:3, ::2] ** 2)),
    ("sum(exp(X[:, 1]) * y)", lambda X, y: anp.sum(anp.exp(X[:, 1]) * y)),
    ("A[2, 1] * sum(A[:, 0])", lambda A: A[2, 1] * anp.sum(A[:, 0])),
    # comparisons and where
    ("sum(where(A > 0, A, 0.1 * A))", lambda A: anp.sum(anp.where(A > 0, A, 0.1 * A))),
    ("sum((u > v) * u + (u <= v) * v)", lambda u, v: anp.sum((u > v) * u + (u <= v) * v)),
    ("sum(where(u - v, sin(u), v ** 2))",
     lambda u, v: anp.sum(anp.where(u - v != 0, anp.sin(u), v**2))),
    # reductions that pick, and the stable forms
    ("max(A) - min(u)", lambda A, u: anp.max(A) - anp.min(u)),
    ("sum(amax(A, 0)) + sum(amin(A, 1))",
     lambda A: anp.sum(anp.max(A, 0)) + anp.sum(anp.min(A, 1))),
    ("logsumexp(u)", lambda u: logsumexp(u)),
    ("sum(logsumexp(A, 0) * v)", lambda A, v: anp.sum(logsumexp(A, axis=0) * v)),
    ("sum(logsumexp(X) ** 2)", lambda X: anp.sum(logsumexp(X, axis=1) ** 2)),
    ("sum(softmax(u) * v)", lambda u, v: anp.sum(_softmax(u, -1) * v)),
    ("sum(softmax(A, 0) * A)", lambda A: anp.sum(_softmax(A, 0) * A)),
    ("sum(log_softmax(A) * A)", lambda A: anp.sum(_log_softmax(A, -1) * A)),
    ("sum(log_softmax(A, 0) ** 2)", lambda A: anp.sum(_log_softmax(A, 0) ** 2)),
    ("mean(xent(X @ W + b, y2))", lambda X, W, b, y2: anp.mean(_xent(X @ W + b, y2))),
    ("sum(one_hot(y2, 2) * (X @ W))", lambda y2, X, W: anp.sum(_one_hot(y2, 2) * (X @ W))),
    ("sum(argmax(A, 1) * A[:, 0]) + argmax(B) * c",
     lambda A, B, c: anp.sum(anp.argmax(A, 1) * A[:, 0]) + anp.argmax(B) * c),
]  # fmt: skip


def logsumexp(a, axis=None, keepdims=False):
    m = anp.max(a, axis=axis, keepdims=True)  # its gradient cancels: 1 − Σ softmax = 0
    out = m + anp.log(anp.sum(anp.exp(a - m), axis=axis, keepdims=True))
    return out if keepdims else (anp.squeeze(out) if axis is None else anp.squeeze(out, axis))


def _softmax(a, axis):
    e = anp.exp(a - anp.max(a, axis=axis, keepdims=True))
    return e / anp.sum(e, axis=axis, keepdims=True)


def _log_softmax(a, axis):
    return a - logsumexp(a, axis=axis, keepdims=True)


def _one_hot(labels, k):
    return anp.eye(k)[labels.astype(int)]


def _xent(z, labels):
    return logsumexp(z, axis=-1) - anp.sum(z * _one_hot(labels, z.shape[-1]), axis=-1)


def _names(text: str) -> list[str]:
    return [n for n in adcli.compile(text, shapes=SHAPES).variables]


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # argmax(B)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text, reference", CASES, ids=[c[0] for c in CASES])
def test_value_and_gradient_agree_with_autograd(text, reference, backend):
    names = _names(text)
    point = {n: value_of(n) for n in names}
    if "u ** c" in text:
        point["u"] = np.abs(point["u"])
    f = adcli.compile(text, shapes=SHAPES, backend=backend)
    value, grads = f.grad(**point)
    args = [point[n] for n in reference.__code__.co_varnames[: reference.__code__.co_argcount]]
    assert value == pytest.approx(float(reference(*args)), rel=1e-12, abs=1e-300)
    for i, name in enumerate(reference.__code__.co_varnames[: len(args)]):
        if name == "y2":  # class labels: no derivative (autograd refuses integer indices)
            expected = np.zeros_like(point[name])
        else:
            expected = autograd.grad(reference, i)(*args)
        got = grads[name]
        assert np.shape(got) == np.shape(point[name]), name  # a gradient of its own shape
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text, reference", CASES, ids=[c[0] for c in CASES])
def test_forward_mode_agrees_with_reverse_mode(text, reference, backend):
    """Each jvp rule against the vjp rules: the tangent along all-ones in a variable
    is the sum of that variable's gradient."""
    f = adcli.compile(text, shapes=SHAPES, backend=backend)
    point = {n: value_of(n) for n in f.variables}
    if "u ** c" in text:
        point["u"] = np.abs(point["u"])
    _, grads = f.grad(**point)
    for name in f.variables:
        nodes = f.forward_value_and_grad_nodes([name])
        value, tangent = f.compiled(nodes).whole(*(point[v] for v in f.variables))
        assert np.shape(tangent) == ()
        assert tangent == pytest.approx(float(np.sum(grads[name])), rel=1e-11, abs=1e-12), name


def test_shapes_are_inferred_as_the_graph_is_built():
    f = adcli.compile("h = tanh(X @ W + b); s = sum(h, 1); mean(s)", shapes=SHAPES)
    g = f.ir
    shapes = {g.label[n]: g.shape[n] for n in range(len(g)) if g.label[n]}
    assert shapes["X"] == (None, 3) and shapes["W"] == (3, 2)
    assert shapes["h"] == (None, 2)
    assert shapes["s"] == (None,)


def test_numbers_keep_their_programs_and_values():
    """A program of numbers makes the same graph with or without the shapes of names
    it does not use; its nodes are all numbers."""
    text = "x*sigmoid(x)/(x**2+1)"
    plain, shaped = adcli.compile(text), adcli.compile(text, shapes={"X": (3,)})
    assert plain.ir.op == shaped.ir.op and plain.ir.args == shaped.ir.args
    assert all(plain.ir.shape[n] == () for n in range(len(plain.ir)))
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


# --- stable forms ---------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_and_logsumexp_are_stable_at_large_inputs(backend):
    f = adcli.compile("logsumexp(u), sum(softmax(u) * v), sum(log_softmax(u) * v)", shapes=SHAPES,
                      backend=backend)  # fmt: skip
    u = np.array([1000.0, -1000.0, 999.0])
    v = np.array([1.0, 2.0, 3.0])
    lse, soft, logsoft = f(u=u, v=v)
    assert lse == pytest.approx(1000.0 + np.log1p(np.exp(-1.0)), rel=1e-15)
    p = np.exp(np.array([0.0, -2000.0, -1.0]) - np.log1p(np.exp(-1.0)))
    assert soft == pytest.approx(float(p @ v), rel=1e-14)
    assert np.isfinite(logsoft)
    value, grads = adcli.compile("logsumexp(u)", shapes=SHAPES, backend=backend).grad(u=u)
    np.testing.assert_allclose(grads["u"], p, rtol=1e-14)


@pytest.mark.parametrize("backend", BACKENDS)
def test_xent_names_a_label_that_is_not_a_class(backend):
    f = adcli.compile("mean(xent(X @ W, y))", shapes=SHAPES, backend=backend)
    X, W = value_of("X"), value_of("W")
    with pytest.raises(BindingError, match="whole number from 0 to 1, not 2$"):
        f(X=X, W=W, y=np.array([0, 1, 2, 0, 1.0]))
    with pytest.raises(BindingError, match="not 0.5$"):
        f(X=X, W=W, y=np.array([0, 1, 0.5, 0, 1.0]))


def test_xent_shapes_must_be_logits_and_one_label_per_row():
    assert "xent(logits, labels) takes logits" in _parse_error("sum(xent(X @ W, u))").message


def test_max_with_two_arguments_stays_elementwise():
    f = adcli.compile("max(A, 1), max(A)", shapes=SHAPES)
    A = value_of("A")
    clipped, top = f(A=A)
    np.testing.assert_array_equal(clipped, np.maximum(A, 1.0))
    assert top == A.max()


def test_at_a_tie_amax_sends_the_gradient_to_the_first_maximum():
    _, grads = adcli.compile("max(u)", shapes=SHAPES).grad(u=np.array([2.0, 5.0, 5.0]))
    np.testing.assert_array_equal(grads["u"], [0.0, 1.0, 0.0])
    _, grads = adcli.compile("sum(amin(A, 0))", shapes=SHAPES).grad(A=np.ones((4, 3)))
    np.testing.assert_array_equal(grads["A"], [[1, 1, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_comparisons_give_numbers_and_do_not_chain():
    f = adcli.compile("(x < y) + 2*(x <= y) + 4*(x > y) + 8*(x >= y) + 16*(x == y) + 32*(x != y)")
    assert f(x=1.0, y=2.0) == 1 + 2 + 32
    assert f(x=2.0, y=2.0) == 2 + 8 + 16
    with pytest.raises(ParseError) as caught:
        adcli.compile("x < y < z")
    assert caught.value.column == 7


def test_a_comparison_binds_looser_than_arithmetic():
    assert adcli.compile("x + 1 > 2 * x")(x=0.5) == 1.0


# --- indexing -------------------------------------------------------------------------


def test_subscripts_are_checked_against_the_shape():
    assert "index 4 is out of range for axis 0 of size 4" in _parse_error("A[4]").message
    assert "3 subscripts for a value of shape [4, 3]" in _parse_error("A[0, 1, 2]").message
    assert "a subscript must be an integer constant" in _parse_error("u[c]").message
    assert "the data's rows are taken whole" in _parse_error("sum(X[0])").message
    assert "is empty" in _parse_error("u[2:1]").message
    error = _parse_error("sum(u[1.5])")
    assert error.column == 6  # under the [


# --- params ---------------------------------------------------------------------------

NET = """param W = glorot(3, 2)
param b = zeros(2)
param s = 1.5
mean(xent(s * (X @ W + b), y2))"""


def test_params_are_variables_with_their_shape_and_start():
    f = adcli.compile(NET, shapes={"X": (None, 3), "y2": (None,)})
    assert f.variables == ("W", "b", "s", "X", "y2")
    assert {n: f.ir.shape[f.ir.variables[n]] for n in ("W", "b", "s")} == {
        "W": (3, 2), "b": (2,), "s": ()}  # fmt: skip
    start = f.start_values(seed=0)
    limit = np.sqrt(6 / 5)
    assert start["W"].shape == (3, 2) and np.all(np.abs(start["W"]) <= limit)
    np.testing.assert_array_equal(start["b"], np.zeros(2))
    assert start["s"] == 1.5
    again = adcli.compile(NET, shapes={"X": (None, 3), "y2": (None,)}).start_values(seed=0)
    np.testing.assert_array_equal(start["W"], again["W"])  # the same seed, the same bits
    assert not np.array_equal(start["W"], f.start_values(seed=1)["W"])
    X, y2 = value_of("X"), value_of("y2")
    assert f(X=X, y2=y2) == f(W=start["W"], b=start["b"], s=1.5, X=X, y2=y2)


@pytest.mark.parametrize("init, shape, check", [
    ("zeros(2, 3)", (2, 3), lambda a: np.all(a == 0)),
    ("ones(4)", (4,), lambda a: np.all(a == 1)),
    ("full(2.5, 3)", (3,), lambda a: np.all(a == 2.5)),
    ("normal(0.01, 50, 40)", (50, 40), lambda a: abs(a.std() - 0.01) < 0.001),
    ("uniform(-2, -1, 100)", (100,), lambda a: np.all((-2 <= a) & (a < -1))),
    ("he(200, 30)", (200, 30), lambda a: abs(a.std() - 0.1) < 0.01),
    ("glorot(64, 32)", (64, 32), lambda a: np.all(np.abs(a) <= 0.25) and a.std() > 0.1),
])  # fmt: skip
def test_each_initialiser_draws_its_distribution(init, shape, check):
    f = adcli.compile(f"param P = {init}\nsum(P)")
    value = f.start_values(seed=3)["P"]
    assert value.shape == shape and check(value)


@pytest.mark.parametrize("text, message", [
    ("param W = glorot(3)\nsum(W)", "glorot takes glorot(n_in, n_out)"),
    ("param W = zeros(2.5)\nsum(W)", "a dimension must be a whole number ≥ 1, not 2.5"),
    ("param W = zeros(x)\nsum(W)", "the arguments of zeros(...) must be numbers"),
    ("param w = x + 1\nw", "param w = ... takes an initialiser or a number"),
    ("param w = 1\nparam w = 2\nw", "param w is declared twice"),
    ("y = w * 2\nparam w = 1\ny", "param w is declared after its first use"),
    ("y = zeros(3)\nsum(y)", "zeros(...) gives a param its start value"),
])  # fmt: skip
def test_param_mistakes_are_named(text, message):
    with pytest.raises(ParseError) as caught:
        adcli.compile(text)
    assert message in caught.value.message


def test_param_is_still_a_name_where_no_declaration_follows():
    assert adcli.compile("param * 2")(param=3.0) == 6.0
    assert adcli.compile("param = 3; param * 2")() == 6.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_second_derivatives_through_the_array_rules_agree_with_autograd(backend):
    """The Hessian sweeps back through every array op's vjp again (xent's fused
    backward, softmax, matmul, amax, index): against autograd's Hessian."""
    text = "sum(softmax(u @ W, 0) * b) + mean(xent(X @ W, y2)) + max(W[1:3]) * c"
    f = adcli.compile(text, shapes=SHAPES, backend=backend)
    point = {n: value_of(n) for n in f.variables}
    args = [point[n] for n in f.variables]
    matrix, labels, value, _ = f.array_hessian(args, ["W", "c"])

    def reference(flat):
        W, c = flat[:6].reshape(3, 2), flat[6]
        z = point["u"] @ W
        return (anp.sum(_softmax(z, 0) * point["b"]) + anp.mean(_xent(point["X"] @ W, point["y2"]))
                + anp.max(W[1:3]) * c)  # fmt: skip

    flat = np.concatenate([point["W"].ravel(), [point["c"]]])
    np.testing.assert_allclose(matrix, autograd.hessian(reference)(flat), rtol=1e-10, atol=1e-12)
    assert labels[:2] == ["W[0, 0]", "W[0, 1]"] and labels[-1] == "c"


# --- commands of formulas and code on arrays ---------------------------------------------


def test_codegen_numpy_of_arrays_gives_the_same_bits_as_grad():
    from adcli.codegen import python_module

    text = "param W = glorot(3, 2)\nparam b = zeros(2)\nmean(xent(relu(X @ W + b), y2))"
    f = adcli.compile(text, shapes=SHAPES)
    namespace: dict = {"__name__": "generated"}
    exec(compile(python_module(f, None, "f", numpy=True), "<generated>", "exec"), namespace)
    point = {"W": value_of("W"), "b": value_of("b"), "X": value_of("X"), "y2": value_of("y2")}
    value, grads = namespace["f"](*(point[n] for n in f.variables))
    want_value, want = f.grad(["W", "b"], **point)
    assert value == want_value
    assert all(np.array_equal(g, want[n]) for g, n in zip(grads, ["W", "b"]))  # not X, y2


@pytest.mark.parametrize("make", [
    lambda f: f.derivatives(),
    lambda f: f.derivative("u"),
    lambda f: __import__("adcli.codegen").codegen.python_module(f),
])  # fmt: skip
def test_formulas_and_scalar_code_refuse_arrays_and_say_what_instead(make):
    f = adcli.compile("sum(u * v)", shapes=SHAPES)
    with pytest.raises(UsageError) as caught:
        make(f)
    assert "u [3], v [3] are arrays" in caught.value.message
    assert "grad" in caught.value.hint or "--numpy" in caught.value.hint


def test_an_array_made_from_numbers_keeps_its_shape_downstream():
    """one_hot of a number is an array: what follows it is one too."""
    f = adcli.compile("sum(one_hot(x, 3) * 2) + y")
    assert f(x=1.0, y=0.5) == 2.5
    value, grads = f.grad(x=1.0, y=0.5)
    assert grads["y"] == 1.0 and grads["x"] == 0.0
    one = adcli.compile("one_hot(x, 3)")
    assert one.ir.shape[one.outputs[0]] == (3,)


@pytest.mark.parametrize("text, message", [
    ("param w = uniform(-1e308, 1e308, 3)\nsum(w)", "hi − lo to be a finite number"),
    ("param w = normal(1e400, 3)\nsum(w)", "takes finite numbers"),
])  # fmt: skip
def test_initialisers_take_finite_numbers(text, message):
    with pytest.raises(ParseError) as caught:
        adcli.compile(text)
    assert message in caught.value.message


def test_one_hot_of_many_classes_needs_no_square_matrix():
    f = adcli.compile("sum(one_hot(y, 10000000))", shapes={"y": (None,)})
    assert f(y=np.array([3.0, 9_999_999.0])) == 2.0
