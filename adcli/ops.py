"""The table of primitives: everything adcli knows about an operation, in one row.

A row holds the op's arity, its scalar implementation (Python floats, ``math``),
its array implementation (numpy, fetched lazily so a scalar answer never imports
numpy), its local partial derivatives written with graph constructors (so they are
differentiable again), how it prints, and where it is smooth (for tests).

Adding a primitive is adding a row here; the tests iterate over ``OPS``.
"""

from __future__ import annotations

import cmath
import math
import operator
from collections.abc import Callable
from typing import Any

# A partial rule gets the graph builder, the input node ids and the op's own node
# id (rules may reuse the output, as sigmoid' = out·(1 − out) does).
Partial = Callable[..., int]

# Printing precedence, loosest first; calls and atoms bind tightest.
PREC_CMP, PREC_ADD, PREC_MUL, PREC_NEG, PREC_POW, PREC_ATOM = 0, 1, 2, 3, 4, 5


class Kink:
    """Where an op's derivative jumps, and what adcli does there (SPEC §1)."""

    __slots__ = ("points", "at", "where", "convention")

    def __init__(
        self,
        convention: str,
        at: Callable[..., bool] = lambda x: x == 0.0,  # the inputs sit on the kink
        where: str = "its input is 0",
        points: tuple[float, ...] = (0.0,),  # the kinks, for tests (of a - b for a tie)
    ) -> None:
        self.convention, self.at, self.where, self.points = convention, at, where, points


class Op:
    """One primitive: a row of named fields. A plain slotted class (``@dataclass``
    would cost start-up time).

    - ``scalar``: the value on Python floats. A ``math`` function, a builtin, or a
      function defined at the top of this module: ``adcli codegen`` copies its source.
    - ``numpy``: the numpy function computing it elementwise, or ``kernel``: the
      function of that name in ``kernels.py`` (numpy is imported only when used);
      with neither, the scalar form is applied to each element (it must not raise).
    - ``complex``: the extension to complex numbers for the complex-step check;
      None where the op is not analytic or cmath lacks it.
    - ``partials``: one rule per input, written with the graph builder ``g``: it gets
      the input nodes and the op's own node (sigmoid' = out·(1 − out)) and returns
      ∂op/∂input as a node, so rules differentiate again.
    - ``symbol``/``precedence``: infix or prefix text and how tightly it binds (None:
      a call ``name(...)``); ``glyph``: how a graph drawing names it (×, ÷).
    - ``latex``: an infix op's LaTeX operator (``\\cdot``); a call's LaTeX command
      (``\\sin``, else ``\\operatorname{name}``); or a template of ``{0}``, ``{1}``
      (``{0!p}``: parenthesised when it binds no tighter than the op).
    - ``inline``: the scalar form as an expression of ``{0}``, ``{1}``: generated
      code writes it instead of a call.
    - ``also``: names other tools give it (``ln``); ``sugar``: other arities, as
      graph builders (``log(x, b)``); ``callable``: an operator also called by name
      (``pow(a, b)``).
    - ``kink``: where its derivative jumps and adcli's convention there.
    - ``why``/``why_partial``: why a finite input gave a non-finite value or partial.
    - ``domain``: where it is smooth, for the table-driven tests.
    - ``shape``: the rule giving its shape from its inputs' shapes and its attrs
      (None: elementwise, numpy broadcasting); ``vjp``/``jvp``: reverse and forward
      rules of an op that is not elementwise (then ``partials`` is empty);
      ``internal``: made by transforms only (``sum_to``), not named in the language;
      ``on_numbers``: what it is when every input is a number; ``arities``: what a
      call may give it when that is not its arity and its sugar's; ``rows``: whether
      each row of its value comes from the same row of its inputs.
    """

    __slots__ = (
        "name", "arity", "scalar", "numpy", "kernel", "complex", "partials", "symbol",
        "precedence", "glyph", "latex", "inline", "also", "sugar", "callable", "kink",
        "why", "why_partial", "domain", "shape", "vjp", "jvp", "internal", "on_numbers",
        "rows", "_arities", "_elementwise",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        arity: int,
        scalar: Callable[..., float],
        partials: tuple[Partial, ...],
        *,
        numpy: str | None = None,
        kernel: str | None = None,
        complex: Callable[..., complex] | None = None,  # noqa: A002 - the field's name
        symbol: str | None = None,
        precedence: int = PREC_ATOM,
        glyph: str | None = None,
        latex: str | None = None,
        inline: str | None = None,
        also: tuple[str, ...] = (),
        sugar: dict[int, Callable[..., int]] | None = None,
        callable: bool = False,  # noqa: A002
        kink: Kink | None = None,
        why: Callable[..., str | None] = lambda *args: None,
        why_partial: Callable[..., str | None] = lambda *args: None,
        domain: tuple[float, float] = (-3.0, 3.0),
        shape: Callable[..., tuple] | None = None,
        vjp: Callable[..., list] | None = None,
        jvp: Callable[..., int] | None = None,
        internal: bool = False,
        on_numbers: Callable[..., int] | None = None,
        arities: tuple[int, ...] | None = None,
        rows: str | None = None,
    ) -> None:
        self.name, self.arity, self.scalar, self.partials = name, arity, scalar, partials
        self.numpy, self.kernel, self.complex = numpy, kernel, complex
        self.symbol, self.precedence, self.glyph, self.latex = symbol, precedence, glyph, latex
        self.inline, self.also, self.sugar, self.callable = inline, also, sugar or {}, callable
        self.kink, self.why, self.why_partial, self.domain = kink, why, why_partial, domain
        self.shape = shape  # (input shapes, attrs) -> shape; None: elementwise, broadcast
        # Ops that are not elementwise give, instead of partials, their vector-Jacobian
        # product (g, adjoint, inputs, node, attrs) -> a contribution per input (None:
        # no derivative through it) and their Jacobian-vector product (g, tangents,
        # inputs, node, attrs) -> the node's tangent (tangents: a node or None each).
        self.vjp, self.jvp = vjp, jvp
        self.internal = internal  # made by transforms only; no name in the language
        # What it is when every input is a number (sum(x) is x, softmax(x) is 1), as a
        # graph rule (g, *inputs) -> node; None: its shape rule decides
        self.on_numbers = on_numbers
        self._arities = arities  # what the language takes, when not (arity, *sugar)
        # How its value's row i follows from its inputs' (the data's rows first), so a
        # loss can be summed a chunk of rows at a time: "each" from row i alone (every
        # elementwise op), "axis" when its axis is not the rows', "left" for rows @ a
        # matrix; None: it mixes rows.
        self.rows = rows
        self._elementwise = None  # made at the first array call, without numpy or kernel

    def array(self, np: Any) -> Callable[..., Any]:
        """The elementwise function on numpy arrays, ``f(*arrays, out=None)``."""
        if self.numpy is not None:
            return getattr(np, self.numpy)
        from . import kernels

        if self.kernel is not None:
            return getattr(kernels, self.kernel)
        if self._elementwise is None:
            self._elementwise = kernels.elementwise(self.scalar)
        return self._elementwise

    @property
    def arities(self) -> tuple[int, ...]:
        """The numbers of arguments a call may give it (``log(x)``, ``log(x, b)``)."""
        return self._arities or tuple(sorted({self.arity, *self.sugar}))

    @property
    def elementwise(self) -> bool:
        """Each element of its value depends on the same element of its inputs: the
        numbers' ops. The others (``@``, ``sum``) are array ops, with vjp/jvp rules."""
        return self.vjp is None

    @property
    def kinks(self) -> tuple[float, ...]:
        return self.kink.points if self.kink else ()

    def __repr__(self) -> str:
        return f"Op({self.name!r}, arity={self.arity})"


