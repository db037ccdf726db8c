"""Declared parameters (SPEC §10): ``param W1 = glorot(64, 32)``, their shapes and
start values.

A declaration is kept as its initialiser's name and constant arguments; the start
values are drawn only when asked for (numpy is imported then), from one generator
seeded by ``--seed`` and drawn in the order of declaration, so a run repeats exactly.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import ShapeError

MAX_ELEMENTS = 10**9  # 8 GB of float64: a larger param is a typo, not a model

# initialiser -> (how many leading arguments are values, not dimensions; its form)
INITIALISERS = {
    "zeros": (0, "zeros(d, ...)"),
    "ones": (0, "ones(d, ...)"),
    "full": (1, "full(value, d, ...)"),
    "normal": (1, "normal(std, d, ...)"),
    "uniform": (2, "uniform(lo, hi, d, ...)"),
    "glorot": (0, "glorot(n_in, n_out)"),
    "he": (0, "he(n_in, n_out)"),
}


class Init:
    """How a param starts: ``kind`` (an initialiser, or ``full`` for a number) with
    its ``values`` (std, bounds, the fill value) and the ``shape`` it makes."""

    __slots__ = ("kind", "values", "shape")

    def __init__(self, kind: str, args: list[float]) -> None:
        leading, form = INITIALISERS[kind]
        if len(args) < leading or (kind in ("glorot", "he") and len(args) != 2):
            raise ShapeError(f"{kind} takes {form}", hint=f"write {form}")
        dims = args[leading:]
        for d in dims:
            if not (math.isfinite(d) and d == int(d) and d >= 1):
                raise ShapeError(f"a dimension must be a whole number ≥ 1, not {d:g}",
                                 hint=f"write {form}")  # fmt: skip
        if not all(math.isfinite(v) for v in args[:leading]):
            raise ShapeError(f"{kind}(...) takes finite numbers, not {args[:leading]}",
                             hint=f"write {form}")  # fmt: skip
        if kind == "uniform" and not math.isfinite(args[1] - args[0]):
            raise ShapeError("uniform(lo, hi, ...) needs hi − lo to be a finite number")
        if kind == "uniform" and not args[0] < args[1]:
            raise ShapeError(f"uniform(lo, hi, ...) needs lo < hi, not {args[0]:g} and {args[1]:g}")
        if kind == "normal" and not args[0] >= 0:
            raise ShapeError(f"normal(std, ...) needs std ≥ 0, not {args[0]:g}")
        self.kind, self.values = kind, tuple(args[:leading])
        self.shape = tuple(int(d) for d in dims)
        if math.prod(self.shape) > MAX_ELEMENTS:
            raise ShapeError(f"{kind}(...) would hold {math.prod(self.shape):.3g} numbers; a "
                             f"param holds at most {MAX_ELEMENTS:.0e}")  # fmt: skip

    def draw(self, rng: Any) -> Any:
        """The start value: a float for a number, else a float64 array."""
        import numpy as np

        kind, shape = self.kind, self.shape
        if kind in ("zeros", "ones", "full"):
            fill = self.values[0] if kind == "full" else float(kind == "ones")
            value = np.full(shape, fill, dtype=np.float64)
        elif kind == "normal":
            value = rng.normal(0.0, self.values[0], size=shape)
        elif kind == "uniform":
            value = rng.uniform(self.values[0], self.values[1], size=shape)
        elif kind == "glorot":  # Glorot & Bengio (2010): keeps the variance of each layer
            limit = math.sqrt(6.0 / (shape[0] + shape[1]))
            value = rng.uniform(-limit, limit, size=shape)
        else:  # he: He et al. (2015), for relu layers
            value = rng.normal(0.0, math.sqrt(2.0 / shape[0]), size=shape)
        return float(value) if shape == () else value

    def __repr__(self) -> str:
        args = ", ".join(f"{v:g}" for v in (*self.values, *self.shape))
        return f"{self.kind}({args})"


def start_values(params: dict[str, Init], seed: int = 0) -> dict[str, Any]:
    """Every declared param's start value, drawn in order from ``seed``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return {name: init.draw(rng) for name, init in params.items()}
