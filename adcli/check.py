"""The AD gradient beside a numerical one, with errors, a verdict and kink notices.

Central differences use a step scaled to |x|; the complex step evaluates
f(x + ih) and reads f'(x) = Im f / h, exact to rounding for analytic functions.
"""

from __future__ import annotations

from collections.abc import Sequence

from .graph import VAR

TOLERANCE = {"central": 1e-6, "complex": 1e-12}  # SPEC §3: |AD − numeric| ≤ tol·max(1, |AD|)
COMPLEX_STEP = 1e-20

# What adcli does where the derivative jumps (SPEC §1).
CONVENTIONS = {
    "abs": "adcli uses abs'(0) = 0",
    "relu": "adcli uses relu'(0) = 0",
    "sign": "adcli uses sign' = 0 everywhere",
    "min": "at a tie adcli sends the whole gradient to min's first argument",
    "max": "at a tie adcli sends the whole gradient to max's first argument",
}


class CheckRow:
    def __init__(self, name: str, ad: float, numeric: float, tol: float) -> None:
        self.name, self.ad, self.numeric = name, ad, numeric
        self.abs_err = abs(ad - numeric)
        self.rel_err = self.abs_err / max(1.0, abs(ad))
        self.ok = self.rel_err <= tol  # False for nan, as it must be


class CheckResult:
    def __init__(self, method: str, tol: float, rows: list[CheckRow], kinks: list[str]) -> None:
        self.method, self.tol, self.rows, self.kinks = method, tol, rows, kinks

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)


def check(expr, point: Sequence[float], method: str, eps: float, tol: float | None) -> CheckResult:
    names = expr.variables
    values = expr.compiled(expr.value_and_grad_nodes()).scalar(*point)
    tol = TOLERANCE[method] if tol is None else tol
    f = expr.compiled(expr.outputs)
    rows = []
    for i, name in enumerate(names):
        x = list(point)
        if method == "central":
            h = eps * max(1.0, abs(point[i]))
            x[i] = point[i] + h
            plus = f.scalar(*x)[0]
            x[i] = point[i] - h
            minus = f.scalar(*x)[0]
            numeric = (plus - minus) / ((point[i] + h) - (point[i] - h))
        else:
            h = COMPLEX_STEP * max(1.0, abs(point[i]))
            z = [complex(v) for v in point]
            z[i] = complex(point[i], h)
            numeric = f.complex_step(*z)[0].imag / h
        rows.append(CheckRow(name, values[1 + i], numeric, tol))
    return CheckResult(method, tol, rows, kinks(expr, point))


def kinks(expr, point: Sequence[float]) -> list[str]:
    """Nodes sitting exactly where their derivative jumps, with adcli's convention."""
    g = expr.graph
    nodes = [n for n in expr.numbers if g.op[n] != VAR]
    values = dict(zip(nodes, expr.compiled(nodes).scalar(*point)))
    values.update(zip(expr.graph.variables.values(), point))

    def value(node: int) -> float:
        return values[node] if node in values else g.value[node]

    notes = []
    for n in nodes:
        op, args = g.op[n], g.args[n]
        if op in ("abs", "relu", "sign") and value(args[0]) == 0.0:
            where = "its input is 0"
        elif op in ("min", "max") and value(args[0]) == value(args[1]):
            where = "its arguments tie"
        else:
            continue
        notes.append(
            f"node #{expr.numbers[n]} {expr.label(n, 40)} is at a kink ({where}): its derivative "
            f"jumps there, so AD and a numerical derivative must differ; {CONVENTIONS[op]}"
        )
    return notes
