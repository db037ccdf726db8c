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
PREC_ADD, PREC_MUL, PREC_NEG, PREC_POW, PREC_ATOM = 1, 2, 3, 4, 5


class Op:
    """One primitive. A plain slotted class: ``@dataclass`` would cost start-up time."""

    __slots__ = (
        "name", "arity", "scalar", "array", "partials", "symbol", "precedence", "latex",
        "domain", "kinks", "why", "why_partial", "inline",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        arity: int,
        scalar: Callable[..., float],
        array: Callable[[Any], Callable[..., Any]],  # numpy module -> f(*args, out=None)
        partials: tuple[Partial, ...],
        symbol: str | None = None,  # infix/prefix operator text, None for a call
        precedence: int = PREC_ATOM,
        latex: str | None = None,
        domain: tuple[float, float] = (-3.0, 3.0),  # where it is smooth, for tests
        kinks: tuple[float, ...] = (),  # where the derivative convention matters
        why: Callable[..., str | None] = lambda *args: None,  # why inf/nan came out
        inline: str | None = None,  # the scalar form as an expression of {0}, {1}
        why_partial: Callable[..., str | None] = lambda *args: None,  # why a partial did
    ) -> None:
        self.name, self.arity, self.scalar, self.array = name, arity, scalar, array
        self.partials, self.symbol, self.precedence = partials, symbol, precedence
        self.latex, self.domain, self.kinks, self.why = latex, domain, kinks, why
        self.why_partial = why_partial
        self.inline = inline  # generated code uses it instead of a call: no call per step

    def __repr__(self) -> str:
        return f"Op({self.name!r}, arity={self.arity})"


def _np(name: str) -> Callable[[Any], Callable[..., Any]]:
    return lambda np: getattr(np, name)


def _kernel(name: str) -> Callable[[Any], Callable[..., Any]]:
    def fetch(np: Any) -> Callable[..., Any]:
        from . import kernels

        return getattr(kernels, name)

    return fetch


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


_INFIX = [
    Op(
        "add",
        2,
        operator.add,
        _np("add"),
        (_c(1.0), _c(1.0)),
        "+",
        PREC_ADD,
        inline="{0} + {1}",
    ),
    Op(
        "sub",
        2,
        operator.sub,
        _np("subtract"),
        (_c(1.0), _c(-1.0)),
        "-",
        PREC_ADD,
        inline="{0} - {1}",
    ),
    Op(
        "mul",
        2,
        operator.mul,
        _np("multiply"),
        (lambda g, a, b, o: b, lambda g, a, b, o: a),
        "*",
        PREC_MUL,
        latex=r"\cdot",
        inline="{0} * {1}",
    ),
    Op(
        "div",
        2,
        operator.truediv,
        _np("divide"),
        (
            lambda g, a, b, o: g.div(g.const(1.0), b),
            lambda g, a, b, o: g.neg(g.div(o, b)),
        ),
        "/",
        PREC_MUL,
        why=_why_div,
        inline="{0} / {1}",
    ),
    Op("neg", 1, operator.neg, _np("negative"), (_c(-1.0),), "-", PREC_NEG, inline="-{0}"),
    Op(
        "pow",
        2,
        math.pow,
        _np("power"),  # x**2 never gets here: the evaluator writes it as x*x
        (
            lambda g, a, b, o: g.mul(b, g.pow(a, g.sub(b, g.const(1.0)))),
            _pow_exponent_partial,
        ),
        "**",
        PREC_POW,
        domain=(0.5, 2.0),
        why=_why_pow,
        why_partial=_why_pow_partial,
    ),
]

