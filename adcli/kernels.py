"""Array implementations of the ops numpy has no single ufunc for.

Each takes numpy arrays (or numpy scalars) and an optional ``out`` buffer, like a
ufunc, so the chunked evaluator can run them in place. The evaluator silences
floating-point warnings around them: overflow to inf is the intended result.
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
