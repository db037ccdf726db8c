"""Pictures of f: f and f′ over a range, and a descent path over f or its contours.

The numbers come from the expression's own array path (``Expression.grad`` on a
numpy grid); the drawing is plotext in the terminal and matplotlib for a PNG (the
``plot`` extra). Where f or f′ is not finite the curves break, the edges of the gap
get a vertical line, and a note says where.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

import numpy as np

from .errors import AdcliError

SAMPLES = 801  # points along the range: several per braille dot of a wide terminal


class MissingExtra(AdcliError):
    """An optional part of adcli is not installed: say how to add it."""

    exit_code = 1


class Curves:
    """f and f′ sampled over ``xs``, with the intervals where either is not finite."""

    def __init__(self, e, lo: float, hi: float, samples: int = SAMPLES) -> None:
        self.text = e.text.strip()
        self.xs = np.linspace(lo, hi, samples)
        if not e.variables:  # a constant: a flat line over x, and f′ = 0
            self.name = "x"
            self.f = np.full(samples, float(e()))
            self.df = np.zeros(samples)
            return
        self.name = e.variables[0]
        value, grad = e.grad(**{self.name: self.xs})
        self.f = np.asarray(value, dtype=float)
        self.df = np.asarray(grad[self.name], dtype=float)

    def gaps(self, grad: bool) -> list[tuple[float, float]]:
        """Closed intervals of the sample points where f (or f′, when drawn) is not finite."""
        bad = ~np.isfinite(self.f)
        if grad:
            bad |= ~np.isfinite(self.df)
        return _runs(self.xs, bad)

    def notes(self, grad: bool) -> list[str]:
        lines = []
        for label, ys in (("f", self.f), ("f′", self.df)) if grad else (("f", self.f),):
            for a, b in _runs(self.xs, ~np.isfinite(ys)):
                where = f"at {self.name} = {a:.4g}" if a == b else f"on [{a:.4g}, {b:.4g}]"
                lines.append(f"{label} is not finite {where}")
        return lines


def _runs(xs: np.ndarray, flags: np.ndarray) -> list[tuple[float, float]]:
    """The [first, last] x of each run of True flags."""
    runs = []
    start = None
    for i, flag in enumerate(flags.tolist()):
        if flag and start is None:
            start = i
        if not flag and start is not None:
            runs.append((float(xs[start]), float(xs[i - 1])))
            start = None
    if start is not None:
        runs.append((float(xs[start]), float(xs[-1])))
    return runs


def _segments(xs: np.ndarray, ys: np.ndarray) -> list[tuple[list[float], list[float]]]:
    """The finite stretches of a curve, each drawn as its own line."""
    finite = np.isfinite(ys)
    pieces = []
    i, n = 0, len(xs)
    while i < n:
        if not finite[i]:
            i += 1
            continue
        j = i
        while j < n and finite[j]:
            j += 1
        pieces.append((xs[i:j].tolist(), ys[i:j].tolist()))
        i = j
    return pieces


def y_limits(*series: np.ndarray) -> tuple[float, float] | None:
    """The y range to show: everything, unless a few spikes (a pole) would flatten the
    rest; then the central 98% of the values, padded."""
    values = np.concatenate([s[np.isfinite(s)] for s in series]) if series else np.array([])
    if values.size == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    q_lo, q_hi = np.percentile(values, [1, 99]).tolist()
    if hi - lo > 10 * (q_hi - q_lo) and q_hi > q_lo:
        lo, hi = q_lo, q_hi
    pad = 0.05 * (hi - lo) or 0.5
    return lo - pad, hi + pad


# --- the terminal ---------------------------------------------------------------------


def _plotext():
    import plotext as plt

    plt.clear_figure()
    return plt


def _size(width: int | None, height: int | None) -> tuple[int, int]:
    columns, lines = shutil.get_terminal_size((80, 24))
    return width or columns, height or max(12, min(lines - 2, 30))


def _finish(plt, color: bool, width: int | None, height: int | None) -> str:
    plt.plotsize(*_size(width, height))
    plt.theme("pro" if color else "clear")
    text = plt.build()
    return text if color else plt.uncolorize(text)


def terminal_curves(c: Curves, grad: bool, color: bool, width=None, height=None) -> str:
    """f (and f′) in the terminal, braille dots, the gaps marked."""
    plt = _plotext()
    series = [("f", c.f)] + ([("f′", c.df)] if grad else [])
    for label, ys in series:
        for k, (xs, part) in enumerate(_segments(c.xs, ys)):
            # without colour f′ needs another marker to be told apart from f
            marker = "braille" if label == "f" or color else "dot"
            plt.plot(xs, part, marker=marker, label=label if k == 0 else None,
                     color="blue+" if label == "f" else "orange+")  # fmt: skip
    limits = y_limits(*(ys for _, ys in series))
    if limits:
        plt.ylim(*limits)
    for a, b in c.gaps(grad):
        for x in {a, b}:
            plt.vline(x, "red")
    plt.title(f"f = {c.text}" + ("  and f′" if grad else ""))
    plt.xlabel(c.name)
    return _finish(plt, color, width, height)


def terminal_path_1d(c: Curves, path: Sequence[float], values: Sequence[float], color: bool,
                     width=None, height=None) -> str:  # fmt: skip
    """The descent path as dots on f, the start and the end marked; a path that left
    the floats (a divergence) is drawn up to its last finite point."""
    path, values = _finite_path(path, values)
    plt = _plotext()
    for k, (xs, part) in enumerate(_segments(c.xs, c.f)):
        plt.plot(xs, part, marker="braille", label="f" if k == 0 else None, color="blue+")
    plt.plot(list(path), list(values), marker="dot", color="orange+", label="steps")
    plt.scatter([path[0]], [values[0]], marker="S", color="green+", label="start")
    plt.scatter([path[-1]], [values[-1]], marker="E", color="red+", label="end")
    limits = y_limits(c.f, np.asarray(values, dtype=float))
    if limits:
        plt.ylim(*limits)
    plt.title(f"descent on f = {c.text}")
    plt.xlabel(c.name)
    return _finish(plt, color, width, height)


def contour_points(e, xs: np.ndarray, ys: np.ndarray, levels: int = 8):
    """Grid points where f crosses one of ``levels`` values (quantiles of f on the
    grid): at terminal resolution, the contour lines."""
    gx, gy = np.meshgrid(xs, ys)
    names = e.variables
    z = np.asarray(e(**{names[0]: gx, names[1]: gy}), dtype=float)
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return []
    marks = np.quantile(finite, np.linspace(0.04, 0.96, levels) ** 2)
    lines = []
    for level in np.unique(marks):
        above = z > level
        edge = np.zeros_like(above)
        edge[:, :-1] |= above[:, :-1] != above[:, 1:]
        edge[:-1, :] |= above[:-1, :] != above[1:, :]
        lines.append((gx[edge].tolist(), gy[edge].tolist()))
    return lines


def terminal_path_2d(e, path: Sequence[Sequence[float]], color: bool,
                     width=None, height=None) -> str:  # fmt: skip
    """The descent path over the contour lines of f (two variables), up to its last
    finite point."""
    path, _ = _finite_path(path, [0.0] * len(path))
    px = np.array([p[0] for p in path], dtype=float)
    py = np.array([p[1] for p in path], dtype=float)
    (x0, x1), (y0, y1) = _box(px), _box(py)
    w, h = _size(width, height)
    xs, ys = np.linspace(x0, x1, 2 * w), np.linspace(y0, y1, 4 * h)
    plt = _plotext()
    for k, (cx, cy) in enumerate(contour_points(e, xs, ys)):
        label = "contours of f" if k == 0 else None
        plt.scatter(cx, cy, marker="braille", color="gray", label=label)
    plt.plot(px.tolist(), py.tolist(), marker="dot", color="orange+", label="steps")
    plt.scatter([px[0]], [py[0]], marker="S", color="green+", label="start")
    plt.scatter([px[-1]], [py[-1]], marker="E", color="red+", label="end")
    plt.xlim(x0, x1)
    plt.ylim(y0, y1)
    plt.title(f"descent on f = {e.text.strip()}")
    plt.xlabel(e.variables[0])
    plt.ylabel(e.variables[1])
    return _finish(plt, color, width, height)


def _box(values: np.ndarray) -> tuple[float, float]:
    """A range around the finite values, a quarter wider on each side."""
    v = values[np.isfinite(values)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (-1.0, 1.0)
    pad = 0.25 * (hi - lo) or max(1.0, abs(lo)) * 0.5
    return lo - pad, hi + pad


def terminal_descent(e, run, color: bool, width=None, height=None) -> str:
    """A descent run's path over f (one variable) or over f's contour lines (two),
    up to its last finite step."""
    steps = run.steps
    path, values = _finite_path(list(steps.points), [steps.value(k) for k in range(len(steps))])
    if len(e.variables) == 1:
        lo, hi = path_range(path)
        return terminal_path_1d(Curves(e, lo, hi), path, values, color, width, height)
    return terminal_path_2d(e, path, color, width, height)


def _finite_path(path: Sequence, values: Sequence[float]) -> tuple[list, list[float]]:
    """The steps before the first one whose point or value is not finite (plotext
    cannot place inf); at least the start."""
    kept_path, kept_values = [], []
    for point, value in zip(path, values):
        coords = point if isinstance(point, (tuple, list)) else (point,)
        if not (np.isfinite(value) and all(np.isfinite(c) for c in coords)):
            break
        kept_path.append(point)
        kept_values.append(value)
    return (kept_path, kept_values) if kept_path else (list(path[:1]), list(values[:1]))


def path_range(path: Sequence[float]) -> tuple[float, float]:
    return _box(np.asarray(path, dtype=float))


# --- PNG ---------------------------------------------------------------------------------


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # no screen: draw into a file
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtra(
            "writing a PNG needs matplotlib, which is not installed",
            "install adcli's plot extra: pip install 'adcli[plot]'",
        ) from None
    return plt


def png_curves(c: Curves, grad: bool, path: str) -> None:
    """f and f′ on shared axes with a legend, the gaps shaded, into ``path``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for label, ys, style in (("f", c.f, "C0"), ("f′", c.df, "C1"))[: 2 if grad else 1]:
        ax.plot(c.xs, np.where(np.isfinite(ys), ys, np.nan), style, lw=1.8,
                label=f"{label}({c.name})")  # fmt: skip
    limits = y_limits(c.f, *([c.df] if grad else []))
    if limits:
        ax.set_ylim(*limits)
    for k, (a, b) in enumerate(c.gaps(grad)):
        ax.axvspan(a, b, color="C3", alpha=0.15, label="not finite" if k == 0 else None)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel(c.name)
    ax.set_title(f"f = {c.text}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    _save(fig, path, plt)


def _save(fig, path: str, plt) -> None:
    try:
        fig.savefig(path)
    except OSError as error:
        raise AdcliError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        plt.close(fig)


# --- a fit: the data, the fitted curve, the residuals under them ---------------------------


def terminal_fit(name: str, x, y, grid, curve, residuals, color: bool, title: str,
                 width=None, height=None) -> str:  # fmt: skip
    """The data as dots and the fitted curve above; the residuals below, about 0."""
    plt = _plotext()
    plt.subplots(2, 1)
    plt.subplot(1, 1)  # plotext's calls draw into the subplot chosen last
    plt.scatter(list(x), list(y), marker="dot", label="data", color="blue+")
    plt.plot(list(grid), list(curve), marker="braille", label="fit", color="orange+")
    plt.title(title)
    plt.subplot(2, 1)
    plt.scatter(list(x), list(residuals), marker="dot", color="blue+")
    plt.hline(0.0, "gray")
    plt.title("residuals")
    plt.xlabel(name)
    plt.main()  # back to the whole figure, which the size, theme and build are for
    columns, lines = _size(width, height)
    plt.plotsize(columns, max(lines, 24))
    plt.theme("pro" if color else "clear")
    text = plt.build()
    return text if color else plt.uncolorize(text)


def png_fit(name: str, x, y, grid, curve, residuals, title: str, path: str) -> None:
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), dpi=120, sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})  # fmt: skip
    top.plot(x, y, ".", color="C0", label="data")
    top.plot(grid, curve, "-", color="C1", lw=1.8, label="fit")
    top.set_title(title)
    top.grid(alpha=0.3)
    top.legend()
    bottom.plot(x, residuals, ".", color="C0")
    bottom.axhline(0.0, color="0.5", lw=0.8)
    bottom.set_ylabel("residual")
    bottom.set_xlabel(name)
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path, plt)
