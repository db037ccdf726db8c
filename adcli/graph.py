"""The one intermediate representation: a hash-consed graph of nodes.

Nodes are integers; node ``i`` is ``(op[i], args[i], attrs[i])`` and every input
of a node has a smaller id, so the id order is a topological order and every pass
is a plain loop. Equal subexpressions are one node (hash-consing), which is what
makes a re-used value show its fan-out in the backward table.

Every node has a shape (SPEC §10), inferred from its inputs' by the op's shape
rule as the node is made: ``()`` for a number (every node of a program without
arrays), a tuple of dimensions otherwise. A dimension is an int, or ``ROWS``: the
rows of the data, whose number is known only when the data is bound (the same for
every column, and a minibatch's own). ``attrs`` holds what an op takes besides its
inputs (an axis, a shape), hashable.

The smart constructors fold constants and drop identities (``x*1``, ``x+0``,
``x*0``, ``--x``, ``x**1``) as nodes are made, so derivative graphs stay small.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Mapping

from .errors import ShapeError
from .ops import OPS, shape_text

CONST = "const"
VAR = "var"
SCALAR: tuple = ()  # the shape of a number
ROWS = None  # a dimension: the data's rows


def broadcast(*shapes: tuple) -> tuple:
    """numpy's broadcasting of ``shapes``, with ``ROWS`` a dimension of its own: it
    fits itself and 1 only. A ``ShapeError`` when they do not fit."""
    if all(s == SCALAR for s in shapes):
        return SCALAR
    rank = max(len(s) for s in shapes)
    out = []
    for k in range(rank):
        dims = {s[len(s) - rank + k] for s in shapes if len(s) - rank + k >= 0} - {1}
        if len(dims) > 1:
            raise ShapeError(f"shapes {' and '.join(map(shape_text, shapes))} don't fit")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


class _Shapes(dict):
    """Nodes' shapes: a number's (most nodes') is not stored, so a program without
    arrays builds its graph as fast as before shapes."""

    def __missing__(self, node: int) -> tuple:
        return SCALAR


class Graph:
    def __init__(self, shapes: Mapping[str, tuple] | None = None) -> None:
        self.op: list[str] = []
        self.args: list[tuple[int, ...]] = []
        # what an op takes besides its inputs (hashable), by node; most take nothing
        self.attrs: dict[int, object] = {}
        self.shape = _Shapes()  # by node; only arrays' are stored
        self.inputs = shapes or {}  # the shapes of the variables that are arrays
        self.numbers = True  # no array yet: every node is a number (the fast path)
        self.value: list[float | None] = []  # constants only
        self.label: list[str | None] = []  # variable name or program name
        self._index: dict[tuple, int] = {}
        self.variables: dict[str, int] = {}  # name -> node, in order of appearance
        self.aliases: dict[int, list[str]] = {}  # later program names of a labelled node

    def __len__(self) -> int:
        return len(self.op)

    # --- making nodes ---------------------------------------------------------

    def _node(
        self, op: str, args: tuple[int, ...], value: float | None = None, label: str | None = None
    ) -> int:
        """A node whose shape is a number's, made once."""
        # repr keeps 0.0 and -0.0 (and nan) apart as keys; variables differ by name.
        key = (op, repr(value)) if op == CONST else (op, label) if op == VAR else (op, args)
        found = self._index.get(key)
        if found is not None:
            return found
        self.op.append(op)
        self.args.append(args)
        self.value.append(value)
        self.label.append(label)
        node = len(self.op) - 1
        self._index[key] = node
        return node

    def _array_node(self, op: str, args: tuple[int, ...], attrs, shape: tuple, label=None) -> int:
        """A node of any shape, or with attrs, made once (``_node`` is the numbers'
        short path)."""
        key = (op, label) if op == VAR else (op, args, attrs)
        node = self._index.get(key)
        if node is None:
            node = self._index[key] = len(self.op)
            self.op.append(op)
            self.args.append(args)
            self.value.append(None)
            self.label.append(label)
            if shape != SCALAR:
                self.shape[node] = shape
                self.numbers = False  # an array (one_hot of a number makes one)
            if attrs is not None:
                self.attrs[node] = attrs
        return node

    def const(self, value: float) -> int:
        return self._node(CONST, (), float(value))

    def var(self, name: str, shape: tuple | None = None) -> int:
        """The variable ``name``, made on its first use with ``shape``, else the shape
        the graph was given for it, else a number."""
        node = self.variables.get(name)
        if node is None:
            shape = self.inputs.get(name, SCALAR) if shape is None else shape
            shape = tuple(shape) or SCALAR
            self.numbers = self.numbers and shape == SCALAR
            if shape == SCALAR:
                node = self._node(VAR, (), None, name)
            else:
                node = self._array_node(VAR, (), None, shape, name)
            self.variables[name] = node
        return node

    def name(self, node: int, name: str) -> None:
        """Label a node with a program name; equal statements share a node, so a
        second name for it is kept as an alias (the table shows ``a = b``)."""
        if self.label[node] is None:
            self.label[node] = name
        elif self.op[node] != VAR:
            self.aliases.setdefault(node, []).append(name)

    def is_const(self, node: int, value: float | None = None) -> bool:
        if value is not None:
            return self.value[node] == value  # only constants hold a value
        return self.op[node] == CONST

    # The constructors below read ``self.value`` directly: they run once per node
    # of every derivative, so a method call per check would be most of their cost.

    def call(self, op: str, *args: int) -> int:
        """Apply an op, folding it when every input is a constant (a number); its
        shape by its row's rule (a ``ShapeError`` when the inputs do not fit)."""
        # In a graph of numbers (every program without arrays) an elementwise op
        # needs no shape rule: its path is kept as short as it was before shapes.
        if self.numbers and op in _ELEMENTWISE:
            value = self.value
            if value[args[0]] is not None and (len(args) == 1 or value[args[1]] is not None):
                if len(args) < 3 or value[args[2]] is not None:  # where(c, a, b)
                    return self._fold(op, args)
            return self._node(op, args)
        return self.call_with(op, None, *args)

    def call_with(self, op: str, attrs, *args: int) -> int:
        """``call`` for an op that takes ``attrs`` besides its inputs (an axis)."""
        spec = OPS[op]
        shapes = [self.shape[a] for a in args]
        on_numbers = all(s == SCALAR for s in shapes)
        if on_numbers and spec.elementwise:
            return self._on_numbers(op, args)
        if on_numbers and spec.on_numbers is not None:
            return spec.on_numbers(self, *args)  # sum(x) of a number is x, softmax(x) is 1
        if spec.shape:
            out = spec.shape(shapes, attrs)
        else:
            try:
                out = broadcast(*shapes)
            except ShapeError as error:  # name the operator, and numpy's rule
                raise ShapeError(f"{error.message} for {spec.symbol or spec.name}",
                                 "axes pair up from the last; each pair must be equal, or "
                                 "one of them 1") from None  # fmt: skip
        return self._array_node(op, args, attrs, out)

    def _on_numbers(self, op: str, args: tuple[int, ...]) -> int:
        if all(self.value[a] is not None for a in args):
            return self._fold(op, args)
        return self._node(op, args)

    def _fold(self, op: str, args: tuple[int, ...]) -> int:
        """An op on constants: its value, made a constant."""
        try:
            return self.const(OPS[op].scalar(*(self.value[a] for a in args)))
        except (ArithmeticError, ValueError):
            # leave it to the evaluator, which gives inf/nan and says why
            return self._node(op, args)

    def add(self, a: int, b: int) -> int:
        value = self.value
        if value[a] == 0.0:
            return b
        if value[b] == 0.0:
            return a
        if self.op[b] == "neg":
            return self.sub(a, self.args[b][0])
        return self.call("add", a, b)

    def sub(self, a: int, b: int) -> int:
        value = self.value
        if value[b] == 0.0:
            return a
        if value[a] == 0.0:
            return self.neg(b)
        return self.call("sub", a, b)

    def mul(self, a: int, b: int) -> int:
        va, vb = self.value[a], self.value[b]
        if va is None and vb is None:
            return self.call("mul", a, b)
        if (va == 0.0 or vb == 0.0) and self.shape[a] == self.shape[b]:  # a number: 0
            return self.const(0.0)
        if va == 1.0:
            return b
        if vb == 1.0:
            return a
        if va == -1.0:
            return self.neg(b)
        if vb == -1.0:
            return self.neg(a)
        return self.call("mul", a, b)

    def div(self, a: int, b: int) -> int:
        va, vb = self.value[a], self.value[b]
        if vb == 1.0:
            return a
        if va == 0.0 and vb != 0.0 and self.shape[b] == SCALAR:
            return self.const(0.0)
        return self.call("div", a, b)

    def neg(self, a: int) -> int:
        if self.op[a] == "neg":
            return self.args[a][0]
        return self.call("neg", a)

    def pow(self, a: int, b: int) -> int:
        vb = self.value[b]
        if vb == 1.0:
            return a
        if vb == 0.0 and self.shape[a] == SCALAR:
            return self.const(1.0)
        return self.call("pow", a, b)

    def matmul(self, a: int, b: int) -> int:
        return self.call("matmul", a, b)

    def transpose(self, a: int) -> int:
        if self.op[a] == "transpose":
            return self.args[a][0]
        if len(self.shape[a]) < 2:  # a vector or a number is its own transpose
            return a
        return self.call("transpose", a)

    def apply(self, op: str, *args: int) -> int:
        """Any op by name, through its smart constructor when it has one."""
        builder = getattr(self, op, None) if op in _SMART else None
        return builder(*args) if builder else self.call(op, *args)

    # --- reading the graph ----------------------------------------------------

    def ancestors(self, roots: list[int]) -> list[bool]:
        """Which nodes the roots depend on (the roots included)."""
        needed = [False] * len(self.op)
        for r in roots:
            needed[r] = True
        for node in range(max(roots, default=-1), -1, -1):
            if needed[node]:
                for a in self.args[node]:
                    needed[a] = True
        return needed

    def uses(self, roots: list[int], reads: bool = False) -> list[int]:
        """How many operations below the roots read each node (a node read twice by
        one operation, as in ``x*x``, counts once; with ``reads``, every read counts,
        as printing writes the node's text once per read); 0 outside the roots'
        ancestors."""
        needed = self.ancestors(roots)
        uses = [0] * len(needed)
        for n in range(len(needed)):
            if needed[n]:
                for a in self.args[n] if reads else set(self.args[n]):
                    uses[a] += 1
        return uses

    def descendants(self, sources: list[int]) -> list[bool]:
        """Which nodes depend on any of the sources (the sources included)."""
        reached = [False] * len(self.op)
        for s in sources:
            reached[s] = True
        for node in range(len(self.op)):
            if not reached[node] and any(reached[a] for a in self.args[node]):
                reached[node] = True
        return reached


def without_gc(build):
    """Run a graph-building step with the cyclic GC paused.

    Graphs hold no reference cycles, but building one allocates millions of small
    objects, and the collector's passes over them made large programs 2x slower.
    """

    @functools.wraps(build)  # its name, signature and docstring, for help()
    def paused(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return build(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused


_SMART = {"add", "sub", "mul", "div", "neg", "pow", "matmul", "transpose"}
_ELEMENTWISE = frozenset(name for name, op in OPS.items() if op.shape is None)
