"""One point at a time: the value and gradient of the seed f, x*sigmoid(x)/(x**2+1), as a
script's own loop calls it, against straight-line `math` code written by hand.

- straight-line f and f′ in `math` (the reference, 1.0×);
- adcli: `f.value_and_grad()` — the compiled function of floats (target ≤ 2×);
- adcli: `f.grad(x=2.0)` by keyword (target ≤ 4×), and `f.grad(2.0)` by position;
- where installed, in the same run: SymPy `lambdify` of f and f′ with common
  subexpressions shared, JAX `jit(value_and_grad(f))`, PyTorch eager autograd.

Then a Python loop of 10^4 gradient-descent steps (lr 0.1 from 1.33) over each of the
straight-line f′, `value_and_grad()` and `f.grad(x=…)`, and `f.minimize` itself.
Each time is the best of --repeat runs (the machine's noise is one-sided).

    python benchmarks/scalar_call.py [--number 100000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import math
import timeit

import adcli

SEED_F = "x*sigmoid(x)/(x**2+1)"


def straight(x: float) -> tuple[float, tuple[float]]:
    """The seed f and f′ by hand: sigmoid once, the quotient rule."""
    s = 1.0 / (1.0 + math.exp(-x))
    d = x * x + 1.0
    u = x * s
    du = s + x * s * (1.0 - s)
    return u / d, ((du * d - u * 2.0 * x) / (d * d),)


def best(fn, number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def others() -> list[tuple[str, object]]:
    """The other tools' calls at x = 2, where they are installed."""
    found = []
    try:
        import sympy as sp

        x = sp.Symbol("x")
        f = x * (1 / (1 + sp.exp(-x))) / (x**2 + 1)
        lam = sp.lambdify(x, [f, sp.diff(f, x)], modules="math", cse=True)
        found.append((f"SymPy {sp.__version__} lambdify(cse=True) of f, f′", lambda: lam(2.0)))
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        vg = jax.jit(jax.value_and_grad(lambda x: x * jax.nn.sigmoid(x) / (x**2 + 1)))
        point = jnp.float64(2.0)
        vg(point)[1].block_until_ready()
        found.append((f"JAX {jax.__version__} jit(value_and_grad)",
                      lambda: [float(v) for v in vg(point)]))  # fmt: skip
    except ImportError:
        pass
    try:
        import torch

        def torch_grad():
            x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
            y = x * torch.sigmoid(x) / (x**2 + 1)
            y.backward()
            return float(y.detach()), float(x.grad)

        found.append((f"PyTorch {torch.__version__} eager autograd", torch_grad))
    except ImportError:
        pass
    return found


def descend(step, steps: int = 10_000) -> float:
    x = 1.33
    for _ in range(steps):
        x -= 0.1 * step(x)
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    f = adcli.compile(SEED_F)
    value_and_grad = f.value_and_grad()
    assert math.isclose(value_and_grad(2.0)[1][0], straight(2.0)[1][0], rel_tol=1e-13)
    rows = [
        ("straight-line math f and f′ (reference)", lambda: straight(2.0), None),
        ("adcli: f.value_and_grad()(2.0)", lambda: value_and_grad(2.0), "≤ 2×"),
        ("adcli: f.grad(x=2.0)", lambda: f.grad(x=2.0), "≤ 4×"),
        ("adcli: f.grad(2.0)", lambda: f.grad(2.0), None),
        *((name, call, None) for name, call in others()),
    ]
    times = []
    for name, call, target in rows:
        number = args.number if "PyTorch" not in name and "JAX" not in name else args.number // 20
        times.append((name, best(call, number, args.repeat), target))
    reference = times[0][1]
    print("| one point, value + gradient of the seed f | per call | ratio | target |")
    print("|---|---|---|---|")
    for name, seconds, target in times:
        print(f"| {name} | {seconds * 1e6:.3f} µs | {seconds / reference:.2f}× | {target or ''} |")

    loops = [
        ("hand-written loop, straight-line f′ (reference)", lambda: descend(
            lambda x: straight(x)[1][0])),
        ("the same loop over f.value_and_grad()", lambda: descend(
            lambda x: value_and_grad(x)[1][0])),
        ("the same loop over f.grad(x=…)", lambda: descend(lambda x: f.grad(x=x)[1]["x"])),
        ("adcli: f.minimize(1.33, lr=0.1, steps=10000, tol=0)", lambda: f.minimize(
            1.33, lr=0.1, steps=10_000, tol=0.0)),
    ]  # fmt: skip
    results = [(name, best(call, 1, args.repeat)) for name, call in loops]
    print("\n| 10^4 gd steps on the seed f | time | per step | ratio |")
    print("|---|---|---|---|")
    for name, seconds in results:
        print(f"| {name} | {seconds * 1e3:.1f} ms | {seconds / 1e4 * 1e6:.2f} µs | "
              f"{seconds / results[0][1]:.2f}× |")  # fmt: skip


if __name__ == "__main__":
    main()
