"""Descent on a loss over data (SPEC §9): full batch, or minibatch SGD by epochs.

The parameters are numbers and arrays; each step evaluates the loss and its
gradient on a batch of rows and updates every parameter in place with the
method's rule, the same rules as ``optimize`` applies to numbers (gd, the heavy
ball, Nesterov's look-ahead, Adam with bias correction). A full-batch run is
``minimize``'s loop on data: step 0 is the start, and the value and gradient at
the final point close the trace.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .errors import UsageError
from .optimize import ADAM_BETA2, ADAM_EPS, Settings

# (param values, data columns of a batch) -> (loss, gradient of each param)
ValueAndGrad = Callable[[list[Any], list[Any]], tuple[float, list[Any]]]


class Batching:
    """How the rows are visited: every row each step (``size`` None), or batches of
    ``size`` rows, each epoch in a new order drawn from ``seed`` (or file order)."""

    __slots__ = ("size", "epochs", "seed", "shuffle")

    def __init__(self, size: int | None = None, epochs: int | None = None, seed: int = 0,
                 shuffle: bool = True) -> None:  # fmt: skip
        if size is not None and not (isinstance(size, int) and size >= 1):
            raise UsageError(f"{{batch_size}} must be a whole number ≥ 1, got {size!r}",
                             options=True)  # fmt: skip
        if epochs is not None and not (isinstance(epochs, int) and epochs >= 1):
            raise UsageError(f"{{epochs}} must be a whole number ≥ 1, got {epochs!r}",
                             options=True)  # fmt: skip
        if epochs is not None and size is None:
            raise UsageError("{epochs} counts passes of minibatches",
                             "give {batch_size} too, or {steps} for full-batch steps",
                             options=True)  # fmt: skip
        if not (isinstance(seed, int) and seed >= 0):
            raise UsageError(f"{{seed}} must be a whole number ≥ 0, got {seed!r}", options=True)
        self.size, self.epochs, self.seed, self.shuffle = size, epochs, seed, shuffle

    def batches(self, rows: int, steps: int):
        """``(epoch, row indices or None for every row)`` for each step."""
        import numpy as np

        if self.size is None:
            for _ in range(steps):
                yield 0, None
            return
        if self.size >= rows and not self.shuffle:  # every row, in order: no copy
            for epoch in range(steps if self.epochs is None else self.epochs):
                yield epoch, None
            return
        size = min(self.size, rows)
        per_epoch = math.ceil(rows / size)
        total = steps if self.epochs is None else self.epochs * per_epoch
        # Its own stream: the same --seed draws the params' start values elsewhere.
        rng = np.random.default_rng([self.seed, 1])
        k, epoch = 0, 0
        while k < total:
            order = rng.permutation(rows) if self.shuffle else np.arange(rows)
            for start in range(0, rows, size):
                if k == total:
                    return
                yield epoch, order[start : start + size]
                k += 1
            epoch += 1


class Training:
    """A finished (or interrupted) run: the trace by step, the parameters reached,
    the reason it stopped and the loss over every row at the end."""

    def __init__(self, names: Sequence[str], full_batch: bool, maximize: bool = False) -> None:
        self.names = list(names)
        self.full_batch = full_batch
        self.maximize = maximize  # the direction asked for: the diagnosis speaks of it
        self.per_row = True  # the loss is a sum over rows: loss/n is the mean per row
        self.start_loss: float | None = None  # over every row, at the start
        self.note = ""  # what the caller found out about a stop (the culprit of a nan)
        self.steps: list[int] = []
        self.epochs: list[int] = []
        self.losses: list[float] = []  # on the step's batch, before its update
        self.rows: list[int] = []  # the batch's rows
        self.gnorms: list[float] = []
        self.points: list[tuple[float, ...]] = []  # the numbers among the params, by step
        self.params: dict[str, Any] = {}  # the values reached
        self.reason = "max-steps"
        self.final_loss: float | None = None  # over every row, at the values reached

    def __len__(self) -> int:
        return len(self.steps)


def train(
    value_and_grad: ValueAndGrad,
    start: dict[str, Any],
    data: list[Any],
    rows: int,
    settings: Settings,
    batching: Batching,
    on_step: Callable[[int], None] | None = None,
    value: Callable[[list[Any], list[Any]], float] | None = None,
    norm_at: Callable[[int], bool] | None = None,
) -> Training:
    """Descend from ``start`` (each param's value) on the loss over ``data`` (the
    columns, each with ``rows`` rows first). ``value`` is the loss alone (for the
    losses over every row that a minibatch run compares); ``norm_at(k)`` says which
    minibatch steps record their gradient's norm (None: all; the others record nan)."""
    import numpy as np

    if rows < 1:
        raise UsageError("the data has no rows to train on")
    names = list(start)
    x = [np.array(v, dtype=np.float64) for v in start.values()]  # owned: updated in place
    scalar = [v.ndim == 0 for v in x]
    run = Training(names, batching.size is None, settings.maximize)
    sign = -1.0 if settings.maximize else 1.0
    moving = settings.method != "gd"
    velocity = [np.zeros_like(v) for v in x] if moving else []
    second = [np.zeros_like(v) for v in x] if settings.method == "adam" else []
    scratch = [np.empty_like(v) for v in x]  # each step's change, made without allocating
    value = value or (lambda x, data: value_and_grad(x, data)[0])
    limit = math.inf

    def norm(g: list[Any]) -> float:
        return math.sqrt(sum(float(np.vdot(gi, gi)) for gi in g))

    last_g: list[Any] = []  # the last step's gradient: its norm, should the run stop there

    def record(k: int, epoch: int, f: float, g: list[Any], batch_rows: int) -> float:
        last_g[:] = g
        gnorm = norm(g) if run.full_batch or norm_at is None or norm_at(k) else math.nan
        run.steps.append(k)
        run.epochs.append(epoch)
        run.losses.append(f)
        run.rows.append(batch_rows)
        run.gnorms.append(gnorm)
        run.points.append(tuple(float(v) for v, s in zip(x, scalar) if s))
        return gnorm

    try:
        if batching.size is not None:  # the loss over every row, to compare the end with
            run.start_loss = value(x, data)
        for k, (epoch, index) in enumerate(batching.batches(rows, settings.steps)):
            batch = data if index is None else [column[index] for column in data]
            f, g = value_and_grad(x, batch)
            gnorm = record(k, epoch, f, g, rows if index is None else len(index))
            if on_step is not None:
                on_step(k)
            if k == 0:
                limit = 1e12 * max(1.0, abs(f)) if math.isfinite(f) else -1.0
            if not math.isfinite(f) or abs(f) > limit:
                run.reason = "diverged"
                break
            if run.full_batch and gnorm <= settings.tol:
                run.reason = "converged"
                break
            rate = settings.lr * settings.decay**k
            _update(settings, x, g, velocity, second, scratch, rate, sign, k,
                    lambda ahead, batch=batch: value_and_grad(ahead, batch)[1])  # fmt: skip
        else:  # every step taken: the loss at the final point, on every row
            if not run.full_batch:
                run.final_loss = value(x, data)
            else:  # the trace's last row, as minimize's
                f, g = value_and_grad(x, data)
                run.final_loss = f
                gnorm = record(len(run), run.epochs[-1] if run.epochs else 0, f, g, rows)
                if on_step is not None:
                    on_step(len(run) - 1)
                if not math.isfinite(f) or abs(f) > limit:
                    run.reason = "diverged"
                elif gnorm <= settings.tol:
                    run.reason = "converged"
    except KeyboardInterrupt:
        run.reason = "interrupted"
    if run.gnorms and math.isnan(run.gnorms[-1]) and last_g:
        run.gnorms[-1] = norm(last_g)  # the trace always shows its last row
    if run.final_loss is None and run.losses:
        run.final_loss = run.losses[-1]  # stopped at a step: its loss, at the values reached
    if run.start_loss is None and run.losses:
        run.start_loss = run.losses[0]  # full batch: step 0 saw every row
    run.params = {n: float(v) if s else v for n, v, s in zip(names, x, scalar)}
    return run


