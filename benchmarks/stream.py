"""Streaming: `seq 1 N | adcli grad "x*sigmoid(x)" --at -` for N = 10^4 and 10^6.

Reports wall time, throughput and peak RSS (from the child's rusage), and the
same for `seq 1 N | cat` as the floor of the pipe itself, measured in the same
run. Memory must stay flat: peak RSS at 10^6 lines ≈ peak RSS at 10^4 lines.

    python benchmarks/stream.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time


def run(cmd: str) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MiB) of the pipeline's processes."""
    start = time.perf_counter()
    pid = subprocess.Popen(["bash", "-c", cmd], stdout=subprocess.DEVNULL).pid
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"failed: {cmd}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    adcli = shutil.which("adcli") or sys.exit("adcli is not on PATH: pip install . first")
    print("| lines | adcli time | lines/s | peak RSS | `cat` time |")
    print("|---|---|---|---|---|")
    for n in (10**4, 10**6):
        t, rss = run(f"seq 1 {n} | {adcli} grad 'x*sigmoid(x)' --at - > /dev/null")
        floor, _ = run(f"seq 1 {n} | cat > /dev/null")
        print(f"| {n} | {t:.2f} s | {n / t:,.0f} | {rss:.1f} MiB | {floor:.2f} s |")


if __name__ == "__main__":
    main()