# --- scalar implementations that math lacks -----------------------------------
# They may raise ArithmeticError or ValueError like math does; the evaluator then
# recomputes the point with numpy's IEEE semantics (inf/nan instead of errors).


# 1/(1+e^-x) for x ≥ 0 and e^x/(1+e^x) below: nothing overflows, and tiny values
# (σ(-740) ≈ 4e-322) keep their digits. The generated code pastes this expression
# in; the function is made from it, so the two cannot drift apart.
_SIGMOID = "(1.0 / (1.0 + _exp(-{0})) if {0} >= 0.0 else _exp({0}) / (1.0 + _exp({0})))"
_sigmoid = eval("lambda x: " + _SIGMOID.format("x"), {"_exp": math.exp})


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _relu(x: float) -> float:
    return 0.0 if x <= 0.0 else x  # nan stays nan


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0 if x == 0.0 else x


def _min(a: float, b: float) -> float:
    return a if a <= b else b if b < a else a + b  # a + b: nan if either is nan


def _max(a: float, b: float) -> float:
    return a if a >= b else b if b > a else a + b


def _where(c: float, a: float, b: float) -> float:
    return a if c != 0.0 else b


def _xlogy(x: float, y: float) -> float:
    # x·log(y), and 0 where x = 0 (as scipy.special.xlogy and torch.xlogy): the
    # exponent's partial of a**b is a**b·log(a), whose limit at a = 0, b > 0 is 0.
    return 0.0 if x == 0.0 and y == y else x * math.log(y)


def _cbrt(x: float) -> float:
    return math.copysign(abs(x) ** (1.0 / 3.0), x)


_scalar_cbrt = getattr(math, "cbrt", _cbrt)


# --- why a finite input gave a non-finite output --------------------------------


def _why_log(x: float, *base: float) -> str | None:
    return "log of 0" if x == 0 else "log of a negative number" if x < 0 else None


def _why_div(a: float, b: float) -> str | None:
    return "division by 0" if b == 0 else None


def _why_pow(a: float, b: float) -> str | None:
    if a == 0 and b < 0:
        return "0 to a negative power"
    if a < 0 and b != int(b):
        return "a negative number to a fractional power"
    return None


def _why_pow_partial(a: float, b: float) -> str | None:
    if a == 0 and b == 0:
        return "0**b has no derivative at b = 0 (it jumps from 1 to 0)"
    if a == 0 and 0 < b < 1:
        return "a**b is vertical at a = 0 for 0 < b < 1"
    return None


def _why_xlogy(x: float, y: float) -> str | None:
    if x != 0 and y == 0:
        return "log of 0"
    return "log of a negative number" if y < 0 and x != 0 else None


def _why_outside(lo: float, hi: float, name: str) -> Callable[[float], str | None]:
    def why(x: float) -> str | None:
        return None if lo <= x <= hi else f"{name} of {x!r}, outside [{lo:g}, {hi:g}]"

    return why


# --- the partial rules, written with the graph builder ``g`` ------------------


def _c(value: float) -> Callable[..., int]:
    return lambda g, *args: g.const(value)


