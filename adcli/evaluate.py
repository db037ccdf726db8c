"""The one evaluator: a graph compiled once, then run at points or on arrays.

Two forms come from the same node list:

- ``scalar``: Python floats and ``math``, one local variable per node, as fast as
  a hand-written function. Where ``math`` raises (``log(0)``, ``1/0``, overflow)
  the point is recomputed by the array form, which follows IEEE rules and gives
  ``inf``/``nan`` instead.
- ``batch``: numpy, in place, in cache-sized chunks: every node writes into a
  buffer recycled as soon as its last reader has run, so memory stays flat in the
  number of points and the working set stays in cache.

Each form is straight-line Python source for graphs up to ``SOURCE_LIMIT`` nodes.
CPython compiles source at ~10 µs a line, so a larger graph (a 10^5-statement
program) becomes a flat list of steps run by one small loop instead: the same
plan, built in linear time, at a fraction of a microsecond per node.

Values of every node at a point (for the backward table and for finding the node
that first went non-finite) come from the same forms with more outputs.

With ``backend="jax"`` the array forms (``batch``, ``whole``) are ``jaxbackend``'s:
the same steps, traced once per shape by ``jax.jit``; a point stays Python's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .graph import CONST, VAR, Graph
from .ops import OPS

CHUNK = 4096  # points per chunk: a few dozen buffers of this size stay in L2
SOURCE_LIMIT = 3000  # nodes; beyond it, a list of steps (see the module's doc)


def _literal(value: float) -> str:
    if math.isnan(value):
        return "_nan"
    if math.isinf(value):
        return "_inf" if value > 0 else "(-_inf)"
    return repr(value) if value >= 0 else f"({value!r})"


class Compiled:
    """Values of ``outputs`` as functions of the ``params`` nodes."""

    def __init__(self, g: Graph, params: Sequence[int], outputs: Sequence[int],
                 backend: str = "numpy") -> None:  # fmt: skip
        self.params = list(params)
        self.backend = backend  # who runs arrays: "numpy", or "jax" (jaxbackend.py)
        self.outputs = list(outputs)
        needed = g.ancestors(self.outputs)
        for p in self.params:
            needed[p] = False
        for n in range(len(needed)):
            if needed[n] and g.op[n] == VAR:
                raise ValueError(f"variable {g.label[n]} is not a parameter")
        # the nodes to compute, in order; squares are products (exact, and fast)
        self._steps: list[tuple[int, str, tuple[int, ...]]] = []
        for n in range(len(needed)):
            if needed[n] and g.op[n] != CONST:
                op, args = g.op[n], g.args[n]
                if op == "pow" and g.is_const(args[1], 2.0):
                    op, args = "mul", (args[0], args[0])
                self._steps.append((n, op, args))
        self._graph = g
        # A graph with an array anywhere (SPEC §10) runs whole arrays through numpy,
        # one call per node; a graph of numbers keeps its scalar and chunked forms.
        self.arrays = not g.numbers and (
            any(needed[n] for n in g.shape if n < len(needed))
            or any(g.shape[p] != () for p in self.params)
        )  # fmt: skip
        self._scalar = None if self.arrays else (
            self._scalar_source() if self.small else self._scalar_loop()
        )  # fmt: skip
        self._chunk = None  # made on the first array call: it needs numpy
        self._whole = None
        self._jax = None  # jaxbackend.Program, made on the first array call

    # --- scalar form ----------------------------------------------------------

    @property
    def steps(self) -> list[tuple[int, str, tuple[int, ...]]]:
        """The nodes to compute, in order, as ``(node, op, inputs)``; ``pow(x, 2)`` is
        ``mul(x, x)``. Every form runs these; ``adcli codegen`` prints them."""
        return self._steps

    @property
    def small(self) -> bool:
        """Small enough to run as generated source (see the module's doc)."""
        return len(self._steps) <= SOURCE_LIMIT

    def source(self, params: Sequence[str]) -> tuple[list[str], list[str], dict[str, Any]]:
        """Straight-line statements computing the outputs from variables named ``params``.

        Returns the statements, the expression of each output and the names the
        statements need. ``optimize`` inlines them into its loop; ``_scalar_source``
        wraps them in a function.
        """
        g = self._graph
        env: dict[str, Any] = {"_inf": math.inf, "_nan": math.nan, "_exp": math.exp}
        name = dict(zip(self.params, params))

        def ref(node: int) -> str:
            return name[node] if node in name else _literal(g.value[node])

        lines = []
        for n, op, args in self._steps:
            refs = [ref(a) for a in args]
            if OPS[op].inline is not None:
                expr = OPS[op].inline.format(*refs)
            else:
                env[f"_{op}"] = OPS[op].scalar
                expr = f"_{op}({', '.join(refs)})"
            name[n] = f"v{n}"
            lines.append(f"v{n} = {expr}")
        return lines, [ref(o) for o in self.outputs], env

    def _scalar_source(self):
        params = [f"a{i}" for i in range(len(self.params))]
        lines, outputs, env = self.source(params)
        body = [f"def _f({', '.join(params)}):", *("    " + line for line in lines)]
        body.append(f"    return ({''.join(o + ', ' for o in outputs)})")
        exec(compile("\n".join(body), "<adcli scalar>", "exec"), env)
        return env["_f"]

    def split_function(self, by_name: Sequence[str] | None = None):
        """The outputs at one point as ``(first, (the others…))``, floats in and out:
        for ``f.value_and_grad()``, the value and its partials. Straight-line source
        (as ``codegen`` emits), with ``scalar``'s IEEE inf/nan where math raises; for a
        graph too big for source, ``scalar`` itself.

        ``by_name``, the params' names (and the other outputs' too): a function of one
        dict of floats by those names, returning ``(first, {name: other})``, for
        ``f.grad(x=2.0)``. It raises KeyError for a name missing and TypeError for a
        value that is not a float: a caller's cue to take its general path."""
        if self.arrays:
            raise TypeError("a program of arrays has no function of numbers")
        scalar = self.scalar

        def slow(*args: float) -> tuple[float, Any]:
            if by_name is not None and not all(a.__class__ is float for a in args):
                raise TypeError("not floats")
            first, *others = scalar(*args)
            return first, tuple(others) if by_name is None else dict(zip(by_name, others))

        params = [f"a{i}" for i in range(len(self.params))]
        arguments = ", ".join(params)
        if not self.small:
            if by_name is None:
                return slow
            return lambda values: slow(*(values[n] for n in by_name))
        lines, outputs, env = self.source(params)
        env["_slow"] = slow
        if by_name is None:
            body = [f"def _f({arguments}):"]
            others = "".join(o + ", " for o in outputs[1:])
            result = f"({outputs[0]}, ({others}))"
        else:
            body = ["def _f(_values):", *(f"    {a} = _values[{n!r}]" for a, n in
                                          zip(params, by_name))]  # fmt: skip
            if params:
                test = " or ".join(f"{a}.__class__ is not float" for a in params)
                body += [f"    if {test}:", "        raise TypeError('not floats')"]
            others = ", ".join(f"{n!r}: {o}" for n, o in zip(by_name, outputs[1:]))
            result = f"({outputs[0]}, {{{others}}})"
        body += ["    try:", *("        " + line for line in lines), f"        return {result}"]
        body += ["    except (ArithmeticError, ValueError):", f"        return _slow({arguments})"]
        exec(compile("\n".join(body), "<adcli function>", "exec"), env)
        return env["_f"]

    def _scalar_loop(self):
        g = self._graph
        slot = {p: i for i, p in enumerate(self.params)}
        init: list[float] = [0.0] * len(self.params)

        def ref(node: int) -> int:
            if node not in slot:  # a constant
                slot[node] = len(init)
                init.append(g.value[node])
            return slot[node]

        steps = []
        for n, op, args in self._steps:
            fn = OPS[op].scalar
            refs = [ref(a) for a in args]
            slot[n] = len(init)
            init.append(0.0)
            steps.append((fn, slot[n], refs[0], refs[1] if len(refs) > 1 else -1))
        outs = [ref(o) for o in self.outputs]
        n_params = len(self.params)

        def run(*args: float) -> tuple[float, ...]:
            v = init.copy()
            v[:n_params] = args
            for fn, i, a, b in steps:
                v[i] = fn(v[a]) if b < 0 else fn(v[a], v[b])
            return tuple(v[o] for o in outs)

        return run

    def scalar(self, *args: float) -> tuple[float, ...]:
        """The outputs at one point, as floats (arrays, in a program of arrays);
        IEEE inf/nan where math raises."""
        if self.arrays:
            return tuple(self.whole(*args))
        try:
            return self._scalar(*args)
        except (ArithmeticError, ValueError):
            return tuple(float(v.item()) for v in self.batch(*([a] for a in args)))

    def complex_step(self, *args: complex) -> tuple[complex, ...]:
        """The outputs at a complex point, for the complex-step derivative check.

        A plain loop over the steps: it runs once per variable, so there is no
        code to generate. An op without a complex extension raises ``UsageError``.
        """
        from .errors import UsageError

        g = self._graph
        value: dict[int, complex] = dict(zip(self.params, args))
        for n, op, ins in self._steps:
            extension = OPS[op].complex
            if extension is None:
                raise UsageError(
                    f"{op} has no complex extension (it is not analytic or cmath lacks it)",
                    "use {method=central}",
                    options=True,
                )
            value[n] = extension(*(value[a] if a in value else g.value[a] for a in ins))
        return tuple(value[o] if o in value else complex(g.value[o]) for o in self.outputs)

    # --- array form -----------------------------------------------------------

    def chunk_plan(self) -> tuple[list[tuple[int, str, str, list]], list[tuple[str, Any]], int]:
        """Array steps ``(node, op, target, inputs)``, buffers recycled after their last use.

        Storage names: ``a<i>`` inputs, ``o<k>`` outputs, ``b<j>`` buffers; a constant
        input is its float. Returns the steps, the copies into outputs left to do
        (an output that is an input, a constant or another output) and the buffer count.
        """
        g = self._graph
        storage: dict[int, str] = {p: f"a{i}" for i, p in enumerate(self.params)}
        first_output: dict[int, int] = {}
        for k, o in enumerate(self.outputs):
            first_output.setdefault(o, k)
        last_use: dict[int, int] = {}
        for n, _, args in self._steps:
            for a in args:
                last_use[a] = n
        free: list[str] = []
        n_buffers = 0
        steps = []
        for n, op, args in self._steps:
            for a in set(args):  # an input read for the last time frees its buffer
                if last_use[a] == n and storage.get(a, "").startswith("b"):
                    free.append(storage[a])
            if n in first_output:
                target = f"o{first_output[n]}"
            elif free:
                target = free.pop()
            else:
                target = f"b{n_buffers}"
                n_buffers += 1
            inputs = [storage[a] if a in storage else g.value[a] for a in args]
            storage[n] = target
            steps.append((n, op, target, inputs))
        copies = [
            (f"o{k}", storage[o] if o in storage else g.value[o])
            for k, o in enumerate(self.outputs)
            if first_output[o] != k or o not in storage or not storage[o].startswith("o")
        ]
        return steps, copies, n_buffers

    def _compile_chunk(self, np: Any):
        steps, copies, n_buffers = self.chunk_plan()
        n_in, n_out = len(self.params), len(self.outputs)
        if len(steps) <= SOURCE_LIMIT:
            env: dict[str, Any] = {"_inf": math.inf, "_nan": math.nan}

            def text(x: str | float) -> str:
                return _literal(x) if isinstance(x, float) else x

            body = []
            for _, op, target, inputs in steps:
                env[f"_{op}"] = OPS[op].array(np)
                body.append(f"    _{op}({', '.join(map(text, inputs))}, out={target})")
            body += [f"    {o}[...] = {text(src)}" for o, src in copies]
            params = [f"a{i}" for i in range(n_in)] + [f"o{k}" for k in range(n_out)]
            params += [f"b{j}" for j in range(n_buffers)]
            source = f"def _chunk({', '.join(params)}):\n" + ("\n".join(body) or "    pass")
            exec(compile(source, "<adcli batch>", "exec"), env)
            return env["_chunk"], n_buffers
        # A large graph: the same steps, with storage as indices into one list.
        index = {f"a{i}": i for i in range(n_in)}
        index.update({f"o{k}": n_in + k for k in range(n_out)})
        index.update({f"b{j}": n_in + n_out + j for j in range(n_buffers)})
        constants: list[float] = []

        def at(name: str | float) -> int:
            if isinstance(name, float):  # a constant: a slot after the buffers
                constants.append(name)
                return n_in + n_out + n_buffers + len(constants) - 1
            return index[name]

        plan = [(OPS[op].array(np), at(t), [at(i) for i in ins]) for _, op, t, ins in steps]
        moves = [(at(o), at(src)) for o, src in copies]

        def chunk(*storage: Any) -> None:
            v = [*storage, *constants]
            for fn, target, inputs in plan:
                fn(*[v[i] for i in inputs], out=v[target])
            for o, src in moves:
                v[o][...] = v[src]

        return chunk, n_buffers

    def _on_jax(self):
        if self._jax is None:
            from .jaxbackend import Program

            self._jax = Program(self)
        return self._jax

    def batch(self, *arrays: Any) -> list[Any]:
        """The outputs at many points: numpy arrays broadcast from the inputs."""
        if self.backend == "jax":
            return self._on_jax().batch(*arrays)
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

    # --- whole arrays (SPEC §10) -----------------------------------------------

    def whole(self, *arrays: Any) -> list[Any]:
        """The outputs of a graph with arrays: one numpy call per node, on the inputs
        as they are (shapes as the graph says); numbers come out as floats."""
        import numpy as np

        from . import kernels

        if self._whole is None and self.backend != "jax":
            self._whole = self._whole_source(np)
        with np.errstate(all="ignore"):
            try:
                if self.backend == "jax":
                    return self._on_jax().whole(*arrays)
                values = self._whole(*(np.asarray(a, dtype=np.float64) for a in arrays))
            except kernels.LabelError as error:  # the inputs' fault: a label that is no class
                from .errors import BindingError

                raise BindingError(str(error)) from None
        # An output may be an input itself (the gradient of a @ b by a is b) or a view
        # (a subscript, a broadcast): the caller gets an array of its own.
        given = {id(a) for a in arrays}
        return [float(v) if np.ndim(v) == 0 else
                v.copy() if id(v) in given or v.base is not None or not v.flags.writeable else v
                for v in values]  # fmt: skip

    def _whole_source(self, np: Any):
        g = self._graph
        env: dict[str, Any] = {"_inf": math.inf, "_nan": math.nan}
        name = {p: f"a{i}" for i, p in enumerate(self.params)}

        def ref(node: int) -> str:
            return name[node] if node in name else _literal(g.value[node])

        # Each value is let go after its last read: arrays freed as the pass goes are
        # reused by the allocator, where holding all to the end made the OS hand pages
        # back and forth on every call. (Writing an elementwise op into a dying input,
        # out=, measured slower here: fewer frees leave large arrays to fresh pages.)
        steps = self._steps
        last = {a: i for i, (_, _, args) in enumerate(steps) for a in args}
        kept = set(self.outputs)
        body = []
        for i, (n, op, args) in enumerate(steps):
            env[f"_{op}"] = OPS[op].array(np)
            refs = [ref(a) for a in args]
            if n in g.attrs:
                refs.append(repr(g.attrs[n]))
            name[n] = f"v{n}"
            body.append(f"    v{n} = _{op}({', '.join(refs)})")
            done = sorted({f"v{a}" for a in args if last[a] == i and a not in kept and a not in
                           self.params and g.value[a] is None})  # fmt: skip
            if done:
                body.append(f"    del {', '.join(done)}")
        params = ", ".join(f"a{i}" for i in range(len(self.params)))
        outputs = "".join(ref(o) + ", " for o in self.outputs)
        source = f"def _whole({params}):\n" + "\n".join([*body, f"    return ({outputs})"])
        exec(compile(source, "<adcli arrays>", "exec"), env)
        return env["_whole"]
