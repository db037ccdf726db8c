"""Batch: value + gradient of the seed f at 10^6 points, through the API.

References measured in the same run: the seed's hand-written numpy forward and
backward pass (naive: one temporary array per line), the same f and f′ tuned by hand
(cache-sized chunks, in place), and, when JAX is installed, a hand-written
`jax.jit(jax.vmap(jax.value_and_grad(f)))`, called as adcli's JAX backend is: on numpy
arrays (in, and back out as views) and on JAX's own arrays. Targets (issue 15): adcli
≤ 0.65× the naive numpy pass; `backend="jax"` ≤ 1.2× the hand-written JAX call with
the same kind of arrays.

    python benchmarks/batch.py [--points 1000000] [--repeat 21] [--jax-rounds 201]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
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


def tuned_numpy(x, chunk: int = 1 << 14):
    """The same f and f′ as a careful numpy user tunes them: chunks that stay in cache,
    every operation in place in buffers made once, the algebra folded by hand
    (f′ = b·(s + x·s·(1 − s)) − 2x·f·b with s = sigmoid(x), b = 1/(x² + 1))."""
    y, dx = np.empty_like(x), np.empty_like(x)
    s_buf, b_buf, t_buf = np.empty(chunk), np.empty(chunk), np.empty(chunk)
    for start in range(0, x.size, chunk):
        xc = x[start : start + chunk]
        m = xc.size
        s, b, t = s_buf[:m], b_buf[:m], t_buf[:m]
        yc, dc = y[start : start + m], dx[start : start + m]
        np.negative(xc, out=s)
        np.exp(s, out=s)
        s += 1.0
        np.reciprocal(s, out=s)
        np.multiply(xc, xc, out=b)
        b += 1.0
        np.reciprocal(b, out=b)
        np.multiply(s, xc, out=yc)
        yc *= b
        np.subtract(1.0, s, out=t)
        t *= s
        t *= xc
        t += s
        t *= b
        np.multiply(xc, yc, out=dc)
        dc *= b
        dc *= 2.0
        np.subtract(t, dc, out=dc)
    return y, dx


def best(fn, x, repeat: int) -> float:
    fn(x)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def jax_rows(x, value, grad, repeat: int) -> list[tuple[str, float | None]]:
    """The hand-written JAX pass beside adcli's JAX backend, on numpy arrays and on
    JAX's own; each adcli row's ratio to its hand-written twin is printed below."""
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(True):
        hand = jax.jit(jax.vmap(jax.value_and_grad(lambda t: t * jax.nn.sigmoid(t) / (t**2 + 1))))
        on_device = jnp.asarray(x)

        def hand_numpy(v):
            return [np.asarray(a) for a in hand(v)]

        def hand_device(v):
            return [a.block_until_ready() for a in hand(v)]

        f = adcli.compile(SEED_F, backend="jax")

        def ours_numpy(v):
            return f.grad(x=v)

        def ours_device(v):
            value, grads = f.grad(x=v)
            return value.block_until_ready(), grads["x"].block_until_ready()

        got_value, got = ours_numpy(x)
        assert np.allclose(got_value, value, rtol=1e-13, atol=0)
        assert np.allclose(got["x"], grad, rtol=1e-11, atol=1e-15)
        # interleaved, so a busy moment of the machine falls on every row alike, and in
        # an order drawn anew each round: which call follows which changes its time
        found: dict[str, list[float]] = {}
        calls = [("hand numpy", hand_numpy, x), ("ours numpy", ours_numpy, x),
                 ("hand device", hand_device, on_device),
                 ("ours device", ours_device, on_device)]  # fmt: skip
        for _, fn, v in calls:
            fn(v)
        order = random.Random(0)
        for _ in range(repeat):
            order.shuffle(calls)
            for name, fn, v in calls:
                start = time.perf_counter()
                fn(v)
                found.setdefault(name, []).append(time.perf_counter() - start)
    t = {name: statistics.median(times) for name, times in found.items()}
    version = jax.__version__
    print(
        f"JAX backend / hand-written JAX: numpy arrays "
        f"{t['ours numpy'] / t['hand numpy']:.2f}× (target ≤ 1.2×), JAX arrays "
        f"{t['ours device'] / t['hand device']:.2f}×\n"
    )
    return [
        (f"JAX {version} jit(vmap(value_and_grad)), numpy in and out", t["hand numpy"]),
        ('adcli backend="jax": f.grad(x=array), numpy in and out', t["ours numpy"]),
        (f"JAX {version} jit(vmap(value_and_grad)), JAX arrays", t["hand device"]),
        ('adcli backend="jax": f.grad(x=array), JAX arrays', t["ours device"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10**6)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument(
        "--jax-rounds",
        type=int,
        default=201,
        help="rounds of the four JAX calls (a few ms each, noisy here)",
    )
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
    ty, tdx = tuned_numpy(x)
    assert np.allclose(ty, y, rtol=1e-13, atol=0) and np.allclose(tdx, dx, rtol=1e-11, atol=1e-15)
    reference = best(seed_numpy, x, args.repeat)
    rows = [("hand-written numpy (seed 000's passes)", reference)]
    rows.append(("tuned numpy: chunks of 2^14 points, in place", best(tuned_numpy, x, args.repeat)))
    rows.append(("adcli: f.grad(x=array)", best(ours, x, args.repeat)))
    if importlib.util.find_spec("jax") is None:
        rows.append(("JAX", None))
    else:
        rows += jax_rows(x, value, grad["x"], args.jax_rounds)
    print(f"| {args.points} points, value + gradient | median | ratio to numpy |")
    print("|---|---|---|")
    for name, t in rows:
        if t is None:
            print(f"| {name} | not installed | |")
        else:
            print(f"| {name} | {t * 1e3:.1f} ms | {t / reference:.2f}× |")


if __name__ == "__main__":
    main()