def _first_wins(pick_first_when: str) -> tuple[Partial, Partial]:
    """min/max partials: the first argument takes the gradient at a tie.

    ``sign(sign(d) + 1)`` is 1 when d ≥ 0 and 0 when d < 0, so it is a step
    function built from public ops (derivative formulas must parse back).
    """

    def first(g: Any, a: int, b: int, out: int) -> int:
        d = g.sub(a, b) if pick_first_when == "ge" else g.sub(b, a)
        return g.call("sign", g.add(g.call("sign", d), g.const(1.0)))

    def second(g: Any, a: int, b: int, out: int) -> int:
        return g.sub(g.const(1.0), first(g, a, b, out))

    return first, second


def _pow_exponent_partial(g: Any, a: int, b: int, out: int) -> int:
    """∂(a**b)/∂b = a**b·log(a), taken as its limit 0 where a = 0 and b > 0 (SPEC §8):
    ``xlogy`` is 0 where a**b is 0. A positive constant base keeps the textbook
    product (its log is a finite constant, so the two agree everywhere)."""
    base = g.value[a]
    if base is not None and base > 0.0:
        return g.mul(out, g.call("log", a))
    return g.call("xlogy", out, a)


def _inv_sqrt(g: Any, inner: int) -> int:
    return g.div(g.const(1.0), g.call("sqrt", inner))


def _square(g: Any, x: int) -> int:
    return g.pow(x, g.const(2.0))


def _log_base(g: Any, x: int, base: int) -> int:
    """``log(x, b)``: log(x)/log(b)."""
    return g.div(g.call("log", x), g.call("log", base))


def _complex_cbrt(z: complex) -> complex:
    return z ** (1 / 3) if z.real >= 0 else -((-z) ** (1 / 3))


_AT_ZERO = "its input is 0"


def _tie(name: str) -> Kink:
    return Kink(
        f"at a tie adcli sends the whole gradient to {name}'s first argument",
        at=lambda a, b: a == b,
        where="its arguments tie",
    )


# f(x + ih) = f(x) + ih·f'(x) + O(h²) for a function analytic at x, so Im f(x+ih)/h
# is f'(x) with no cancellation (``adcli check --method complex``). Ops that are not
# analytic (sign, relu, min, max) or that cmath lacks (erf, atan2) have none.

_INFIX = [
    Op("add", 2, operator.add, (_c(1.0), _c(1.0)), numpy="add", complex=operator.add,
       symbol="+", precedence=PREC_ADD, glyph="+", inline="{0} + {1}"),
    Op("sub", 2, operator.sub, (_c(1.0), _c(-1.0)), numpy="subtract", complex=operator.sub,
       symbol="-", precedence=PREC_ADD, glyph="−", inline="{0} - {1}"),
    Op("mul", 2, operator.mul, (lambda g, a, b, o: b, lambda g, a, b, o: a), numpy="multiply",
       complex=operator.mul, symbol="*", precedence=PREC_MUL, glyph="×", latex=r"\cdot",
       inline="{0} * {1}"),
    Op("div", 2, operator.truediv,
       (lambda g, a, b, o: g.div(g.const(1.0), b), lambda g, a, b, o: g.neg(g.div(o, b))),
       numpy="divide", complex=operator.truediv, symbol="/", precedence=PREC_MUL, glyph="÷",
       latex=r"\frac{{{0}}}{{{1}}}", inline="{0} / {1}", why=_why_div),
    Op("neg", 1, operator.neg, (_c(-1.0),), numpy="negative", complex=operator.neg,
       symbol="-", precedence=PREC_NEG, glyph="−", inline="-{0}"),
    # x**2 never reaches numpy.power: the evaluator writes it as x*x
    Op("pow", 2, math.pow,
       (lambda g, a, b, o: g.mul(b, g.pow(a, g.sub(b, g.const(1.0)))), _pow_exponent_partial),
       numpy="power", complex=operator.pow, symbol="**", precedence=PREC_POW, glyph="^",
       latex="{{{0!p}}}^{{{1}}}", also=("power",), callable=True, why=_why_pow,
       why_partial=_why_pow_partial, domain=(0.5, 2.0)),
]  # fmt: skip


def _comparison(name: str, symbol: str, test: Callable[[float, float], bool], ufunc: str) -> Op:
    """``a < b`` and its kind: 1.0 or 0.0, derivative 0 (the jump has none)."""
    jump = Kink(
        "adcli takes the derivative 0 there too",
        at=lambda a, b: a == b,
        where="its two sides are equal, where its value jumps",
    )
    return Op(name, 2, lambda a, b: float(test(a, b)), (_c(0.0), _c(0.0)), kernel=ufunc,
              symbol=symbol, precedence=PREC_CMP, glyph=symbol, kink=jump,
              latex={"<=": r"\le", ">=": r"\ge", "!=": r"\ne"}.get(symbol),
              inline=f"float({{0}} {symbol} {{1}})")  # fmt: skip


COMPARISONS = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
_COMPARE = [
    _comparison("lt", "<", operator.lt, "less"),
    _comparison("le", "<=", operator.le, "less_equal"),
    _comparison("gt", ">", operator.gt, "greater"),
    _comparison("ge", ">=", operator.ge, "greater_equal"),
    _comparison("eq", "==", operator.eq, "equal"),
    _comparison("ne", "!=", operator.ne, "not_equal"),
]

