"""Codegen: the generated module against the API, value + gradient of the seed f.

Arrays: the `adcli codegen --numpy` module, imported from a temporary file, at 10^6
points against `f.grad(x=array)` (the API's chunked, in-place batch path), medians
in the same run. Target (issue 6): the module ≤ 1.2× the API. One point: the
scalar module's `f(2.0)` against `f.grad(x=2.0)`.

    python benchmarks/codegen.py [--points 1000000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import adcli
from adcli.codegen import python_module

SEED_F = "x*sigmoid(x)/(x**2+1)"


def median_time(fn, repeat: int, number: int = 1) -> float:
    """The median over ``repeat`` runs of the time of one call (``number`` calls a run)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def load(text: str, directory: str, name: str):
    """Import generated module text the way a user would: from a file."""
    path = Path(directory) / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10**6)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    x = np.linspace(-10, 10, args.points)
    f = adcli.compile(SEED_F)
    with tempfile.TemporaryDirectory() as directory:
        arrays = load(python_module(adcli.compile(SEED_F), numpy=True), directory, "seed_np")
        scalar = load(python_module(adcli.compile(SEED_F)), directory, "seed_f")

    value, grad = f.grad(x=x)
    ours_value, (ours_grad,) = arrays.f(x)
    assert np.array_equal(value, ours_value) and np.array_equal(grad["x"], ours_grad)
    assert scalar.f(2.0) == (f.grad(x=2.0)[0], (f.grad(x=2.0)[1]["x"],))

    api = median_time(lambda: f.grad(x=x), args.repeat)
    generated = median_time(lambda: arrays.f(x), args.repeat)
    print(f"| {args.points} points, value + gradient | median | ratio to the API |")
    print("|---|---|---|")
    print(f"| adcli: f.grad(x=array) | {api * 1e3:.1f} ms | 1.00× |")
    print(
        f"| codegen --numpy module: f(array) | {generated * 1e3:.1f} ms | {generated / api:.2f}× |"
    )

    number = 10_000
    api_point = median_time(lambda: f.grad(x=2.0), args.repeat, number)
    generated_point = median_time(lambda: scalar.f(2.0), args.repeat, number)
    print()
    print("| one point, value + gradient | median | ratio to the API |")
    print("|---|---|---|")
    print(f"| adcli: f.grad(x=2.0) | {api_point * 1e6:.2f} µs | 1.00× |")
    ratio = generated_point / api_point
    print(f"| codegen module: f(2.0) | {generated_point * 1e6:.2f} µs | {ratio:.2f}× |")


if __name__ == "__main__":
    main()
