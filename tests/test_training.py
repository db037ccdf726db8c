"""Descent on data (SPEC §9): seed 002's regression, minibatches, every method."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKENDS

import adcli
from adcli.errors import BindingError, UsageError

# Seed 002's rows: x = linspace(-1, 1, 100), y = 3x + 0.5·noise (the seed draws the
# noise unseeded; here it is drawn with a fixed seed).
X = np.linspace(-1, 1, 100)
Y = X * 3 + np.random.default_rng(2).standard_normal(100) * 0.5
LOSS = "sum((x*w + b - y)**2)"
COLUMNS = {"x": (None,), "y": (None,)}


def simpleflow_loop(x, y, steps=20, lr=0.005):
    """The seed's loop as simpleflow runs it: the loss at each step, then an update
    by the gradient of reduce_sum(square(x*w + b - y)); w is a 1×1 matrix there."""
    w, b = np.array([[1.0]]), 0.0
    log = []
    for _ in range(steps):
        residual = x * w + b - y
        loss = np.sum(np.square(residual))
        log.append((loss, loss / len(x)))
        w = w - lr * np.sum(2 * residual * x)
        b = b - lr * np.sum(2 * residual)
    return log, float(w[0, 0]), float(b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed_002_is_simpleflows_loop(backend):
    f = adcli.compile(LOSS, shapes=COLUMNS, backend=backend)
    run = f.train({"x": X, "y": Y}, {"w": 1.0, "b": 0.0}, lr=0.005, steps=20)
    log, w, b = simpleflow_loop(X, Y)
    assert len(run) == 21  # step 0 is the start; the 21st row is the final point
    for k, (loss, mse) in enumerate(log):
        assert run.losses[k] == pytest.approx(loss, rel=1e-12)
        assert run.losses[k] / run.rows[k] == pytest.approx(mse, rel=1e-12)
    assert run.params["w"] == pytest.approx(w, rel=1e-12)
    assert run.params["b"] == pytest.approx(b, rel=1e-12)
    assert run.points[-1] == (run.params["w"], run.params["b"])
    assert run.reason == "max-steps"


def test_full_batch_is_minimize_on_the_same_sum():
    """With every row each step, training is minimize's loop on the written-out sum."""
    xs, ys = X[:5], Y[:5]
    terms = " + ".join(f"({float(x)!r}*w + b - {float(y)!r})**2" for x, y in zip(xs, ys))
    scalar = adcli.compile(terms).minimize({"w": 1.0, "b": 0.0}, lr=0.01, steps=30,
                                          method="nesterov")  # fmt: skip
    run = adcli.compile(LOSS, shapes=COLUMNS).train(
        {"x": xs, "y": ys}, {"w": 1.0, "b": 0.0}, lr=0.01, steps=30, method="nesterov"
    )
    assert [s.value for s in scalar.steps] == pytest.approx(run.losses, rel=1e-12)
    assert scalar.final.point == pytest.approx(run.points[-1], rel=1e-12)


NET = """param W1 = he(4, 8)
param b1 = zeros(8)
param W2 = glorot(8, 3)
param b2 = zeros(3)
mean(xent(relu(X @ W1 + b1) @ W2 + b2, label))"""


def blobs(n=240, seed=5):
    """Three separable clusters in 4 dimensions."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, size=n)
    centers = np.array([[2, 0, 0, 1], [-2, 1, 0, 0], [0, -2, 2, 0]], dtype=float)
    return centers[label] + rng.normal(scale=0.5, size=(n, 4)), label.astype(float)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", ["gd", "momentum", "nesterov", "adam"])
def test_minibatches_learn_and_repeat_bit_for_bit(method, backend):
    data_x, label = blobs()
    f = adcli.compile(NET, shapes={"X": (None, 4), "label": (None,)}, backend=backend)
    lr = 0.01 if method == "adam" else 0.1
    runs = [f.train({"X": data_x, "label": label}, batch_size=32, epochs=5, lr=lr,
                    method=method, seed=7) for _ in range(2)]  # fmt: skip
    first, second = runs
    assert len(first) == 5 * 8  # ⌈240/32⌉ steps an epoch
    assert first.epochs[0] == 0 and first.epochs[-1] == 4
    assert first.rows[7] == 240 - 7 * 32  # the last batch of an epoch is smaller
    for name in first.params:
        assert np.array_equal(first.params[name], second.params[name])
    assert first.final_loss < 0.5 * first.losses[0]
    other = f.train({"X": data_x, "label": label}, batch_size=32, epochs=5, lr=lr,
                    method=method, seed=8)  # fmt: skip
    assert not np.array_equal(first.params["W1"], other.params["W1"])


def test_no_shuffle_takes_the_rows_in_file_order():
    """Batches in file order: the first step's loss is the loss on the first rows."""
    data_x, label = blobs()
    f = adcli.compile(NET, shapes={"X": (None, 4), "label": (None,)})
    run = f.train({"X": data_x, "label": label}, batch_size=50, steps=3, shuffle=False)
    start = f.start_values(0)
    assert run.losses[0] == f(X=data_x[:50], label=label[:50], **start)
    assert len(run) == 3 and run.rows == [50, 50, 50]


def test_start_values_override_the_declared_ones():
    data_x, label = blobs()
    f = adcli.compile(NET, shapes={"X": (None, 4), "label": (None,)})
    zeros = {"W1": np.zeros((4, 8)), "W2": np.zeros((8, 3))}
    run = f.train({"X": data_x, "label": label}, zeros, steps=0)
    assert run.losses[0] == pytest.approx(np.log(3), rel=1e-15)  # every class alike


