"""The JAX backend (issue 15): every op of the table has a JAX form, the numbers agree
with the numpy backend to a few ulps, and JAX is asked for, never imported unasked.

The tests of the array paths elsewhere (test_arrays, test_gradient_oracles,
test_training, test_fit) run on both backends through conftest's BACKENDS; these
are the backend's own promises.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import NUMBER_OPS
from hypothesis import HealthCheck, given, settings
from test_gradient_oracles import random_cases

import adcli
from adcli import jaxbackend
from adcli.errors import UsageError
from adcli.ops import OPS

# IEEE specials and ordinary numbers (not near overflow: there XLA's simplifier may
# rewrite a/b/c as a/(b·c), and an intermediate that overflows gives nan, not inf)
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.5, 3.0, np.inf, -np.inf, np.nan]


def _text(name: str) -> str:
    """A call of the op on variables x, y, z (its infix or prefix form if it has one)."""
    op = OPS[name]
    names = ["x", "y", "z"][: op.arity]
    if op.symbol is not None and not op.callable:
        return f"x {op.symbol} y" if op.arity == 2 else f"{op.symbol}x"
    return f"{name}({', '.join(names)})"


def _agree(got, want, ulps: float = 8.0, floor: float = 0.0) -> np.ndarray:
    """Equal, both nan, or within ``ulps`` of the larger magnitude (at least ``floor``:
    a partial such as tanh' = 1 − tanh² cancels, and an ulp of tanh shows in it)."""
    got, want = np.asarray(got), np.asarray(want)
    with np.errstate(invalid="ignore"):
        scale = np.maximum(np.maximum(np.abs(got), np.abs(want)), floor)
        near = np.abs(got - want) <= ulps * np.spacing(scale)
    return (got == want) | (np.isnan(got) & np.isnan(want)) | near


def test_every_op_of_the_table_has_a_jax_form():
    """From its row: the numpy name jax.numpy shares, else a function of the kernel's
    (or the op's) name in jaxbackend. A new op without one fails here."""
    for name in OPS:
        assert callable(jaxbackend.function(name)), name


@pytest.mark.parametrize("name", NUMBER_OPS)
def test_every_number_op_gives_numpys_values_and_partials_at_ieee_specials(name):
    text = _text(name)
    variables = adcli.compile(text).variables
    grid = np.array(list(itertools.product(SPECIAL, repeat=len(variables)))).T
    args = dict(zip(variables, grid))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want_value, want = adcli.compile(text).grad(**args)
    value, got = adcli.compile(text, backend="jax").grad(**args)
    assert _agree(value, want_value).all(), (text, grid[:, ~_agree(value, want_value)])
    for n in variables:
        ok = _agree(got[n], want[n], floor=1.0)
        assert ok.all(), (text, n, grid[:, ~ok], got[n][~ok], want[n][~ok])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])  # fmt: skip
@given(random_cases())
def test_random_compositions_agree_on_both_backends(case):
    node, point = case
    f, j = adcli.compile(node.text), adcli.compile(node.text, backend="jax")
    if not f.variables:
        return
    arrays = {n: point[n] + np.array([0.0, 2.0**-10, -(2.0**-10), 0.5]) for n in f.variables}
    (want_value, want), (value, got) = f.grad(**arrays), j.grad(**arrays)
    # as test_gradient_oracles holds the array path to the scalar path: 1e-12 of the
    # magnitude (at least 1), nan where numpy has nan
    assert _close(value, want_value), (node.text, value, want_value)
    for n in f.variables:
        assert _close(got[n], want[n]), (node.text, n, got[n], want[n])


def _close(got, want) -> bool:
    both_nan = np.isnan(got) & np.isnan(want)
    with np.errstate(invalid="ignore"):
        near = np.abs(got - want) <= 1e-12 * np.maximum(1.0, np.abs(want))
    return bool(np.all(both_nan | near | (got == want)))


def test_jax_arrays_in_give_jax_arrays_out_and_numpy_gives_numpy():
    import jax
    import jax.numpy as jnp

    f = adcli.compile("x*sigmoid(x)/(x**2+1)", backend="jax")
    x = np.linspace(-3, 3, 7)
    value, grads = f.grad(x=x)
    assert type(value) is np.ndarray and type(grads["x"]) is np.ndarray
    assert not value.flags.writeable  # a view of JAX's buffer, as compile() says
    with jax.enable_x64(True):
        on_device = jnp.asarray(x)
    value_j, grads_j = f.grad(x=on_device)
    assert isinstance(value_j, jax.Array) and isinstance(grads_j["x"], jax.Array)
    assert np.array_equal(np.asarray(value_j), value)
    assert np.array_equal(np.asarray(grads_j["x"]), grads["x"])
    assert f.grad(x=2.0) == adcli.compile("x*sigmoid(x)/(x**2+1)").grad(x=2.0)  # Python's math


def test_outputs_broadcast_like_numpys_even_when_constant():
    f = adcli.compile("x + 2*y", backend="jax")
    value, grads = f.grad(x=np.arange(6.0).reshape(2, 3), y=1.5)
    assert value.shape == grads["x"].shape == grads["y"].shape == (2, 3)
    assert np.all(grads["x"] == 1.0) and np.all(grads["y"] == 2.0)


def test_a_stream_of_blocks_of_every_size_compiles_a_few_shapes():
    """Blocks under 2^16 points are padded to a power of two: 200 sizes, 9 programs."""
    f, g = (adcli.compile("exp(-x) * sin(3*x)", backend=b) for b in ("jax", "numpy"))
    compiled = f.compiled(f.value_and_grad_nodes())
    want_compiled = g.compiled(g.value_and_grad_nodes())
    rng = np.random.default_rng(0)
    for n in range(1, 201):
        x = rng.normal(size=n)
        got, want = compiled.batch(x), want_compiled.batch(x)
        assert all(g.shape == (n,) and _agree(g, w, floor=1.0).all() for g, w in zip(got, want))
    assert compiled._on_jax()._batch._cache_size() == 9  # 1, 2, 4, …, 256


