"""Train step: one SGD step of seed 003's 784-512-10 network on a batch of 128 rows.

The step is forward, backward and an in-place update of every param (lr 0.1) on
128 rows of random data (X normal, labels 0..9, fixed seeds), in float64:

- adcli as `Expression.train` runs it: `f.train(..., batch_size=128, shuffle=False,
  steps=N)` over N (with the call's own costs spread over its steps: copies of
  the start values, the evaluations on every row besides the steps' — `--profile`
  counts them), and the bare step `compiled.whole` + train's update rule
  `x -= lr * g`, so the loop's cost shows;
- the limit: the same math by hand in numpy (stable logsumexp, backward by hand,
  update `g *= lr; x -= g`): the reference of the ratios;
- PyTorch eager (`F.cross_entropy`, `backward()`, `p.add_(p.grad, alpha=-lr)`
  under no_grad) and JAX (`jit` of value_and_grad plus the update, params
  donated), each only where installed. They are not adcli's dependencies:

      .venv/bin/pip install torch==2.13.0   # the CPU wheel
      .venv/bin/pip install jax jaxlib      # 0.10.2, CPU

Every implementation gives the same loss and gradients at the first step (checked
to 1e-10 in relative norm) and its loss as a Python float each step. Times are
per step: the median over rounds, each round running every implementation for a
block of N steps in turn, so drift of the machine hits them alike. Page faults
(minor, per step) and CPU/wall show allocation churn and the threads in use.

Threads: one for every library (OMP/OPENBLAS/MKL_NUM_THREADS, torch's
set_num_threads, single-threaded Eigen in XLA), set before any loads. Another
count comes from the environment (`OMP_NUM_THREADS=2 python ...`), but several
thread pools in one process on 2 cores fight each other (spinning OpenBLAS and
OpenMP workers), which measures the fight rather than the step.
Target (issue 12): adcli ≤ 1.3× the numpy step and ≤ 1.2× PyTorch eager.
`--profile` prints, instead, where adcli's step spends its time (each node of
the generated source, the loop's parts), in a process no other library touched.

    python benchmarks/train_step.py [--rounds 15] [--steps 50] [--profile]
"""

from __future__ import annotations

import os

THREADS = os.environ.setdefault("OMP_NUM_THREADS", "1")
for _name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, THREADS)
if THREADS == "1":
    os.environ.setdefault(
        "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )

import argparse  # noqa: E402 - the thread counts above must come first
import importlib.util  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import adcli  # noqa: E402

NET = """param W1 = glorot(784, 512)
param b1 = zeros(512)
param W2 = glorot(512, 10)
param b2 = zeros(10)
mean(xent(relu(X @ W1 + b1) @ W2 + b2, label))"""
SHAPES = {"X": (None, 784), "label": (None,)}
NAMES = ["W1", "b1", "W2", "b2"]
LR = 0.1


def numpy_value_and_grad(W1, b1, W2, b2, X, label):
    """The loss and ∂loss/∂(W1, b1, W2, b2), forward and backward by hand."""
    n = len(X)
    h = X @ W1
    h += b1
    np.maximum(h, 0.0, out=h)  # relu
    z = h @ W2
    z += b2
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - z[rows, label]))  # logsumexp - z[label]
    dz = e / s  # softmax ...
    dz[rows, label] -= 1.0  # ... minus one_hot
    dz /= n
    dh = dz @ W2.T
    dh *= h > 0
    return loss, [X.T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0)]


