"""Display simplification: a derivative graph rebuilt with a few more algebra rules.

The smart constructors of ``Graph`` already fold constants and drop ``x*1``,
``x+0``, ``x*0`` and ``--x``. For a formula a person reads, this graph also sees
every product, quotient and constant power as a *monomial*: a coefficient times
bases raised to exponents. So ``0.5/s*(2*x)`` is ``x/s``, ``x*x*x`` is ``x**3``,
``(x**2)**2`` is ``x**4``, ``x/x`` cancels, and a product is printed in one order:
the coefficient, then the factors from the simplest up, the divisors last. Sums
collect like terms (``3*x - x`` → ``2*x``), pull out their common factors
(``x*a + x*b`` → ``x*(a + b)``) and prefer ``a - b`` to ``a + -b``.

It never expands a product of sums. A node the derivative uses more than once is
kept whole when flattening it would copy more than one factor, so sharing survives;
a monomial has at most ``MAX_FACTORS`` factors and each node is decomposed once from
its inputs' monomials, so the work is linear in the derivative's size. ``simplified``
keeps the original graph when the rebuilt one is not smaller.

Cancelling ``x/x`` or merging ``sqrt(x)*sqrt(x)`` can define the formula at points
where the derivative was not (as any computer algebra system does); where both are
defined they agree up to rounding.
"""

from __future__ import annotations

import functools
from fractions import Fraction

from .graph import CONST, VAR, Graph, without_gc

MAX_FACTORS = 8
MAX_DENOMINATOR = 64

# A monomial: the coefficient and its (base node, exponent) factors, in print order.
Monomial = tuple[float, tuple[tuple[int, float], ...]]


class SimplifyingGraph(Graph):
    def __init__(self) -> None:
        super().__init__()
        self.height: list[int] = []  # see _height: orders the factors
        self.shared: set[int] = set()  # used more than once in the derivative
        self._monomials: dict[int, Monomial] = {}

    def _height(self, n: int) -> int:
        """Longest path from ``n`` down to a leaf; nodes come in topological order,
        so the heights are filled in up to ``n`` on demand."""
        height, args = self.height, self.args
        for m in range(len(height), n + 1):
            below = args[m]
            if not below:
                height.append(1)
            elif len(below) == 1:
                height.append(height[below[0]] + 1)
            else:
                height.append(max(height[below[0]], height[below[1]]) + 1)
        return height[n]

    # --- monomials ----------------------------------------------------------------

    def monomial(self, n: int) -> Monomial:
        """``n`` as coefficient × factors, one level down from its inputs' monomials
        (built by these constructors, so they are known): no recursion."""
        m = self._monomials.get(n)
        if m is None:
            value, op, args = self.value[n], self.op[n], self.args[n]
            if value is not None:
                m = (value, ())
            elif op == "neg":
                c, f = self._known(args[0])
                m = (-c, f)
            elif op == "mul":
                m = self._product(self._known(args[0]), self._known(args[1]))
            elif op == "div":
                m = self._product(self._known(args[0]), self._inverse(self._known(args[1])))
            elif op == "pow" and self.value[args[1]] is not None:
                m = self._power(self._known(args[0]), self.value[args[1]], args[0])
            m = m or (1.0, ((n, 1.0),))
            self._monomials[n] = m
        if n in self.shared and len(m[1]) > 1:  # keep a shared product whole
            return (1.0, ((n, 1.0),))
        return m

    def _known(self, n: int) -> Monomial:
        if n in self._monomials:
            return self.monomial(n)
        return (self.value[n], ()) if self.value[n] is not None else (1.0, ((n, 1.0),))

    def _product(self, a: Monomial | None, b: Monomial | None) -> Monomial | None:
        if a is None or b is None:
            return None
        exponents = dict(a[1])
        for base, e in b[1]:
            exponents[base] = exponents.get(base, 0.0) + e
        factors = [(base, e) for base, e in exponents.items() if e != 0.0]
        if len(factors) > MAX_FACTORS:
            return None
        factors.sort(key=lambda f: (f[1] < 0, self._height(f[0]), f[0]))
        return a[0] * b[0], tuple(factors)

    def _inverse(self, m: Monomial) -> Monomial | None:
        if m[0] == 0.0:
            return None
        return 1.0 / m[0], tuple((base, -e) for base, e in m[1])

    def _power(self, m: Monomial, e: float, base: int) -> Monomial | None:
        if not e.is_integer():  # (a*b)**0.5 is not a**0.5 * b**0.5 for negative a, b
            return (1.0, ((base, e),))
        try:
            c = m[0] ** e
        except (ArithmeticError, ValueError):
            return None
        return self._product((c, ()), (1.0, tuple((b, k * e) for b, k in m[1])))

    def build(self, m: Monomial) -> int:
        """A monomial as nodes: ``c*a*b**2/(q*d)``, with a rational coefficient
        ``p/q`` split between the numerator and the denominator, its sign in front."""
        c, factors = m
        p, q = _rational(abs(c)) or (abs(c), 1)
        top = [self._factor(b, e) for b, e in factors if e > 0]
        bottom = [self._factor(b, -e) for b, e in factors if e < 0]
        if p != 1.0 or not top:
            top.insert(0, self.const(-p if c < 0 else p))
            node = _chain(self, top)
        else:
            node = _chain(self, top)
            node = self.call("neg", node) if c < 0 else node
        if q != 1:
            bottom.insert(0, self.const(q))
        if bottom:
            node = self.call("div", node, _chain(self, bottom))
        self._monomials.setdefault(node, m)
        return node

    def _factor(self, base: int, e: float) -> int:
        return base if e == 1.0 else self.call("pow", base, self.const(e))

    def _rebuilt(self, m: Monomial | None, fallback) -> int:
        if m is None:
            return fallback()
        if m[0] == 0.0:
            return self.const(0.0)
        return self.build(m)

    # --- the constructors -------------------------------------------------------------

    def mul(self, a: int, b: int) -> int:
        m = self._product(self.monomial(a), self.monomial(b))
        return self._rebuilt(m, lambda: super(SimplifyingGraph, self).mul(a, b))

    def div(self, a: int, b: int) -> int:
        m = self._product(self.monomial(a), self._inverse(self.monomial(b)))
        return self._rebuilt(m, lambda: super(SimplifyingGraph, self).div(a, b))

    def pow(self, a: int, b: int) -> int:
        e = self.value[b]
        if e is None or e == 0.0 or e == 1.0:
            return super().pow(a, b)
        m = self._power(self.monomial(a), e, a)
        return self._rebuilt(m, lambda: super(SimplifyingGraph, self).pow(a, b))

    def neg(self, a: int) -> int:
        if self.op[a] == "sub":  # -(a - b) → b - a, exactly
            return self.call("sub", self.args[a][1], self.args[a][0])
        c, factors = self.monomial(a)
        return self.build((-c, factors))

    def add(self, a: int, b: int) -> int:
        return self._sum(a, b, 1.0)

    def sub(self, a: int, b: int) -> int:
        return self._sum(a, b, -1.0)

    def _sum(self, a: int, b: int, sign: float, factor: bool = True) -> int:
        """``a + sign*b`` with like terms collected and common factors pulled out."""
        if self.value[a] == 0.0:
            return self.neg(b) if sign < 0 else b
        if self.value[b] == 0.0:
            return a
        (ca, fa), (cb, fb) = self.monomial(a), self.monomial(b)
        cb *= sign
        if fa and fa == fb:  # 3*x - x → 2*x
            return self._rebuilt((ca + cb, fa), lambda: self.const(0.0))
        common = _common(fa, fb) if factor else ()
        if common:  # c*a + c*b → c*(a + b)
            rest = (1.0, _negated(common))
            inner = self._sum(
                self.build(self._product((ca, fa), rest)),
                self.build(self._product((cb, fb), rest)),
                1.0,
                factor=False,
            )
            return self.mul(self.build((1.0, common)), inner)
        if cb < 0:  # a + -c*x → a - c*x
            return self.call("sub", a, self.build((-cb, fb)))
        if ca < 0:  # -c*x + b → b - c*x
            return self.call("sub", self.build((cb, fb)), self.build((-ca, fa)))
        return self.call("add", a, b if sign > 0 else self.build((cb, fb)))


