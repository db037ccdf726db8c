"""Batch: value + gradient of the seed f at 10^6 points, through the API.

References measured in the same run: the seed's hand-written numpy forward and
backward pass (naive: one temporary array per line) and JAX's `vmap(grad)` when
JAX is installed. Target (issue 3): adcli ≤ 1.0× the naive numpy pass.

    python benchmarks/batch.py [--points 1000000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import adcli

SEED_F = "x*sigmoid(x)/(x**2+1)"


def seed_numpy(x):
    """Seed 000's forward_pass and backward_pass, on arrays."""
    t1 = 1.0 / (1.0 + np.exp(-x))
    t2 = t1 * x
    b1 = x**2
    b2 = b1 + 1.0
    b3 = 1.0 / b2
    y = t2 * b3
    dt2 = b3
    db3 = t2
    db2 = (-1.0 / b2**2) * db3
    db1 = 1.0 * db2
    dx = 2 * x * db1
    dt1 = x * dt2
    dx += t1 * dt2
    dx += t1 * (1.0 - t1) * dt1
    return y, dx


def best(fn, x, repeat: int) -> float:
    fn(x)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10**6)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    x = np.linspace(-10, 10, args.points)
    f = adcli.compile(SEED_F)

    def ours(x):
        return f.grad(x=x)

    value, grad = ours(x)
    y, dx = seed_numpy(x)
    assert np.allclose(value, y, rtol=1e-13, atol=0) and np.allclose(
        grad["x"], dx, rtol=1e-12, atol=1e-15
    )
    reference = best(seed_numpy, x, args.repeat)
    rows = [("hand-written numpy (seed 000's passes)", reference)]
    rows.append(("adcli: f.grad(x=array)", best(ours, x, args.repeat)))
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        g = jax.jit(jax.vmap(jax.value_and_grad(lambda t: t * jax.nn.sigmoid(t) / (t**2 + 1))))
        xj = jnp.asarray(x)
        rows.append(
            (
                "JAX jit(vmap(value_and_grad))",
                best(lambda v: g(v)[1].block_until_ready(), xj, args.repeat),
            )
        )
    except ImportError:
        rows.append(("JAX", None))
    print(f"| {args.points} points, value + gradient | median | ratio to numpy |")
    print("|---|---|---|")
    for name, t in rows:
        if t is None:
            print(f"| {name} | not installed | |")
        else:
            print(f"| {name} | {t * 1e3:.1f} ms | {t / reference:.2f}× |")


if __name__ == "__main__":
    main()