def implementations(f, start, X, label):
    """name -> (first, block): the loss and gradients at the start values, and
    ``block(n)`` running n steps from the implementation's own current values."""
    found = {}
    params = [start[n].copy() for n in NAMES]

    def numpy_block(n):
        for _ in range(n):
            loss, grads = numpy_value_and_grad(*params, X, label)
            for p, g in zip(params, grads):
                g *= LR
                p -= g

    def numpy_first():
        return numpy_value_and_grad(*start.values(), X, label)

    found["numpy by hand (the limit)"] = (numpy_first, numpy_block)
    compiled = f.compiled(f.value_and_grad_nodes(NAMES))
    data = {"X": X, "label": label.astype(np.float64)}  # adcli's values are floats
    ours = {n: start[n].copy() for n in NAMES}
    args = [ours[n] if n in ours else data[n] for n in f.variables]
    first_args = [start[n] if n in start else data[n] for n in f.variables]

    def whole_block(n):
        for _ in range(n):
            loss, *grads = compiled.whole(*args)
            for name, g in zip(NAMES, grads):
                ours[name] -= LR * g  # train's update rule for gd, in place

    def adcli_first():
        loss, *grads = compiled.whole(*first_args)
        return loss, grads

    found["adcli: compiled.whole + update"] = (adcli_first, whole_block)

    def train_block(n):
        # as `minimize --data` runs it: a step's gradient norm only for the trace's rows
        run = f.train(data, batch_size=128, shuffle=False, steps=n, lr=LR, method="gd",
                      norm_at=lambda k: k % 20 == 0)  # fmt: skip
        assert run.reason == "max-steps", run.reason

    def train_first():
        run = f.train(data, batch_size=128, shuffle=False, steps=1, lr=LR, method="gd")
        loss, grads = numpy_value_and_grad(*start.values(), X, label)
        after = [start[n] - LR * g for n, g in zip(NAMES, grads)]  # one step by hand
        for name, want in zip(NAMES, after):
            assert close(run.params[name], want), f"f.train's {name} after one step"
        return run.losses[0], grads

    found["adcli: f.train, per step"] = (train_first, train_block)
    found.update(jax_backend(start, data))
    found.update(torch_implementation(start, X, label))
    found.update(jax_implementation(start, X, label))
    return found


def jax_backend(start, data):
    """``f.train`` on adcli's JAX backend (where JAX is installed): each step's value
    and gradient one jitted XLA program, the update in numpy as on the default one."""
    name = 'adcli backend="jax": f.train, per step'
    if importlib.util.find_spec("jax") is None:
        return {name: None}
    f = adcli.compile(NET, shapes=SHAPES, backend="jax")

    def block(n):
        run = f.train(data, batch_size=128, shuffle=False, steps=n, lr=LR, method="gd",
                      norm_at=lambda k: k % 20 == 0)  # fmt: skip
        assert run.reason == "max-steps", run.reason

    def first():
        compiled = f.compiled(f.value_and_grad_nodes(NAMES))
        loss, *grads = compiled.whole(*(start[n] if n in start else data[n] for n in f.variables))
        return loss, grads

    return {name: (first, block)}


def torch_implementation(start, X, label):
    name = "PyTorch eager"
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return {name: None}
    torch.set_num_threads(int(THREADS))
    torch.set_default_dtype(torch.float64)
    params = [torch.tensor(start[n], requires_grad=True) for n in NAMES]
    tX, tlabel = torch.from_numpy(X), torch.from_numpy(label)

    def loss_and_backward(W1, b1, W2, b2):
        loss = F.cross_entropy(torch.relu(tX @ W1 + b1) @ W2 + b2, tlabel)
        loss.backward()
        return loss.item()

    def first():
        fresh = [torch.tensor(start[n], requires_grad=True) for n in NAMES]
        return loss_and_backward(*fresh), [p.grad.numpy() for p in fresh]

    def block(n):
        for _ in range(n):
            loss_and_backward(*params)
            with torch.no_grad():
                for p in params:
                    p.add_(p.grad, alpha=-LR)
                    p.grad = None

    return {f"{name} {torch.__version__}": (first, block)}


def jax_implementation(start, X, label):
    name = "JAX jit(value_and_grad + update)"
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {name: None}
    jax.config.update("jax_enable_x64", True)

    def loss_fn(params, X, label):
        W1, b1, W2, b2 = params
        z = jax.nn.relu(X @ W1 + b1) @ W2 + b2
        picked = jnp.take_along_axis(z, label[:, None], axis=1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(z, axis=1) - picked)

    value_and_grad = jax.jit(jax.value_and_grad(loss_fn))

    def update(params, X, label):
        loss, grads = jax.value_and_grad(loss_fn)(params, X, label)
        return loss, [p - LR * g for p, g in zip(params, grads)]

    step = jax.jit(update, donate_argnums=0)
    jX, jlabel = jnp.asarray(X), jnp.asarray(label)
    state = [[jnp.asarray(start[n]) for n in NAMES]]

    def first():
        loss, grads = value_and_grad([jnp.asarray(start[n]) for n in NAMES], jX, jlabel)
        return float(loss), [np.asarray(g) for g in grads]

    def block(n):
        for _ in range(n):
            loss, state[0] = step(state[0], jX, jlabel)
            float(loss)

    return {f"JAX {jax.__version__} jit(value_and_grad + update)": (first, block)}


