"""Gradient descent on one compiled value-and-gradient function, and why it stopped.

The loop is SPEC §3's, exactly: for k = 0 … steps−1, g_k = ∇f(x_k); stop when
‖g_k‖₂ ≤ tol; else x_{k+1} = x_k − lr·decay**k·g_k (for ``gd``). Written with
plain floats, so ``gd`` gives the same bits as the textbook's ``x -= lr * f'(x)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .displayed import Displayed
from .errors import UsageError, spell

if TYPE_CHECKING:
    from .evaluate import Compiled

METHODS = ("gd", "momentum", "nesterov", "adam")
ADAM_BETA2, ADAM_EPS = 0.999, 1e-8
ARMIJO_C, ARMIJO_HALVINGS = 1e-4, 60


class Step:
    """One row of the trace: the point x_k, f(x_k) and ‖∇f(x_k)‖."""

    __slots__ = ("k", "point", "value", "gnorm")

    def __init__(self, k: int, point: tuple[float, ...], value: float, gnorm: float) -> None:
        self.k, self.point, self.value, self.gnorm = k, point, value, gnorm


class Trace(Sequence):
    """Every step of a run as flat lists; ``Step`` rows are made on access.

    A step object per iteration would cost more than the iteration itself. The
    one-variable loop keeps only the points: f and ‖g‖ of a step are recomputed
    from its point when asked, with the same code, so they are the same bits.
    """

    def __init__(self, evaluate: Callable[..., tuple[float, ...]] | None = None) -> None:
        self.points: list = []  # floats for one variable, tuples otherwise
        self.values: list[float] = []  # empty when ``evaluate`` recomputes them
        self.gnorms: list[float] = []
        self.evaluate = evaluate

    def __len__(self) -> int:
        return len(self.points)

    def value(self, k: int) -> float:
        return self.values[k] if self.values else self[k].value

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        k = i if i >= 0 else len(self) + i
        point = self.points[k]
        point = point if isinstance(point, tuple) else (point,)
        if self.values:
            return Step(k, point, self.values[k], self.gnorms[k])
        f, *g = self.evaluate(*point)
        return Step(k, point, f, _norm(g))


class Run(Displayed):
    """A finished (or interrupted) descent: every step, the reason and its diagnosis.
    It shows itself as the terminal draws it (``displayed``): the trace table, the
    result and the diagnosis."""

    def __init__(self, method: str, maximize: bool = False) -> None:
        self.names: list[str] = []  # the variables, for the trace's columns
        self.expression: Any = None  # what was descended (api.Expression), for its plot
        self.method = method
        self.maximize = maximize  # the direction the user asked for
        self.steps = Trace()
        self.reason = "max-steps"
        # The diagnosis with options named as {lr} (errors.spell): ``diagnosis`` spells
        # them as the API's keywords, the command line as its flags.
        self.diagnosis_text = ""
        self.warning = False  # the diagnosis warns (a maximum reached by descent, ...)
        self.rates: list[float] = []  # the step size of each update (for the diagnosis)

    @property
    def diagnosis(self) -> str:
        return spell(self.diagnosis_text)

    @property
    def final(self) -> Step:
        return self.steps[-1]


def _norm(g: Sequence[float]) -> float:
    return abs(g[0]) if len(g) == 1 else math.hypot(*g)


def descend(
    compiled: Compiled,
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
    on_step: Callable[[int], None] | None = None,
) -> Run:
    """Run ``method`` from ``start`` on ``compiled``, whose outputs are ``(f, ∂f/∂x1, …)``."""
    value_and_grad = compiled.scalar
    settings = Settings(method, lr, steps, tol, beta, decay, line_search, maximize)
    run = Run(method, maximize)
    trace = run.steps
    try:
        if len(start) == 1 and method == "gd" and not line_search and on_step is None:
            x0, step = float(start[0]), (-lr if maximize else lr)  # x - (-lr)·g is x + lr·g
            try:
                trace.evaluate = value_and_grad
                k = _textbook_loop(compiled)(x0, steps, step, decay, tol, trace.points.append)
            except (ArithmeticError, ValueError):  # math raised: redo it with IEEE values
                trace.points.clear()
                loop = _textbook_loop(compiled, inline=False)
                k = loop(x0, steps, step, decay, tol, trace.points.append)
        else:
            k = _general_loop(value_and_grad, start, settings, on_step, run)
    except KeyboardInterrupt:
        run.reason = "interrupted"
        if not len(trace):
            raise
        return run
    if not run.rates and k:  # the textbook loop keeps no list: its last step size
        run.rates = [lr * decay ** (k - 1)]
    final = trace[-1]
    f0 = trace.value(0)
    limit = 1e12 * max(1.0, abs(f0)) if math.isfinite(f0) else -1.0
    finite = math.isfinite(final.value) and all(math.isfinite(v) for v in final.point)
    # Only SPEC §3's divergence: a value that grows but stays under the limit is
    # max-steps, and its diagnosis says that it grows (SPEC §8).
    if not finite or abs(final.value) > limit:
        run.reason = "diverged"
    elif final.gnorm <= tol:
        run.reason = "converged"
    return run


class Settings:
    """A run's options, checked: what would make it meaningless is an input error,
    said before it starts."""

    __slots__ = ("method", "lr", "steps", "tol", "beta", "decay", "line_search", "maximize")

    def __init__(self, method: str, lr: float, steps: int, tol: float, beta: float,
                 decay: float, line_search: bool, maximize: bool) -> None:  # fmt: skip
        if method not in METHODS:
            raise UsageError(f"unknown method {method!r}", "choose one of: " + ", ".join(METHODS))
        if not (math.isfinite(lr) and lr > 0):
            hint = "to climb, use {maximize} with a positive {lr}" if lr < 0 else "try {lr=0.1}"
            raise UsageError(f"{{lr}} must be a positive number, got {lr!r}", hint, options=True)
        if not (isinstance(steps, int) and steps >= 0):
            raise UsageError(f"{{steps}} must be a whole number ≥ 0, got {steps!r}", options=True)
        if not tol >= 0:
            raise UsageError(f"{{tol}} must be ≥ 0, got {tol!r}", "{tol=0} runs every step",
                             options=True)  # fmt: skip
        if not 0 <= beta < 1:
            raise UsageError(f"{{beta}} must be in [0, 1), got {beta!r}", "the default is 0.9",
                             options=True)  # fmt: skip
        if not (math.isfinite(decay) and decay > 0):
            raise UsageError(f"{{decay}} must be a positive number, got {decay!r}",
                             "1 keeps lr fixed", options=True)  # fmt: skip
        self.method, self.lr, self.steps, self.tol = method, lr, steps, tol
        self.beta, self.decay, self.line_search, self.maximize = beta, decay, line_search, maximize


_LOOP = """
def _loop(x, steps, step, decay, tol, put_x):
{compute}
    limit = 1e12 * max(1.0, abs(f)) if f - f == 0.0 else -1.0
    for k in range(steps):
        put_x(x)
        if not abs(f) <= limit or x - x != 0.0 or abs(g) <= tol:
            return k
        x -= (step if decay == 1.0 else step * decay**k) * g
{compute_in_loop}
    put_x(x)
    return steps
