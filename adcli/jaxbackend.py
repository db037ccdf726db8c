"""The JAX backend (``pip install 'adcli[jax]'``): a compiled plan run by XLA.

``Compiled.steps`` are replayed once per input shape on ``jax.numpy`` values that
``jax.jit`` traces: the straight line becomes one XLA program, its elementwise
chains fused into single loops, so a batch of 10^6 points makes no temporary
array per node. The derivative is still adcli's graph (JAX differentiates
nothing), so the numbers are the numpy backend's to a few ulps: the functions
below follow ``kernels.py`` formula by formula.

Each op's JAX form comes from its row in the op table: its ``numpy`` name, which
``jax.numpy`` shares, else the function below named as its ``kernel`` (else as the
op). Values are 64-bit: every trace and call runs under ``jax.enable_x64``, which
leaves the process's own JAX setting alone. One point is still computed by
Python's ``math`` (a call into JAX costs more than the whole scalar function).

Nothing here is imported until a program asks for ``backend="jax"``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special as special
import numpy as np

from . import kernels
from .ops import OPS

PAD_BELOW = 1 << 16  # a numpy batch of fewer points is padded to a power of two (see batch)


# --- the ops' JAX forms: kernels.py's formulas, without ``out`` buffers ----------------


def sigmoid(x):
    e = jnp.exp(-jnp.abs(x))
    return jnp.where(x < 0, e, 1.0) / (e + 1.0)


def relu(x):
    return jnp.maximum(x, 0.0)


def softplus(x):
    return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


def erf(x):
    return special.erf(x)


def erfc(x):
    return special.erfc(x)


def xlogy(x, y):
    return jnp.where((x == 0.0) & (y == y), 0.0, x * jnp.log(y))


def _as_numbers(compare):
    return lambda a, b: compare(a, b).astype(jnp.float64)


less, less_equal = _as_numbers(jnp.less), _as_numbers(jnp.less_equal)
greater, greater_equal = _as_numbers(jnp.greater), _as_numbers(jnp.greater_equal)
equal, not_equal = _as_numbers(jnp.equal), _as_numbers(jnp.not_equal)


def where(c, a, b):
    return jnp.where(c != 0.0, a, b)


def total(a, axis=None):
    return jnp.sum(a, axis=axis)


def average(a, axis=None):
    return jnp.mean(a, axis=axis)


def count(a, axis=None):
    return float(jnp.size(a) if axis is None else jnp.shape(a)[axis])  # shapes are static


def sum_to(x, ref):
    x, shape = jnp.asarray(x), jnp.shape(ref)
    lead = x.ndim - len(shape)
    if lead:
        x = x.sum(axis=tuple(range(lead)))
    kept = tuple(k for k, d in enumerate(shape) if d == 1 and x.shape[k] != 1)
    return x.sum(axis=kept, keepdims=True) if kept else x


def spread(y, ref, axis=None):
    y = jnp.asarray(y)
    if axis is not None:
        y = jnp.expand_dims(y, axis)
    return jnp.broadcast_to(y, jnp.shape(ref))


def _subscripts(subscripts):
    return tuple(slice(*s) if isinstance(s, tuple) else s for s in subscripts)


def index(a, subscripts):
    return jnp.asarray(a)[_subscripts(subscripts)]


def unindex(y, ref, subscripts):
    return jnp.zeros(jnp.shape(ref)).at[_subscripts(subscripts)].set(y)


def _first(a, at, axis):
    a = jnp.asarray(a)
    if axis is None:
        return jnp.zeros(a.size).at[at].set(1.0).reshape(a.shape)
    places = jnp.expand_dims(
        jnp.arange(a.shape[axis]), tuple(k for k in range(a.ndim) if k != axis % a.ndim)
    )
    return (places == jnp.expand_dims(at, axis)).astype(jnp.float64)


def first_max(a, axis=None):
    return _first(a, jnp.argmax(a, axis=axis), axis)


def first_min(a, axis=None):
    return _first(a, jnp.argmin(a, axis=axis), axis)


def amax(a, axis=None):
    return jnp.max(a, axis=axis)


def amin(a, axis=None):
    return jnp.min(a, axis=axis)


def argmax(a, axis=None):
    return jnp.argmax(a, axis=axis).astype(jnp.float64)


def logsumexp(a, axis=None):
    m = jnp.max(a, axis=axis, keepdims=True)
    m = jnp.where(jnp.isfinite(m), m, 0.0)
    return jnp.squeeze(jnp.log(jnp.sum(jnp.exp(a - m), axis=axis, keepdims=True)) + m, axis=axis)


def softmax(a, axis=None):
    e = jnp.exp(a - jnp.max(a, axis=axis, keepdims=True))
    return e / jnp.sum(e, axis=axis, keepdims=True)


def log_softmax(a, axis=None):
    shifted = a - jnp.max(a, axis=axis, keepdims=True)
    return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=axis, keepdims=True))


def one_hot(labels, k):
    # a label that is no class (checked on the host when it is an input) is a row of 0s
    return (labels[..., None] == jnp.arange(k)).astype(jnp.float64)


def xent(z, labels):
    index = labels.astype(jnp.int64)[..., None]
    m = jnp.max(z, axis=-1, keepdims=True)
    shifted = z - jnp.where(jnp.isfinite(m), m, 0.0)
    picked = jnp.take_along_axis(shifted, index, axis=-1, mode="fill", fill_value=jnp.nan)
    return jnp.log(jnp.sum(jnp.exp(shifted), axis=-1)) - picked[..., 0]


def xent_back(z, labels, a):
    s = softmax(z, -1)
    return (s - one_hot(labels, z.shape[-1])) * jnp.asarray(a)[..., None]


# The input of each kernel that holds class labels, checked on the host before a
# call (inside XLA nothing can raise); the class count from the node (see _labels).
LABELS = {"xent": 1, "xent_back": 1, "one_hot": 0}


def function(op: str):
    """The op's JAX form, from its row in the op table."""
    row = OPS[op]
    if row.numpy is not None:
        return getattr(jnp, row.numpy)
    return globals()[row.kernel or op]