def _update(settings: Settings, x, g, velocity, second, scratch, rate, sign, k,
            gradient_at) -> None:  # fmt: skip
    """One step of the method, in place (the rules of ``optimize``, the same
    arithmetic: x − (sign·rate)·g, into a scratch array rather than a new one)."""
    import numpy as np

    method, beta = settings.method, settings.beta
    # Every change is worked out before any param moves: a gradient may be a param's
    # own array (the gradient of a @ b by a is b), which an earlier update would change.
    if method == "gd":
        for gi, di in zip(g, scratch):
            np.multiply(gi, sign * rate, out=di)
    elif method in ("momentum", "nesterov"):
        if method == "nesterov":  # the gradient at the look-ahead point
            g = gradient_at([xi - sign * rate * beta * vi for xi, vi in zip(x, velocity)])
        for vi, gi, di in zip(velocity, g, scratch):
            vi *= beta
            vi += gi
            np.multiply(vi, sign * rate, out=di)
    else:  # adam
        for mi, si, gi, di in zip(velocity, second, g, scratch):
            mi *= beta
            mi += (1.0 - beta) * gi
            si *= ADAM_BETA2
            si += (1.0 - ADAM_BETA2) * gi * gi
            m_hat = mi / (1.0 - beta ** (k + 1))
            v_hat = si / (1.0 - ADAM_BETA2 ** (k + 1))
            np.divide(sign * rate * m_hat, np.sqrt(v_hat) + ADAM_EPS, out=di)
    for xi, di in zip(x, scratch):
        xi -= di