def test_a_label_that_is_no_class_is_named_before_xla_runs():
    f = adcli.compile("mean(one_hot(t, 3) @ w)", shapes={"t": (None,), "w": (3,)}, backend="jax")
    with pytest.raises(adcli.AdcliError, match="whole number from 0 to 2, not 3$"):
        f(t=np.array([0.0, 3.0]), w=np.ones(3))
    assert f(t=np.array([0.0, 2.0]), w=np.arange(3.0)) == 1.0


def test_subnormal_numbers_are_flushed_to_zero_as_documented():
    """XLA on the CPU flushes subnormals (below 2.2e-308) to zero; compile()'s and the
    README's words say so. Where this changes, they must change with it."""
    x = np.array([-720.0])
    assert adcli.compile("sigmoid(x)")(x=x)[0] > 0.0
    assert adcli.compile("sigmoid(x)", backend="jax")(x=x)[0] == 0.0


def test_an_unknown_backend_says_which_there_are(run):
    with pytest.raises(UsageError, match="unknown backend 'torch'"):
        adcli.compile("x", backend="torch")
    r = run("eval", "x", "--at", "1", "--backend", "torch")
    assert r.code == 2 and "choose numpy or jax" in r.err


@pytest.mark.parametrize("args", [
    ["eval", "x**2", "--at", "1"],
    ["grad", "x*sigmoid(x)", "--at", "2"],
    ["minimize", "x**2", "--start", "1"],
    ["fit", "y ~ a*x", "--data", "line.csv"],
])  # fmt: skip
def test_without_jax_the_option_says_how_to_install_it(run, monkeypatch, tmp_path, args):
    real = importlib.util.find_spec

    def find_spec(name, *rest):  # as if JAX were not installed
        return None if name == "jax" else real(name, *rest)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "line.csv").write_text("x,y\n1,2\n2,4\n")
    r = run(*args, "--backend", "jax")
    assert r.code == 2 and r.out == "", r
    assert "the jax backend needs JAX, which is not installed" in r.err
    assert "pip install 'adcli[jax]'" in r.err


def _imports_jax(args: list[str], cwd) -> bool:
    script = ("import sys; from adcli.cli import main; code = main(sys.argv[1:]); "
              "print('jax' in sys.modules, file=sys.stderr); sys.exit(code)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          cwd=cwd)  # fmt: skip
    assert done.returncode == 0, done
    return done.stderr.splitlines()[-1] == "True"


def test_jax_is_imported_only_when_asked_for(tmp_path):
    rows = "".join(f"{x},{2 * x + 1}\n" for x in range(20))
    (tmp_path / "line.csv").write_text("x,y\n" + rows)
    (tmp_path / "points.txt").write_text("1\n2\n3\n")
    commands = [
        ["grad", "x*sigmoid(x)", "--at", "@points.txt"],
        ["fit", "y ~ a*x + b", "--data", "line.csv"],
        [
            "minimize",
            "mean((a*x + b - y)**2)",
            "--data",
            "line.csv",
            "--start",
            "a=0,b=0",
            "--steps",
            "3",
        ],
        ["eval", "mean(x)", "--data", "line.csv"],
    ]
    for args in commands:
        assert not _imports_jax(args, tmp_path), args
    assert _imports_jax(commands[0] + ["--backend", "jax"], tmp_path)
    import_adcli = subprocess.run(
        [sys.executable, "-c", "import sys, adcli, adcli.cli; print('jax' in sys.modules)"],
        capture_output=True, text=True)  # fmt: skip
    assert import_adcli.stdout.strip() == "False"


def test_the_commands_give_the_numpy_backends_numbers(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = np.linspace(-4, 4, 301)
    (tmp_path / "points.txt").write_text("".join(f"{float(v)!r}\n" for v in x))
    rng = np.random.default_rng(4)
    y = 2.5 * np.exp(-1.3 * x / 4) + 0.4 + rng.normal(scale=0.01, size=x.size)
    np.savez("decay.npz", x=x, y=y)
    for args in (
        ["grad", "x*sigmoid(x)/(x**2+1)", "--at", "@points.txt", "-f", "csv"],
        ["fit", "y ~ a*exp(-b*x) + c", "--data", "decay.npz", "-f", "json"],
        ["minimize", "mean((a*exp(-b*x) + c - y)**2)", "--data", "decay.npz", "--start",
         "a=1,b=0.1,c=0", "--steps", "50", "--lr", "0.005", "-f", "json"],
    ):  # fmt: skip
        want, got = run(*args), run(*args, "--backend", "jax")
        assert want.code == got.code == 0, (want, got)
        numbers = [_numbers(r.out) for r in (want, got)]
        assert len(numbers[0]) == len(numbers[1]) > 2
        assert _agree(numbers[1], numbers[0], 1e4).all(), args  # iterations add their ulps


def _numbers(text: str) -> np.ndarray:
    """The numbers a command computed, in order: a CSV's cells, or the values of JSON
    lines (not a fit's counts of iterations and evaluations)."""
    if not text.startswith("{"):
        return np.array([float(v) for line in text.splitlines()[1:] for v in line.split(",")])
    lines = [json.loads(line) for line in text.splitlines()]
    for data in lines:
        for count in ("iterations", "evaluations"):
            data.pop(count, None)
    found: list[float] = []
    stack = [lines]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            found.append(float(item))
    return np.array(found)