_FUNCTIONS = [
    Op("sin", 1, math.sin, (lambda g, x, o: g.call("cos", x),), numpy="sin",
       complex=cmath.sin, latex=r"\sin"),
    Op("cos", 1, math.cos, (lambda g, x, o: g.neg(g.call("sin", x)),), numpy="cos",
       complex=cmath.cos, latex=r"\cos"),
    Op("tan", 1, math.tan, (lambda g, x, o: g.add(g.const(1.0), _square(g, o)),),
       numpy="tan", complex=cmath.tan, latex=r"\tan", also=("tg",), domain=(-1.2, 1.2)),
    Op("asin", 1, math.asin,
       (lambda g, x, o: _inv_sqrt(g, g.sub(g.const(1.0), _square(g, x))),),
       numpy="arcsin", complex=cmath.asin, latex=r"\arcsin", also=("arcsin",),
       why=_why_outside(-1, 1, "asin"), domain=(-0.9, 0.9)),
    Op("acos", 1, math.acos,
       (lambda g, x, o: g.neg(_inv_sqrt(g, g.sub(g.const(1.0), _square(g, x)))),),
       numpy="arccos", complex=cmath.acos, latex=r"\arccos", also=("arccos",),
       why=_why_outside(-1, 1, "acos"), domain=(-0.9, 0.9)),
    Op("atan", 1, math.atan,
       (lambda g, x, o: g.div(g.const(1.0), g.add(g.const(1.0), _square(g, x))),),
       numpy="arctan", complex=cmath.atan, latex=r"\arctan", also=("arctan", "arctg")),
    Op("sinh", 1, math.sinh, (lambda g, x, o: g.call("cosh", x),), numpy="sinh",
       complex=cmath.sinh, latex=r"\sinh", also=("sh",)),
    Op("cosh", 1, math.cosh, (lambda g, x, o: g.call("sinh", x),), numpy="cosh",
       complex=cmath.cosh, latex=r"\cosh", also=("ch",)),
    Op("tanh", 1, math.tanh, (lambda g, x, o: g.sub(g.const(1.0), _square(g, o)),),
       numpy="tanh", complex=cmath.tanh, latex=r"\tanh", also=("th",)),
    Op("asinh", 1, math.asinh,
       (lambda g, x, o: _inv_sqrt(g, g.add(_square(g, x), g.const(1.0))),),
       numpy="arcsinh", complex=cmath.asinh, also=("arsinh",)),
    Op("acosh", 1, math.acosh,
       (lambda g, x, o: _inv_sqrt(g, g.sub(_square(g, x), g.const(1.0))),),
       numpy="arccosh", complex=cmath.acosh, also=("arcosh",),
       why=_why_outside(1, math.inf, "acosh"), domain=(1.1, 4.0)),
    Op("atanh", 1, math.atanh,
       (lambda g, x, o: g.div(g.const(1.0), g.sub(g.const(1.0), _square(g, x))),),
       numpy="arctanh", complex=cmath.atanh, also=("artanh",),
       why=_why_outside(-1, 1, "atanh"), domain=(-0.9, 0.9)),
    Op("exp", 1, math.exp, (lambda g, x, o: o,), numpy="exp", complex=cmath.exp,
       latex=r"\exp"),
    Op("log", 1, math.log, (lambda g, x, o: g.div(g.const(1.0), x),), numpy="log",
       complex=cmath.log, latex=r"\log", also=("ln",), sugar={2: _log_base}, why=_why_log,
       domain=(0.1, 5.0)),
    Op("log2", 1, math.log2,
       (lambda g, x, o: g.div(g.const(1.0), g.mul(x, g.const(math.log(2.0)))),),
       numpy="log2", complex=lambda z: cmath.log(z) / math.log(2.0), also=("lb",),
       why=_why_log, domain=(0.1, 5.0)),
    Op("log10", 1, math.log10,
       (lambda g, x, o: g.div(g.const(1.0), g.mul(x, g.const(math.log(10.0)))),),
       numpy="log10", complex=cmath.log10, also=("lg",), why=_why_log, domain=(0.1, 5.0)),
    Op("log1p", 1, math.log1p,
       (lambda g, x, o: g.div(g.const(1.0), g.add(g.const(1.0), x)),),
       numpy="log1p", complex=lambda z: cmath.log(1.0 + z), why=lambda x: _why_log(1.0 + x),
       domain=(-0.9, 5.0)),
    Op("expm1", 1, math.expm1, (lambda g, x, o: g.call("exp", x),), numpy="expm1",
       complex=lambda z: cmath.exp(z) - 1.0),
    Op("sqrt", 1, math.sqrt, (lambda g, x, o: g.div(g.const(0.5), o),), numpy="sqrt",
       complex=cmath.sqrt, latex=r"\sqrt{{{0}}}",
       why=lambda x: "sqrt of a negative number" if x < 0 else None, domain=(0.1, 5.0)),
    Op("cbrt", 1, _scalar_cbrt,
       (lambda g, x, o: g.div(g.const(1.0), g.mul(g.const(3.0), _square(g, o))),),
       numpy="cbrt", complex=_complex_cbrt, domain=(0.1, 5.0)),
    Op("abs", 1, abs, (lambda g, x, o: g.call("sign", x),), numpy="abs",
       complex=lambda z: z if z.real >= 0 else -z,  # analytic away from 0
       latex=r"\left|{0}\right|", also=("fabs",), kink=Kink("adcli uses abs'(0) = 0")),
    Op("sign", 1, _sign, (_c(0.0),), numpy="sign", also=("sgn",),
       kink=Kink("adcli uses sign' = 0 everywhere"), domain=(0.1, 3.0)),
    # σ' = σ·(1 − σ), the textbook's rule and its digits (σ'(2) = 0.10499358540350662).
    # Where σ rounds to 1 (x > 37) it gives 0 for the true ~1e-17: right in absolute
    # terms only, which is the price of matching the textbook.
    Op("sigmoid", 1, _sigmoid, (lambda g, x, o: g.mul(o, g.sub(g.const(1.0), o)),),
       kernel="sigmoid", complex=lambda z: 1.0 / (1.0 + cmath.exp(-z)), inline=_SIGMOID,
       also=("logistic", "expit"), domain=(-5.0, 5.0)),
    Op("relu", 1, _relu, (lambda g, x, o: g.call("sign", o),), kernel="relu",
       kink=Kink("adcli uses relu'(0) = 0"), domain=(0.1, 3.0)),
    Op("softplus", 1, _softplus, (lambda g, x, o: g.call("sigmoid", x),), kernel="softplus",
       complex=lambda z: cmath.log(1.0 + cmath.exp(z))),
    Op("erf", 1, math.erf,
       (lambda g, x, o: g.mul(g.const(2.0 / math.sqrt(math.pi)),
                              g.call("exp", g.neg(_square(g, x)))),),
       kernel="erf"),
    Op("erfc", 1, math.erfc,
       (lambda g, x, o: g.mul(g.const(-2.0 / math.sqrt(math.pi)),
                              g.call("exp", g.neg(_square(g, x)))),)),
    # one argument: over every element (SPEC §10), as amin/amax
    Op("min", 2, _min, _first_wins("le"), numpy="minimum", kink=_tie("min"),
       sugar={1: lambda g, a: g.call_with("amin", None, a)}),
    Op("max", 2, _max, _first_wins("ge"), numpy="maximum", kink=_tie("max"),
       sugar={1: lambda g, a: g.call_with("amax", None, a)}),
    Op("xlogy", 2, _xlogy, (lambda g, x, y, o: g.call("log", y), lambda g, x, y, o: g.div(x, y)),
       kernel="xlogy", complex=lambda x, y: x * cmath.log(y), why=_why_xlogy,
       domain=(0.5, 3.0)),
    Op("atan2", 2, math.atan2,
       (lambda g, y, x, o: g.div(x, g.add(_square(g, x), _square(g, y))),
        lambda g, y, x, o: g.neg(g.div(y, g.add(_square(g, x), _square(g, y))))),
       numpy="arctan2", domain=(0.5, 3.0)),
    Op("hypot", 2, math.hypot, (lambda g, a, b, o: g.div(a, o), lambda g, a, b, o: g.div(b, o)),
       numpy="hypot", complex=lambda a, b: cmath.sqrt(a * a + b * b), domain=(0.5, 3.0)),
    Op("where", 3, _where,
       (_c(0.0), lambda g, c, a, b, o: g.call("ne", c, g.const(0.0)),
        lambda g, c, a, b, o: g.call("eq", c, g.const(0.0))), kernel="where",
       kink=Kink("adcli takes the derivative in c as 0 there too", at=lambda c, a, b: c == 0.0,
                 where="its condition is 0, where it switches from a to b")),
]  # fmt: skip