"""


def _textbook_loop(compiled: Compiled, inline: bool = True):
    """One variable, plain ``gd``: the seed's loop, keeping only each point.

    The loop returns the number of updates made; it stops early (leaving the
    classification of the last point to the caller) on a non-finite or runaway
    value or ‖g‖ ≤ tol. With ``inline``, the compiled graph's own statements are
    pasted into its body (no call per step, the same arithmetic and bits as
    ``compiled.scalar``); otherwise, and for large graphs, it calls ``scalar``.
    """
    if inline and compiled.small:
        lines, (f, g), env = compiled.source(["x"])
        compute = [*lines, f"f = {f}", f"g = {g}"]
    else:
        compute, env = ["f, g = _value_and_grad(x)"], {"_value_and_grad": compiled.scalar}
    source = _LOOP.format(
        compute="\n".join("    " + line for line in compute),
        compute_in_loop="\n".join("        " + line for line in compute),
    )
    exec(compile(source, "<adcli descent>", "exec"), env)
    return env["_loop"]


def _general_loop(value_and_grad, start, settings: Settings, on_step, run: Run) -> int:
    method, lr, steps, tol = settings.method, settings.lr, settings.steps, settings.tol
    beta, decay, line_search, maximize = (
        settings.beta, settings.decay, settings.line_search, settings.maximize
    )  # fmt: skip
    trace = run.steps
    sign = -1.0 if maximize else 1.0  # ascend: step along +g
    x = [float(v) for v in start]
    n = len(x)
    velocity = [0.0] * n  # momentum, nesterov; adam's first moment
    second = [0.0] * n  # adam's second moment
    limit = math.inf
    k = 0
    for k in range(steps + 1):
        f, *g = value_and_grad(*x)
        gnorm = _norm(g)
        trace.points.append(tuple(x))
        trace.values.append(f)
        trace.gnorms.append(gnorm)
        if on_step is not None:
            on_step(k)
        if k == 0:
            limit = 1e12 * max(1.0, abs(f)) if math.isfinite(f) else -1.0
        finite = math.isfinite(f) and all(math.isfinite(v) for v in x)
        if not finite or abs(f) > limit or gnorm <= tol or k == steps:
            return k
        rate = lr * decay**k
        if line_search:
            rate = _armijo(value_and_grad, x, f, g, rate, sign)
        run.rates.append(rate)
        if method == "gd":
            for i in range(n):
                x[i] -= sign * rate * g[i] if maximize else rate * g[i]
        elif method in ("momentum", "nesterov"):
            if method == "nesterov":  # the gradient at the look-ahead point
                ahead = [x[i] - sign * rate * beta * velocity[i] for i in range(n)]
                g = list(value_and_grad(*ahead)[1:])
            for i in range(n):
                velocity[i] = beta * velocity[i] + g[i]
                x[i] -= sign * rate * velocity[i]
        else:  # adam
            for i in range(n):
                velocity[i] = beta * velocity[i] + (1.0 - beta) * g[i]
                second[i] = ADAM_BETA2 * second[i] + (1.0 - ADAM_BETA2) * g[i] * g[i]
                m_hat = velocity[i] / (1.0 - beta ** (k + 1))
                v_hat = second[i] / (1.0 - ADAM_BETA2 ** (k + 1))
                x[i] -= sign * rate * m_hat / (math.sqrt(v_hat) + ADAM_EPS)
    return k


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


def curvature(eigs: Sequence[float]) -> str:
    """convex, concave, indefinite or flat: the shape of f near a point, whether or
    not the gradient is zero there."""
    kind = kind_of_point(eigs)
    if not eigs:
        return "flat"
    return {"minimum": "convex", "maximum": "concave", "saddle": "indefinite"}.get(kind, "flat")


STATIONARY = 1e-8  # SPEC §8: ‖g‖ ≤ 1e-8·max(1, |f|) is a stationary point


class PointKind:
    """What the Hessian says about a point: the kind of stationary point (minimum,
    maximum, saddle, undecided) only where the gradient is zero (SPEC §8), the
    curvature (convex, concave, indefinite, flat) everywhere."""

    def __init__(self, eigs: Sequence[float], value: float, grad_norm: float) -> None:
        self.eigenvalues = list(eigs)
        self.grad_norm = grad_norm
        self.stationary = grad_norm <= STATIONARY * max(1.0, abs(value))
        self.curvature = curvature(eigs)
        if not eigs:
            self.kind = "none"
        elif self.stationary or not math.isfinite(grad_norm):
            self.kind = kind_of_point(eigs)
        else:
            self.kind = "not stationary"

    def describe(self) -> str:
        """One line for people: ``minimum``, or why no kind is named."""
        if self.kind == "none":
            return "none: the expression has no variables, so the Hessian is empty"
        if self.kind == "not stationary":
            return (
                f"not a stationary point (‖g‖ = {self.grad_norm:.3g}); the curvature here is "
                f"{self.curvature}"
            )
        return self.kind


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _eigs_text(eigs: Sequence[float]) -> str:
    if len(eigs) == 1:
        return f"f'' = {_fmt(eigs[0])}"
    return "Hessian eigenvalues " + ", ".join(_fmt(e) for e in eigs)


def _moves(run: Run, last: int = 8) -> list[list[float]]:
    """The last updates, as vectors."""
    pts = [s.point for s in run.steps[-last:]]
    return [[b - a for a, b in zip(p, q)] for p, q in zip(pts, pts[1:])]


def _size(move: Sequence[float]) -> float:
    return math.hypot(*move) if len(move) > 1 else abs(move[0])


def _zigzag(run: Run) -> str | None:
    """ "steady" when the last iterates jump back and forth without the jumps
    shrinking, "damped" when they shrink, None when they do not turn back."""
    moves = _moves(run)
    if len(moves) < 4:
        return None
    sizes = [_size(m) for m in moves]
    if min(sizes) == 0.0:
        return None
    if not all(sum(a * b for a, b in zip(m1, m2)) < 0 for m1, m2 in zip(moves, moves[1:])):
        return None
    return "steady" if sizes[-1] >= 0.5 * sizes[0] else "damped"


def _growing(run: Run, streak: int = 3) -> bool:
    """f went the wrong way at each of the last ``streak`` steps."""
    sign = -1.0 if run.maximize else 1.0
    steps = run.steps
    if len(steps) <= streak:
        return False
    values = [steps.value(k) for k in range(len(steps) - streak - 1, len(steps))]
    return all(sign * (b - a) > 0 for a, b in zip(values, values[1:]))


def _steepness(run: Run, eigs: Sequence[float]) -> float:
    """The curvature that a step along the gradient feels most: the largest
    eigenvalue for descent, minus the smallest for ascent (nan if unknown)."""
    if not eigs or not all(math.isfinite(e) for e in eigs):
        return math.nan
    return -min(eigs) if run.maximize else max(eigs)


def _rate_advice(lr: float | None, curv: float) -> str:
    """``lr·f'' = 2.2 ≥ 2, lower --lr (below 0.909)``: the product that decides whether
    a step overshoots, and the largest rate that would not."""
    if lr is None or not math.isfinite(curv):
        return "lower {lr}"
    product = _fmt(lr * curv)
    if product == "2" and lr * curv != 2:  # 2.0000002 is past 2: show the digits that say so
        product = f"{lr * curv:.10g}"
    text = f"lr·f'' = {product}" + (" ≥ 2" if lr * curv >= 2 else "")
    return text + (f", lower {{lr}} (below {_fmt(2 / curv)})" if curv > 0 else ", lower {lr}")


def diagnose(run: Run, hessian: Callable[[Sequence[float]], list[list[float]]], names) -> str:
    """A sentence a student can act on, about the direction the user asked for."""
    run.diagnosis_text, run.warning = _diagnosis(run, hessian, names)
    return run.diagnosis


def _diagnosis(run: Run, hessian, names) -> tuple[str, bool]:
    final = run.final
    lr = run.rates[-1] if run.rates else None
    goal, wrong = ("maximum", "minimum") if run.maximize else ("minimum", "maximum")
    doing = "gradient ascent" if run.maximize else "gradient descent"
    if run.reason == "diverged":
        if not math.isfinite(final.value) or not all(math.isfinite(v) for v in final.point):
            text = f"diverged at step {final.k}: f became non-finite"
        else:
            text = f"diverged at step {final.k}: |f| = {_fmt(abs(final.value))} grew without bound"
        curv = _steepness(run, eigenvalues(hessian(run.steps[0].point)))
        if lr is not None and math.isfinite(curv) and lr * curv >= 2:
            text += f"; the learning rate is too large: lr·f'' = {_fmt(lr * curv)} ≥ 2 at the start"
        return text, True
    if run.reason == "interrupted":
        return f"interrupted after {final.k} steps", False
    eigs = eigenvalues(hessian(final.point))
    kind = kind_of_point(eigs)
    if run.reason == "converged":
        if kind == wrong:
            where = "started on" if final.k == 0 else "sits on"
            return (
                f"{wrong}: {doing} {where} a {wrong} ({_eigs_text(eigs)}); the gradient is "
                f"zero there, but this is not a {goal}: any nudge rolls away — start elsewhere"
            ), True
        return f"{kind}: {_eigs_text(eigs)}", kind in ("saddle", "undecided")
    # max-steps
    if _growing(run):
        return (
            f"growing: f moved away from the {goal} at each of the last steps (f = "
            f"{final.value:.6g} at step {final.k}); {_rate_advice(lr, _steepness(run, eigs))}"
        ), True
    zigzag = _zigzag(run)
    if zigzag == "steady":
        a, b = run.steps[-2].point, final.point
        center = [(p + q) / 2 for p, q in zip(a, b)]
        curv = _steepness(run, eigenvalues(hessian(center)))
        where = ", ".join(f"{v}≈{_fmt(c)}" for v, c in zip(names, center))
        return (
            f"oscillation: the iterates jump back and forth around {where}; the learning rate "
            f"is too large: {_rate_advice(lr, curv)}"
        ), True
    scale = max(1.0, abs(final.value))
    if final.gnorm <= 1e-10 * scale and kind != "undecided":
        if kind == wrong:
            return (
                f"{wrong}: {doing} is stuck on a {wrong} ({_eigs_text(eigs)}); the gradient "
                "vanishes there, so it never moves — start elsewhere"
            ), True
        return f"{kind}: not yet within {{tol}}, {_eigs_text(eigs)}", False
    if zigzag == "damped":
        curv = _steepness(run, eigs)
        text = f"zig-zag: converging, but each step overshoots the {goal}"
        if lr is not None and math.isfinite(curv) and curv > 0:
            text += f" (lr·f'' = {_fmt(lr * curv)} > 1); raise {{steps}}, or take {{lr}}"
            text += f" near {_fmt(1 / curv)} for straight steps"
        return text, False
    moved = _moves(run, 2)
    step_size = _size(moved[0]) if moved else 0.0
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
        ), True
    direction = ""
    if len(names) == 1 and moved:
        direction = ", moving right (+)" if moved[0][0] > 0 else ", moving left (−)"
    return (
        f"not converged after {final.k} steps{direction}: ‖g‖ = {_fmt(final.gnorm)}; "
        "raise {steps} or {lr}"
    ), False
