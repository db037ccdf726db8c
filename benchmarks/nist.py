"""NIST StRD nonlinear regression: adcli's fit vs SciPy's curve_fit vs gnuplot's fit.

Every one of NIST's 27 problems (tests/data/nist) from both certified starts, 54
runs, fitted by:

- adcli: `adcli.compile(model).fit(target, data, start)` in this process (exact
  Jacobian; the time is compile + fit, from the model's text to the estimates);
- SciPy: `scipy.optimize.curve_fit` with its defaults (method 'lm', finite-difference
  Jacobian, ftol = xtol = 1.49e-8), the model the same text evaluated with numpy,
  standard errors √diag(pcov); a RuntimeError or OptimizeWarning is a failed run;
- gnuplot: `fit f(x) 'data' via b1,...` with its defaults (FIT_LIMIT 1e-5, errors
  scaled by √(χ²/ndf), i.e. s²(JᵀJ)⁻¹ as NIST's: checked on a straight line first),
  one process per run, where gnuplot is installed (Debian: gnuplot-nox). Its time is
  the process's wall time; the time of `fit` alone (gnuplot's `time(0.0)`) is also
  shown. Its derivatives are forward differences with a relative step of 1e-3
  (`DELTA` in gnuplot's src/fit.c), so its standard errors have about 3 digits.

Each run's figures are LREs (log relative errors, the number of significant digits
that agree with NIST's certified values, 0 to 15): the worst over the parameters of
the estimates and of the standard errors, and the RSS. A run passes with estimates
≥ 6, standard errors ≥ 4 and RSS ≥ 6 (Lanczos1: 6, 2, 2, as its certified RSS,
1.4e-25, is below what float64 residuals reach) — the floors of tests/test_nist.py.

    python benchmarks/nist.py [--problems Misra1a,MGH09]
"""

from __future__ import annotations

import argparse
import importlib
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy
from scipy.optimize import OptimizeWarning, curve_fit

import adcli

TESTS = Path(__file__).resolve().parents[1] / "tests"
# the model text of tests/nist.py, in numpy: the names its 27 models use
NUMPY = {
    "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "atan": np.arctan,
    "sqrt": np.sqrt, "pi": np.pi, "__builtins__": {},
}  # fmt: skip
FLOORS = {"estimates": 6, "stderr": 4, "rss": 6}
LANCZOS1 = {"estimates": 6, "stderr": 2, "rss": 2}


@dataclass
class Run:
    """One tool's fit of one problem from one start; None where it failed."""

    estimates: list[float] | None = None  # in the problem's order b1 ... bk
    stderr: list[float] | None = None
    rss: float | None = None
    seconds: float = math.nan
    inner: float = math.nan  # the fit alone: adcli without compile, gnuplot without its process
    failure: str = ""
    digits: dict[str, float] = field(default_factory=dict)


def lre(got: float | None, want: float) -> float:
    """-log10 of the relative error, from 0 (or a failure) to 15."""
    if got is None or not math.isfinite(got):
        return 0.0
    error = abs(got - want) / abs(want)
    return 15.0 if error == 0 else max(0.0, min(15.0, -math.log10(error)))


def score(p, run: Run) -> None:
    if run.estimates is None:
        run.digits = {"estimates": 0.0, "stderr": 0.0, "rss": 0.0}
        return
    run.digits = {
        "estimates": min(lre(g, c) for g, c in zip(run.estimates, p.certified)),
        "stderr": min(lre(g, c) for g, c in zip(run.stderr, p.certified_sd)),
        "rss": lre(run.rss, p.rss),
    }


def passes(p, run: Run) -> bool:
    floor = LANCZOS1 if p.name == "Lanczos1" else FLOORS
    return all(run.digits[k] >= floor[k] for k in floor)


def fit_adcli(p, start: list[float]) -> Run:
    data = p.data()
    began = time.perf_counter()
    f = adcli.compile(p.model, shapes={column: (None,) for column in data})
    compiled = time.perf_counter()
    fit = f.fit(p.target(), data, p.values(start))
    done = time.perf_counter()
    estimates, errors = dict(zip(fit.names, fit.estimates)), dict(zip(fit.names, fit.stderr))
    run = Run(seconds=done - began, inner=done - compiled)
    if not fit.converged:
        run.failure = fit.reason
        return run
    run.estimates = [estimates[b] for b in p.params]
    run.stderr = [errors[b] for b in p.params]
    run.rss = fit.rss
    return run