_FUNCTIONS = [
    Op("sin", 1, math.sin, _np("sin"), (lambda g, x, o: g.call("cos", x),)),
    Op("cos", 1, math.cos, _np("cos"), (lambda g, x, o: g.neg(g.call("sin", x)),)),
    Op(
        "tan",
        1,
        math.tan,
        _np("tan"),
        (lambda g, x, o: g.add(g.const(1.0), _square(g, o)),),
        domain=(-1.2, 1.2),
    ),
    Op(
        "asin",
        1,
        math.asin,
        _np("arcsin"),
        (lambda g, x, o: _inv_sqrt(g, g.sub(g.const(1.0), _square(g, x))),),
        domain=(-0.9, 0.9),
        why=_why_outside(-1, 1, "asin"),
    ),
    Op(
        "acos",
        1,
        math.acos,
        _np("arccos"),
        (lambda g, x, o: g.neg(_inv_sqrt(g, g.sub(g.const(1.0), _square(g, x)))),),
        domain=(-0.9, 0.9),
        why=_why_outside(-1, 1, "acos"),
    ),
    Op(
        "atan",
        1,
        math.atan,
        _np("arctan"),
        (lambda g, x, o: g.div(g.const(1.0), g.add(g.const(1.0), _square(g, x))),),
    ),
    Op("sinh", 1, math.sinh, _np("sinh"), (lambda g, x, o: g.call("cosh", x),)),
    Op("cosh", 1, math.cosh, _np("cosh"), (lambda g, x, o: g.call("sinh", x),)),
    Op(
        "tanh",
        1,
        math.tanh,
        _np("tanh"),
        (lambda g, x, o: g.sub(g.const(1.0), _square(g, o)),),
    ),
    Op(
        "asinh",
        1,
        math.asinh,
        _np("arcsinh"),
        (lambda g, x, o: _inv_sqrt(g, g.add(_square(g, x), g.const(1.0))),),
    ),
    Op(
        "acosh",
        1,
        math.acosh,
        _np("arccosh"),
        (lambda g, x, o: _inv_sqrt(g, g.sub(_square(g, x), g.const(1.0))),),
        domain=(1.1, 4.0),
        why=_why_outside(1, math.inf, "acosh"),
    ),
    Op(
        "atanh",
        1,
        math.atanh,
        _np("arctanh"),
        (lambda g, x, o: g.div(g.const(1.0), g.sub(g.const(1.0), _square(g, x))),),
        domain=(-0.9, 0.9),
        why=_why_outside(-1, 1, "atanh"),
    ),
    Op("exp", 1, math.exp, _np("exp"), (lambda g, x, o: o,), latex=r"\exp"),
    Op(
        "log",
        1,
        math.log,
        _np("log"),
        (lambda g, x, o: g.div(g.const(1.0), x),),
        domain=(0.1, 5.0),
        why=_why_log,
        latex=r"\log",
    ),
    Op(
        "log2",
        1,
        math.log2,
        _np("log2"),
        (lambda g, x, o: g.div(g.const(1.0), g.mul(x, g.const(math.log(2.0)))),),
        domain=(0.1, 5.0),
        why=_why_log,
    ),
    Op(
        "log10",
        1,
        math.log10,
        _np("log10"),
        (lambda g, x, o: g.div(g.const(1.0), g.mul(x, g.const(math.log(10.0)))),),
        domain=(0.1, 5.0),
        why=_why_log,
    ),
    Op(
        "log1p",
        1,
        math.log1p,
        _np("log1p"),
        (lambda g, x, o: g.div(g.const(1.0), g.add(g.const(1.0), x)),),
        domain=(-0.9, 5.0),
        why=lambda x: _why_log(1.0 + x),
    ),
    Op("expm1", 1, math.expm1, _np("expm1"), (lambda g, x, o: g.call("exp", x),)),
    Op(
        "sqrt",
        1,
        math.sqrt,
        _np("sqrt"),
        (lambda g, x, o: g.div(g.const(0.5), o),),
        domain=(0.1, 5.0),
        why=lambda x: "sqrt of a negative number" if x < 0 else None,
        latex=r"\sqrt",
    ),
    Op(
        "cbrt",
        1,
        _scalar_cbrt,
        _np("cbrt"),
        (lambda g, x, o: g.div(g.const(1.0), g.mul(g.const(3.0), _square(g, o))),),
        domain=(0.1, 5.0),
    ),
    Op("abs", 1, abs, _np("abs"), (lambda g, x, o: g.call("sign", x),), kinks=(0.0,)),
    Op("sign", 1, _sign, _np("sign"), (_c(0.0),), domain=(0.1, 3.0), kinks=(0.0,)),
    Op(
        "sigmoid",
        1,
        _sigmoid,
        _kernel("sigmoid"),
        # σ' = σ·(1 − σ), the textbook's rule and its digits (σ'(2) = 0.10499358540350662).
        # Where σ rounds to 1 (x > 37) it gives 0 for the true ~1e-17: right in
        # absolute terms only, which is the price of matching the textbook.
        (lambda g, x, o: g.mul(o, g.sub(g.const(1.0), o)),),
        domain=(-5.0, 5.0),
        inline=_SIGMOID,
    ),
    Op(
        "relu",
        1,
        _relu,
        _kernel("relu"),
        (lambda g, x, o: g.call("sign", o),),
        domain=(0.1, 3.0),
        kinks=(0.0,),
    ),
    Op(
        "softplus",
        1,
        _softplus,
        _kernel("softplus"),
        (lambda g, x, o: g.call("sigmoid", x),),
    ),
    Op(
        "erf",
        1,
        math.erf,
        _kernel("erf"),
        (
            lambda g, x, o: g.mul(
                g.const(2.0 / math.sqrt(math.pi)), g.call("exp", g.neg(_square(g, x)))
            ),
        ),
    ),
    Op("min", 2, _min, _np("minimum"), _first_wins("le"), domain=(-3.0, 3.0), kinks=(0.0,)),
    Op("max", 2, _max, _np("maximum"), _first_wins("ge"), domain=(-3.0, 3.0), kinks=(0.0,)),
    Op(
        "xlogy",
        2,
        _xlogy,
        _kernel("xlogy"),
        (lambda g, x, y, o: g.call("log", y), lambda g, x, y, o: g.div(x, y)),
        domain=(0.5, 3.0),
        why=_why_xlogy,
    ),
    Op(
        "atan2",
        2,
        math.atan2,
        _np("arctan2"),
        (
            lambda g, y, x, o: g.div(x, g.add(_square(g, x), _square(g, y))),
            lambda g, y, x, o: g.neg(g.div(y, g.add(_square(g, x), _square(g, y)))),
        ),
        domain=(0.5, 3.0),
    ),
    Op(
        "hypot",
        2,
        math.hypot,
        _np("hypot"),
        (lambda g, a, b, o: g.div(a, o), lambda g, a, b, o: g.div(b, o)),
        domain=(0.5, 3.0),
    ),
]

