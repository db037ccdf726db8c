"""diff vs SymPy: the printed derivative's length and the time to get it, through the API.

For each expression of a fixed corpus (the seed f, one row per function of the
language, products and quotients, 5-level compositions, a few in x and y) this
measures, in the same run and as the median of a few repeats:

- adcli: parse + differentiate + simplify + print (`adcli.compile`,
  `derivative_nodes`, `simplified`, `to_program` with automatic CSE), and the
  length of the printed program (the `t1 = ...` statements plus the formulas);
- SymPy `diff`: sympify + diff + str, and the length of `str(diff)`;
- SymPy `simplify`: sympify + diff + simplify + str, and the length of the result.

Lengths and times of an expression in x and y add up its two partial derivatives.
SymPy's symbols are real (so `abs` differentiates to `sign`, not to `re`/`im`
terms); functions it lacks are written out: sigmoid(a) = 1/(1 + exp(-a)),
softplus(a) = log(1 + exp(a)), log1p(a) = log(1 + a), expm1(a) = exp(a) - 1,
log2/log10(a) = log(a, 2/10), cbrt = sympy.cbrt, relu(a) = Max(a, 0),
hypot(a, b) = sqrt(a**2 + b**2). SymPy's cache is cleared before every timed run
and every adcli run compiles afresh (a graph caches its derivatives).

Each printed derivative is checked: adcli's program is compiled back with
`adcli.compile` and evaluated at 3 points, and must agree with SymPy's `diff` and
`simplify` results (evaluated with 30 digits) to 1e-9 relative (1e-12 absolute
near 0); points where SymPy's value is not a finite real number are skipped.
No timing is asserted.

    python benchmarks/diff_vs_sympy.py
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable

import sympy as sp
from sympy.core.cache import clear_cache

import adcli
from adcli.printing import to_program
from adcli.simplify import simplified

X = sp.Symbol("x", real=True)
Y = sp.Symbol("y", real=True)

# adcli's names in SymPy (sympify's own names cover sin … atanh, exp, log, sqrt, erf,
# sign, atan2).
SYMPY_NAMES = {
    "x": X,
    "y": Y,
    "e": sp.E,
    "pi": sp.pi,
    "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    "softplus": lambda a: sp.log(1 + sp.exp(a)),
    "log1p": lambda a: sp.log(1 + a),
    "expm1": lambda a: sp.exp(a) - 1,
    "log2": lambda a: sp.log(a, 2),
    "log10": lambda a: sp.log(a, 10),
    "cbrt": sp.cbrt,
    "abs": sp.Abs,
    "relu": lambda a: sp.Max(a, 0),
    "min": sp.Min,
    "max": sp.Max,
    "pow": sp.Pow,
    "hypot": lambda a, b: sp.sqrt(a**2 + b**2),
}

SEED = "x*sigmoid(x)/(x**2+1)"

# Arguments with some structure, so that each row exercises the chain rule; the
# domains hold at the points below (asin/acos/atanh inside (-1, 1), acosh ≥ 1).
FUNCTIONS = [
    "sin(x**2)",
    "cos(3*x + 1)",
    "tan(x/2)",
    "asin(x/2)",
    "acos(x/3)",
    "atan(x**2)",
    "sinh(2*x)",
    "cosh(x**2)",
    "tanh(3*x)",
    "asinh(x**2)",
    "acosh(x**2 + 1)",
    "atanh(x/2)",
    "exp(-x**2)",
    "log(x**2 + 1)",
    "log2(x**2 + 1)",
    "log10(x**2 + 1)",
    "log1p(x**2)",
    "expm1(2*x)",
    "sqrt(x**2 + 1)",
    "cbrt(x**2 + 1)",
    "abs(x**3 - x)",
    "sign(x)*x**2",
    "sigmoid(2*x)",
    "relu(x**3 - x)",
    "softplus(2*x)",
    "erf(x**2)",
    "pow(x**2 + 1, x)",
    "min(x, x**2)",
    "max(sin(x), cos(x))",
    "atan2(y, x)",
    "hypot(x, y)",
]

PRODUCTS = [
    "sin(x)*cos(x)*exp(-x)",
    "exp(x)*log(1 + x**2)/(1 + x**2)",
    "tanh(x)*sigmoid(x)*softplus(x)",
    "sqrt(1 + x**2)*sigmoid(x)/cosh(x)",
    "atan(x)*erf(x)/(1 + x**2)",
    "log(cosh(x))/sqrt(1 + x**2)",
    "(x**2 - 1)/(x**2 + 1)*exp(x)/(2 + sin(x))",
    "x**3*sin(1/x)",
]

COMPOSITIONS = [
    "sin(exp(tanh(log(1 + x**2))*x))",
    "log(1 + exp(sin(sqrt(1 + x**2)*x)))",
    "tanh(sigmoid(cos(exp(x/3)))*x)",
    "sqrt(1 + atan(sinh(log1p(x**2)))**2)",
    "exp(sin(cos(tanh(x**2 + x))))",
    "cbrt(1 + erf(softplus(sin(x)))**2)",
    "sigmoid(x*tanh(exp(-x**2)*cos(x)))",
    "log(2 + sin(x*exp(cos(sqrt(1 + x**2)))))",
    "atanh(tanh(sin(x*cosh(x/4)))/2)",
]

TWO_VARIABLES = [
    "x*y*exp(-(x**2 + y**2))",
    "softplus(x*y)*sin(x + y)",
    "sigmoid(x*y)/(x**2 + y**2 + 1)",
    "tanh(sin(x*exp(y))*cos(y*log(1 + x**2)))",
]

CORPUS = [SEED, *FUNCTIONS, *PRODUCTS, *COMPOSITIONS, *TWO_VARIABLES]

# Away from 0 and ±1, where abs, sign, relu, min and max have a kink or a tie.
POINTS = [{"x": 0.37, "y": 0.83}, {"x": -0.61, "y": 0.29}, {"x": 1.23, "y": -0.47}]

REPEATS = 5  # at most; a pipeline that already took BUDGET seconds stops at 3 (or 1)
BUDGET = 1.0


def timed(run: Callable[[], object], before: Callable[[], None] = lambda: None):
    """The median time of a few runs of ``run`` (``before`` untimed) and its last result."""
    times: list[float] = []
    result = None
    while len(times) < REPEATS:
        before()
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
        if sum(times) > BUDGET and len(times) in (1, 3):
            break
    return statistics.median(times), result


def adcli_program(text: str) -> tuple[list[str], list[str]]:
    f = adcli.compile(text)
    graph, roots = simplified(f.ir, f.derivative_nodes(list(f.variables), 1))
    return to_program(graph, roots, None)


def sympy_diff(text: str, names: tuple[str, ...], simplify: bool) -> tuple[list[str], list]:
    expr = sp.sympify(text, locals=SYMPY_NAMES)
    derivatives = [sp.diff(expr, SYMPY_NAMES[n]) for n in names]
    if simplify:
        derivatives = [sp.simplify(d) for d in derivatives]
    return [str(d) for d in derivatives], derivatives


def sympy_value(d, point: dict[str, float]) -> float | None:
    """SymPy's value with 30 digits, or None when it is not a finite real number."""
    subs = {SYMPY_NAMES[n]: sp.Float(v, 30) for n, v in point.items()}
    try:
        value = complex(d.evalf(30, subs=subs))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (math.isfinite(value.real) and math.isfinite(value.imag)):
        return None
    if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
        return None
    return value.real