def _chain(g: Graph, nodes: list[int]) -> int:
    node = nodes[0]
    for other in nodes[1:]:
        node = g.call("mul", node, other)
    return node


def _common(fa, fb) -> tuple[tuple[int, float], ...]:
    """The factors two monomials share, each to the power both have."""
    exponents = dict(fb)
    common = []
    for base, e in fa:
        other = exponents.get(base)
        if other is not None and (e > 0) == (other > 0):
            common.append((base, min(e, other) if e > 0 else max(e, other)))
    return tuple(common)


def _negated(factors):
    return tuple((base, -e) for base, e in factors)


@functools.lru_cache(maxsize=4096)
def _rational(value: float) -> tuple[float, int] | None:
    """``value`` as ``p/q`` with a small ``q`` when ``p/q`` gives exactly that float."""
    if value.is_integer():
        return value, 1
    if value == 0.0 or not 1e-6 < value < 1e15:
        return None
    fraction = Fraction(value).limit_denominator(MAX_DENOMINATOR)
    p, q = fraction.numerator, fraction.denominator
    if p / q != value:
        return None
    return float(p), q


@without_gc
def simplified(g: Graph, roots: list[int]) -> tuple[Graph, list[int]]:
    """The roots rebuilt into a ``SimplifyingGraph``; the original if that is not smaller."""
    out = SimplifyingGraph()
    new: dict[int, int] = {}
    needed = g.ancestors(roots)
    uses = g.uses(roots)
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
        if uses[n] > 1:
            out.shared.add(new[n])
    mapped = [new[r] for r in roots]
    if _size(out, mapped) > _size(g, roots):
        return g, roots
    return out, mapped


def _size(g: Graph, roots: list[int]) -> int:
    """Operations and variables the roots need; constants are part of their labels."""
    return sum(1 for n, on in enumerate(g.ancestors(roots)) if on and g.op[n] != CONST)