# --- arrays (SPEC §10): ops that are not elementwise -----------------------------
#
# Their rows give, instead of partials, a shape rule, a vector-Jacobian product
# (vjp) and a Jacobian-vector product (jvp), written with the graph builder as the
# partials are (so they differentiate again); ``attrs`` is what the op takes besides
# its inputs (an axis: an int, or None for every element), and ``on_numbers`` what it
# is when every input is a number (sum(x) is x, softmax(x) is 1).


def _shape_error(message: str, hint: str | None = None) -> Exception:
    from .errors import ShapeError

    return ShapeError(message, hint)


def shape_text(shape: tuple) -> str:
    """``[128, 64]``, ``[rows, 64]`` (None is the data's rows), ``[]`` for a number."""
    return "[" + ", ".join(_dim(d) for d in shape) + "]"


def _dim(d: int | None) -> str:
    return "rows" if d is None else str(d)


def _axis(shape: tuple, axis: int | None) -> int | None:
    """An axis of ``shape`` counted from 0 (-1 is the last), or a ShapeError."""
    if axis is None:
        return None
    if not -len(shape) <= axis < len(shape):
        raise _shape_error(f"axis {axis} is not an axis of a value of shape {shape_text(shape)}")
    return axis % len(shape)


def _reduced(shapes: list, axis: int | None) -> tuple:
    (shape,) = shapes
    axis = _axis(shape, axis)
    return () if axis is None else shape[:axis] + shape[axis + 1 :]


def _same(shapes: list, attrs: Any) -> tuple:
    return shapes[0]


def _like_second(shapes: list, attrs: Any) -> tuple:
    return shapes[1]


def _constant(value: float) -> Callable[..., int]:
    return lambda g, *args: g.const(value)


def _first(g: Any, a: int, *rest: int) -> int:
    return a


def _integer(g: Any, node: int, what: str, form: str) -> int:
    """The integer constant at ``node`` (an axis, a class count), or a ShapeError."""
    value = g.value[node]
    if value is None or not math.isfinite(value) or value != int(value):
        raise _shape_error(f"{what} must be an integer constant", hint=f"write {form}")
    return int(value)


def _over_axis(name: str) -> Callable[..., int]:
    """``sum(a, k)``: the reduction over axis ``k``, an integer constant."""

    def build(g: Any, a: int, k: int) -> int:
        axis = _integer(g, k, f"the axis of {name}(a, axis)", f"{name}(a, 0) or {name}(a, 1)")
        return g.call_with(name, _axis(g.shape[a], axis), a)

    return build


