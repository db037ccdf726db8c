"""Gradient descent on one compiled value-and-gradient function, and why it stopped.

The loop is SPEC §3's, exactly: for k = 0 … steps−1, g_k = ∇f(x_k); stop when
‖g_k‖₂ ≤ tol; else x_{k+1} = x_k − lr·decay**k·g_k (for ``gd``). Written with
plain floats, so ``gd`` gives the same bits as the textbook's ``x -= lr * f'(x)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

METHODS = ("gd", "momentum", "nesterov", "adam")
ADAM_BETA2, ADAM_EPS = 0.999, 1e-8
ARMIJO_C, ARMIJO_HALVINGS = 1e-4, 60


class Step:
    """One row of the trace: the point x_k, f(x_k) and ‖∇f(x_k)‖."""

    __slots__ = ("k", "point", "value", "gnorm")

    def __init__(self, k: int, point: tuple[float, ...], value: float, gnorm: float) -> None:
        self.k, self.point, self.value, self.gnorm = k, point, value, gnorm


class Run:
    """A finished (or interrupted) descent: every step, the reason and its diagnosis."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.steps: list[Step] = []
        self.reason = "max-steps"
        self.diagnosis = ""
        self.rates: list[float] = []  # the step size actually used at each update
        self.diverged_at: int | None = None  # the step from which f ran away

    @property
    def final(self) -> Step:
        return self.steps[-1]

    @property
    def updates(self) -> int:
        return self.final.k


def _norm(g: Sequence[float]) -> float:
    return abs(g[0]) if len(g) == 1 else math.hypot(*g)


def descend(
    value_and_grad: Callable[..., tuple[float, ...]],
    start: Sequence[float],
    *,
    method: str = "gd",
    lr: float = 0.1,
    steps: int = 100,
    tol: float = 1e-8,
    beta: float = 0.9,
    decay: float = 1.0,
    line_search: bool = False,
    maximize: bool = False,
    on_step: Callable[[Step], None] | None = None,
) -> Run:
    """Run ``method`` from ``start``; ``value_and_grad(*x)`` returns ``(f, ∂f/∂x1, …)``."""
    run = Run(method)
    sign = -1.0 if maximize else 1.0  # ascend: step along +g
    x = [float(v) for v in start]
    n = len(x)
    velocity = [0.0] * n  # momentum, nesterov; adam's first moment
    second = [0.0] * n  # adam's second moment
    limit = math.inf

    def record(k: int, f: float, g: Sequence[float]) -> Step:
        step = Step(k, tuple(x), f, _norm(g))
        run.steps.append(step)
        if on_step is not None:
            on_step(step)
        return step

    def diverged(step: Step) -> bool:
        if math.isfinite(step.value) and all(math.isfinite(v) for v in step.point):
            return abs(step.value) > limit
        return True

    try:
        for k in range(steps):
            f, *g = value_and_grad(*x)
            step = record(k, f, g)
            if k == 0:
                limit = 1e12 * max(1.0, abs(f)) if math.isfinite(f) else -1.0
            if diverged(step):
                run.reason, run.diverged_at = "diverged", k
                return run
            if step.gnorm <= tol:
                run.reason = "converged"
                return run
            rate = lr * decay**k
            if line_search:
                rate = _armijo(value_and_grad, x, f, g, rate, sign)
            run.rates.append(rate)
            if method == "gd":
                if maximize:
                    for i in range(n):
                        x[i] += rate * g[i]
                else:
                    for i in range(n):
                        x[i] -= rate * g[i]
            elif method in ("momentum", "nesterov"):
                if method == "nesterov":  # the gradient at the look-ahead point
                    ahead = [x[i] - sign * rate * beta * velocity[i] for i in range(n)]
                    g = list(value_and_grad(*ahead)[1:])
                for i in range(n):
                    velocity[i] = beta * velocity[i] + g[i]
                    x[i] -= sign * rate * velocity[i]
            elif method == "adam":
                b1 = beta
                for i in range(n):
                    velocity[i] = b1 * velocity[i] + (1.0 - b1) * g[i]
                    second[i] = ADAM_BETA2 * second[i] + (1.0 - ADAM_BETA2) * g[i] * g[i]
                    m_hat = velocity[i] / (1.0 - b1 ** (k + 1))
                    v_hat = second[i] / (1.0 - ADAM_BETA2 ** (k + 1))
                    x[i] -= sign * rate * m_hat / (math.sqrt(v_hat) + ADAM_EPS)
            else:
                raise ValueError(f"unknown method {method}")
        f, *g = value_and_grad(*x)
        step = record(steps, f, g)
        if steps == 0:
            limit = 1e12 * max(1.0, abs(f)) if math.isfinite(f) else -1.0
        if diverged(step):
            run.reason, run.diverged_at = "diverged", steps
        elif step.gnorm <= tol:
            run.reason = "converged"
        else:
            run.diverged_at = _running_away(run.steps, sign)
            run.reason = "diverged" if run.diverged_at is not None else "max-steps"
    except KeyboardInterrupt:
        run.reason = "interrupted"
    return run