def numpy_model(p):
    """f(xdata, b1, ..., bk) for curve_fit: the model's text evaluated with numpy."""
    columns = list(p.data())
    code = compile(p.model, f"<{p.name}>", "eval")

    def f(xdata, *b):
        bound = dict(zip(p.params, b))
        bound.update(zip(columns, xdata) if len(columns) > 1 else [(columns[0], xdata)])
        return eval(code, NUMPY, bound)

    return f


def fit_curve_fit(p, start: list[float]) -> Run:
    data = p.data()
    xdata = np.vstack(list(data.values())) if len(data) > 1 else data["x"]
    target = p.target()
    began = time.perf_counter()
    f = numpy_model(p)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("error", OptimizeWarning)
            popt, pcov = curve_fit(f, xdata, target, p0=start)
    except (RuntimeError, OptimizeWarning, ValueError) as error:
        message = str(error).split(":")[0].split(".")[0]
        return Run(seconds=time.perf_counter() - began, failure=message)
    seconds = time.perf_counter() - began
    with np.errstate(all="ignore"):
        residual = target - f(xdata, *popt)
        stderr = np.sqrt(np.diag(pcov))
    return Run(list(popt), list(stderr), float(residual @ residual), seconds, seconds)


GNUPLOT = """set fit quiet
set fit nolog
set fit errorvariables
set print "-"
{starts}
f({dummies}) = {model}
t0 = time(0.0)
fit f({fit_dummies}) '{data}' using {using} via {params}
t1 = time(0.0)
print sprintf("{formats} %.17g %.17g", {values}, FIT_WSSR, t1 - t0)
"""


def gnuplot_script(names, start, model, dummies, datafile) -> str:
    k = len(dummies)
    return GNUPLOT.format(
        starts="\n".join(f"{b} = {float(v)!r}" for b, v in zip(names, start)),
        dummies=", ".join(dummies),
        model=model,
        fit_dummies=", ".join(["x", "y"][:k]),  # gnuplot's own dummy names
        data=datafile,
        using=":".join(str(i + 1) for i in range(k + 1)),
        params=", ".join(names),
        formats=" ".join(["%.17g"] * 2 * len(names)),
        values=", ".join([*names, *(f"{b}_err" for b in names)]),
    )


def run_gnuplot(gnuplot: str, script: str, folder: Path) -> tuple[list[float] | None, float, str]:
    """(the printed numbers, the process's wall time, the failure)."""
    path = folder / "fit.gp"
    path.write_text(script)
    began = time.perf_counter()
    out = subprocess.run([gnuplot, str(path)], capture_output=True, text=True, cwd=folder)
    seconds = time.perf_counter() - began
    try:
        numbers = [float(v) for v in out.stdout.split()]
    except ValueError:
        numbers = []
    if numbers and out.returncode == 0:
        return numbers, seconds, ""
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    message = lines[-1].strip() if lines else f"exit {out.returncode}"
    return None, seconds, message.split(": ", 1)[-1]


def fit_gnuplot(gnuplot: str, p, start: list[float], folder: Path) -> Run:
    data = p.data()
    datafile = folder / "data.txt"
    np.savetxt(datafile, np.column_stack([*data.values(), p.target()]), fmt="%.17g")
    script = gnuplot_script(p.params, start, p.model, list(data), datafile.name)
    numbers, seconds, failure = run_gnuplot(gnuplot, script, folder)
    k = len(p.params)
    if numbers is None or len(numbers) != 2 * k + 2:
        return Run(seconds=seconds, failure=failure or "no output")
    return Run(numbers[:k], numbers[k : 2 * k], numbers[2 * k], seconds, numbers[2 * k + 1])


