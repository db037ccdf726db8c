"""Array implementations of the ops numpy has no single ufunc for.

Each takes numpy arrays (or numpy scalars) and an optional ``out`` buffer, like a
ufunc: the elementwise ones write into it, so the chunked evaluator can run them
in place; the array ops below (reductions, softmax, xent) take whole arrays and
return new ones, and ignore it. The evaluator silences floating-point warnings
around them: overflow to inf is the intended result.
"""

from __future__ import annotations

import math

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)


def sigmoid(x, out=None):
    # As the scalar form: 1/(1+e^-x) for x ≥ 0, e^x/(1+e^x) below, so nothing
    # overflows and both forms give the same bits.
    e = np.exp(-np.abs(x))
    numerator = np.where(x < 0, e, 1.0)
    np.add(e, 1.0, out=e)
    return np.divide(numerator, e, out=out)


def relu(x, out=None):
    return np.maximum(x, 0.0, out=out)


def softplus(x, out=None):
    # max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|.
    t = np.exp(-np.abs(x))
    np.log1p(t, out=t)
    return np.add(np.maximum(x, 0.0), t, out=out)


def erf(x, out=None):
    result = _erf(x).astype(np.float64)
    if out is None:
        return result
    out[...] = result
    return out


def xlogy(x, y, out=None):
    # x·log(y), 0 where x = 0 and y is not nan (as scipy.special.xlogy).
    result = np.where((x == 0.0) & (y == y), 0.0, np.multiply(x, np.log(y)))
    if out is None:
        return result
    out[...] = result
    return out


def _as_numbers(ufunc):
    """A comparison ufunc giving 1.0/0.0 floats instead of booleans."""

    def compare(a, b, out=None):
        if out is None:
            return ufunc(a, b).astype(np.float64)
        return ufunc(a, b, out=out)  # into a float buffer: True is 1.0

    return compare


less = _as_numbers(np.less)
less_equal = _as_numbers(np.less_equal)
greater = _as_numbers(np.greater)
greater_equal = _as_numbers(np.greater_equal)
equal = _as_numbers(np.equal)
not_equal = _as_numbers(np.not_equal)


def where(c, a, b, out=None):
    result = np.where(np.not_equal(c, 0.0), a, b)
    if out is None:
        return result
    out[...] = result
    return out


def elementwise(scalar):
    """``scalar`` applied to every element, for an op with neither a numpy function
    nor a kernel of its own (a scalar form that never raises, as math.erfc)."""
    ufuncs = {}

    def apply(*args, out=None):
        if len(args) not in ufuncs:
            ufuncs[len(args)] = np.frompyfunc(scalar, len(args), 1)
        result = ufuncs[len(args)](*args).astype(np.float64)
        if out is None:
            return result
        out[...] = result
        return out

    return apply


# --- arrays: reductions and what the reverse transform makes -----------------------


def total(a, axis=None, out=None):
    return np.sum(a, axis=axis)


def average(a, axis=None, out=None):
    return np.mean(a, axis=axis)


def count(a, axis=None, out=None):
    """How many elements a reduction over ``axis`` of ``a`` adds up (mean's divisor)."""
    a = np.asarray(a)
    return float(a.size if axis is None else a.shape[axis])


def sum_to(x, ref, out=None):
    """``x`` summed down to ``ref``'s shape: the adjoint of a broadcast input."""
    x, shape = np.asarray(x), np.shape(ref)
    lead = x.ndim - len(shape)
    if lead:
        x = x.sum(axis=tuple(range(lead)))
    kept = tuple(k for k, d in enumerate(shape) if d == 1 and x.shape[k] != 1)
    return x.sum(axis=kept, keepdims=True) if kept else x


def spread(y, ref, axis=None, out=None):
    """``y`` (``ref``'s shape without ``axis``) broadcast back over ``ref``'s shape."""
    y = np.asarray(y)
    if axis is not None:
        y = np.expand_dims(y, axis)
    return np.broadcast_to(y, np.shape(ref))


