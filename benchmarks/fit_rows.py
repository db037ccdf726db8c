"""Fit rows: `adcli fit` of y ~ a*exp(-b*x) + c to a CSV of 10^6 rows, end to end.

The CSV (fixed seed): x uniform in [0, 5], y = 2.5·exp(-1.3x) + 0.4 + N(0, 0.01²),
written with every digit (repr). Each command runs in a fresh process, alternately,
for --rounds rounds; the median wall time is shown:

- `adcli fit "y ~ a*exp(-b*x) + c" --data rows.csv --start a=1,b=1,c=0` (plain output);
- the reference: a Python script that reads the CSV with `np.loadtxt` (numpy's fastest
  reader here) and calls `scipy.optimize.curve_fit` with a hand-written analytic
  Jacobian, and prints the estimates and standard errors — the limit of what a
  careful user writes;
- the same script with curve_fit's default finite-difference Jacobian;
- the floor of both scripts: `python -c "import numpy, scipy.optimize"`;
- `adcli fit ... --backend jax`, when JAX is installed (its ~1.2 s import included).

The estimates of every command are compared with the reference's (relative
difference). Target (the issue): adcli ≤ 1.5× the hand-written script. Then one more
run of adcli under cProfile shows where its time goes: reading the CSV, compiling,
the solver runs and the model calls inside them, the statistics, the output.

    python benchmarks/fit_rows.py [--rows 1000000] [--rounds 3] [--no-profile]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FORMULA = "y ~ a*exp(-b*x) + c"
NAMES = ["a", "b", "c"]  # as the model names them, the order of adcli's plain output
START = "a=1,b=1,c=0"

SCRIPT = """\
import json
import sys

import numpy as np
from scipy.optimize import curve_fit


def model(x, a, b, c):
    return a * np.exp(-b * x) + c


def jacobian(x, a, b, c):
    J = np.empty((x.size, 3))
    np.exp(-b * x, out=J[:, 0])
    np.multiply(J[:, 0], -a * x, out=J[:, 1])
    J[:, 2] = 1.0
    return J


table = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
x, y = table[:, 0], table[:, 1]
jac = jacobian if sys.argv[2] == "analytic" else None
estimates, cov = curve_fit(model, x, y, p0=[1.0, 1.0, 0.0], jac=jac)
print(json.dumps({"estimates": estimates.tolist(), "stderr": np.sqrt(np.diag(cov)).tolist()}))
"""

PROFILE = """\
import cProfile, sys, time
began = time.perf_counter()
from adcli.cli import main
imported = time.perf_counter() - began
profile = cProfile.Profile()
profile.enable()
main(sys.argv[3:])
profile.disable()
profile.dump_stats(sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write(repr(imported))
"""

# (what, file, function): cumulative times in the profile, nested as shown
PHASES = [
    ("import numpy (inside main)", "numpy/__init__.py", "<module>"),
    ("import scipy.optimize (inside Expression.fit)", "scipy/optimize/__init__.py", "<module>"),
    ("reading the CSV: the file's text", "adcli/data.py", "_file_text"),
    ("reading the CSV: the rows (numpy loadtxt and checks)", "adcli/data.py", "_fast"),
    ("FitInput: read the CSV, compile model and target, the target's values", "adcli/datarun.py",
     "__init__"),
    ("Expression.fit: tangents, compile, solve, statistics", "adcli/api.py", "fit"),
    ("· solver runs (fit._solve: lm, trf, lm polish)", "adcli/fit.py", "_solve"),
    ("·· of which trf (SciPy, Python)", "scipy/optimize/_lsq/trf.py", "trf"),
    ("·· of which lm (MINPACK) ×2", "scipy/optimize/_lsq/least_squares.py", "call_minpack"),
    ("·· residuals(x) calls", "adcli/fit.py", "residuals"),
    ("·· jacobian(x) calls", "adcli/fit.py", "jacobian"),
    ("··· of which the model (values + tangents)", "adcli/api.py", "model"),
    ("··· of which np.column_stack", "numpy/lib/_shape_base_impl.py", "column_stack"),
    ("· statistics (fit._statistics)", "adcli/fit.py", "_statistics"),
    ("·· of which import scipy.stats", "scipy/stats/__init__.py", "<module>"),
    ("· SVD calls (SciPy's trf and the statistics)", "scipy/linalg/_decomp_svd.py", "svd"),
    ("output: write_fit", "adcli/fitreport.py", "write_fit"),
]  # fmt: skip


def write_rows(path: Path, rows: int) -> None:
    rng = np.random.default_rng(20240601)
    x = rng.uniform(0.0, 5.0, rows)
    y = 2.5 * np.exp(-1.3 * x) + 0.4 + rng.normal(0.0, 0.01, rows)
    with path.open("w") as f:
        f.write("x,y\n")
        f.writelines(f"{a!r},{b!r}\n" for a, b in zip(x.tolist(), y.tolist()))


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    began = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=cwd)
    return time.perf_counter() - began, out.stdout


def estimates_of(name: str, stdout: str) -> list[float] | None:
    if name.startswith("adcli"):
        return [float(v) for v in stdout.split()]
    if name.startswith("python -c"):
        return None
    return json.loads(stdout)["estimates"]


def cumulative(stats, file: str, function: str) -> float | None:
    """The largest cumulative time of the functions ``function`` defined in ``file``."""
    found = [
        entry[3]
        for (path, _, name), entry in stats.stats.items()
        if name == function and path.replace("\\", "/").endswith(file)
    ]
    return max(found) if found else None


def profile_adcli(adcli_args: list[str], folder: Path) -> None:
    import pstats

    (folder / "adcli_profile.py").write_text(PROFILE)
    command = [sys.executable, "adcli_profile.py", "adcli.prof", "imported.txt", *adcli_args]
    wall, _ = timed(command, folder)
    imported = float((folder / "imported.txt").read_text())
    stats = pstats.Stats(str(folder / "adcli.prof"))
    main = cumulative(stats, "adcli/cli.py", "main") or stats.total_tt
    print()
    print(f"Where adcli's time goes (one run under cProfile: {wall:.2f} s wall, "
          f"main() {main:.2f} s; cProfile slows Python-heavy code)")  # fmt: skip
    print()
    print("| part | time | share of main() |")
    print("|---|---|---|")
    print(f"| import adcli.cli (before main, not profiled) | {imported:.2f} s | |")
    for what, file, function in PHASES:
        t = cumulative(stats, file, function)
        if t is None:
            print(f"| {what} | – | |")
        else:
            print(f"| {what} | {t:.2f} s | {t / main:.0%} |")
    print()
    print("| the 10 largest own times | calls | own time |")
    print("|---|---|---|")
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:10]
    for (path, line, name), (_, calls, own, _, _) in rows:
        where = name if path == "~" else f"{Path(path).name}:{line} {name}"
        print(f"| `{where}` | {calls} | {own:.2f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10**6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    adcli = shutil.which("adcli", path=str(Path(sys.executable).parent)) or shutil.which("adcli")
    if adcli is None:
        sys.exit("adcli is not installed: pip install . first")
    import scipy

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_rows(folder / "rows.csv", args.rows)
        (folder / "fit_numpy.py").write_text(SCRIPT)
        adcli_args = ["fit", FORMULA, "--data", "rows.csv", "--start", START]
        commands = {
            "curve_fit, hand-written Jacobian (reference)": [
                sys.executable, "fit_numpy.py", "rows.csv", "analytic"],
            "curve_fit, finite-difference Jacobian": [
                sys.executable, "fit_numpy.py", "rows.csv", "numeric"],
            "adcli fit (plain output)": [adcli, *adcli_args],
            "adcli fit --backend jax": [adcli, *adcli_args, "--backend", "jax"],
            'python -c "import numpy, scipy.optimize" (the scripts\' floor)': [
                sys.executable, "-c", "import numpy, scipy.optimize"],
        }  # fmt: skip
        if importlib.util.find_spec("jax") is None:
            del commands["adcli fit --backend jax"]
        times: dict[str, list[float]] = {name: [] for name in commands}
        outputs: dict[str, str] = {}
        for _ in range(args.rounds):
            for name, command in commands.items():
                seconds, outputs[name] = timed(command, folder)
                times[name].append(seconds)
        reference_name = next(iter(commands))
        reference = statistics.median(times[reference_name])
        want = np.array(estimates_of(reference_name, outputs[reference_name]))
        print(f"numpy {np.__version__}, scipy {scipy.__version__}, python "
              f"{sys.version.split()[0]}, {args.rows} rows")  # fmt: skip
        print()
        print(
            f"| {args.rows} rows, end to end (median of {args.rounds}) | time "
            "| ratio to the reference | max relative difference of the estimates |"
        )
        print("|---|---|---|---|")
        for name in commands:
            t = statistics.median(times[name])
            got = estimates_of(name, outputs[name])
            diff = (
                "" if got is None else f"{np.max(np.abs(np.array(got) - want) / np.abs(want)):.1e}"
            )
            print(f"| {name} | {t:.2f} s | {t / reference:.2f}× | {diff} |")
        print()
        print(
            "estimates (reference): "
            + ", ".join(f"{n} = {float(v)!r}" for n, v in zip(NAMES, want))
        )
        if not args.no_profile:
            profile_adcli(adcli_args, folder)


if __name__ == "__main__":
    main()
