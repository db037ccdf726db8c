"""Gradients checked against oracles that do not share code with adcli.

* sympy differentiates the same formula symbolically and evaluates the result with
  40 significant digits at the exact binary value of the point;
* central differences of adcli's own forward values, Richardson-extrapolated
  (sixth order), check that each partial rule matches its forward function;
* the numpy (array) path is checked against the scalar path point by point;
* the derivative conventions of SPEC §1 are checked at the points where they
  matter, with the expected numbers coming from ``math``/``mpmath``.

sympy and mpmath are test-only dependencies; adcli never imports them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mpmath
import numpy as np
import pytest
import sympy as sp
from conftest import BACKENDS, NUMBER_FUNCTIONS, NUMBER_OPS
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import adcli
from adcli.ops import COMPARISONS, FUNCTIONS, OPS

X, Y = sp.symbols("x y", real=True)
SYMBOLS = {"x": X, "y": Y}

# --- the oracle: adcli names -> sympy -------------------------------------------------


def _log(a, b=None):
    return sp.log(a) if b is None else sp.log(a) / sp.log(b)


SYMPY: dict[str, Callable[..., sp.Expr]] = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh,
    "exp": sp.exp,
    "log": _log,
    "log2": lambda a: sp.log(a) / sp.log(2),
    "log10": lambda a: sp.log(a) / sp.log(10),
    "log1p": lambda a: sp.log(1 + a),
    "expm1": lambda a: sp.exp(a) - 1,
    "sqrt": sp.sqrt,
    "cbrt": lambda a: sp.real_root(a, 3),
    "abs": sp.Abs,
    "sign": sp.sign,
    "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    "relu": lambda a: sp.Max(a, 0),
    "softplus": lambda a: sp.log(1 + sp.exp(a)),
    "erf": sp.erf,
    "erfc": sp.erfc,
    "pow": lambda a, b: a**b,
    "min": sp.Min,
    "max": sp.Max,
    "atan2": sp.atan2,
    "hypot": lambda a, b: sp.sqrt(a**2 + b**2),
    "xlogy": lambda a, b: a * sp.log(b),
    "where": lambda c, a, b: sp.Piecewise((a, sp.Ne(c, 0)), (b, True)),
}  # fmt: skip


# Inside random compositions the arguments of abs, sign, relu, min and max are
# expressions sympy does not know to be real (asin(x) is complex for |x| > 1). It
# cannot differentiate Abs/sign of those, and its assumption queries on them (and
# on Piecewise conditions or sqrt(a**2)) can take minutes. So there these functions
# are opaque sympy functions carrying the textbook derivative away from the kink;
# evaluated at a kink they are nan. A test below checks them, and every other
# rewritten oracle of the random test, against sympy's own functions.


def _nan_at_zero(fn):
    return lambda *t: mpmath.nan if t[0] == 0 else fn(*t)


class _RealFunction(sp.Function):
    def _eval_is_extended_real(self):
        return True


class Real(_RealFunction):
    """The identity, telling sympy that a value is real (asin(u) is, for |u| ≤ 1):
    without it, sympy asks re()/im() of whole subtrees on every tanh, exp, … ."""

    def fdiff(self, argindex=1):
        return sp.S.One


class KStep(_RealFunction):
    """1 for a > 0, 0 for a < 0."""

    def fdiff(self, argindex=1):
        return sp.S.Zero


class KSign(_RealFunction):
    def fdiff(self, argindex=1):
        return sp.S.Zero


class KAbs(_RealFunction):
    def fdiff(self, argindex=1):
        return KSign(self.args[0])


class KRelu(_RealFunction):
    def fdiff(self, argindex=1):
        return KStep(self.args[0])


class KMin(_RealFunction):
    def fdiff(self, argindex=1):
        a, b = self.args
        return KStep(b - a) if argindex == 1 else KStep(a - b)


class KMax(_RealFunction):
    def fdiff(self, argindex=1):
        a, b = self.args
        return KStep(a - b) if argindex == 1 else KStep(b - a)


OPAQUE_MPMATH = {
    "Real": lambda t: t,
    "KStep": _nan_at_zero(lambda t: mpmath.mpf(1 if t > 0 else 0)),
    "KSign": _nan_at_zero(mpmath.sign),
    "KAbs": _nan_at_zero(abs),
    "KRelu": _nan_at_zero(lambda t: max(t, mpmath.mpf(0))),
    "KMin": lambda a, b: mpmath.nan if a == b else min(a, b),
    "KMax": lambda a, b: mpmath.nan if a == b else max(a, b),
}
OPAQUE_FORMS: dict[str, Callable[..., sp.Expr]] = {
    "abs": KAbs, "sign": KSign, "relu": KRelu, "min": KMin, "max": KMax,
}  # fmt: skip
RANDOM_SYMPY = {
    **SYMPY,
    **OPAQUE_FORMS,
    # The generator keeps the arguments of these inside their domains, where
    # atan2(b, a) = atan(b/a) (a ≥ 0.5; sympy's atan2 spends minutes on sign queries
    # about nested constants) and the real cube root is the principal one (a ≥ 0.1).
    "atan2": lambda b, a: sp.atan(b / a),
    "cbrt": lambda a: a ** sp.Rational(1, 3),
}


def _real(fn: Callable[..., sp.Expr]) -> Callable[..., sp.Expr]:
    return lambda *args: Real(fn(*args))


# Real-valued inside their domains, where the generator keeps their arguments.
for _name in ("asin", "acos", "acosh", "atanh", "log", "log2", "log10", "log1p", "sqrt",
              "cbrt", "pow", "hypot"):  # fmt: skip
    RANDOM_SYMPY[_name] = _real(RANDOM_SYMPY[_name])

# The infix/prefix operators: adcli text template and sympy meaning.
OPERATORS: dict[str, tuple[str, Callable[..., sp.Expr]]] = {
    "add": ("({0}) + ({1})", lambda a, b: a + b),
    "sub": ("({0}) - ({1})", lambda a, b: a - b),
    "mul": ("({0}) * ({1})", lambda a, b: a * b),
    "div": ("({0}) / ({1})", lambda a, b: a / b),
    "pow": ("({0}) ** ({1})", lambda a, b: a**b),
    "neg": ("-({0})", lambda a: -a),
    **{
        name: (
            f"({{0}}) {symbol} ({{1}})",
            lambda a, b, symbol=symbol: sp.Piecewise(
                (1, sp.sympify(f"a {symbol} b", locals={"a": a, "b": b})), (0, True)
            ),
        )
        for symbol, name in COMPARISONS.items()
        if symbol not in ("==", "!=")
    },
    "eq": ("({0}) == ({1})", lambda a, b: sp.Piecewise((1, sp.Eq(a, b)), (0, True))),
    "ne": ("({0}) != ({1})", lambda a, b: sp.Piecewise((1, sp.Ne(a, b)), (0, True))),
}


# What sympy's derivatives of Abs/sign/Max/Min/real_root hold, evaluated away from
# their kinks only: at a kink they are nan, which no assertion accepts.
_AWAY_FROM_KINKS = {
    "DiracDelta": lambda t, *k: mpmath.mpf(0) if t != 0 else mpmath.nan,
    "Heaviside": lambda t, *h0: mpmath.mpf(t > 0) if t != 0 else mpmath.nan,
    **OPAQUE_MPMATH,
}


def sym_eval(expr: sp.Expr, point: dict[str, float]) -> float:
    """``expr`` at the exact binary value of ``point``, with 40 significant digits.

    The formula is evaluated by mpmath (sympy's numeric back end) at 40 digits, so
    its own rounding errors are ~1e-40 relative, far below every tolerance here.
    """
    fn = sp.lambdify((X, Y), expr, modules=[_AWAY_FROM_KINKS, "mpmath"])
    with mpmath.workdps(40):
        value = fn(*(mpmath.mpf(point.get(name, 0.0)) for name in ("x", "y")))
        if isinstance(value, mpmath.mpc):
            assert abs(value.imag) <= 1e-30 * max(1, abs(value.real)), (expr, point, value)
            value = value.real
        return float(value)


def close(got: float, ref: float, rel: float) -> bool:
    """|got − ref| ≤ rel·max(1, |ref|): relative for large values, absolute near 0."""
    return math.isfinite(got) and abs(got - ref) <= rel * max(1.0, abs(ref))


def richardson(f: Callable[[float], float], x0: float) -> float:
    """Central differences at h, h/2, h/4, extrapolated twice (error O(h⁶))."""
    h = 2.0**-10 * max(1.0, abs(x0))
    d = []
    for step in (h, h / 2, h / 4):
        plus, minus = x0 + step, x0 - step
        d.append((f(plus) - f(minus)) / (plus - minus))
    r1, r2 = (4 * d[1] - d[0]) / 3, (4 * d[2] - d[1]) / 3
    return (16 * r2 - r1) / 15


def fd_partial(f, point: dict[str, float], name: str) -> float:
    def along(t: float) -> float:
        return f(**{**point, name: t})

    return richardson(along, point[name])


# --- table-driven: every primitive at points inside its domain ------------------------

TS9 = (0.0, 0.07, 0.19, 0.33, 0.5, 0.61, 0.78, 0.93, 1.0)
TS5 = (0.0, 0.21, 0.5, 0.74, 1.0)
KINK_MARGIN = 0.05


def _span(domain: tuple[float, float], ts) -> list[float]:
    lo, hi = domain
    return [lo + (hi - lo) * t for t in ts]


class Case:
    def __init__(self, id, text, sym, points):
        self.id, self.text, self.sym, self.points = id, text, sym, points

    def __repr__(self) -> str:
        return self.id


def _off_kinks(value: float, kinks) -> bool:
    return all(abs(value - k) >= KINK_MARGIN for k in kinks)


def _unary_points(name: str) -> list[dict[str, float]]:
    op = OPS[name]
    return [{"x": v} for v in _span(op.domain, TS9) if _off_kinks(v, op.kinks)]


def _binary_ok(name: str, a: float, b: float) -> bool:
    op = OPS[name]
    if op.kink is not None:
        return _off_kinks(a - b, op.kinks)  # min/max/comparisons: the kink is a == b
    if name == "div":
        return abs(b) >= 0.25  # div's declared domain contains b = 0
    return True


def _binary_points(name: str, fixed: tuple[str, float] | None = None):
    op = OPS[name]
    grid = _span(op.domain, TS5)
    if fixed is None:
        pairs = [(a, b) for a in grid for b in grid]
        return [{"x": a, "y": b} for a, b in pairs if _binary_ok(name, a, b)]
    where, c = fixed
    pairs = [(v, c) if where == "second" else (c, v) for v in _span(op.domain, TS9)]
    return [{"x": v} for (a, b), v in zip(pairs, _span(op.domain, TS9)) if _binary_ok(name, a, b)]


def _const_in(domain: tuple[float, float]) -> float:
    lo, hi = domain
    return round(lo + 0.37 * (hi - lo), 2)


def build_cases() -> list[Case]:
    cases = []
    for name, arities in NUMBER_FUNCTIONS.items():
        sym = SYMPY[name]
        for arity in arities:
            if arity == 1:
                cases.append(Case(f"{name}(x)", f"{name}(x)", sym(X), _unary_points(name)))
                continue
            if name == "log":  # log(x, b) = log(x)/log(b): x in log's domain, b away from 1
                xs = _span(OPS["log"].domain, TS5)
                bs = [b for b in _span(OPS["log"].domain, TS5) if abs(b - 1.0) >= 0.2]
                pts = [{"x": a, "y": b} for a in xs for b in bs]
                cases.append(Case("log(x, y)", "log(x, y)", sym(X, Y), pts))
                cases.append(
                    Case(
                        "log(x, 2.5)",
                        "log(x, 2.5)",
                        sym(X, sp.Rational("2.5")),
                        [{"x": a} for a in _span(OPS["log"].domain, TS9)],
                    )
                )
                cases.append(
                    Case(
                        "log(3.5, x)",
                        "log(3.5, x)",
                        sym(sp.Rational("3.5"), X),
                        [{"x": b} for b in _span(OPS["log"].domain, TS9) if abs(b - 1.0) >= 0.2],
                    )
                )
                continue
            if arity == 3:  # where(c, a, b): each branch taken, and a condition of 0
                pts = [{"x": c, "y": v} for c in (-1.0, 0.5, 2.0) for v in _span((-2, 2), TS5)]
                text = "where(x, x*y, sin(y))"
                cases.append(Case(text, text, sym(X, X * Y, sp.sin(Y)), pts))
                continue
            c = _const_in(OPS[name].domain)
            cs = sp.Rational(repr(c))
            cases.append(Case(f"{name}(x, y)", f"{name}(x, y)", sym(X, Y), _binary_points(name)))
            cases.append(
                Case(
                    f"{name}(x, {c})",
                    f"{name}(x, {c})",
                    sym(X, cs),
                    _binary_points(name, ("second", c)),
                )
            )
            cases.append(
                Case(
                    f"{name}({c}, x)",
                    f"{name}({c}, x)",
                    sym(cs, X),
                    _binary_points(name, ("first", c)),
                )
            )
    for name, (template, sym) in OPERATORS.items():
        if name == "neg":
            cases.append(Case("-x", "-x", -X, _unary_points("neg")))
            continue
        text = template.format("x", "y")
        cases.append(Case(text, text, sym(X, Y), _binary_points(name)))
    # the operators with one constant side, and the spellings of the power
    add_pts = [{"x": v} for v in _span(OPS["add"].domain, TS9)]
    pow_pts = [{"x": v} for v in _span(OPS["pow"].domain, TS9)]
    nonzero = [p for p in add_pts if abs(p["x"]) >= 0.25]
    half = sp.Rational(1, 2)
    cases += [
        Case("x + 1.5", "x + 1.5", X + sp.Rational(3, 2), add_pts),
        Case("2.5 - x", "2.5 - x", sp.Rational(5, 2) - X, add_pts),
        Case("-1.5 * x", "-1.5 * x", -sp.Rational(3, 2) * X, add_pts),
        Case("x / 4", "x / 4", X / 4, add_pts),
        Case("3 / x", "3 / x", 3 / X, nonzero),
        Case("x ^ y", "x ^ y", X**Y, _binary_points("pow")),
        Case("x ** 2", "x ** 2", X**2, add_pts),  # negative x included: constant exponent
        Case("x ** 3", "x ** 3", X**3, add_pts),
        Case("x ** -1", "x ** -1", 1 / X, nonzero),
        Case("x ** 0.5", "x ** 0.5", X**half, pow_pts),
        Case("x ** 2.5", "x ** 2.5", X ** sp.Rational(5, 2), pow_pts),
        Case("2.5 ** x", "2.5 ** x", sp.Rational(5, 2) ** X, add_pts),
        Case("e ** x", "e ** x", sp.E**X, add_pts),
        Case("-x ** 2", "-x ** 2", -(X**2), add_pts),  # unary minus binds looser than **
        Case("2 ** -x", "2 ** -x", 2 ** (-X), add_pts),
        Case("pi * x", "pi * x", sp.pi * X, add_pts),
    ]
    return cases


CASES = build_cases()


def test_every_primitive_has_an_oracle_and_a_case():
    """A new row in the op table without a sympy oracle or a test case fails here."""
    assert set(NUMBER_FUNCTIONS) <= set(SYMPY), sorted(set(NUMBER_FUNCTIONS) - set(SYMPY))
    tested = {c.text.split("(")[0] for c in CASES}
    assert set(NUMBER_FUNCTIONS) <= tested, sorted(set(NUMBER_FUNCTIONS) - tested)
    numbers = set(NUMBER_OPS)
    assert numbers <= set(NUMBER_FUNCTIONS) | set(OPERATORS), sorted(numbers - set(FUNCTIONS))
    for case in CASES:
        assert len(case.points) >= 4, case.id  # the filters left enough points


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_primitive_gradient_matches_sympy_and_differences(case: Case):
    f = adcli.compile(case.text)
    names = f.variables
    assert set(names) == {str(s) for s in case.sym.free_symbols}
    partials = {n: sp.diff(case.sym, SYMBOLS[n]) for n in names}
    failures = []
    for point in case.points:
        value, grad = f.grad(**point)
        ref_value = sym_eval(case.sym, point)
        assert math.isfinite(ref_value), (case.id, point)
        if not close(value, ref_value, 1e-9):
            failures.append(f"value at {point}: adcli {value!r}, sympy {ref_value!r}")
        for n in names:
            ref = sym_eval(partials[n], point)
            assert math.isfinite(ref), (case.id, point, n)
            if not close(grad[n], ref, 1e-9):
                failures.append(f"d/d{n} at {point}: adcli {grad[n]!r}, sympy {ref!r}")
            fd = fd_partial(f, point, n)
            if not close(grad[n], fd, 1e-9):
                failures.append(f"d/d{n} at {point}: adcli {grad[n]!r}, differences {fd!r}")
    assert not failures, f"{case.text}:\n" + "\n".join(failures)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_array_path_matches_scalar_path(case: Case, backend: str):
    f = adcli.compile(case.text, backend=backend)
    names = f.variables
    arrays = {n: np.array([p[n] for p in case.points]) for n in names}
    value, grad = f.grad(**arrays)
    assert np.shape(value) == (len(case.points),)
    scalar = [f.grad(**p) for p in case.points]
    want_value = np.array([v for v, _ in scalar])
    np.testing.assert_allclose(value, want_value, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(f(**arrays), want_value, rtol=1e-13, atol=1e-14)
    for n in names:
        assert np.shape(grad[n]) == (len(case.points),)
        want = np.array([g[n] for _, g in scalar])
        np.testing.assert_allclose(grad[n], want, rtol=1e-13, atol=1e-14, err_msg=n)


@pytest.mark.parametrize("backend", BACKENDS)
def test_array_path_keeps_shapes_and_broadcasts(backend):
    f = adcli.compile("hypot(x, y) * sin(x) + y**2", backend=backend)
    xs = np.linspace(0.5, 2.5, 6).reshape(2, 3)
    y = 1.25
    value, grad = f.grad(x=xs, y=y)
    assert value.shape == (2, 3) and grad["x"].shape == (2, 3) and grad["y"].shape == (2, 3)
    for idx in np.ndindex(xs.shape):
        v, g = f.grad(x=float(xs[idx]), y=y)
        assert value[idx] == pytest.approx(v, rel=1e-13, abs=1e-14)
        assert grad["x"][idx] == pytest.approx(g["x"], rel=1e-13, abs=1e-14)
        assert grad["y"][idx] == pytest.approx(g["y"], rel=1e-13, abs=1e-14)
        x = float(xs[idx])
        r = math.hypot(x, y)
        assert g["y"] == pytest.approx(y / r * math.sin(x) + 2 * y, rel=1e-12)


REWRITTEN = sorted(n for n in RANDOM_SYMPY if RANDOM_SYMPY[n] is not SYMPY[n])


@pytest.mark.parametrize("name", REWRITTEN)
def test_random_oracle_forms_agree_with_the_sympy_functions(name):
    """The random test's rewritten or real-marked functions are sympy's own, in values
    and slopes, wherever the generator lets them be used."""
    arities = NUMBER_FUNCTIONS[name]
    checked = 0
    for arity in arities:
        args = (X,) if arity == 1 else (X, Y)
        mine, theirs = RANDOM_SYMPY[name](*args), SYMPY[name](*args)
        if arity == 1:
            points = _unary_points(name)
            if name in KINKED:  # used on both sides of 0
                points += [{"x": -p["x"]} for p in points if p["x"] != 0]
        elif name == "log":
            points = [{"x": a, "y": b} for a in _span(OPS["log"].domain, TS5)
                      for b in _span((1.5, 4.0), TS5)]  # fmt: skip
        else:
            points = _binary_points(name)
        for at in points:
            assert close(sym_eval(mine, at), sym_eval(theirs, at), 1e-30), (name, at)
            for s in args:
                d_mine, d_theirs = sym_eval(sp.diff(mine, s), at), sym_eval(sp.diff(theirs, s), at)
                assert close(d_mine, d_theirs, 1e-30), (name, at, s)
            checked += 1
    assert checked >= 5


def test_cbrt_is_the_real_cube_root_for_negative_numbers():
    f = adcli.compile("cbrt(x)")
    d = sp.diff(SYMPY["cbrt"](X), X)
    for x in (-4.5, -2.0, -0.3):
        value, grad = f.grad(x=x)
        assert close(value, sym_eval(SYMPY["cbrt"](X), {"x": x}), 1e-12)
        assert close(grad["x"], sym_eval(d, {"x": x}), 1e-12)
        assert close(grad["x"], fd_partial(f, {"x": x}, "x"), 1e-9)


# --- random compositions (hypothesis) -------------------------------------------------


class Node:
    """A generated expression: adcli text, sympy meaning, a float evaluator for filtering.

    ``checks`` are (kind, function of (x, y), lo, hi) constraints that keep every
    sub-expression inside the smooth region of the op it feeds: "in" means
    lo ≤ value ≤ hi, "away" means |value| ≥ lo (a kink or a pole at 0).
    """

    __slots__ = ("text", "sym", "fn", "checks")

    def __init__(self, text, sym, fn, checks=()):
        self.text, self.sym, self.fn, self.checks = text, sym, fn, tuple(checks)


def _safe_sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v > -700 else math.exp(v)


# Float values, only used to keep points inside domains: the table's own scalar
# forms (the independent oracle is sympy's, above). math.log takes log(x, b) too.
FLOAT: dict[str, Callable[..., float]] = {name: op.scalar for name, op in OPS.items()}

# Squashing maps R -> [0, 1]; an argument outside an op's domain is sent into it by
# lo + (hi − lo)·squash(u).
SQUASH = [
    ("sigmoid({})", lambda s: 1 / (1 + sp.exp(-s)), _safe_sigmoid),
    ("(1 + tanh({}))/2", lambda s: (1 + sp.tanh(s)) / 2, lambda v: (1 + math.tanh(v)) / 2),
    ("(1 + sin({}))/2", lambda s: (1 + sp.sin(s)) / 2, lambda v: (1 + math.sin(v)) / 2),
    ("(1 + erf({}))/2", lambda s: (1 + sp.erf(s)) / 2, lambda v: (1 + math.erf(v)) / 2),
    (
        "(0.5 + atan({})/pi)",
        lambda s: sp.Rational(1, 2) + sp.atan(s) / sp.pi,
        lambda v: 0.5 + math.atan(v) / math.pi,
    ),
]

LEAVES = [
    ("0.5", sp.Rational(1, 2), 0.5),
    ("1.25", sp.Rational(5, 4), 1.25),
    ("2", sp.Integer(2), 2.0),
    ("0.75", sp.Rational(3, 4), 0.75),
    ("pi", sp.pi, math.pi),
    ("e", sp.E, math.e),
]

KINKED = {name for name, op in OPS.items() if op.kink and op.arity == 1}
UNARY = sorted(n for n, ar in NUMBER_FUNCTIONS.items() if 1 in ar)
BINARY = sorted(n for n, ar in NUMBER_FUNCTIONS.items() if 2 in ar)
CONST_EXPONENTS = [("2", 2), ("3", 3), ("4", 4), ("-1", -1), ("-2", -2), ("0.5", 0.5),
                   ("1.5", 1.5), ("-0.5", -0.5)]  # fmt: skip


# Values (not slopes) are defined at the kinks too: max(c, c) is c.
_VALUES_AT_KINKS = {
    "Real": lambda t: t, "KSign": mpmath.sign, "KAbs": abs,
    "KRelu": lambda t: max(t, mpmath.mpf(0)), "KMin": min, "KMax": max,
}  # fmt: skip


def _fold(sym: sp.Expr) -> sp.Expr:
    """A subtree without variables becomes its value to 50 digits (sympy otherwise
    spends seconds on assumption queries about nested constant expressions)."""
    if sym.free_symbols or sym.is_Number:
        return sym
    with mpmath.workdps(50):
        value = sp.lambdify((), sym, modules=[_VALUES_AT_KINKS, "mpmath"])()
        assert mpmath.isfinite(value) and not isinstance(value, mpmath.mpc), (sym, value)
        return sp.Float(value, 50)


def _squash(node: Node, lo: float, hi: float, which) -> Node:
    text, sym, fn = which
    span = hi - lo
    inner = node.fn
    return Node(
        f"({lo!r} + {span!r}*{text.format(node.text)})",
        _fold(sp.Rational(repr(lo)) + sp.Rational(repr(span)) * sym(node.sym)),
        lambda x, y: lo + span * fn(inner(x, y)),
        node.checks,
    )


@st.composite
def _into(draw, node: Node, point, domain: tuple[float, float]) -> Node:
    """``node`` itself when it is inside ``domain`` at the point (and hypothesis agrees),
    else ``node`` squashed into the domain."""
    lo, hi = domain
    margin = 0.02 * (hi - lo)
    try:
        v = node.fn(*point)
    except (ArithmeticError, ValueError):
        v = math.nan
    if lo + margin <= v <= hi - margin and draw(st.booleans()):
        return Node(node.text, node.sym, node.fn, node.checks + (("in", node.fn, lo, hi),))
    return _squash(node, lo, hi, draw(st.sampled_from(SQUASH)))


def _away(node: Node, margin: float) -> Node:
    return Node(node.text, node.sym, node.fn, node.checks + (("away", node.fn, margin, 0.0),))


@st.composite
def _nonzero(draw, node: Node, point, lo: float, hi: float) -> Node:
    """A denominator or a base with a negative power: |value| ≥ lo."""
    try:
        v = node.fn(*point)
    except (ArithmeticError, ValueError):
        v = 0.0
    if abs(v) >= lo and draw(st.booleans()):
        return _away(node, lo / 2)
    squashed = _squash(node, lo, hi, draw(st.sampled_from(SQUASH)))
    if draw(st.booleans()):
        inner = squashed.fn
        squashed = Node(
            f"(-{squashed.text})", -squashed.sym, lambda x, y: -inner(x, y), squashed.checks
        )
    return squashed


def _call(name: str, args: list[Node], extra=()) -> Node:
    fns = [a.fn for a in args]
    fl = FLOAT[name]
    return Node(
        f"{name}({', '.join(a.text for a in args)})",
        _fold(RANDOM_SYMPY[name](*(a.sym for a in args))),
        lambda x, y: fl(*(g(x, y) for g in fns)),
        sum((a.checks for a in args), ()) + tuple(extra),
    )


def _operator(name: str, args: list[Node], symbol: str | None = None) -> Node:
    template, sym = OPERATORS[name]
    if symbol is not None:
        template = template.replace("**", symbol)
    fns = [a.fn for a in args]
    float_op = OPS[name].scalar
    if name == "pow":
        sym = _real(sym)
    return Node(
        template.format(*(a.text for a in args)),
        _fold(sym(*(a.sym for a in args))),
        lambda x, y: float_op(*(g(x, y) for g in fns)),
        sum((a.checks for a in args), ()),
    )


@st.composite
def expressions(draw, point, depth: int) -> Node:
    kinds = ["leaf", "unary", "binary", "operator"] if depth > 0 else ["leaf"]
    kind = draw(st.sampled_from(kinds))
    if kind == "leaf":
        if draw(st.integers(0, 2)) < 2:
            name = draw(st.sampled_from(["x", "y"]))
            sym = SYMBOLS[name]
            return Node(name, sym, (lambda x, y: x) if name == "x" else (lambda x, y: y))
        text, sym, value = draw(st.sampled_from(LEAVES))
        return Node(text, sym, lambda x, y: value)
    sub = expressions(point, depth - 1)
    if kind == "unary":
        name = draw(st.sampled_from(UNARY))
        arg = draw(sub)
        if name in KINKED:  # anywhere away from the kink at 0
            try:
                v = arg.fn(*point)
            except (ArithmeticError, ValueError):
                v = 0.0
            if abs(v) < 0.1 or draw(st.integers(0, 3)) == 0:
                arg = _squash(arg, *OPS[name].domain, draw(st.sampled_from(SQUASH)))
            return _call(name, [_away(arg, KINK_MARGIN)])
        return _call(name, [draw(_into(arg, point, OPS[name].domain))])
    if kind == "binary":
        name = draw(st.sampled_from(BINARY))
        a, b = draw(sub), draw(sub)
        if name == "log":
            return _call(
                "log", [draw(_into(a, point, OPS["log"].domain)), draw(_into(b, point, (1.5, 4.0)))]
            )
        a = draw(_into(a, point, OPS[name].domain))
        b = draw(_into(b, point, OPS[name].domain))
        extra = ()
        if name in ("min", "max"):
            fa, fb = a.fn, b.fn
            extra = (("away", lambda x, y: fa(x, y) - fb(x, y), KINK_MARGIN, 0.0),)
        return _call(name, [a, b], extra)
    # arithmetic only: a comparison's value jumps, which differences cannot follow
    name = draw(st.sampled_from(sorted(n for n in OPERATORS if n not in COMPARISONS.values())))
    if name == "neg":
        return _operator("neg", [draw(sub)])
    a = draw(sub)
    if name == "div":
        return _operator("div", [a, draw(_nonzero(draw(sub), point, 0.5, 3.0))])
    if name == "pow":
        symbol = draw(st.sampled_from(["**", "^"]))
        if draw(st.booleans()):  # constant exponent: d/da only
            text, c = draw(st.sampled_from(CONST_EXPONENTS))
            c_sym = sp.Rational(text)
            exponent = Node(text, c_sym, lambda x, y: float(c))
            if isinstance(c, int) and c > 0:
                base = a  # any sign: x**2 at x < 0 is fine
            elif isinstance(c, int):
                base = draw(_nonzero(a, point, 0.5, 2.0))
            else:
                base = draw(_into(a, point, OPS["pow"].domain))
            return _operator("pow", [base, exponent], symbol)
        base = draw(_into(a, point, OPS["pow"].domain))
        exponent = draw(_into(draw(sub), point, OPS["pow"].domain))
        return _operator("pow", [base, exponent], symbol)
    return _operator(name, [a, draw(sub)])


def _stencil(v: float) -> list[float]:
    h = 2.0**-10 * max(1.0, abs(v))
    return [v - h, v + h]


def _smooth_around(node: Node, point: tuple[float, float]) -> bool:
    """Every constraint holds at the point and at the outer points of the stencils."""
    x, y = point
    near = [(x, y)] + [(t, y) for t in _stencil(x)] + [(x, t) for t in _stencil(y)]
    try:
        for kind, fn, lo, hi in node.checks:
            values = [fn(*p) for p in near]
            if kind == "in" and not all(lo <= v <= hi for v in values):
                return False
            if kind == "away":
                if not all(abs(v) >= lo for v in values):
                    return False
                if len({v > 0 for v in values}) != 1:
                    return False
        values = [node.fn(*p) for p in near]
    except (ArithmeticError, ValueError):
        return False
    return all(math.isfinite(v) for v in values)


coordinates = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False)


@st.composite
def random_cases(draw):
    point = (draw(coordinates), draw(coordinates))
    node = draw(expressions(point, draw(st.integers(1, 4))))
    assume(_smooth_around(node, point))
    return node, {"x": point[0], "y": point[1]}


@pytest.mark.slow
@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(random_cases())
def test_random_compositions_match_sympy_differences_and_arrays(case):
    node, point = case
    f = adcli.compile(node.text)
    names = f.variables
    at = {n: point[n] for n in names}
    value, grad = f.grad(**at)
    ref = sym_eval(node.sym, at)
    assert math.isfinite(ref)
    assert close(value, ref, 1e-9), (node.text, at, value, ref)
    for n in names:
        d = sym_eval(sp.diff(node.sym, SYMBOLS[n]), at)
        assert math.isfinite(d)
        assert close(grad[n], d, 1e-9), (node.text, at, n, grad[n], d)
        fd = fd_partial(f, at, n)
        assert close(grad[n], fd, 1e-6), (node.text, at, n, grad[n], fd)
    # the array path at the point and its stencil neighbours, against the scalar path
    if names:
        h = {n: 2.0**-10 * max(1.0, abs(at[n])) for n in names}
        arrays = {n: np.array([at[n], at[n] + h[n], at[n] - h[n]]) for n in names}
        a_value, a_grad = f.grad(**arrays)
        for i in range(3):
            s_value, s_grad = f.grad(**{n: float(arrays[n][i]) for n in names})
            assert abs(a_value[i] - s_value) <= 1e-12 * max(1.0, abs(s_value))
            for n in names:
                assert abs(a_grad[n][i] - s_grad[n]) <= 1e-12 * max(1.0, abs(s_grad[n]))


# --- the conventions of SPEC §1 ----------------------------------------------------------


def _same(a: float, b: float) -> bool:
    """Equal, or within a few ulps (numpy's and math's libm may differ by an ulp)."""
    return a == b or abs(a - b) <= 1e-13 * abs(b)


def _both_paths(text: str, **point: float):
    """The value and gradient at a point by the scalar path, checked against the
    array path at the same point."""
    f = adcli.compile(text)
    value, grad = f.grad(**point)
    a_value, a_grad = f.grad(**{k: np.array([v]) for k, v in point.items()})
    assert _same(float(a_value[0]), value), (text, point, value, a_value)
    for k in grad:
        assert _same(float(a_grad[k][0]), grad[k]), (text, point, k, grad[k], a_grad[k])
    return value, grad


@pytest.mark.parametrize("x", [0.0, -0.0])
def test_abs_derivative_at_zero_is_zero(x):
    value, grad = _both_paths("abs(x)", x=x)
    assert value == 0.0 and grad["x"] == 0.0
    for v in (-2.5, -1e-300, 1e-300, 2.5):
        assert _both_paths("abs(x)", x=v)[1]["x"] == math.copysign(1.0, v)


def test_relu_derivative_at_zero_is_zero():
    assert _both_paths("relu(x)", x=0.0)[1]["x"] == 0.0
    assert _both_paths("relu(x)", x=-0.0)[1]["x"] == 0.0
    assert _both_paths("relu(x)", x=-1.5)[1]["x"] == 0.0
    assert _both_paths("relu(x)", x=1e-300)[1]["x"] == 1.0
    assert _both_paths("relu(x)", x=2.0)[1]["x"] == 1.0
    # through the chain rule: relu(x**2 - 1) at x = 1 sits exactly on the kink
    assert _both_paths("relu(x**2 - 1)", x=1.0)[1]["x"] == 0.0
    assert _both_paths("relu(x**2 - 1)", x=2.0)[1]["x"] == 4.0


@pytest.mark.parametrize("x", [-3.0, -1e-300, -0.0, 0.0, 1e-300, 2.0])
def test_sign_derivative_is_zero(x):
    value, grad = _both_paths("sign(x)", x=x)
    assert value == (0.0 if x == 0 else math.copysign(1.0, x))
    assert grad["x"] == 0.0
    value, grad = _both_paths("sign(x) * x", x=x)  # = |x|, except the convention at 0
    assert grad["x"] == (0.0 if x == 0 else math.copysign(1.0, x))


@pytest.mark.parametrize(
    "text, point, expected",
    [
        ("min(x, y)", {"x": 1.5, "y": 1.5}, {"x": 1.0, "y": 0.0}),
        ("max(x, y)", {"x": 1.5, "y": 1.5}, {"x": 1.0, "y": 0.0}),
        ("min(y, x)", {"x": -0.5, "y": -0.5}, {"x": 0.0, "y": 1.0}),
        ("max(y, x)", {"x": -0.5, "y": -0.5}, {"x": 0.0, "y": 1.0}),
        # same variable on both sides, different slopes: the first side's slope wins
        ("max(2*x, -x)", {"x": 0.0}, {"x": 2.0}),
        ("max(-x, 2*x)", {"x": 0.0}, {"x": -1.0}),
        ("min(3*x, -x)", {"x": 0.0}, {"x": 3.0}),
        ("min(-x, 3*x)", {"x": 0.0}, {"x": -1.0}),
        ("max(x, 0)", {"x": 0.0}, {"x": 1.0}),
        ("max(0, x)", {"x": 0.0}, {"x": 0.0}),
        ("min(x, x)", {"x": 0.7}, {"x": 1.0}),
        # away from a tie the larger/smaller side takes it all
        ("min(x, y)", {"x": 1.0, "y": 2.0}, {"x": 1.0, "y": 0.0}),
        ("min(x, y)", {"x": 2.0, "y": 1.0}, {"x": 0.0, "y": 1.0}),
        ("max(x, y)", {"x": 1.0, "y": 2.0}, {"x": 0.0, "y": 1.0}),
    ],
)
def test_min_max_tie_goes_to_first_argument(text, point, expected):
    _, grad = _both_paths(text, **point)
    assert grad == expected


@pytest.mark.parametrize("x", [-3.0, -1.5, -0.25, -1e-3])
def test_constant_power_of_negative_base_has_finite_gradient(x):
    for text, n in (("x**2", 2), ("x^2", 2), ("pow(x, 2)", 2), ("x**3", 3), ("x**-2", -2)):
        value, grad = _both_paths(text, x=x)
        assert math.isfinite(value) and math.isfinite(grad["x"]), text
        assert value == pytest.approx(x**n, rel=1e-15)
        assert grad["x"] == pytest.approx(n * x ** (n - 1), rel=1e-14), text


@pytest.mark.parametrize("a, b", [(2.0, 3.0), (0.7, -1.3), (1.5, 0.5), (3.0, 2.0), (0.2, 2.7)])
def test_variable_exponent_derivative_is_a_pow_b_log_a(a, b):
    for text in ("x**y", "x^y", "pow(x, y)"):
        value, grad = _both_paths(text, x=a, y=b)
        assert value == pytest.approx(a**b, rel=1e-15)
        assert grad["y"] == pytest.approx(a**b * math.log(a), rel=1e-14), text
        assert grad["x"] == pytest.approx(b * a ** (b - 1), rel=1e-14), text
    value, grad = _both_paths("3**y", y=b)
    assert grad["y"] == pytest.approx(3.0**b * math.log(3.0), rel=1e-14)


def _mp(expr_of_x, x: float) -> float:
    with mpmath.workdps(60):
        return float(expr_of_x(mpmath.mpf(x)))


def _mp_sigmoid(t):
    return 1 / (1 + mpmath.exp(-t))


def _mp_sigmoid_prime(t):
    return mpmath.exp(-t) / (1 + mpmath.exp(-t)) ** 2


def _mp_softplus(t):
    return mpmath.log1p(mpmath.exp(t))


@pytest.mark.parametrize("x", [-800.0, -1e4, 800.0, 1e4])
def test_sigmoid_and_softplus_at_huge_arguments_are_finite(x):
    value, grad = _both_paths("sigmoid(x)", x=x)
    assert math.isfinite(value) and math.isfinite(grad["x"])
    assert 0.0 <= value <= 1.0 and grad["x"] >= 0.0
    assert value == _mp(_mp_sigmoid, x)  # 0.0 and 1.0: the nearest floats
    assert grad["x"] == _mp(_mp_sigmoid_prime, x)  # underflows to 0.0
    value, grad = _both_paths("softplus(x)", x=x)
    assert math.isfinite(value) and math.isfinite(grad["x"])
    assert value == _mp(_mp_softplus, x)  # x itself, or 0.0
    assert grad["x"] == _mp(_mp_sigmoid, x)


SUBNORMAL_ULP = 5e-324


@pytest.mark.parametrize("x", [-744.0, -730.0, -720.0, -710.0, -709.0, -700.0, -40.0, 40.0, 710.0])
@pytest.mark.parametrize("path", ["scalar", "array"])
def test_sigmoid_and_softplus_far_out_are_accurate_on_both_paths(x, path):
    """Near the underflow edge the values match the correctly rounded ones (relative
    1e-13 plus a few subnormal ulps) on the scalar and on the array path alike.

    The gradients are held to the same standard for x ≤ 0, where σ'(x) ≈ σ(x); for
    x > 0 the rule σ·(1 − σ) cancels, so they are only held to an absolute 1e-16.
    """
    checks = [
        ("sigmoid(x)", _mp_sigmoid, _mp_sigmoid_prime),
        ("softplus(x)", _mp_softplus, _mp_sigmoid),
    ]
    for text, fn, prime in checks:
        f = adcli.compile(text)
        if path == "scalar":
            value, grad = f.grad(x=x)
        else:
            v, g = f.grad(x=np.array([x]))
            value, grad = float(v[0]), {"x": float(g["x"][0])}
        want = _mp(fn, x)
        assert abs(value - want) <= 1e-13 * abs(want) + 4 * SUBNORMAL_ULP, (
            f"{text} at x={x} ({path}): adcli {value!r}, correctly rounded {want!r}"
        )
        want = _mp(prime, x)
        tol = 1e-13 * abs(want) + 4 * SUBNORMAL_ULP if x <= 0 else 1e-16
        assert abs(grad["x"] - want) <= tol, (
            f"d/dx {text} at x={x} ({path}): adcli {grad['x']!r}, correctly rounded {want!r}"
        )