def index(a, subscripts, out=None):
    return np.asarray(a)[_subscripts(subscripts)]


def unindex(y, ref, subscripts, out=None):
    """``y`` put where ``ref[subscripts]`` came from, zeros elsewhere: index's adjoint."""
    z = np.zeros(np.shape(ref))
    z[_subscripts(subscripts)] = y
    return z


def _subscripts(subscripts):
    return tuple(slice(*s) if isinstance(s, tuple) else s for s in subscripts)


def first_max(a, axis=None, out=None):
    """1.0 at the first maximum of ``a`` over ``axis``, else 0.0: where the gradient
    of amax goes (the first at a tie)."""
    return _first(a, np.argmax(a, axis=axis), axis)


def first_min(a, axis=None, out=None):
    return _first(a, np.argmin(a, axis=axis), axis)


def _first(a, at, axis):
    a = np.asarray(a)
    mask = np.zeros(a.shape)
    if axis is None:
        mask.flat[at] = 1.0
    else:
        np.put_along_axis(mask, np.expand_dims(at, axis), 1.0, axis)
    return mask


def amax(a, axis=None, out=None):
    return np.max(a, axis=axis)


def amin(a, axis=None, out=None):
    return np.min(a, axis=axis)


def argmax(a, axis=None, out=None):
    return np.argmax(a, axis=axis).astype(np.float64)


def logsumexp(a, axis=None, out=None):
    """log Σ exp(a) over ``axis``, with the maximum taken out so nothing overflows."""
    a = np.asarray(a)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # all -inf (or an inf): nothing to take out
    total = np.sum(np.exp(a - m), axis=axis, keepdims=True)
    return np.squeeze(np.log(total) + m, axis=axis)


def softmax(a, axis=None, out=None):
    a = np.asarray(a)
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(a, axis=None, out=None):
    a = np.asarray(a)
    shifted = a - np.max(a, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


class LabelError(ValueError):
    """A class label that is not one of 0..k-1: the data's fault, not adcli's."""


def _labels(labels, k):
    """Class labels as indices, or a LabelError naming a label that is not one of
    0..k-1 (``codegen --numpy`` copies this function and the class)."""
    labels = np.asarray(labels)
    index = labels.astype(np.int64)
    if index.size and (index.min() < 0 or index.max() >= k or not np.array_equal(index, labels)):
        bad = (index != labels) | (index < 0) | (index >= k)
        raise LabelError(f"a class label must be a whole number from 0 to {k - 1}, "
                         f"not {float(labels[bad].flat[0]):g}")  # fmt: skip
    return index


def one_hot(labels, k, out=None):
    index = _labels(labels, k)
    return (index[..., None] == np.arange(k)).astype(np.float64)  # not a k×k identity


def xent(z, labels, out=None):
    """Softmax cross-entropy of logits ``z`` (classes on the last axis) against
    integer ``labels``: logsumexp(z) − z[label], per row, the maximum taken out."""
    z = np.asarray(z)
    index = _labels(labels, z.shape[-1])[..., None]
    m = np.max(z, axis=-1, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0.0)  # a row of -inf (or an inf): nothing to take out
    shifted = z - m
    total = np.log(np.sum(np.exp(shifted), axis=-1))
    return total - np.take_along_axis(shifted, index, axis=-1)[..., 0]


def xent_back(z, labels, a, out=None):
    """(softmax(z) − one_hot(labels))·a per row: xent's gradient for the row adjoints
    ``a``, in one pass over the logits."""
    z = np.asarray(z)
    index = _labels(labels, z.shape[-1])[..., None]
    s = np.exp(z - np.max(z, axis=-1, keepdims=True))
    s /= np.sum(s, axis=-1, keepdims=True)
    np.put_along_axis(s, index, np.take_along_axis(s, index, axis=-1) - 1.0, axis=-1)
    s *= np.asarray(a)[..., None]
    return s
