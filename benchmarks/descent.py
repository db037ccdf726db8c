"""Descent: 10^4 steps of `gd` on the seed f, against the same loop by hand.

References measured in the same run: seed 000's loop in Python floats with its
hand-derived f′ (the limit for a Python loop), and `jax.grad` in a Python loop
when JAX is installed. Target (issue 4): adcli ≤ 2× the hand-written loop.

    python benchmarks/descent.py [--steps 10000] [--repeat 21]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import adcli

SEED_F = "x*sigmoid(x)/(x**2+1)"


def hand_loop(x: float, steps: int, lr: float = 0.1) -> float:
    exp = math.exp
    for _ in range(steps):
        t1 = 1.0 / (1.0 + exp(-x))
        b2 = x * x + 1.0
        b3 = 1.0 / b2
        dt2 = b3
        db2 = (-1.0 / (b2 * b2)) * (t1 * x)
        dx = 2 * x * db2 + t1 * dt2 + t1 * (1.0 - t1) * (x * dt2)
        x -= lr * dx
    return x


def median_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(fns: list, repeat: int) -> list[float]:
    """The median time of each function, run in turn ``repeat`` times: a busy moment
    of the machine falls on all of them alike."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, found in zip(fns, times):
            start = time.perf_counter()
            fn()
            found.append(time.perf_counter() - start)
    return [statistics.median(found) for found in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10**4)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    f = adcli.compile(SEED_F)
    n = args.steps

    def ours() -> float:
        return f.minimize({"x": 1.0}, lr=0.1, steps=n, tol=0).final.point[0]

    assert ours() == hand_loop(1.0, n) or math.isclose(ours(), hand_loop(1.0, n), rel_tol=1e-12)
    reference, adcli_time = interleaved([lambda: hand_loop(1.0, n), ours], args.repeat)
    rows = [("hand-written Python loop, hand-derived f′", reference)]
    rows.append(("adcli: Expression.minimize (gd)", adcli_time))
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        df = jax.jit(jax.grad(lambda t: t * jax.nn.sigmoid(t) / (t**2 + 1)))

        def with_jax() -> float:
            x = 1.0
            for _ in range(n):
                x -= 0.1 * float(df(x))
            return x

        rows.append(("jax.jit(jax.grad) in a Python loop", median_time(with_jax, 1)))
    except ImportError:
        rows.append(("jax.grad in a Python loop", None))
    print(f"| {n} gd steps on the seed f | median | per step | ratio |")
    print("|---|---|---|---|")
    for name, t in rows:
        if t is None:
            print(f"| {name} | not installed | | |")
        else:
            print(f"| {name} | {t * 1e3:.1f} ms | {t / n * 1e6:.2f} µs | {t / reference:.2f}× |")


if __name__ == "__main__":
    main()
