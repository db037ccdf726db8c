"""The AD gradient beside a numerical one, with errors, a verdict and kink notices.

Central differences use a step scaled to |x|; the complex step evaluates
f(x + ih) and reads f'(x) = Im f / h, exact to rounding for analytic functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .errors import UsageError
from .graph import VAR
from .ops import OPS

TOLERANCE = {"central": 1e-6, "complex": 1e-12}  # SPEC §3: |AD − numeric| ≤ tol·max(1, |AD|)
COMPLEX_STEP = 1e-20


class CheckRow:
    def __init__(self, name: str, ad: float, numeric: float, tol: float, step: float) -> None:
        self.name, self.ad, self.numeric, self.step = name, ad, numeric, step
        self.abs_err = abs(ad - numeric)
        self.rel_err = self.abs_err / max(1.0, abs(ad))
        self.ok = self.rel_err <= tol  # False for nan, as it must be


class CheckResult:
    def __init__(self, method: str, tol: float, rows: list[CheckRow], kinks: list[str]) -> None:
        self.method, self.tol, self.rows, self.kinks = method, tol, rows, kinks

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)


def check(
    expr, point: Sequence[float], method: str, eps: float | None, tol: float | None
) -> CheckResult:
    """The AD gradient at ``point`` beside a numerical one; ``eps`` fixes the central
    step (times max(1, |x|)), None lets each variable's step be chosen."""
    if method not in TOLERANCE:
        raise UsageError(f"unknown method {method!r}", "choose central or complex")
    _check_options(eps, tol)
    names = expr.variables
    values = expr.compiled(expr.value_and_grad_nodes()).scalar(*point)
    tol = TOLERANCE[method] if tol is None else tol
    f = expr.compiled(expr.outputs)
    rows = []
    for i, name in enumerate(names):
        if method == "central":
            if eps is not None:
                h = eps * max(1.0, abs(point[i]))
                numeric, h = _central(f, point, i, h), h
            else:
                numeric, h = _settled(f, point, i)
        else:
            h = COMPLEX_STEP * max(1.0, abs(point[i]))
            z = [complex(v) for v in point]
            z[i] = complex(point[i], h)
            numeric = f.complex_step(*z)[0].imag / h
        rows.append(CheckRow(name, values[1 + i], numeric, tol, h))
    return CheckResult(method, tol, rows, kinks(expr, point))


def _central(f, point: Sequence[float], i: int, h: float) -> float:
    """(f(x + h) − f(x − h)) / 2h along variable ``i``, over the step as the floats
    actually took it."""
    x = list(point)
    x[i] = point[i] + h
    plus = f.scalar(*x)[0]
    x[i] = point[i] - h
    minus = f.scalar(*x)[0]
    return (plus - minus) / ((point[i] + h) - (point[i] - h))


def _settled(f, point: Sequence[float], i: int) -> tuple[float, float]:
    """A central difference whose step is chosen where the estimates settle.

    A step fixed relative to |x| fails where f varies on a scale of its own (sin at
    x = 1e10 needs h near 1e-4, not 1e4), and a fixed absolute step fails where
    rounding in f swamps it (x**2 at 1e10 needs h ≥ 1). So the steps go up by
    factors of 10 from a floor (1e-8·min(1, |x|), and 16 ulps of x) to
    max(1, |x|)/10. While rounding dominates, the gap between neighbouring
    estimates shrinks (noisily) as the step grows; once truncation dominates it
    grows about a hundredfold per step. The pair that agrees best before the gaps
    clearly grow gives the estimate (its smaller step). Steps far beyond f's own
    scale also agree, near 0 (sin over a step of 1e6), which is why the search
    stops at the first clear growth. Nothing here looks at the AD answer.
    """
    x = point[i]
    floor = max(16 * math.ulp(x), 1e-8 * min(1.0, abs(x)) if x else 1e-8)
    steps = [0.1 * max(1.0, abs(x))]
    while steps[-1] / 10.0 >= floor and len(steps) < 40:
        steps.append(steps[-1] / 10.0)
    estimates = [(_central(f, point, i, h), h) for h in reversed(steps)]
    finite = [(d, h) for d, h in estimates if math.isfinite(d)]
    if len(finite) < 2:
        return (finite or estimates)[0]
    gaps = [abs(a - b) for (a, _), (b, _) in zip(finite, finite[1:])]
    best = None  # the pair that agrees best so far (two equal estimates say nothing)
    for j, gap in enumerate(gaps):
        if best is not None and gap > 30.0 * gaps[best]:
            break  # truncation has taken over: larger steps only get worse
        if gap > 0.0 and (best is None or gap < gaps[best]):
            best = j
    return finite[best if best is not None else 0]


