"""Cold start: `adcli grad EXPR --at 2` on a pipe vs `python -c "import typer, lark"`.

Both are run alternately in fresh processes in the same run; the medians and their
ratio are printed. Target (issue 3): ratio ≤ 1.2.

    python benchmarks/cold_start.py [--runs 30]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    adcli = shutil.which("adcli") or sys.exit("adcli is not on PATH: pip install . first")
    reference = [sys.executable, "-c", "import typer, lark"]
    command = [adcli, "grad", "x*sigmoid(x)/(x**2+1)", "--at", "2"]
    for cmd in (reference, command):  # warm the file cache and lark's grammar cache
        timed(cmd)
    ref, ours = [], []
    for _ in range(args.runs):
        ref.append(timed(reference))
        ours.append(timed(command))
    r, o = statistics.median(ref), statistics.median(ours)
    print("| what | median |")
    print("|---|---|")
    print(f'| python -c "import typer, lark" | {r * 1e3:.1f} ms |')
    print(f"| adcli grad EXPR --at 2 (pipe) | {o * 1e3:.1f} ms |")
    print(f"| ratio | {o / r:.2f}× (target ≤ 1.2×) |")


if __name__ == "__main__":
    main()