def test_training_mistakes_are_named():
    f = adcli.compile(LOSS, shapes=COLUMNS)
    data = {"x": X, "y": Y}
    with pytest.raises(BindingError, match="no value for b"):
        f.train(data, {"w": 1.0})
    with pytest.raises(BindingError, match="y is given a start value but is not a parameter"):
        f.train(data, {"w": 1.0, "b": 0.0, "y": 1.0})
    with pytest.raises(UsageError, match="batch_size must be a whole number ≥ 1"):
        f.train(data, {"w": 1.0, "b": 0.0}, batch_size=0)
    with pytest.raises(UsageError, match="one value per data row"):
        adcli.compile("(x*w - y)**2", shapes=COLUMNS).train(data, {"w": 1.0})
    with pytest.raises(BindingError, match="x has 100 rows and y has 99"):
        f.train({"x": X, "y": Y[:99]}, {"w": 1.0, "b": 0.0})


def test_a_diverging_run_stops_and_says_so():
    f = adcli.compile(LOSS, shapes=COLUMNS)
    run = f.train({"x": X, "y": Y}, {"w": 1.0, "b": 0.0}, lr=1.0, steps=100)
    assert run.reason == "diverged" and len(run) < 100


def test_the_loss_over_every_row_is_summed_by_chunks_where_rows_are_separate(monkeypatch):
    """A minibatch run's loss over every row, a few rows at a time (no array of the
    whole data's size), equals the loss of the whole data at once."""
    import adcli.api

    monkeypatch.setattr(adcli.api, "ROW_CHUNK", 7)
    data_x, label = blobs()
    f = adcli.compile(NET, shapes={"X": (None, 4), "label": (None,)})
    assert f.ir.op[f._per_row_terms(f.outputs[0])] == "xent"
    run = f.train({"X": data_x, "label": label}, batch_size=32, epochs=1)
    whole = f(X=data_x, label=label, **f.start_values(0))
    assert run.start_loss == pytest.approx(whole, rel=1e-13)
    assert run.final_loss == pytest.approx(f(X=data_x, label=label, **run.params), rel=1e-13)


@pytest.mark.parametrize("loss", [
    "mean((X - mean(X, 0)) @ w)",  # each row depends on every row
    "sum(transpose(X) @ X @ w)",  # the rows are summed over inside
    "mean(X @ w) * sum(X[:, 0])",  # the loss is not a sum of per-row terms
])  # fmt: skip
def test_a_loss_whose_rows_depend_on_each_other_is_taken_whole(loss):
    f = adcli.compile(loss, shapes={"X": (None, 4), "w": (4,)})
    assert f._per_row_terms(f.outputs[0]) is None


def test_an_interrupted_run_keeps_the_parameters_it_reached():
    """Ctrl-C (a KeyboardInterrupt during step 5) ends the run with what it has."""
    data_x, label = blobs()
    f = adcli.compile(NET, shapes={"X": (None, 4), "label": (None,)})

    def stop_at_5(k):
        if k == 5:
            raise KeyboardInterrupt

    run = f.train({"X": data_x, "label": label}, batch_size=32, epochs=3, on_step=stop_at_5)
    assert run.reason == "interrupted" and len(run) == 6
    whole = f.train({"X": data_x, "label": label}, batch_size=32, steps=5)
    for name in run.params:  # five updates made, the sixth not
        assert np.array_equal(run.params[name], whole.params[name])


def test_ctrl_c_on_the_command_line_saves_what_was_reached(run, tmp_path, monkeypatch):
    """The command line's side: exit 130, the parameters saved and the save said."""
    import adcli.train

    data_x, label = blobs()
    np.savez(tmp_path / "d.npz", X=data_x, label=label)
    real = adcli.train._update
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(adcli.train, "_update", interrupted)
    monkeypatch.chdir(tmp_path)
    r = run("minimize", NET, "--data", "d.npz", "--batch-size", "32", "--epochs", "2",
            "--save", "p.npz")  # fmt: skip
    assert r.code == 130
    assert "saved the parameters reached when interrupted to p.npz" in r.err
    assert "reason: interrupted" in r.err
    saved = np.load(tmp_path / "p.npz")
    assert sorted(saved.files) == ["W1", "W2", "b1", "b2"]


def test_a_gradient_that_is_a_params_own_array_is_read_before_any_param_moves():
    """The gradient of a @ b by a is b itself: the update of b must not change it
    before a's update reads it (each param moves by the gradient at the start)."""
    f = adcli.compile("param a = full(1.0, 3)\nparam b = full(2.0, 3)\na @ b")
    for method in ("gd", "momentum", "adam"):
        run = f.train({}, lr=0.1, steps=1, tol=0, method=method)
        a, b = run.params["a"], run.params["b"]
        assert np.allclose(a, a[0]) and np.allclose(b, b[0])
        if method == "gd":
            assert (a[0], b[0]) == (1.0 - 0.1 * 2.0, 2.0 - 0.1 * 1.0)
    value, grads = f.grad(a=np.ones(3), b=np.full(3, 2.0))
    assert grads["a"].flags.writeable and grads["b"].flags.writeable  # arrays of their own


def test_epochs_are_counted_when_every_batch_is_every_row_in_order():
    data_x, label = blobs()
    f = adcli.compile(NET, shapes={"X": (None, 4), "label": (None,)})
    run = f.train({"X": data_x, "label": label}, batch_size=1000, epochs=3, shuffle=False)
    assert run.epochs == [0, 1, 2] and run.rows == [240, 240, 240]