OPS: dict[str, Op] = {op.name: op for op in _INFIX + _FUNCTIONS}

# Functions a user may call by name, with the arities they accept. ``pow`` is the
# call form of ``**``; ``log(x, b)`` is sugar for log(x)/log(b).
FUNCTIONS: dict[str, tuple[int, ...]] = {op.name: (op.arity,) for op in _FUNCTIONS}
FUNCTIONS["pow"] = (2,)
FUNCTIONS["log"] = (1, 2)

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

# --- complex-step extensions (``adcli check --method complex``) -----------------
# f(x + ih) = f(x) + ih·f'(x) + O(h²) for a function analytic at x, so Im f(x+ih)/h
# is f'(x) with no cancellation. Ops that are not analytic (sign, relu, min, max)
# or that cmath lacks (erf, atan2) have no entry, and the check says so.


def _complex_cbrt(z: complex) -> complex:
    return z ** (1 / 3) if z.real >= 0 else -((-z) ** (1 / 3))


COMPLEX: dict[str, Callable[..., complex]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "div": operator.truediv, "neg": operator.neg, "pow": operator.pow,
    "sin": cmath.sin, "cos": cmath.cos, "tan": cmath.tan,
    "asin": cmath.asin, "acos": cmath.acos, "atan": cmath.atan,
    "sinh": cmath.sinh, "cosh": cmath.cosh, "tanh": cmath.tanh,
    "asinh": cmath.asinh, "acosh": cmath.acosh, "atanh": cmath.atanh,
    "exp": cmath.exp, "log": cmath.log, "log10": cmath.log10,
    "log2": lambda z: cmath.log(z) / math.log(2.0),
    "log1p": lambda z: cmath.log(1.0 + z),
    "expm1": lambda z: cmath.exp(z) - 1.0,
    "sqrt": cmath.sqrt, "cbrt": _complex_cbrt,
    "abs": lambda z: z if z.real >= 0 else -z,  # analytic away from 0
    "sigmoid": lambda z: 1.0 / (1.0 + cmath.exp(-z)),
    "softplus": lambda z: cmath.log(1.0 + cmath.exp(z)),
    "hypot": lambda a, b: cmath.sqrt(a * a + b * b),
    "xlogy": lambda x, y: x * cmath.log(y),
}  # fmt: skip