def _last_axis(name: str) -> Callable[..., int]:
    """``softmax(a)``: over the last axis of an array (every element of a number)."""

    def build(g: Any, a: int) -> int:
        return g.call_with(name, len(g.shape[a]) - 1 if g.shape[a] else None, a)

    return build


def _spread(g: Any, y: int, like: int, axis: int | None) -> int:
    """``y`` (a reduction over ``axis`` of ``like``) spread back over like's shape."""
    return g.call_with("spread", axis, y, like)


def _sum_of(g: Any, nodes: list) -> int | None:
    present = [n for n in nodes if n is not None]
    if not present:
        return None
    total = present[0]
    for n in present[1:]:
        total = g.add(total, n)
    return total


# @: numpy's matmul of vectors and matrices


def _matmul_shape(shapes: list, attrs: Any) -> tuple:
    a, b = shapes
    if not a or not b or len(a) > 2 or len(b) > 2:
        hint = ("a variable is a number unless the data, a given array or a param "
                "declaration makes it an array") if not a or not b else None  # fmt: skip
        raise _shape_error(
            f"@ takes vectors and matrices, not shapes {shape_text(a)} and {shape_text(b)}", hint
        )
    k, k2 = a[-1], b[0] if len(b) == 1 else b[-2]
    if k != k2:
        # transpose(...) is suggested only where it makes the shapes fit
        fits = len(a) == 2 and len(b) == 2 and (a[-1] == b[-1] or a[0] == b[0])
        hint = ": did you mean transpose(...)?" if fits else ""
        raise _shape_error(f"shapes {shape_text(a)} and {shape_text(b)} don't fit for @ "
                           f"({_dim(k)} ≠ {_dim(k2)}){hint}",
                           None if fits else "the left's last axis must match the right's "
                           "first (its rows)")  # fmt: skip
    return a[:-1] + b[1:] if len(b) == 2 else a[:-1]


def _matmul_vjp(g: Any, adj: int, a: int, b: int, out: int, attrs: Any) -> list:
    """∂/∂A = adj @ Bᵀ, ∂/∂B = Aᵀ @ adj, with vectors as numpy's matmul takes them."""
    ra, rb = len(g.shape[a]), len(g.shape[b])
    t = g.transpose
    if ra == 2 and rb == 2:
        return [g.matmul(adj, t(b)), g.matmul(t(a), adj)]
    if ra == 1 and rb == 2:  # out[m] = Σk a[k] B[k, m]
        return [g.matmul(b, adj), g.call("outer", a, adj)]
    if ra == 2 and rb == 1:  # out[n] = Σk A[n, k] b[k]
        return [g.call("outer", adj, b), g.matmul(t(a), adj)]
    return [g.mul(adj, b), g.mul(adj, a)]  # a dot product


def _matmul_jvp(g: Any, t: list, a: int, b: int, out: int, attrs: Any) -> int | None:
    return _sum_of(g, [g.matmul(t[0], b) if t[0] is not None else None,
                       g.matmul(a, t[1]) if t[1] is not None else None])  # fmt: skip


def _outer_jvp(g: Any, t: list, a: int, b: int, out: int, attrs: Any) -> int | None:
    return _sum_of(g, [g.call("outer", t[0], b) if t[0] is not None else None,
                       g.call("outer", a, t[1]) if t[1] is not None else None])  # fmt: skip


# Indexing: a[0], A[:, 1], a[1:3]. The subscripts (attrs) are a tuple with an int or
# a (start, stop, step) tuple per axis, from its first.


def _index_shape(shapes: list, subscripts: tuple) -> tuple:
    (shape,) = shapes
    if len(subscripts) > len(shape):
        raise _shape_error(f"{len(subscripts)} subscripts for a value of shape {shape_text(shape)}")
    out = []
    for k, (d, s) in enumerate(zip(shape, subscripts)):
        if d is None and s != (None, None, None):
            raise _shape_error("the data's rows are taken whole", hint="write [:, ...]")
        if isinstance(s, tuple):
            if s[2] == 0:
                raise _shape_error("a slice's step cannot be 0")
            size = len(range(*slice(*s).indices(d))) if d is not None else None
            if size == 0:
                raise _shape_error(f"the slice {_slice_text(s)} of axis {k} (size {d}) is empty")
            out.append(size)
        elif not -d <= s < d:
            raise _shape_error(f"index {s} is out of range for axis {k} of size {d}")
    return tuple(out) + shape[len(subscripts) :]


def subscripts_text(subscripts: tuple) -> str:
    """``0, 1:3, :``: subscripts as they are written."""
    return ", ".join(_slice_text(s) if isinstance(s, tuple) else str(s) for s in subscripts)


def _slice_text(s: tuple) -> str:
    start, stop, step = ("" if v is None else str(v) for v in s)
    return f"{start}:{stop}" + (f":{step}" if step else "")


def _index_vjp(g: Any, adj: int, a: int, out: int, subscripts: tuple) -> list:
    return [g.call_with("unindex", subscripts, adj, a)]


def _unindex_vjp(g: Any, adj: int, y: int, ref: int, out: int, subscripts: tuple) -> list:
    return [g.call_with("index", subscripts, adj), None]


# Reductions that pick an element: amax/amin (the gradient to the first extreme).


def _extreme(name: str, mask: str) -> Op:
    return Op(name, 1, lambda a: a, (), kernel=name, sugar={2: _over_axis(name)}, rows="axis",
              shape=lambda shapes, axis: _reduced(shapes, axis), on_numbers=_first,
              vjp=lambda g, adj, a, o, axis: [
                  g.mul(_spread(g, adj, a, axis), g.call_with(mask, axis, a))],
              jvp=lambda g, t, a, o, axis: g.call_with(
                  "sum", axis, g.mul(t[0], g.call_with(mask, axis, a))))  # fmt: skip


