"""Streaming: `seq 1 N | adcli grad "x*sigmoid(x)" --at -` for N = 10^4 and 10^6, against
what a shell user would write instead, in the same run.

- the reference (1.0×): a Python script that reads standard input in 1 MiB chunks,
  parses each with numpy, computes the value and the derivative with numpy and writes
  `repr` of each (the numbers adcli's plain output has);
- a plain Python loop over the lines with `math` (parse, compute, print per line);
- awk with `%.17g` (not every digit of a double round-trips through awk, and awk has
  no derivative: the formula is written out by hand);
- `seq 1 N | cat`, the floor of the pipe itself.

Each row: the median wall time over rounds that run every tool in turn, lines per
second, the ratio to the reference (and each round's, to show the noise), and the peak RSS
of the pipeline's processes (from the child's rusage): memory must stay flat, peak RSS
at 10^6 lines ≈ at 10^4. Then a trickle: one line every 0.1 s through a pipe, and how
long after each line its row comes back (a stream must not wait for a full block).

    python benchmarks/stream.py [--lines 10000,1000000] [--trickle 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NUMPY_SCRIPT = r"""
import sys, numpy as np
out = sys.stdout.write
tail = b""
while True:
    chunk = sys.stdin.buffer.read(1 << 20)
    if not chunk:
        break
    chunk = tail + chunk
    cut = chunk.rfind(b"\n") + 1
    tail, chunk = chunk[cut:], chunk[:cut]
    x = np.array(chunk.split(), dtype=np.float64)
    s = 1.0 / (1.0 + np.exp(-x))
    f = x * s
    d = s + x * s * (1.0 - s)
    out("".join(f"{a!r} {b!r}\n" for a, b in zip(f.tolist(), d.tolist())))
"""

LOOP_SCRIPT = r"""
import sys, math
for line in sys.stdin:
    x = float(line)
    s = 1.0 / (1.0 + math.exp(-x))
    print(repr(x * s), repr(s + x * s * (1.0 - s)))
"""

AWK = r"""awk '{ s = 1/(1+exp(-$1)); printf "%.17g %.17g\n", $1*s, s + $1*s*(1-s) }'"""


def run(cmd: str) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MiB) of the pipeline's processes."""
    start = time.perf_counter()
    pid = subprocess.Popen(["bash", "-c", cmd], stdout=subprocess.DEVNULL).pid
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"failed: {cmd}")
    return elapsed, usage.ru_maxrss / 1024


def trickle(adcli: str, lines: int) -> list[float]:
    """Seconds from writing each line (one every 0.1 s) to reading its row."""
    pipe = subprocess.PIPE
    process = subprocess.Popen([adcli, "grad", "x*sigmoid(x)", "--at", "-"], stdin=pipe,
                               stdout=pipe, bufsize=0)  # fmt: skip
    delays = []
    for i in range(1, lines + 1):
        sent = time.perf_counter()
        process.stdin.write(f"{i}\n".encode())
        process.stdout.readline()
        delays.append(time.perf_counter() - sent)
        time.sleep(0.1)
    process.stdin.close()
    process.wait()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="10000,1000000")
    parser.add_argument("--trickle", type=int, default=10, help="lines (at least 2; 0: none)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    adcli = shutil.which("adcli") or sys.exit("adcli is not on PATH: pip install . first")
    with tempfile.TemporaryDirectory() as tmp:
        numpy_script = Path(tmp) / "chunks.py"
        numpy_script.write_text(NUMPY_SCRIPT)
        loop_script = Path(tmp) / "loop.py"
        loop_script.write_text(LOOP_SCRIPT)
        tools = [
            ("numpy, 1 MiB chunks (reference)", f"{sys.executable} {numpy_script}"),
            ("adcli grad 'x*sigmoid(x)' --at -", f"{adcli} grad 'x*sigmoid(x)' --at -"),
            ("Python loop over lines, math", f"{sys.executable} {loop_script}"),
            ("awk, %.17g", AWK),
            ("cat (the pipe's floor)", "cat"),
        ]
        print(f"| lines | tool | time (median of {args.rounds}) | lines/s | ratio | "
              "per-round ratios | peak RSS |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        for n in (int(v) for v in args.lines.split(",")):
            # rounds of every tool in turn, so the machine's busy moments fall on all alike
            times: dict[str, list[float]] = {name: [] for name, _ in tools}
            peaks: dict[str, float] = {}
            for _ in range(args.rounds):
                for name, command in tools:
                    seconds, peaks[name] = run(f"seq 1 {n} | {command} > /dev/null")
                    times[name].append(seconds)
            reference = times[tools[0][0]]
            for name, _ in tools:
                seconds = statistics.median(times[name])
                ratios = [t / r for t, r in zip(times[name], reference)]
                spread = f"{min(ratios):.2f}–{max(ratios):.2f}×"
                print(f"| {n} | {name} | {seconds:.2f} s | {n / seconds:,.0f} | "
                      f"{seconds / statistics.median(reference):.2f}× | {spread} | "
                      f"{peaks[name]:.1f} MiB |")  # fmt: skip
    if args.trickle:
        first, *later = trickle(adcli, args.trickle)
        slowest = max(later) * 1000
        print(f"\ntrickle, one line every 0.1 s: the first row back after {first * 1000:.1f} ms "
              f"(start-up included), each later one after at most {slowest:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
