"""The one evaluator: a graph compiled once into straight-line Python code.

Two forms are generated from the same node list:

- ``scalar``: Python floats and ``math``, one local variable per node, as fast as
  a hand-written function. Where ``math`` raises (``log(0)``, ``1/0``, overflow)
  the point is recomputed by the array form, which follows IEEE rules and gives
  ``inf``/``nan`` instead.
- ``batch``: numpy, in place, in cache-sized chunks: every node writes into a
  buffer recycled as soon as its last reader has run, so memory stays flat in the
  number of points and the working set stays in cache.

Values of every node at a point (for the backward table and for finding the node
that first went non-finite) come from the same forms with more outputs.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from .graph import CONST, VAR, Graph
from .ops import OPS

CHUNK = 4096  # points per chunk: a few dozen buffers of this size stay in L2

_INFIX = {
    "add": "{0} + {1}",
    "sub": "{0} - {1}",
    "mul": "{0} * {1}",
    "div": "{0} / {1}",
    "neg": "-{0}",
}


def _literal(value: float) -> str:
    if math.isnan(value):
        return "_nan"
    if math.isinf(value):
        return "_inf" if value > 0 else "(-_inf)"
    return repr(value) if value >= 0 else f"({value!r})"


class Compiled:
    """Values of ``outputs`` as functions of the ``params`` nodes."""

    def __init__(self, g: Graph, params: Sequence[int], outputs: Sequence[int]) -> None:
        self.params = list(params)
        self.outputs = list(outputs)
        needed = g.ancestors(self.outputs)
        self._nodes = [n for n in range(len(needed)) if needed[n]]
        self._graph = g
        self._scalar = self._compile_scalar()
        self._chunk = None  # compiled on the first array call: it needs numpy

    # --- scalar form ----------------------------------------------------------

    def _compile_scalar(self):
        g = self._graph
        env: dict[str, Any] = {"_inf": math.inf, "_nan": math.nan}
        name = {p: f"a{i}" for i, p in enumerate(self.params)}
        lines = [f"def _f({', '.join(name[p] for p in self.params)}):"]
        for n in self._nodes:
            op = g.op[n]
            if op == CONST:
                name[n] = _literal(g.value[n])
                continue
            if op == VAR:
                if n not in name:
                    raise ValueError(f"variable {g.label[n]} is not a parameter")
                continue
            args = [name[a] for a in g.args[n]]
            if op in _INFIX:
                expr = _INFIX[op].format(*args)
            elif op == "pow" and g.is_const(g.args[n][1], 2.0):
                expr = f"{args[0]} * {args[0]}"  # exact, like pow(x, 2), and faster
            else:
                env[f"_{op}"] = OPS[op].scalar
                expr = f"_{op}({', '.join(args)})"
            name[n] = f"v{n}"
            lines.append(f"    v{n} = {expr}")
        lines.append(f"    return ({''.join(name[o] + ', ' for o in self.outputs)})")
        exec(compile("\n".join(lines), "<adcli scalar>", "exec"), env)
        return env["_f"]

    def scalar(self, *args: float) -> tuple[float, ...]:
        """The outputs at one point, as floats; IEEE inf/nan where math raises."""
        try:
            return self._scalar(*args)
        except (ArithmeticError, ValueError):
            return tuple(float(v[0]) for v in self.batch(*([a] for a in args)))

    # --- array form -----------------------------------------------------------

    def _compile_chunk(self, np: Any):
        g = self._graph
        env: dict[str, Any] = {"_inf": math.inf, "_nan": math.nan}
        storage: dict[int, str] = {p: f"a{i}" for i, p in enumerate(self.params)}
        first_output: dict[int, int] = {}
        for k, o in enumerate(self.outputs):
            first_output.setdefault(o, k)
        last_use: dict[int, int] = {}
        for n in self._nodes:
            for a in g.args[n]:
                last_use[a] = n
        free: list[str] = []
        n_buffers = 0
        body: list[str] = []
        for n in self._nodes:
            op = g.op[n]
            if op == CONST:
                storage[n] = _literal(g.value[n])
                continue
            if op == VAR:
                continue
            args = g.args[n]
            for a in set(args):  # an input read for the last time frees its buffer
                if last_use.get(a) == n and storage[a].startswith("b"):
                    free.append(storage[a])
            if n in first_output:
                target = f"o{first_output[n]}"
            elif free:
                target = free.pop()
            else:
                target = f"b{n_buffers}"
                n_buffers += 1
            storage[n] = target
            env[f"_{op}"] = OPS[op].array(np)
            body.append(f"    _{op}({', '.join(storage[a] for a in args)}, out={target})")
        for k, o in enumerate(self.outputs):
            if first_output[o] != k or g.op[o] in (CONST, VAR):
                body.append(f"    o{k}[...] = {storage[o]}")
        params = [f"a{i}" for i in range(len(self.params))]
        params += [f"o{k}" for k in range(len(self.outputs))]
        params += [f"b{i}" for i in range(n_buffers)]
        source = f"def _chunk({', '.join(params)}):\n" + ("\n".join(body) or "    pass")
        exec(compile(source, "<adcli batch>", "exec"), env)
        return env["_chunk"], n_buffers

    def batch(self, *arrays: Any) -> list[Any]:
        """The outputs at many points: numpy arrays broadcast from the inputs."""
        import numpy as np

        if self._chunk is None:
            self._chunk = self._compile_chunk(np)
        chunk, n_buffers = self._chunk
        inputs = [np.asarray(a, dtype=np.float64) for a in arrays]
        shape = np.broadcast_shapes(*(a.shape for a in inputs)) if inputs else ()
        flat = [np.broadcast_to(a, shape).reshape(-1) for a in inputs]
        size = math.prod(shape)
        outs = [np.empty(size) for _ in self.outputs]
        width = min(size, CHUNK)
        buffers = [np.empty(width) for _ in range(n_buffers)]
        with np.errstate(all="ignore"):
            for start in range(0, size, CHUNK):
                stop = min(start + CHUNK, size)
                m = stop - start
                chunk(
                    *(a[start:stop] for a in flat),
                    *(o[start:stop] for o in outs),
                    *(b[:m] if m < width else b for b in buffers),
                )
        return [o.reshape(shape) for o in outs]
