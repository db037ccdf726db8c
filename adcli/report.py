"""What the tables and messages say about an expression's nodes: the per-node
(backward) table, forward mode's tangent table, the chain rule in words, node
labels, and the culprit of a non-finite result. ``Expression`` calls these; they
read its graph, caches and compiled forms, and compute nothing of their own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .autodiff import Gradient
from .displayed import Displayed, shown
from .graph import CONST, VAR
from .ops import OPS


class NodeRow:
    """One row of the per-node table: a forward node with its value and adjoint."""

    def __init__(
        self, *, number, node, label, op, inputs, value, partials, adjoint, terms, status
    ) -> None:
        self.number: int = number
        self.node: int = node
        self.label: str = label
        self.op: str = op
        self.inputs: list[str] = inputs  # "#3" for a node, the text of a folded constant
        self.value: float = value
        self.partials: list[float | None] = partials  # ∂node/∂input; None: constant input
        self.adjoint: float | None = adjoint  # None: not on a path to the output
        # (consumer's number, contribution) summed into the adjoint
        self.terms: list[tuple[int, float]] = terms
        self.status: str = status  # "" | "unused" | "no wrt"


class Table(Displayed):
    """The per-node table at one point, or forward mode's tangent table (``mode``),
    with the value and the gradient it explains. It shows itself as the terminal
    draws it (``displayed``): an HTML table in Jupyter, the text table as ``repr``."""

    def __init__(self, e, point: list[float], wrt, mode: str = "reverse") -> None:
        if mode not in ("reverse", "forward"):
            from .errors import UsageError

            raise UsageError(f"unknown mode {mode!r}", "choose reverse or forward")
        self.mode, self.point, self.variables = mode, point, e.variables
        self.names = e.wrt(wrt)
        if mode == "forward":
            self.rows = tangent_table(e, point, self.names)
            outputs = e.forward_value_and_grad_nodes(self.names)
        else:
            self.rows = node_table(e, point, self.names)
            outputs = e.value_and_grad_nodes(self.names)
        self.values = e.compiled(outputs).scalar(*point)  # the value, then ∂f/∂name
        self._e = e

    def summary(self) -> list[str]:
        """``f(x=2) = …`` and ``∂f/∂x = …``, in full precision."""
        from .numtext import full, rounded

        def text(value, short: bool = False) -> str:  # an array: its elements or summary
            if getattr(value, "ndim", 0):
                return rounded(value, 6)
            return f"{value:g}" if short else full(value)

        at = ", ".join(f"{v}={text(x, True)}" for v, x in zip(self.variables, self.point))
        lines = [f"f({at}) = {text(self.values[0])}"]
        return lines + [f"∂f/∂{n} = {text(g)}" for n, g in zip(self.names, self.values[1:])]

    def check_finite(self) -> None:
        """An ``EvaluationError`` naming the node that first went non-finite, if any."""
        self._e.check_finite(self.point, self.values, self.names)


class Picture(Displayed):
    """The computation graph, with values and gradients at a point if one is given: in
    Jupyter an SVG that Graphviz draws (the text drawing where it is not installed),
    and as ``repr`` the text drawing ``adcli graph`` prints."""

    def __init__(self, e, point: list[float] | None, wrt) -> None:
        self.e, self.point, self.wrt = e, point, wrt

    def _repr_svg_(self) -> str | None:
        return shown(self, "svg")


def numbers(e) -> dict[int, int]:
    """The row number of each forward node: variables first, then in forward order."""
    g = e.ir
    forward = [n for n in range(e.n_forward) if g.op[n] != CONST]
    forward.sort(key=lambda n: g.op[n] != VAR)  # stable: forward order otherwise
    return {n: i + 1 for i, n in enumerate(forward)}


def node_table(e, point: list[float], wrt: Sequence[str] | None = None) -> list[NodeRow]:
    """Values, local partials and adjoints of every forward node at one point."""
    g = e.ir
    grad = e.gradient(wrt)
    number = e.numbers
    wanted = list(number)
    wanted += list(grad.adjoint.values()) + list(grad.partial.values())
    wanted += [t for terms in grad.contributions.values() for _, t in terms]
    values = dict(zip(wanted, e.compiled(wanted).scalar(*point)))
    needed = g.ancestors([grad.output])
    rows = []
    for n in number:
        args = g.args[n]
        inputs = e.inputs_text(n)
        partials = [
            values[grad.partial[(n, i)]] if (n, i) in grad.partial else None
            for i in range(len(args))
        ]
        adjoint = values[grad.adjoint[n]] if n in grad.adjoint else None
        terms = [(number[c], values[t]) for c, t in grad.contributions.get(n, [])]
        status = "" if grad.active[n] else "unused" if not needed[n] else "no wrt"
        if status == "" and n != grad.output and n not in grad.contributions:
            status = "stopped"  # read only where no derivative flows (argmax, labels)
        if g.op[n] == VAR and needed[n] and n not in grad.wrt:
            status = "no wrt"
        rows.append(NodeRow(number=number[n], node=n, label=e.label(n), op=g.op[n],
                            inputs=inputs, value=values[n], partials=partials, adjoint=adjoint,
                            terms=terms, status=status))  # fmt: skip
    return rows


def inputs_text(e, node: int) -> list[str]:
    """A node's inputs as the tables show them: ``#3``, or a constant's value."""
    number = e.numbers
    return [f"#{number[a]}" if a in number else _short(e.ir.value[a])
            for a in e.ir.args[node]]  # fmt: skip


def tangent_table(e, point: list[float], wrt: Sequence[str] | None = None) -> list[NodeRow]:
    """Forward mode's trace: each node's value, local partials and one tangent per
    variable (``NodeRow.terms`` holds ``(variable, tangent)``)."""
    g = e.ir
    names = e.wrt(wrt)
    sweeps = [e.tangents(v) for v in names]
    number = e.numbers
    wanted = list(number)
    for t in sweeps:
        wanted += list(t.tangent.values()) + list(t.partial.values())
    values = dict(zip(wanted, e.compiled(wanted).scalar(*point)))
    rows = []
    for n in number:
        args = g.args[n]
        inputs = e.inputs_text(n)
        partials = [None] * len(args)
        for t in sweeps:
            for i in range(len(args)):
                if (n, i) in t.partial:
                    partials[i] = values[t.partial[(n, i)]]
        terms = [
            (v, values[t.tangent[n]] if n in t.tangent else 0.0) for v, t in zip(names, sweeps)
        ]
        rows.append(NodeRow(number=number[n], node=n, label=e.label(n), op=g.op[n],
                            inputs=inputs, value=values[n], partials=partials, adjoint=None,
                            terms=terms, status=""))  # fmt: skip
    return rows


def explain(e, point: list[float], wrt=None, mode: str = "reverse") -> list[str]:
    """The chain rule edge by edge, in the order the sweep applies it."""
    g = e.ir
    number = e.numbers
    names = e.wrt(wrt)
    lines = []
    if mode == "forward":
        for name in names:
            t = e.tangents(name)
            nodes = [*t.tangent.values(), *t.partial.values()]
            values = dict(zip(nodes, e.compiled(nodes).scalar(*point)))
            for n in number:
                edges = [(i, a) for i, a in enumerate(g.args[n]) if (n, i) in t.partial]
                sign = "+=" if len(edges) > 1 else "="
                for i, a in edges:
                    p, ta = values[t.partial[(n, i)]], values[t.tangent[a]]
                    lines.append(
                        f"∂#{number[n]}/∂{name} {sign} ∂#{number[n]}/∂#{number[a]} · "
                        f"∂#{number[a]}/∂{name} = {p:.6g} · {ta:.6g} = {p * ta:.6g}"
                    )
        return lines
    grad = e.gradient(names)
    nodes = [*grad.adjoint.values(), *grad.partial.values()]
    nodes += [term for terms in grad.contributions.values() for _, term in terms]
    values = dict(zip(nodes, e.compiled(nodes).scalar(*point)))
    for n in sorted(number, key=number.get, reverse=True):  # the backward sweep
        for i, a in enumerate(g.args[n]):
            if (n, i) not in grad.partial:
                continue
            adj, p = values[grad.adjoint[n]], values[grad.partial[(n, i)]]
            sign = "+=" if len(grad.contributions[a]) > 1 else "="
            lines.append(
                f"∂f/∂#{number[a]} {sign} ∂f/∂#{number[n]} · ∂#{number[n]}/∂#{number[a]}"
                f" = {adj:.6g} · {p:.6g} = {adj * p:.6g}"
            )
    return lines


def label(e, node: int, width: int = 28) -> str:
    """The node as the tables name it: its label, or its formula cut to ``width``
    characters. One printer per expression keeps every node's cut text, so a
    table's labels cost O(width) each, not a print of each node's subgraph."""
    g = e.ir
    if g.label[node] is not None:
        return " = ".join([g.label[node], *g.aliases.get(node, [])])
    if e._labels is None:
        from .printing import Labels

        e._labels = Labels(g)
    return e._labels(node, width)


def culprit(e, point: list[float], wrt: Sequence[str] | None = None) -> str:
    """Name the first node that went non-finite (its inputs were finite) and why.

    With ``wrt`` (a ``grad``), the backward pass is searched too; ``eval``
    passes None and never differentiates just to word a message.
    """
    g = e.ir
    grad = e.gradient(wrt) if wrt is not None else None
    roots = list(e.outputs) + (e.value_and_grad_nodes(wrt) if grad else [])
    needed = g.ancestors(roots)
    nodes = [n for n in range(len(needed)) if needed[n] and g.op[n] != CONST]
    values = dict(zip(nodes, e.compiled(nodes).scalar(*point)))
    arrays = any(getattr(x, "ndim", 0) for x in values.values())
    bound = ", ".join(f"{v}={_short(x)}" for v, x in zip(e.variables, point))
    where = f"at {bound}" if bound and not arrays else "here"
    for n in range(len(needed)):
        if not needed[n]:
            continue
        if g.op[n] == CONST:
            if not math.isfinite(g.value[n]):  # a literal or a folded constant part
                what = "beyond the range of a float (±1.8e308)"
                if math.isnan(g.value[n]):
                    what = "its parts are beyond the range of a float"
                return f"a constant in the expression is {_short(g.value[n])}: {what}"
            continue
        value = values[n]
        if _finite(value):
            continue
        if g.op[n] == VAR:
            return f"the input {g.label[n]} is {_short(value)} {where}"
        ins = [values.get(a, g.value[a]) for a in g.args[n]]
        if not all(_finite(x) for x in ins):
            continue
        if getattr(value, "ndim", 0):  # the first element that is not finite, and why
            value, ins, at = _first_bad(value, ins, OPS[g.op[n]].elementwise)
            where = f"at element {at} of its {'×'.join(map(str, values[n].shape))}"
        reason = OPS[g.op[n]].why(*ins)
        reason = reason or ("overflow" if math.isinf(value) else "undefined result")
        if grad is None or n < e.n_forward:
            node = f"node #{e.numbers[n]} {e.label(n, 60)}"
            return f"{node} is {_short(value)} {where}: {reason}"
        return _backward_culprit(e, n, grad, values, reason, where)
    return f"a non-finite value {where}"


def _finite(value) -> bool:
    if getattr(value, "ndim", 0):
        import numpy as np

        return bool(np.isfinite(value).all())
    return math.isfinite(value)


def _first_bad(value, ins: list, elementwise: bool):
    """An array node's first non-finite element, the inputs that made it (for an
    elementwise op; else no inputs) and its index as text."""
    import numpy as np

    flat = int(np.flatnonzero(~np.isfinite(value))[0])
    index = np.unravel_index(flat, value.shape)
    at = "[" + ", ".join(str(int(i)) for i in index) + "]"
    if not elementwise:
        return float(value.flat[flat]), [], at
    spread = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in ins), value)
    return float(value.flat[flat]), [float(x[index]) for x in spread[:-1]], at


def _backward_culprit(e, n: int, grad: Gradient, values, reason: str, where: str) -> str:
    """A backward-pass node went non-finite: name the adjoint it spoiled and the rule."""
    g = e.ir
    source, kind, i = grad.origin.get(n, (grad.output, "sum", -1))
    target = g.args[source][i] if i >= 0 else source
    spoiled = values.get(grad.adjoint.get(target, n), values[n])
    adjoint = f"∂f/∂node #{e.numbers[target]} {e.label(target, 60)}"
    if kind == "partial":
        shown = ", ".join(_short(values.get(a, g.value[a])) for a in g.args[source])
        size = "infinite" if math.isinf(values[n]) else "undefined"
        reason = f"{g.op[source]}'({shown}) is {size}"
        if target != source:
            reason += f" (node #{e.numbers[source]} {e.label(source, 60)})"
        inputs = (values.get(a, g.value[a]) for a in g.args[source])
        detail = OPS[g.op[source]].why_partial(*inputs)
        reason += f": {detail}" if detail else ""
    else:
        reason += " in the chain rule"
    return f"{adjoint} is {_short(spoiled)} {where}: {reason}"


def _short(value: float | None) -> str:
    if value is None:
        return "?"
    if getattr(value, "ndim", 0):
        from .numtext import rounded

        return rounded(value, 6)
    return f"{value:.6g}" if math.isfinite(value) else repr(value)