def _running_away(steps: list[Step], sign: float, streak: int = 5) -> int | None:
    """The step from which descent made f worse at every step, by ever larger amounts.

    A learning rate past 2/f'' makes the iterates grow geometrically: f rises at
    each step and each rise is larger than the last. Returns None when the last
    ``streak`` steps do not show that.
    """
    values = [sign * s.value for s in steps]
    rises = [b - a for a, b in zip(values, values[1:])]
    k = len(rises)
    while k > 0 and rises[k - 1] > 0 and (k == len(rises) or rises[k - 1] < rises[k]):
        k -= 1
    return steps[k].k + 1 if len(rises) - k >= streak else None


def _armijo(value_and_grad, x, f, g, rate, sign) -> float:
    """Backtracking: halve the step until f decreases by at least c·t·‖g‖²."""
    gg = sum(v * v for v in g)
    t = rate
    for _ in range(ARMIJO_HALVINGS):
        trial = value_and_grad(*[xi - sign * t * gi for xi, gi in zip(x, g)])[0]
        if sign * trial <= sign * f - ARMIJO_C * t * gg:
            return t
        t *= 0.5
    return t


# --- why it stopped ---------------------------------------------------------------


def eigenvalues(h: list[list[float]]) -> list[float]:
    """Eigenvalues of a symmetric matrix, ascending."""
    n = len(h)
    if n == 0:
        return []
    if n == 1:
        return [h[0][0]]
    if n == 2:
        a, b, d = h[0][0], 0.5 * (h[0][1] + h[1][0]), h[1][1]
        mid, rad = 0.5 * (a + d), math.hypot(0.5 * (a - d), b)
        return [mid - rad, mid + rad]
    import numpy as np

    m = np.array(h, dtype=float)
    return [float(v) for v in np.linalg.eigvalsh(0.5 * (m + m.T))]


def kind_of_point(eigs: Sequence[float]) -> str:
    """minimum, maximum, saddle or undecided, from the Hessian's eigenvalues."""
    if not eigs or not all(math.isfinite(e) for e in eigs):
        return "undecided"
    scale = max(1.0, max(abs(e) for e in eigs))
    small = 1e-8 * scale
    if all(e > small for e in eigs):
        return "minimum"
    if all(e < -small for e in eigs):
        return "maximum"
    if any(e > small for e in eigs) and any(e < -small for e in eigs):
        return "saddle"
    return "undecided"


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _eigs_text(eigs: Sequence[float]) -> str:
    if len(eigs) == 1:
        return f"f'' = {_fmt(eigs[0])}"
    return "Hessian eigenvalues " + ", ".join(_fmt(e) for e in eigs)


