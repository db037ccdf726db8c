"""Digits: epochs of minibatch SGD on scikit-learn's 8×8 digits, 64-32-10, batch 32.

Through `f.train` (momentum 0.9, lr 0.1, seed 0, shuffled each epoch): the wall
time of one epoch and of 20, and the held-out accuracy after 20. The reference,
measured in the same run: the same epochs as a hand-written numpy loop (forward
and backward by hand, the same momentum update in place, its own shuffle, the
same start values). Both give the same parameters after an epoch in file order
(checked to 1e-10 in relative norm) before anything is timed. Then the CLI, end
to end in a fresh process (start-up, reading the .npz, the epochs, writing the
parameters), once for 1 epoch and once for 20:

    adcli minimize @net.adcli --data train.npz --batch-size 32 --epochs 20 \\
        --method momentum --lr 0.1 --seed 0 --save params.npz

The data: `load_digits()`, X/16, 1437 rows to train on and 360 held out
(`train_test_split`, stratified, random_state 0). Threads: one BLAS thread
(OMP/OPENBLAS/MKL_NUM_THREADS, unless the environment sets them), for the CLI
too. With OpenBLAS's default of one per core, the evaluations on all 1437 rows
that f.train makes besides its steps run threaded, and on a machine whose other
core is busy they wait for it: the epoch then took 4× as long, and varied.

    python benchmarks/digits_epoch.py [--repeat 25]
"""

from __future__ import annotations

import os

THREADS = os.environ.setdefault("OMP_NUM_THREADS", "1")
for _name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, THREADS)

import argparse  # noqa: E402 - the thread counts above must come first
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import adcli  # noqa: E402

NET = """param W1 = glorot(64, 32)
param b1 = zeros(32)
param W2 = glorot(32, 10)
param b2 = zeros(10)
mean(xent(relu(X @ W1 + b1) @ W2 + b2, label))
"""
SHAPES = {"X": (None, 64), "label": (None,)}
NAMES = ["W1", "b1", "W2", "b2"]
OPTIONS = {"batch_size": 32, "method": "momentum", "lr": 0.1, "beta": 0.9, "seed": 0}


def numpy_value_and_grad(W1, b1, W2, b2, X, label):
    """The loss and ∂loss/∂(W1, b1, W2, b2) by hand, as in train_step.py."""
    n = len(X)
    h = X @ W1
    h += b1
    np.maximum(h, 0.0, out=h)
    z = h @ W2
    z += b2
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - z[rows, label]))
    dz = e / s
    dz[rows, label] -= 1.0
    dz /= n
    dh = dz @ W2.T
    dh *= h > 0
    return loss, [X.T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0)]


def numpy_train(start, X, label, epochs: int, shuffle: bool = True) -> list:
    """Minibatch SGD with momentum by hand: v = βv + g, x -= lr·v, in place."""
    params = [np.array(start[n]) for n in NAMES]
    velocity = [np.zeros_like(p) for p in params]
    lr, beta, size = OPTIONS["lr"], OPTIONS["beta"], OPTIONS["batch_size"]
    rng = np.random.default_rng(OPTIONS["seed"])
    for _ in range(epochs):
        order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
        for begin in range(0, len(X), size):
            rows = order[begin : begin + size]
            _, grads = numpy_value_and_grad(*params, X[rows], label[rows])
            for p, v, g in zip(params, velocity, grads):
                v *= beta
                v += g
                np.multiply(v, lr, out=g)  # lr·v into g's buffer, free now
                p -= g
    return params


def accuracy(params, X, label) -> float:
    W1, b1, W2, b2 = params
    return float(np.mean(np.argmax(np.maximum(X @ W1 + b1, 0.0) @ W2 + b2, axis=1) == label))


def close(a, b, rtol=1e-10) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.linalg.norm(a - b) <= rtol * np.linalg.norm(b)