def kinks(expr, point: Sequence[float]) -> list[str]:
    """Nodes sitting exactly where their derivative jumps, with adcli's convention."""
    g = expr.ir
    nodes = [n for n in expr.numbers if g.op[n] != VAR]
    values = dict(zip(nodes, expr.compiled(nodes).scalar(*point)))
    values.update(zip(expr.ir.variables.values(), point))

    def value(node: int) -> float:
        return values[node] if node in values else g.value[node]

    notes = []
    for n in nodes:
        kink = OPS[g.op[n]].kink
        if kink is None or not kink.at(*(value(a) for a in g.args[n])):
            continue
        notes.append(
            f"node #{expr.numbers[n]} {expr.label(n, 40)} is at a kink ({kink.where}): its "
            f"derivative jumps there, so AD and a numerical derivative must differ; "
            f"{kink.convention}"
        )
    return notes


DIRECTIONS = 3  # random directions a check of arrays compares along


def check_directions(
    expr, args: Sequence, wrt: Sequence[str], method: str, eps: float | None,
    tol: float | None, seed: int = 0, directions: int = DIRECTIONS,
) -> CheckResult:  # fmt: skip
    """A program with arrays: the derivative along random directions of the ``wrt``
    parameters, AD's (∇f·v) beside a central difference of t ↦ f(x + t·v), as JAX's
    ``check_grads`` does (a full numerical gradient would take 2·n evaluations)."""
    import numpy as np

    if method not in TOLERANCE:
        raise UsageError(f"unknown method {method!r}", "choose central or complex")
    if method != "central":
        raise UsageError("the complex step checks numbers; arrays are checked along "
                         "directions by central differences", "leave out {method}",
                         options=True)  # fmt: skip
    _check_options(eps, tol)
    tol = TOLERANCE[method] if tol is None else tol
    order = list(expr.variables)
    at = [order.index(n) for n in wrt]
    values = expr.compiled(expr.value_and_grad_nodes(wrt)).whole(*args)
    grads = values[1:]
    f = expr.compiled(expr.outputs)
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(directions):
        v = [rng.standard_normal(np.shape(args[i])) for i in at]
        norm = math.sqrt(sum(float(np.vdot(d, d)) for d in v))
        v = [d / norm for d in v]  # a unit direction over all the parameters together
        ad = sum(float(np.vdot(g, d)) for g, d in zip(grads, v))
        along = _Along(f, args, at, v)
        numeric, h = (_central(along, [0.0], 0, eps), eps) if eps else _settled(along, [0.0], 0)
        rows.append(CheckRow(f"direction {k + 1}", ad, numeric, tol, h))
    return CheckResult(method, tol, rows, [])


class _Along:
    """t ↦ f(x + t·v): the program along one direction, as ``_central`` calls it."""

    def __init__(self, f, args: Sequence, at: list[int], v: list) -> None:
        self.f, self.args, self.at, self.v = f, list(args), at, v

    def scalar(self, t: float) -> tuple[float]:
        moved = list(self.args)
        for i, d in zip(self.at, self.v):
            moved[i] = self.args[i] + t * d
        return (self.f.whole(*moved)[0],)


def _check_options(eps: float | None, tol: float | None) -> None:
    if eps is not None and not (math.isfinite(eps) and eps > 0):
        raise UsageError(f"{{eps}} must be a positive number, got {eps!r}", "try {eps=1e-6}",
                         options=True)  # fmt: skip
    if tol is not None and not tol >= 0:
        raise UsageError(f"{{tol}} must be ≥ 0, got {tol!r}", options=True)