# --- running a compiled plan ---------------------------------------------------------


class Program:
    """A ``Compiled`` plan as one jitted JAX function of its params."""

    def __init__(self, compiled: Any) -> None:
        g = compiled._graph
        params, outputs = compiled.params, compiled.outputs
        plan = [(n, function(op), ins, (g.attrs[n],) if n in g.attrs else ())
                for n, op, ins in compiled.steps]  # fmt: skip
        constant = g.value  # a constant node's float (None for the others)

        def run(*args):
            value: dict[int, Any] = dict(zip(params, args))
            for n, fn, ins, attrs in plan:
                value[n] = fn(*(value[a] if a in value else constant[a] for a in ins), *attrs)
            return tuple(value[o] if o in value else jnp.asarray(constant[o]) for o in outputs)

        def broadcast(*args):
            shape = jnp.broadcast_shapes(*(jnp.shape(a) for a in args))
            return tuple(jnp.broadcast_to(v, shape) for v in run(*args))

        self._whole = jax.jit(run)
        self._batch = jax.jit(broadcast)
        slot = {p: i for i, p in enumerate(params)}
        self._labels = [(slot[ins[LABELS[kernel]]], _classes(g, n, ins))
                        for n, op, ins in compiled.steps
                        if (kernel := OPS[op].kernel) in LABELS
                        and ins[LABELS[kernel]] in slot]  # fmt: skip

    def whole(self, *arrays: Any) -> list[Any]:
        """The outputs of a program of arrays, numbers as floats (``Compiled.whole``)."""
        for i, k in self._labels:
            kernels._labels(np.asarray(arrays[i]), k)  # a LabelError names the bad label
        with jax.enable_x64(True):
            values = self._whole(*map(_as_input, arrays))
            return [float(v) if jnp.ndim(v) == 0 else _as_output(v, arrays) for v in values]

    def batch(self, *arrays: Any) -> list[Any]:
        """The outputs at many points, broadcast from the inputs (``Compiled.batch``).

        Numpy inputs of n points (n < PAD_BELOW) are padded to a power of two, and the
        outputs cut back as numpy views: a stream's blocks come in every size, and each
        new shape would cost a compilation (cutting a JAX array would too)."""
        with jax.enable_x64(True):
            inputs = [_as_input(a) for a in arrays]
            sizes = {np.shape(a) for a in inputs if np.ndim(a)}
            n = next(iter(sizes))[0] if len(sizes) == 1 and len(next(iter(sizes))) == 1 else 0
            if 0 < n < PAD_BELOW and not any(isinstance(a, jax.Array) for a in inputs):
                padded = 1 << (n - 1).bit_length()
                inputs = [np.pad(a, (0, padded - n), "edge") if np.ndim(a) else a
                          for a in inputs]  # fmt: skip
                return [np.asarray(v)[:n] for v in self._batch(*inputs)]
            return [_as_output(v, arrays) for v in self._batch(*inputs)]


def _classes(g: Any, n: int, ins: tuple) -> int:
    """The class count a labels input is checked against: one_hot's k, or the size of
    the logits' last axis."""
    return g.attrs[n] if n in g.attrs else g.shape[ins[0]][-1]


def _as_input(a: Any) -> Any:
    if isinstance(a, jax.Array):
        return a.astype(jnp.float64) if a.dtype != jnp.float64 else a
    return np.asarray(a, dtype=np.float64)


def _as_output(v: Any, given: tuple) -> Any:
    """A JAX array back as the caller gave: JAX's own when some input was, else numpy
    (a read-only view of JAX's buffer: a copy of 8 MB costs as much as the pass)."""
    if any(isinstance(a, jax.Array) for a in given):
        return v
    return np.asarray(v)