def _oscillating(run: Run) -> bool:
    """The last iterates jump back and forth without the jumps shrinking."""
    pts = [s.point for s in run.steps[-8:]]
    if len(pts) < 5:
        return False
    moves = [[b - a for a, b in zip(p, q)] for p, q in zip(pts, pts[1:])]
    sizes = [math.hypot(*m) if len(m) > 1 else abs(m[0]) for m in moves]
    if min(sizes) == 0.0:
        return False
    turning = all(sum(a * b for a, b in zip(m1, m2)) < 0 for m1, m2 in zip(moves, moves[1:]))
    return turning and sizes[-1] >= 0.5 * sizes[0]


def diagnose(run: Run, hessian: Callable[[Sequence[float]], list[list[float]]], names) -> str:
    """A sentence a student can act on."""
    final = run.final
    lr = run.rates[-1] if run.rates else None
    if run.reason == "diverged":
        at = run.diverged_at if run.diverged_at is not None else final.k
        if not math.isfinite(final.value) or not all(math.isfinite(v) for v in final.point):
            text = f"diverged at step {at}: f became non-finite"
        elif at < final.k:
            text = f"diverged at step {at}: from there f grew at every step, faster and faster"
            text += f" (f = {_fmt(final.value)} at step {final.k})"
        else:
            text = f"diverged at step {at}: |f| = {_fmt(abs(final.value))} grew without bound"
        first = run.steps[0]
        eigs = eigenvalues(hessian(first.point))
        curv = max(eigs) if eigs else math.nan
        if lr is not None and math.isfinite(curv) and lr * curv >= 2:
            text += f"; the learning rate is too large: lr·f'' = {_fmt(lr * curv)} ≥ 2 at the start"
        return text
    if run.reason == "interrupted":
        return f"interrupted after {final.k} steps"
    eigs = eigenvalues(hessian(final.point))
    kind = kind_of_point(eigs)
    if run.reason == "converged":
        if kind == "maximum":
            return (
                f"maximum: gradient descent sits on a maximum ({_eigs_text(eigs)}); the gradient "
                "is zero but any nudge rolls away — start elsewhere"
            )
        return f"{kind}: {_eigs_text(eigs)}"
    # max-steps
    if _oscillating(run):
        a, b = run.steps[-2].point, final.point
        center = [(p + q) / 2 for p, q in zip(a, b)]
        curv = max(eigenvalues(hessian(center)))
        where = ", ".join(f"{v}≈{_fmt(c)}" for v, c in zip(names, center))
        text = f"oscillation: the iterates jump back and forth around {where}"
        if lr is not None and math.isfinite(curv):
            text += f"; the learning rate is too large: lr·f'' = {_fmt(lr * curv)}"
            text += " ≥ 2" if lr * curv >= 2 else ""
            if curv > 0:
                text += f" (try --lr below {_fmt(2 / curv)})"
        return text
    scale = max(1.0, abs(final.value))
    if final.gnorm <= 1e-10 * scale and kind != "undecided":
        if kind == "maximum":
            return (
                f"maximum: gradient descent is stuck on a maximum ({_eigs_text(eigs)}); the "
                "gradient vanishes there, so it never moves — start elsewhere"
            )
        return f"{kind}: not yet within --tol, {_eigs_text(eigs)}"
    moved = [b - a for a, b in zip(run.steps[-2].point, final.point)] if len(run.steps) > 1 else []
    step_size = math.hypot(*moved) if moved else 0.0
    curvature = max((abs(e) for e in eigs), default=0.0)
    if final.gnorm < 1e-2 and curvature < 1e-2:
        pace = (
            f"; at this pace it needs about {_fmt(1 / step_size)} more steps to move by 1"
            if step_size
            else ""
        )
        return (
            f"plateau: the gradient is vanishing (‖g‖ = {_fmt(final.gnorm)}) and f is nearly flat"
            f"{pace} — a vanishing gradient"
        )
    direction = ""
    if len(names) == 1 and moved:
        direction = ", moving right (+)" if moved[0] > 0 else ", moving left (−)"
    return (
        f"not converged after {final.k} steps{direction}: ‖g‖ = {_fmt(final.gnorm)}; "
        "raise --steps or --lr"
    )