def median_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cli(adcli_path: str, directory: Path, epochs: int) -> tuple[float, list]:
    """Wall seconds of the command in a fresh process, and the parameters it saved."""
    saved = directory / f"params{epochs}.npz"
    command = [adcli_path, "minimize", f"@{directory / 'net.adcli'}", "--data",
               str(directory / "train.npz"), "--batch-size", "32", "--epochs", str(epochs),
               "--method", "momentum", "--lr", "0.1", "--seed", "0",
               "--save", str(saved)]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True)
    elapsed = time.perf_counter() - start
    with np.load(saved) as params:
        return elapsed, [params[n] for n in NAMES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X, X_test, label, label_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.2, stratify=digits.target, random_state=0
    )
    data = {"X": X, "label": label.astype(np.float64)}
    f = adcli.compile(NET, shapes=SHAPES)
    start = f.start_values(seed=0)

    def ours(epochs: int, shuffle: bool = True):
        return f.train(data, epochs=epochs, shuffle=shuffle, **OPTIONS)

    by_hand = numpy_train(start, X, label, 1, shuffle=False)
    in_order = ours(1, shuffle=False).params
    for name, want in zip(NAMES, by_hand):
        assert close(in_order[name], want), f"{name} after an epoch in file order"
    steps = -(-len(X) // OPTIONS["batch_size"])
    one_ref = median_time(lambda: numpy_train(start, X, label, 1), args.repeat)
    one = median_time(lambda: ours(1), args.repeat)
    many_ref = median_time(lambda: numpy_train(start, X, label, 20), 5)
    many = median_time(lambda: ours(20), 5)
    run = ours(20)
    ours_accuracy = accuracy([run.params[n] for n in NAMES], X_test, label_test)
    ref_accuracy = accuracy(numpy_train(start, X, label, 20), X_test, label_test)
    print(f"{len(X)} rows to train on, {len(X_test)} held out; batch 32 ({steps} steps an "
          f"epoch), momentum 0.9, lr 0.1, seed 0; numpy {np.__version__}; threads "
          f"{os.environ['OPENBLAS_NUM_THREADS']}")  # fmt: skip
    print()
    print("| 64-32-10 on digits, in-process | wall time | per epoch | per step | × numpy "
          "| held-out accuracy |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name, epochs, t, ref, acc in [
        ("numpy by hand, 1 epoch", 1, one_ref, one_ref, ""),
        ("adcli f.train, 1 epoch", 1, one, one_ref, ""),
        ("numpy by hand, 20 epochs", 20, many_ref, many_ref, f"{ref_accuracy:.1%}"),
        ("adcli f.train, 20 epochs", 20, many, many_ref, f"{ours_accuracy:.1%}"),
    ]:
        per_epoch = t / epochs
        print(f"| {name} | {t * 1e3:.1f} ms | {per_epoch * 1e3:.2f} ms | "
              f"{per_epoch / steps * 1e6:.0f} µs | {t / ref:.2f}× | {acc} |")  # fmt: skip
    print()
    found = shutil.which("adcli", path=os.path.dirname(sys.executable)) or shutil.which("adcli")
    if not found:
        print("CLI: adcli is not on PATH (pip install . first)")
        return
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        (directory / "net.adcli").write_text(NET, encoding="utf-8")
        np.savez(directory / "train.npz", X=X, label=data["label"])
        cli_one, _ = cli(found, directory, 1)
        cli_many, params = cli(found, directory, 20)
    same = all(close(p, run.params[n], 1e-12) for n, p in zip(NAMES, params))
    print("| `adcli minimize --data train.npz ...`, once, fresh process | wall time "
          "| f.train in-process | the rest: start-up, files | held-out accuracy |")  # fmt: skip
    print("|---|---|---|---|---|")
    print(f"| --epochs 1 | {cli_one * 1e3:.0f} ms | {one * 1e3:.1f} ms | "
          f"{(cli_one - one) * 1e3:.0f} ms | |")  # fmt: skip
    print(
        f"| --epochs 20 | {cli_many * 1e3:.0f} ms | {many * 1e3:.1f} ms | "
        f"{(cli_many - many) * 1e3:.0f} ms | {accuracy(params, X_test, label_test):.1%} |"
    )
    print()
    print(f"The CLI's parameters after 20 epochs are f.train's: {'yes' if same else 'no'}.")


if __name__ == "__main__":
    main()