# Stable forms over an axis: logsumexp, softmax, log_softmax, xent.


def _softmax(g: Any, a: int, axis: int | None) -> int:
    return g.call_with("softmax", axis, a)


def _softmax_vjp(g: Any, adj: int, a: int, s: int, axis: int | None) -> list:
    """s ⊙ (adj − Σ adj⊙s): the Jacobian diag(s) − s sᵀ applied to adj."""
    return [g.mul(s, g.sub(adj, _spread(g, g.call_with("sum", axis, g.mul(adj, s)), s, axis)))]


def _log_softmax_vjp(g: Any, adj: int, a: int, o: int, axis: int | None) -> list:
    total = g.call_with("sum", axis, adj)
    return [g.sub(adj, g.mul(_softmax(g, a, axis), _spread(g, total, a, axis)))]


def _log_softmax_jvp(g: Any, t: list, a: int, o: int, axis: int | None) -> int:
    along = g.call_with("sum", axis, g.mul(t[0], _softmax(g, a, axis)))
    return g.sub(t[0], _spread(g, along, a, axis))


def _xent_shape(shapes: list, attrs: Any) -> tuple:
    z, labels = shapes
    if not z or z[-1] is None or tuple(z[:-1]) != tuple(labels):
        raise _shape_error(
            "xent(logits, labels) takes logits with the classes on a last axis"
            f" and one label per row: not {shape_text(z)} and {shape_text(labels)}"
        )
    return tuple(labels)


def _xent_vjp(g: Any, adj: int, z: int, labels: int, o: int, attrs: Any) -> list:
    """(softmax(z) − one_hot(labels)) per row, times the row's adjoint: one node,
    ``xent_back``, whose kernel makes it in one pass (the step's costliest small part
    as five nodes)."""
    return [g.call("xent_back", z, labels, adj), None]


def _residual(g: Any, z: int, labels: int) -> int:
    """softmax(z) − one_hot(labels), over the classes (the last axis)."""
    last, k = len(g.shape[z]) - 1, g.shape[z][-1]
    return g.sub(_softmax(g, z, last), g.call_with("one_hot", k, labels))


def _xent_back_vjp(g: Any, adj: int, z: int, labels: int, a: int, o: int, attrs: Any) -> list:
    """xent_back = r(z)·a (a spread over the classes), r the residual: its adjoint ct
    reaches z through softmax's vjp of ct·a, and a as Σ ct·r over the classes."""
    last = len(g.shape[z]) - 1
    s = _softmax(g, z, last)
    weighted = g.mul(adj, _spread(g, a, z, last))
    along = g.call_with("sum", last, g.mul(adj, _residual(g, z, labels)))
    return [_softmax_vjp(g, weighted, z, s, last)[0], None, along]


def _xent_back_jvp(g: Any, t: list, z: int, labels: int, a: int, o: int, attrs: Any):
    last = len(g.shape[z]) - 1
    terms = []
    if t[0] is not None:
        s = _softmax(g, z, last)
        terms.append(g.mul(_softmax_vjp(g, t[0], z, s, last)[0], _spread(g, a, z, last)))
    if t[2] is not None:
        terms.append(g.mul(_residual(g, z, labels), _spread(g, t[2], z, last)))
    return _sum_of(g, terms)


def _xent_jvp(g: Any, t: list, z: int, labels: int, o: int, attrs: Any) -> int | None:
    if t[0] is None:
        return None
    last = len(g.shape[z]) - 1
    return g.call_with("sum", last, g.mul(t[0], _residual(g, z, labels)))


def _one_hot(g: Any, labels: int, k: int) -> int:
    classes = _integer(g, k, "the class count of one_hot(labels, k)", "one_hot(labels, 10)")
    if classes < 1:
        raise _shape_error(f"one_hot(labels, k) needs k ≥ 1, not {classes}")
    return g.call_with("one_hot", classes, labels)


_NO_DERIVATIVE = {"vjp": lambda g, adj, *rest: [None] * (len(rest) - 2),
                  "jvp": lambda g, t, *rest: None}  # fmt: skip

