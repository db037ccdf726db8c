"""Display simplification: a derivative graph rebuilt with a few more algebra rules.

The smart constructors of ``Graph`` already fold constants and drop ``x*1``,
``x+0``, ``x*0`` and ``--x``. For a formula a person reads, this graph also
collects like terms (``x + x`` → ``2*x``, ``3*x - x`` → ``2*x``) and repeated
factors (``x*x*x`` → ``x**3``), and pulls constants and signs to the front. It never
expands a product of sums, every rule makes the graph smaller or keeps its size,
and each node is visited once: the budget is linear in the derivative's size.
"""

from __future__ import annotations

from .graph import CONST, VAR, Graph


class SimplifyingGraph(Graph):
    def _coefficient(self, n: int) -> tuple[float, int]:
        """``c*x`` → (c, x); ``-x`` → (-1, x); anything else → (1, itself)."""
        if self.op[n] == "mul" and self.value[self.args[n][0]] is not None:
            return self.value[self.args[n][0]], self.args[n][1]
        if self.op[n] == "neg":
            return -1.0, self.args[n][0]
        return 1.0, n

    def _power(self, n: int) -> tuple[int, float]:
        """``x**c`` → (x, c); anything else → (itself, 1)."""
        if self.op[n] == "pow" and self.value[self.args[n][1]] is not None:
            return self.args[n][0], self.value[self.args[n][1]]
        return n, 1.0

    def _scaled(self, c: float, x: int) -> int:
        return super().mul(self.const(c), x) if c != -1.0 else self.neg(x)

    def add(self, a: int, b: int) -> int:
        (ca, xa), (cb, xb) = self._coefficient(a), self._coefficient(b)
        if xa == xb and self.op[xa] != CONST:
            return self._scaled(ca + cb, xa)
        return super().add(a, b)

    def sub(self, a: int, b: int) -> int:
        (ca, xa), (cb, xb) = self._coefficient(a), self._coefficient(b)
        if xa == xb and self.op[xa] != CONST:
            return self._scaled(ca - cb, xa)
        return super().sub(a, b)

    def mul(self, a: int, b: int) -> int:
        value = self.value
        if value[b] is not None and value[a] is None:
            a, b = b, a  # the constant first: 2*x, not x*2
        if value[a] is not None:
            c, x = self._coefficient(b)
            if c != 1.0:  # 2*(3*x) → 6*x, 2*(-x) → -2*x
                return self._scaled(value[a] * c, x)
            return super().mul(a, b)
        if self.op[a] == "neg":  # (-a)*b → -(a*b)
            return self.neg(self.mul(self.args[a][0], b))
        if self.op[b] == "neg":
            return self.neg(self.mul(a, self.args[b][0]))
        (ba, ea), (bb, eb) = self._power(a), self._power(b)
        if ba == bb:  # x**2 * x → x**3
            return self.pow(ba, self.const(ea + eb))
        return super().mul(a, b)

    def neg(self, a: int) -> int:
        if self.op[a] == "mul" and self.value[self.args[a][0]] is not None:
            return self._scaled(-self.value[self.args[a][0]], self.args[a][1])
        return super().neg(a)

    def div(self, a: int, b: int) -> int:
        if a == b and self.value[a] is None:
            return self.const(1.0)
        return super().div(a, b)


def simplified(g: Graph, roots: list[int]) -> tuple[Graph, list[int]]:
    """The roots rebuilt into a ``SimplifyingGraph``; the original if that is not smaller."""
    out = SimplifyingGraph()
    new: dict[int, int] = {}
    needed = g.ancestors(roots)
    for name in g.variables:  # keep the variables' order
        out.var(name)
    for n in range(len(needed)):
        if not needed[n]:
            continue
        op = g.op[n]
        if op == VAR:
            new[n] = out.var(g.label[n])
        elif op == CONST:
            new[n] = out.const(g.value[n])
        else:
            new[n] = out.apply(op, *(new[a] for a in g.args[n]))
    mapped = [new[r] for r in roots]
    if _size(out, mapped) > _size(g, roots):
        return g, roots
    return out, mapped


def _size(g: Graph, roots: list[int]) -> int:
    """Operations and variables the roots need; constants are part of their labels."""
    return sum(1 for n, on in enumerate(g.ancestors(roots)) if on and g.op[n] != CONST)
