"""A fit as text (SPEC §9): the estimates with their standard errors, t values and
95 % intervals, then RSS, σ, R² and how the minimiser stopped; plain gives the
estimates on one line (the stop reason on stderr), json one object, csv a row per
parameter, ``--predict`` the data rows with ``fitted`` and ``residual``."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from .numtext import full, json_number

if TYPE_CHECKING:
    from .fit import Fit
    from .render import Output


def write_fit(fit: Fit, output: Output, corr: bool = False) -> None:
    fmt, out, err = output.fmt, output.out, output.err
    if fmt == "plain":
        out.write(" ".join(full(v) for v in fit.estimates) + "\n")
        out.flush()
        err.write(f"reason: {verdict(fit)}\n" + "".join(f"note: {n}\n" for n in fit.notes))
    elif fmt == "csv":
        out.write("parameter,estimate,stderr,t,ci95_low,ci95_high\n")
        for i, name in enumerate(fit.names):
            low, high = fit.ci95[i]
            row = [fit.estimates[i], fit.stderr[i], fit.tvalues[i], low, high]
            out.write(",".join([name, *map(full, row)]) + "\n")
        out.flush()
        err.write(f"reason: {verdict(fit)}\n" + "".join(f"note: {n}\n" for n in fit.notes))
    elif fmt == "json":
        out.write(json.dumps(as_json(fit), ensure_ascii=False) + "\n")
    else:
        _tables(fit, output, corr)


def verdict(fit: Fit) -> str:
    """``converged (value and step)``, or why not."""
    return f"{'converged' if fit.converged else 'not converged'} ({fit.reason})"


def as_json(fit: Fit) -> dict[str, Any]:
    """The fit as SPEC §9's json object; ``--save`` writes it and ``--with @file``
    reads its ``params`` back."""
    names = fit.names
    return {
        "params": dict(zip(names, map(json_number, fit.estimates))),
        "stderr": dict(zip(names, map(json_number, fit.stderr))),
        "t": dict(zip(names, map(json_number, fit.tvalues))),
        "ci95": {n: [json_number(lo), json_number(hi)] for n, (lo, hi) in zip(names, fit.ci95)},
        "cov": [[json_number(v) for v in row] for row in fit.cov],
        "corr": [[json_number(v) for v in row] for row in fit.corr],
        "loss": fit.loss,
        "rss": json_number(fit.rss),
        "deviance": json_number(fit.deviance),
        "accuracy": json_number(fit.accuracy),
        "n": fit.n,
        "dof": fit.dof,
        "sigma": json_number(fit.sigma),
        "r2": json_number(fit.r2),
        "method": fit.method,
        "iterations": fit.iterations,
        "evaluations": fit.evaluations,
        "reason": fit.reason,
        "converged": fit.converged,
        "notes": fit.notes,
    }


def _tables(fit: Fit, output: Output, corr: bool) -> None:
    from .tables import Column

    columns = [Column("parameter", style="cyan"), Column("estimate", True, "bold"),
               Column("std error", True), Column("t value", True),
               Column("95 % interval", True, kind="words")]  # fmt: skip

    def cells(num):
        return [[name, num(v), num(se), num(t), f"{num(lo)} … {num(hi)}"]
                for name, v, se, t, (lo, hi) in
                zip(fit.names, fit.estimates, fit.stderr, fit.tvalues, fit.ci95)]  # fmt: skip

    output.table(columns, cells)
    if corr and len(fit.names) > 1:
        heads = [Column("", style="cyan")] + [Column(n, True) for n in fit.names]
        output.table(heads, lambda num: [[n, *map(num, row)]
                                         for n, row in zip(fit.names, fit.corr)])  # fmt: skip
    if fit.loss == "squares":
        lines = [
            f"residual sum of squares: {full(fit.rss)}",
            f"residual standard error: {_g(fit.sigma)} on {fit.dof} degrees of freedom",
            f"R²: {_g(fit.r2)}",
            f"{fit.method}: {fit.iterations} Jacobians, {fit.evaluations} evaluations; "
            f"{verdict(fit)}",
        ]
    elif fit.loss in ("huber", "absolute"):
        what = "Huber's loss" if fit.loss == "huber" else "the sum of absolute residuals"
        lines = [f"{what}, robust to outliers; residual sum of squares: {full(fit.rss)}",
                 f"{fit.method}: {verdict(fit)}"]  # fmt: skip
    else:
        lines = [f"{fit.loss} likelihood; deviance: {_g(fit.deviance)} on {fit.dof} degrees of "
                 "freedom (intervals: ±1.96 standard errors)"]  # fmt: skip
        if math.isfinite(fit.accuracy):
            lines.append(f"accuracy: {_g(fit.accuracy)}")
        lines.append(f"newton: {fit.iterations} iterations; {verdict(fit)}")
    lines += [f"note: {n}" for n in fit.notes]
    output.say("\n".join(lines))


def _g(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else repr(value)


def write_predictions(columns: dict[str, Any], fit: Fit, output: Output) -> None:
    """The data rows (the columns the fit read) with ``fitted`` and ``residual``."""
    names = [*columns, "fitted", "residual"]
    values = [*columns.values(), fit.fitted, fit.residuals]
    out = output.out
    if output.fmt == "json":
        for i in range(len(fit.fitted)):
            row = {n: json_number(v[i]) for n, v in zip(names, values)}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        separator = " " if output.fmt == "plain" else ","
        out.write(separator.join(names) + "\n")
        for i in range(len(fit.fitted)):
            out.write(separator.join(full(v[i]) for v in values) + "\n")
    out.flush()
