"""Derivatives as graph transforms.

Reverse mode appends adjoint nodes to the graph: one loop walks the nodes from the
output back to the inputs and adds ``adjoint × partial`` into each input, summing
with ``add`` nodes where a node feeds several others. The result is graph nodes,
so one evaluation gives every value and every adjoint, printing gives a formula,
and differentiating again gives second derivatives.
"""

from __future__ import annotations

from .graph import CONST, VAR, Graph
from .ops import OPS


class Gradient:
    """The reverse transform of one output: where each adjoint lives in the graph."""

    def __init__(self, output: int, wrt: list[int], active: list[bool]) -> None:
        self.output = output
        self.wrt = wrt
        self.active = active  # on a path from a wrt variable to the output
        self.adjoint: dict[int, int] = {}  # node -> its adjoint node
        self.partial: dict[tuple[int, int], int] = {}  # (node, i) -> ∂node/∂input i
        # input node -> [(consumer, contribution node)], in the order they are summed
        self.contributions: dict[int, list[tuple[int, int]]] = {}
        # backward node -> (forward node, "partial" | "product" | "sum", input index)
        self.origin: dict[int, tuple[int, str, int]] = {}
        self.nodes: list[int] = []  # the output, then each wrt variable's adjoint

    def grads(self, g: Graph) -> list[int]:
        """The adjoint node of each wrt variable, of the variable's shape (a zero
        constant when unused, spread over the shape for an array)."""
        out = []
        for v in self.wrt:
            adjoint = self.adjoint.get(v, g.const(0.0))
            # a folded number (0) where the variable is an array: 0 for every element
            if not g.numbers and g.shape[adjoint] != g.shape[v]:
                adjoint = g.call_with("spread", None, adjoint, v)
            out.append(adjoint)
        return out


def reverse(g: Graph, output: int, wrt: list[int]) -> Gradient:
    """Append the adjoints of ``output`` with respect to the ``wrt`` nodes to ``g``."""
    reaches = g.descendants(wrt)
    needed = g.ancestors([output])
    active = [r and n for r, n in zip(reaches, needed)]
    grad = Gradient(output, list(wrt), active)
    if not active[output]:
        return grad

    ops = g.op  # its length is the next node id
    origin = grad.origin
    for node in range(output, -1, -1):
        if not active[node]:
            continue
        if node == output:
            adjoint = g.const(1.0)
        else:
            terms = grad.contributions.get(node)
            if terms is None:  # read only by ops with no derivative (argmax, labels)
                grad.adjoint[node] = g.const(0.0)
                continue
            start = len(ops)
            adjoint = terms[0][1]
            for _, term in terms[1:]:
                adjoint = g.add(adjoint, term)
            for new in range(start, len(ops)):
                origin[new] = (node, "sum", -1)
        grad.adjoint[node] = adjoint
        op = ops[node]
        if op == VAR or op == CONST:
            continue
        args = g.args[node]
        spec = OPS[op]
        if spec.vjp is not None:  # not elementwise: its vector-Jacobian product
            start = len(ops)
            terms = spec.vjp(g, adjoint, *args, node, g.attrs.get(node))
            for new in range(start, len(ops)):
                origin[new] = (node, "product", -1)
            for arg, term in zip(args, terms):
                if term is not None and active[arg]:
                    grad.contributions.setdefault(arg, []).append((node, term))
            continue
        rules = spec.partials
        for i, arg in enumerate(args):
            if not active[arg]:
                continue  # constants and inputs that no wrt variable reaches
            start = len(ops)
            partial = rules[i](g, *args, node)
            middle = len(ops)
            term = g.mul(adjoint, partial)
            if not g.numbers and g.shape[term] not in (g.shape[arg], ()):
                term = g.call("sum_to", term, arg)  # the input was broadcast: sum back
            for new in range(start, middle):
                origin[new] = (node, "partial", i)
            for new in range(middle, len(ops)):
                origin[new] = (node, "product", i)
            grad.partial[(node, i)] = partial
            grad.contributions.setdefault(arg, []).append((node, term))
    return grad


class Tangents:
    """The forward transform for one input direction: where each tangent lives."""

    def __init__(self, variable: int) -> None:
        self.variable = variable
        self.tangent: dict[int, int] = {}  # node -> its tangent node (d node / d variable)
        self.partial: dict[tuple[int, int], int] = {}  # (node, i) -> ∂node/∂input i


def forward(g: Graph, outputs: list[int], variable: int) -> Tangents:
    """Append the tangents d(node)/d(variable) of every node the outputs need.

    The chain rule the other way round: each node's tangent is the sum over its
    inputs of partial × the input's tangent, in forward order. Nodes that do not
    depend on the variable get no tangent (zero).
    """
    result = Tangents(variable)
    needed = g.ancestors(outputs)
    reaches = g.descendants([variable])
    # The direction: 1 in every element of the variable (an array's tangent has its shape)
    seed = g.const(1.0)
    if g.shape[variable] != ():
        seed = g.call_with("spread", None, seed, variable)
    result.tangent[variable] = seed
    ops = g.op
    for node in range(max(outputs, default=-1) + 1):
        if not (needed[node] and reaches[node]) or ops[node] in (VAR, CONST):
            continue
        args = g.args[node]
        spec = OPS[ops[node]]
        if spec.jvp is not None:  # not elementwise: its Jacobian-vector product
            tangents = [result.tangent.get(a) for a in args]
            tangent = spec.jvp(g, tangents, *args, node, g.attrs.get(node))
            if tangent is not None:
                result.tangent[node] = tangent
            continue
        rules = spec.partials
        total = None
        for i, arg in enumerate(args):
            if arg not in result.tangent:
                continue
            partial = rules[i](g, *args, node)
            result.partial[(node, i)] = partial
            term = g.mul(partial, result.tangent[arg])
            total = term if total is None else g.add(total, term)
        if total is None:
            continue  # its inputs' tangents all stopped (argmax, one_hot): zero
        if not g.numbers and g.shape[total] != g.shape[node]:  # a broadcast input's tangent
            total = g.call_with("spread", None, total, node)
        result.tangent[node] = total
    return result


def tangents_of(t: Tangents, g: Graph, nodes: list[int]) -> list[int]:
    """The tangent node of each of ``nodes`` (a zero constant where none was made)."""
    return [t.tangent.get(n, g.const(0.0)) for n in nodes]


def element_gradients(g: Graph, node: int, wrt: list[int]) -> list[list[int]]:
    """The gradient of each element of ``node`` (in C order; the node itself for a
    number) with respect to ``wrt``: one reverse sweep per element, each element
    picked out with an index node. For Jacobians and Hessians of small arrays."""
    import itertools

    shape = g.shape[node]
    if not shape:
        return [reverse(g, node, wrt).grads(g)]
    rows = []
    for at in itertools.product(*(range(d) for d in shape)):
        element = g.call_with("index", tuple(at), node)
        rows.append(reverse(g, element, wrt).grads(g))
    return rows