def check(text: str, program: tuple[list[str], list[str]], sympy_results: list[list]) -> int:
    """Compare adcli's printed derivative with SymPy's; the number of values compared."""
    statements, formulas = program
    back = adcli.compile("\n".join([*statements, ", ".join(formulas)]))
    compared = 0
    for point in POINTS:
        values = back(**{v: point[v] for v in back.variables})
        values = values if isinstance(values, tuple) else (values,)
        for derivatives in sympy_results:
            for ours, d in zip(values, derivatives):
                theirs = sympy_value(d, point)
                if theirs is None:
                    continue
                assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12), (
                    f"{text} at {point}: adcli {ours!r}, sympy {theirs!r} ({d})"
                )
                compared += 1
    assert compared, f"{text}: no point where SymPy's derivative is finite"
    return compared


def main() -> None:
    adcli_program(SEED)  # load the grammar's tables once, outside the timings
    sympy_diff(SEED, ("x",), True)
    print(
        "| expression | adcli chars | diff chars | simplify chars "
        "| adcli ms | diff ms | simplify ms | simplify/adcli time |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for text in CORPUS:
        names = adcli.compile(text).variables
        t_adcli, program = timed(lambda text=text: adcli_program(text))
        t_diff, (diff_strs, diffs) = timed(
            lambda text=text, names=names: sympy_diff(text, names, False), clear_cache
        )
        t_simp, (simp_strs, simps) = timed(
            lambda text=text, names=names: sympy_diff(text, names, True), clear_cache
        )
        check(text, program, [diffs, simps])
        n_adcli = sum(map(len, program[0] + program[1]))
        n_diff, n_simp = sum(map(len, diff_strs)), sum(map(len, simp_strs))
        rows.append((n_adcli, n_diff, n_simp, t_adcli, t_diff, t_simp))
        print(
            f"| `{text}` | {n_adcli} | {n_diff} | {n_simp} | {t_adcli * 1e3:.2f} "
            f"| {t_diff * 1e3:.1f} | {t_simp * 1e3:.0f} | {t_simp / t_adcli:.0f}× |",
            flush=True,
        )

    count = len(rows)
    short_simp = sum(r[0] <= r[2] for r in rows)
    short_diff = sum(r[0] <= r[1] for r in rows)
    len_simp = statistics.median(r[0] / r[2] for r in rows)
    len_diff = statistics.median(r[0] / r[1] for r in rows)
    time_simp = statistics.median(r[5] / r[3] for r in rows)
    time_diff = statistics.median(r[4] / r[3] for r in rows)
    print()
    print(
        f"- vs SymPy `simplify(diff(f))`: adcli's formula is no longer on {short_simp} of "
        f"{count} expressions; median length ratio adcli/SymPy {len_simp:.2f}; "
        f"adcli is {time_simp:.0f}× faster (median time ratio)."
    )
    print(
        f"- vs SymPy `diff(f)`: adcli's formula is no longer on {short_diff} of {count} "
        f"expressions; median length ratio adcli/SymPy {len_diff:.2f}; "
        f"adcli is {time_diff:.1f}× faster (median time ratio)."
    )
    print(
        f"- (SymPy {sp.__version__}, Python {sys.version.split()[0]}; "
        "times: parse + differentiate + simplify + print, median of up to 5 runs.)"
    )


if __name__ == "__main__":
    main()