_ARRAYS = [
    Op("matmul", 2, operator.matmul, (), numpy="matmul", symbol="@", precedence=PREC_MUL,
       glyph="@", latex=r"\,", shape=_matmul_shape, vjp=_matmul_vjp, jvp=_matmul_jvp,
       rows="left"),
    Op("transpose", 1, lambda a: a, (), numpy="transpose", on_numbers=_first,
       shape=lambda shapes, attrs: tuple(reversed(shapes[0])),
       vjp=lambda g, adj, a, o, attrs: [g.transpose(adj)],
       jvp=lambda g, t, a, o, attrs: g.transpose(t[0])),
    Op("sum", 1, lambda a: a, (), kernel="total", sugar={2: _over_axis("sum")}, rows="axis",
       on_numbers=_first, shape=lambda shapes, axis: _reduced(shapes, axis),
       vjp=lambda g, adj, a, o, axis: [_spread(g, adj, a, axis)],
       jvp=lambda g, t, a, o, axis: g.call_with("sum", axis, t[0])),
    Op("mean", 1, lambda a: a, (), kernel="average", sugar={2: _over_axis("mean")}, rows="axis",
       on_numbers=_first, shape=lambda shapes, axis: _reduced(shapes, axis),
       vjp=lambda g, adj, a, o, axis: [g.div(_spread(g, adj, a, axis),
                                             g.call_with("count", axis, a))],
       jvp=lambda g, t, a, o, axis: g.call_with("mean", axis, t[0])),
    _extreme("amax", "first_max"),
    _extreme("amin", "first_min"),
    Op("logsumexp", 1, lambda a: a, (), kernel="logsumexp", arities=(1, 2), rows="axis",
       sugar={1: _last_axis("logsumexp"), 2: _over_axis("logsumexp")}, on_numbers=_first,
       shape=lambda shapes, axis: _reduced(shapes, axis),
       vjp=lambda g, adj, a, o, axis: [g.mul(_spread(g, adj, a, axis), _softmax(g, a, axis))],
       jvp=lambda g, t, a, o, axis: g.call_with("sum", axis, g.mul(t[0], _softmax(g, a, axis)))),
    Op("softmax", 1, lambda a: 1.0, (), kernel="softmax", arities=(1, 2), rows="axis",
       sugar={1: _last_axis("softmax"), 2: _over_axis("softmax")}, on_numbers=_constant(1.0),
       shape=_same, vjp=lambda g, adj, a, o, axis: _softmax_vjp(g, adj, a, o, axis),
       jvp=lambda g, t, a, o, axis: _softmax_vjp(g, t[0], a, o, axis)[0]),
    Op("log_softmax", 1, lambda a: 0.0, (), kernel="log_softmax", arities=(1, 2), rows="axis",
       sugar={1: _last_axis("log_softmax"), 2: _over_axis("log_softmax")},
       on_numbers=_constant(0.0), shape=_same, vjp=_log_softmax_vjp, jvp=_log_softmax_jvp),
    Op("xent", 2, lambda z, label: 0.0, (), kernel="xent", shape=_xent_shape, vjp=_xent_vjp,
       jvp=_xent_jvp, rows="each"),
    Op("one_hot", 1, lambda label: 1.0, (), kernel="one_hot", arities=(2,), rows="each",
       sugar={2: _one_hot}, shape=lambda shapes, k: (*shapes[0], k), **_NO_DERIVATIVE),
    Op("argmax", 1, lambda a: 0.0, (), kernel="argmax", sugar={2: _over_axis("argmax")},
       rows="axis",
       on_numbers=_constant(0.0), shape=lambda shapes, axis: _reduced(shapes, axis),
       **_NO_DERIVATIVE),
    Op("index", 1, lambda a: a, (), kernel="index", internal=True, shape=_index_shape,
       rows="each",
       vjp=_index_vjp, jvp=lambda g, t, a, o, subscripts: g.call_with("index", subscripts, t[0])),
    # What the transforms make: sums down to a shape, spreads back, counts, masks.
    Op("unindex", 2, lambda y, ref: y, (), kernel="unindex", internal=True, shape=_like_second,
       vjp=_unindex_vjp,
       jvp=lambda g, t, y, ref, o, subscripts: g.call_with("unindex", subscripts, t[0], ref)),
    Op("sum_to", 2, lambda x, ref: x, (), kernel="sum_to", internal=True, on_numbers=_first,
       shape=_like_second,
       vjp=lambda g, adj, x, ref, o, attrs: [_spread(g, adj, x, None), None],
       jvp=lambda g, t, x, ref, o, attrs: g.call("sum_to", t[0], ref)),
    Op("spread", 2, lambda y, ref: y, (), kernel="spread", internal=True, on_numbers=_first,
       shape=_like_second,
       vjp=lambda g, adj, y, ref, o, axis: [
           g.call_with("sum", axis, adj) if axis is not None else g.call("sum_to", adj, y), None],
       jvp=lambda g, t, y, ref, o, axis: _spread(g, t[0], ref, axis)),
    Op("count", 1, lambda a: 1.0, (), kernel="count", internal=True, on_numbers=_constant(1.0),
       shape=lambda shapes, attrs: (), **_NO_DERIVATIVE),
    Op("xent_back", 3, lambda z, label, a: 0.0, (), kernel="xent_back", internal=True,
       shape=lambda shapes, attrs: shapes[0], vjp=_xent_back_vjp, jvp=_xent_back_jvp),
    Op("first_max", 1, lambda a: 1.0, (), kernel="first_max", internal=True,
       on_numbers=_constant(1.0), shape=_same, **_NO_DERIVATIVE),
    Op("first_min", 1, lambda a: 1.0, (), kernel="first_min", internal=True,
       on_numbers=_constant(1.0), shape=_same, **_NO_DERIVATIVE),
    Op("outer", 2, lambda a, b: a * b, (), numpy="outer", internal=True,
       shape=lambda shapes, attrs: (shapes[0][0], shapes[1][0]),
       vjp=lambda g, adj, a, b, o, attrs: [g.matmul(adj, b), g.matmul(g.transpose(adj), a)],
       jvp=_outer_jvp),
]  # fmt: skip


OPS: dict[str, Op] = {op.name: op for op in _INFIX + _COMPARE + _FUNCTIONS + _ARRAYS}

# Functions a user may call by name, with the arities they accept.
FUNCTIONS: dict[str, tuple[int, ...]] = {
    op.name: op.arities
    for op in OPS.values()
    if (op.symbol is None or op.callable) and not op.internal
}

# Names other tools give adcli's functions, for the "did you mean …?" hint.
OTHER_NAMES: dict[str, str] = {alias: op.name for op in OPS.values() for alias in op.also}

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