def check_gnuplot_errors(gnuplot: str, folder: Path) -> float:
    """The LRE of gnuplot's a_err, b_err vs s²(XᵀX)⁻¹ on a straight line."""
    rng = np.random.default_rng(7)
    x = np.linspace(0.0, 10.0, 20)
    y = 1.5 + 0.7 * x + rng.normal(0.0, 0.3, x.size)
    X = np.column_stack([np.ones_like(x), x])
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    r = y - X @ beta
    se = np.sqrt(np.diag(r @ r / (x.size - 2) * np.linalg.inv(X.T @ X)))
    np.savetxt(folder / "line.txt", np.column_stack([x, y]), fmt="%.17g")
    numbers, _, failure = run_gnuplot(
        gnuplot, gnuplot_script(["a", "b"], [1.0, 0.1], "a + b*x", ["x"], "line.txt"), folder
    )
    if numbers is None:
        sys.exit(f"gnuplot failed on a straight line: {failure}")
    return min(lre(g, w) for g, w in zip(numbers[2:4], se))


def gnuplot_version(gnuplot: str) -> str:
    out = subprocess.run([gnuplot, "--version"], capture_output=True, text=True)
    return out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", help="comma-separated names (default: all 27)")
    args = parser.parse_args()
    sys.path.insert(0, str(TESTS))
    nist = importlib.import_module("nist")
    names = args.problems.split(",") if args.problems else nist.problems()
    gnuplot = shutil.which("gnuplot")
    tools = ["adcli", "curve_fit", "gnuplot"]
    results: list[tuple[object, int, dict[str, Run | None]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fit_adcli(nist.load("Misra1a"), nist.load("Misra1a").start1)  # imports, caches
        line_digits = check_gnuplot_errors(gnuplot, folder) if gnuplot else None
        for name in names:
            p = nist.load(name)
            for which, start in ((1, p.start1), (2, p.start2)):
                runs: dict[str, Run | None] = {
                    "adcli": fit_adcli(p, start),
                    "curve_fit": fit_curve_fit(p, start),
                    "gnuplot": fit_gnuplot(gnuplot, p, start, folder) if gnuplot else None,
                }
                for run in runs.values():
                    if run is not None:
                        score(p, run)
                results.append((p, which, runs))

    def d(run: Run | None, key: str) -> str:
        if run is None:
            return "–"
        return "fail" if run.estimates is None else f"{run.digits[key]:.1f}"

    print(f"numpy {np.__version__}, scipy {scipy.__version__}, "
          f"{gnuplot_version(gnuplot) if gnuplot else 'gnuplot not installed'}")  # fmt: skip
    if line_digits is not None:
        print(f"gnuplot's _err on a straight line vs s²(XᵀX)⁻¹: LRE {line_digits:.1f}")
    print()
    print("LRE: significant digits that agree with NIST (est/se: the worst parameter)")
    print()
    print("| problem | start | adcli est | se | rss | curve_fit est | se | rss "
          "| gnuplot est | se | rss |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for p, which, runs in results:
        cells = [d(runs[t], k) for t in tools for k in ("estimates", "stderr", "rss")]
        print(f"| {p.name} | {which} | " + " | ".join(cells) + " |")
    print()
    print(f"| tool | passes (of {len(results)}) | estimates LRE ≥ 6 | no result "
          "| median per fit | ratio to adcli | median of the fit alone |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    adcli_median = statistics.median(r["adcli"].seconds for _, _, r in results)
    for tool in tools:
        if results[0][2][tool] is None:
            print(f"| {tool} | not installed | | | | | |")
            continue
        runs = [(p, r[tool]) for p, _, r in results]
        passed = sum(passes(p, run) for p, run in runs)
        estimates = sum(run.digits["estimates"] >= 6 for _, run in runs)
        failed = sum(run.estimates is None for _, run in runs)
        median = statistics.median(run.seconds for _, run in runs)
        inner = [run.inner for _, run in runs if math.isfinite(run.inner)]
        alone = f"{statistics.median(inner) * 1e3:.2f} ms" if inner else ""
        print(f"| {tool} | {passed} | {estimates} | {failed} | {median * 1e3:.2f} ms "
              f"| {median / adcli_median:.2f}× | {alone} |")  # fmt: skip
    print()
    for tool in tools:
        if results[0][2][tool] is None:
            continue
        missed = [f"{p.name}-{w}" for p, w, r in results if not passes(p, r[tool])]
        print(f"- {tool} does not pass: {', '.join(missed) or 'none'}")
        failed = [f"{p.name}-{w} ({r[tool].failure})" for p, w, r in results
                  if r[tool].estimates is None]  # fmt: skip
        if failed:
            print(f"  - no result: {', '.join(failed)}")


if __name__ == "__main__":
    main()