def close(a, b, rtol=1e-10) -> bool:
    """Equal to ``rtol`` in relative norm (elementwise, summation order would matter)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.linalg.norm(a - b) <= rtol * max(np.linalg.norm(b), 1e-300)


def products(X, W1) -> list[tuple[str, float]]:
    """The median time of the step's two large matrix products, per BLAS at hand."""
    dh = np.ones((len(X), W1.shape[1]))
    found = [("numpy", per_call(lambda: (X @ W1, X.T @ dh))[0])]
    try:
        import torch
    except ImportError:
        return found
    tX, tW1, tdh = torch.from_numpy(X), torch.from_numpy(W1), torch.from_numpy(dh)
    found.append(("PyTorch", per_call(lambda: (tX @ tW1, tX.T @ tdh))[0]))
    return found


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(blocks: dict, rounds: int, steps: int) -> dict[str, tuple[float, float, float]]:
    """name -> (median seconds per step, minor page faults per step, CPU/wall)."""
    for block in blocks.values():  # warm-up: compile, JIT, caches
        block(steps)
    times = {name: [] for name in blocks}
    counts = dict.fromkeys(blocks, 0)
    cpu = dict.fromkeys(blocks, 0.0)
    wall = dict.fromkeys(blocks, 0.0)
    for _ in range(rounds):
        for name, block in blocks.items():
            f0, c0, t0 = faults(), time.process_time(), time.perf_counter()
            block(steps)
            elapsed = time.perf_counter() - t0
            cpu[name] += time.process_time() - c0
            counts[name] += faults() - f0
            wall[name] += elapsed
            times[name].append(elapsed / steps)
    return {
        n: (statistics.median(times[n]), counts[n] / (rounds * steps), cpu[n] / wall[n])
        for n in blocks
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--steps",
        type=int,
        default=200,
        help="steps per block (N), a short training run: f.train's costs per call (its "
        "start, two evaluations on every row) spread over N steps as in a run",
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--loop", choices=LOOPS, help=argparse.SUPPRESS)  # --profile's helper
    args = parser.parse_args()
    rng = np.random.default_rng(12)
    X = rng.standard_normal((128, 784))
    label = rng.integers(0, 10, 128)
    f = adcli.compile(NET, shapes=SHAPES)
    start = {n: f.start_values(seed=0)[n] for n in NAMES}
    if args.loop:
        return loop(f, start, X, label, args.loop)
    if args.profile:  # alone in its process: no other library has touched the heap
        return profile(f, start, X, label, args.steps)
    found = implementations(f, start, X, label)
    want_loss, want_grads = numpy_value_and_grad(*start.values(), X, label)
    for name, impl in found.items():
        if impl is not None:
            loss, grads = impl[0]()
            assert close(loss, want_loss), f"{name}: loss {loss} != {want_loss}"
            for n, g, w in zip(NAMES, grads, want_grads):
                assert close(g, w), f"{name}: ∂loss/∂{n} differs from numpy's"
    results = measure({n: impl[1] for n, impl in found.items() if impl}, args.rounds, args.steps)
    reference = results["numpy by hand (the limit)"][0]
    torch_time = next((t for n, (t, _, _) in results.items() if n.startswith("PyTorch")), None)
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    print(f"784-512-10, 128 rows, float64; numpy {np.__version__} ({blas}); threads "
          f"{THREADS}; {args.rounds} rounds of {args.steps} steps; loss {want_loss:.6f} at "
          "the first step, the same in every row")  # fmt: skip
    print()
    print("| one SGD step | per step | × numpy step | × PyTorch eager | page faults/step "
          "| CPU/wall |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name, impl in found.items():
        if impl is None:
            print(f"| {name} | not installed | | | | |")
            continue
        t, pf, load = results[name]
        vs_torch = f"{t / torch_time:.2f}×" if torch_time else "n/a"
        print(f"| {name} | {t * 1e3:.2f} ms | {t / reference:.2f}× | {vs_torch} | {pf:.0f} "
              f"| {load:.2f} |")  # fmt: skip
    print()
    floors = ", ".join(f"{name} {t * 1e3:.2f} ms" for name, t in products(X, start["W1"]))
    print(f"The two 128×784×512 products alone (X @ W1 and X.T @ dh), the floor of every row: "
          f"{floors}.")  # fmt: skip
    ours = results["adcli: f.train, per step"][0]
    vs_torch = f"{ours / torch_time:.2f}×" if torch_time else "n/a (PyTorch not installed)"
    print()
    print(f"Targets (issue 12): f.train ≤ 1.3× the numpy step (measured {ours / reference:.2f}×), "
          f"≤ 1.2× PyTorch eager (measured {vs_torch}).")  # fmt: skip


# --- --profile: where adcli's step spends its time ----------------------------------


def node_source(f, compiled, timed: bool, free: bool):
    """``compiled``'s generated whole-array source, rebuilt from its steps as
    ``Compiled._whole_source`` writes it: with a clock after each line (``timed``),
    or with each value deleted after its last read (``free``)."""
    from adcli.evaluate import _literal
    from adcli.ops import OPS

    g = f.ir
    env = {"_inf": math.inf, "_nan": math.nan, "_clock": time.perf_counter}
    name = {p: f"a{i}" for i, p in enumerate(compiled.params)}
    last = {a: n for n, _, args in compiled.steps for a in args}
    kept = set(compiled.outputs) | set(compiled.params)
    body, lines = ["    _t = [_clock()]"] if timed else [], []
    for n, op, args in compiled.steps:
        env[f"_{op}"] = OPS[op].array(np)
        refs = [name[a] if a in name else _literal(g.value[a]) for a in args]
        if n in g.attrs:
            refs.append(repr(g.attrs[n]))
        name[n] = f"v{n}"
        lines.append((n, op, f"v{n} = _{op}({', '.join(refs)})"))
        body.append("    " + lines[-1][2])
        dead = [f"v{a}" for a in dict.fromkeys(args) if last[a] == n and a in name
                and a not in kept and name[a].startswith("v")]  # fmt: skip
        if free and dead:
            body.append(f"    del {', '.join(dead)}")
        if timed:
            body.append("    _t.append(_clock())")
    outputs = ", ".join(name[o] for o in compiled.outputs)
    result = f"_t, ({outputs},)" if timed else f"({outputs},)"
    params = ", ".join(f"a{i}" for i in range(len(compiled.params)))
    source = f"def _whole({params}):\n" + "\n".join([*body, f"    return {result}"])
    exec(compile(source, "<profile>", "exec"), env)
    return env["_whole"], lines


def per_call(fn, calls: int = 200, hold: bool = True) -> tuple[float, float]:
    """Median seconds and minor page faults per call of ``fn``; its last result is
    alive during the next call (``hold``), as train() holds the last gradients."""
    last = fn()
    times, f0 = [], faults()
    for _ in range(calls):
        t0 = time.perf_counter()
        if hold:
            last = fn()
        else:
            fn()
        times.append(time.perf_counter() - t0)
    del last
    return statistics.median(times), (faults() - f0) / calls


LOOPS = {  # --loop: value and gradient in a loop, as a fresh process runs it
    "generated, result dropped": ("plain", False),
    "generated, last result held (as train() holds it)": ("plain", True),
    "values deleted after their last read, result dropped": ("free", False),
    "values deleted after their last read, last result held": ("free", True),
    "numpy by hand, result dropped": ("numpy", False),
}


def loop(f, start, X, label, which: str) -> None:
    """Print the median time and page faults per call of one of ``LOOPS``."""
    source, hold = LOOPS[which]
    compiled = f.compiled(f.value_and_grad_nodes(NAMES))
    data = {"X": X, "label": label.astype(np.float64)}
    args = [start[n] if n in start else data[n] for n in f.variables]
    if source == "numpy":
        fn, args = numpy_value_and_grad, [*start.values(), X, label]
    else:
        fn = node_source(f, compiled, timed=False, free=source == "free")[0]
    t, pf = per_call(lambda: fn(*args), 300, hold)
    print(f"{t} {pf}")


def profile(f, start, X, label, steps: int) -> None:
    import subprocess
    import sys

    compiled = f.compiled(f.value_and_grad_nodes(NAMES))
    values = {**{n: start[n].copy() for n in NAMES}, "X": X, "label": label.astype(np.float64)}
    args = [values[n] for n in f.variables]
    print("compiled.whole in a loop of 300 calls, each way in a fresh process (page faults: "
          "minor, per call):")  # fmt: skip
    print()
    print("| value and gradient | ms per call | page faults per call |")
    print("|---|---|---|")
    for which in LOOPS:
        out = subprocess.run([sys.executable, __file__, "--loop", which], check=True,
                             capture_output=True, text=True).stdout.split()  # fmt: skip
        print(f"| {which} | {float(out[0]) * 1e3:.2f} | {float(out[1]):.0f} |")
    timed, lines = node_source(f, compiled, timed=True, free=False)
    samples, last = [], None
    for _ in range(300):
        last = timed(*args)  # the last result held, as train() holds it
        samples.append(np.diff(last[0]))
    samples = np.array(samples[20:])
    cost = np.median(samples, axis=0)
    total = float(np.median(samples.sum(axis=1)))
    print()
    print(f"The generated step node by node, most costly first (median of 280 calls; the lines "
          f"add up to {total * 1e3:.2f} ms):")  # fmt: skip
    print()
    print("| line | shape | µs | share |")
    print("|---|---|---|---|")
    for (n, _, line), c in sorted(zip(lines, cost), key=lambda x: -x[1]):
        shape = "×".join("rows" if d is None else str(d) for d in f.ir.shape[n]) or "()"
        print(f"| `{line}` | {shape} | {c * 1e6:.1f} | {c / total:.1%} |")
    one = per_call(lambda: compiled.whole(*args))
    grads = compiled.whole(*args)[1:]
    params = [values[n] for n in NAMES]

    def train_rule():
        for p, g in zip(params, grads):
            p -= LR * g  # a temporary LR * g, then a second pass

    def scaled_in_place():
        for p, g in zip(params, grads):
            g *= LR  # the gradient is train's own array
            p -= g

    def axpy():  # one pass, as torch's add_(g, alpha=-lr)
        from scipy.linalg.blas import daxpy

        for p, g in zip(params, grads):
            daxpy(g.reshape(-1), p.reshape(-1), a=-LR)

    data = {"X": X, "label": values["label"]}
    evaluations = [0]
    whole = compiled.whole

    def counted(*a):
        evaluations[0] += 1
        return whole(*a)

    compiled.whole = counted  # the instance's, for one call of f.train
    f.train(data, batch_size=128, shuffle=False, steps=steps, lr=LR)
    del compiled.whole
    extra = evaluations[0] - steps

    def train(n):
        return lambda: f.train(data, batch_size=128, shuffle=False, steps=n, lr=LR)

    short, long = per_call(train(1), 30), per_call(train(steps), 15)
    step = ((long[0] - short[0]) / (steps - 1), (long[1] - short[1]) / (steps - 1))
    parts = [
        ("compiled.whole: value and gradient", one),
        ("update as train does it: x -= lr * g", per_call(train_rule)),
        ("update, g *= lr; x -= g (no temporary)", per_call(scaled_in_place)),
        ("update, BLAS daxpy (one pass; scipy, not a dependency)", per_call(axpy)),
        ("record(): the gradient's norm",
         per_call(lambda: math.sqrt(sum(float(np.vdot(g, g)) for g in grads)))),
        (f"f.train: a step, (T({steps} steps) − T(1)) / {steps - 1}", step),
        ("f.train: fixed cost of a call, T(1) − a step", (short[0] - step[0], short[1] - step[1])),
        ("  of it: copies of the start values", per_call(lambda: [np.array(p) for p in params])),
        ("  of it: zeros_like for the velocity (gd never reads it)",
         per_call(lambda: [np.zeros_like(p) for p in params])),
        (f"  of it: {extra} evaluations beyond the {steps} steps, value and gradient",
         (extra * one[0], extra * one[1])),
    ]  # fmt: skip
    print()
    print(f"The loop around it (one f.train call of {steps} steps evaluates {evaluations[0]} "
          "times):")  # fmt: skip
    print()
    print("| part | µs | page faults |")
    print("|---|---|---|")
    for name, (t, pf) in parts:
        print(f"| {name} | {t * 1e6:.0f} | {pf:.0f} |")


if __name__ == "__main__":
    main()
