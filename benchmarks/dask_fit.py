"""A least-squares fit of 2×10^7 rows in 16 Parquet files: the local engine against
`--engine dask` with 1 and with 2 workers, on this machine (SPEC §11).

The rows (fixed seed): x uniform in [0, 5], y = 2.5·exp(−1.3x) + 0.4 + N(0, 0.01²),
in 16 files of 1.25×10^6 rows (`parts/part-00.parquet` …) and, for the local engine,
all of them in one file. The fit: `y ~ a*exp(-b*x) + c` from a = 1, b = 1, c = 0.

- local: `adcli fit ... --data all.parquet`, a fresh process (the whole command);
  then the same fit in this process, timed apart: reading the file, and the fit,
  whose time over its evaluations is the time per iteration.
- dask, N workers: a local cluster of N worker processes (one thread each) is started
  first (its start-up shown apart), then `adcli fit ... --data parts --engine dask
  --scheduler ADDRESS`, a fresh process (the whole command). The same fit in this
  process times each reduction: the first waits for the workers to read their
  partitions; each later one is an iteration (every partition's QR of [J r], the
  tree of stacked R factors, the client's step).
- the overhead per iteration that Dask adds: a reduction over 1, 16, 64 and 256
  partitions of 16 rows each (no work to speak of), on the 2-worker cluster.

Every engine's estimates are compared with the local engine's (relative difference).

    python benchmarks/dask_fit.py [--rows 20000000] [--parts 16]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FORMULA = "y ~ a*exp(-b*x) + c"
START = "a=1,b=1,c=0"


def write_rows(folder: Path, rows: int, parts: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    (folder / "parts").mkdir()
    writer = None
    for i, size in enumerate(np.diff(np.linspace(0, rows, parts + 1).astype(int))):
        x = rng.uniform(0.0, 5.0, size)
        y = 2.5 * np.exp(-1.3 * x) + 0.4 + 0.01 * rng.normal(size=size)
        table = pa.table({"x": x, "y": y})
        pq.write_table(table, folder / "parts" / f"part-{i:02d}.parquet")
        if writer is None:
            writer = pq.ParquetWriter(folder / "all.parquet", table.schema)
        writer.write_table(table)
    writer.close()


def command(folder: Path, *extra: str) -> tuple[float, dict]:
    """``adcli fit`` as a fresh process: its wall time and its JSON."""
    script = Path(sys.executable).parent / "adcli"
    started = time.perf_counter()
    done = subprocess.run([str(script), "fit", FORMULA, "--start", START, "-f", "json", *extra],
                          cwd=folder, capture_output=True, text=True, check=True)  # fmt: skip
    return time.perf_counter() - started, json.loads(done.stdout)


def local_in_process(folder: Path) -> dict:
    import pyarrow.parquet as pq

    import adcli

    started = time.perf_counter()
    table = pq.read_table(folder / "all.parquet")
    x, y = table.column("x").to_numpy(), table.column("y").to_numpy()
    read = time.perf_counter() - started
    model = adcli.compile("a*exp(-b*x) + c", shapes={"x": (None,)})
    started = time.perf_counter()
    fit = model.fit(y, {"x": x}, {"a": 1.0, "b": 1.0, "c": 0.0})
    seconds = time.perf_counter() - started
    return {"read": read, "fit": seconds, "per_iteration": seconds / fit.evaluations,
            "iterations": fit.evaluations, "estimates": fit.estimates}  # fmt: skip


def dask_in_process(address: str, folder: Path) -> dict:
    """The fit through ``daskrun.fit``, each reduction timed."""
    from adcli import cluster, daskrun

    times: list[float] = []
    reduce = cluster.Cluster.reduce

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return reduce(self, *args, **kwargs)
        finally:
            times.append(time.perf_counter() - started)

    cluster.Cluster.reduce = timed
    try:
        started = time.perf_counter()
        fit = daskrun.fit(address, None, FORMULA, [str(folder / "parts")], [START], None, None,
                          "auto", "squares", lambda message: None)  # fmt: skip
        total = time.perf_counter() - started
    finally:
        cluster.Cluster.reduce = reduce
    return {"total": total, "load": times[0], "per_iteration": statistics.median(times[1:]),
            "iterations": len(times) - 1, "estimates": fit.estimates}  # fmt: skip


def overhead(address: str, folder: Path, parts: int) -> float:
    """The median time of a reduction over ``parts`` partitions of 16 rows each."""
    from adcli import cluster

    tiny = folder / f"tiny-{parts}"
    tiny.mkdir()
    for i in range(parts):
        np.savetxt(tiny / f"part-{i:03d}.csv", np.ones((16, 2)), delimiter=",", header="x,y",
                   comments="")  # fmt: skip
    with cluster.connect(address) as client:
        job = cluster.Job(client, [str(tiny)])
        loaded = client.load(job.parts, cluster._load_squares, ("x",), job.key("y"), None)
        key = job.key("a*exp(-b*x) + c")
        times = []
        for i in range(30):
            started = time.perf_counter()
            client.reduce(loaded, cluster._squares_share, cluster._stack_squares, model=key,
                          params=("a", "b", "c"), x=[1.0, 1.0 + i * 1e-3, 0.0])  # fmt: skip
            times.append(time.perf_counter() - started)
    return statistics.median(times[5:])


def relative(a: list[float], b: list[float]) -> float:
    return max(abs(x - y) / abs(y) for x, y in zip(a, b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2 * 10**7)
    parser.add_argument("--parts", type=int, default=16)
    args = parser.parse_args()
    import distributed

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        write_rows(folder, args.rows, args.parts)
        print(f"{args.rows} rows in {args.parts} Parquet files, written in "
              f"{time.perf_counter() - started:.1f} s; numpy {np.__version__}, dask "
              f"{distributed.__version__}, python {sys.version.split()[0]}\n")  # fmt: skip
        local_wall, local_json = command(folder, "--data", "all.parquet")
        local = local_in_process(folder)
        rows = [("local engine", local_wall, local["read"], local["fit"], local["per_iteration"],
                 local["iterations"], 0.0)]  # fmt: skip
        reference = local["estimates"]
        lost: dict[int, float] = {}
        for workers in (1, 2):
            started = time.perf_counter()
            local_cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            with local_cluster as lc:
                up = time.perf_counter() - started
                wall, got = command(folder, "--data", "parts", "--engine", "dask",
                                    "--scheduler", lc.scheduler_address)  # fmt: skip
                run = dask_in_process(lc.scheduler_address, folder)
                if workers == 2:
                    lost = {p: overhead(lc.scheduler_address, folder, p) for p in (1, 16, 64, 256)}
            name = f"dask, {workers} worker{'s' if workers > 1 else ''} (start-up {up:.1f} s)"
            rows.append((name, wall, run["load"], run["total"] - run["load"],
                         run["per_iteration"], run["iterations"],
                         relative(list(got["params"].values()), reference)))  # fmt: skip
        print(
            "| engine | whole command | reading | the fit after reading | per iteration "
            "| iterations | estimates vs local |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, wall, read, fit, per, count, rel in rows:
            print(
                f"| {name} | {wall:.2f} s | {read:.2f} s | {fit:.2f} s | {per * 1000:.0f} ms | "
                f"{count} | {rel:.1e} |"
            )
        print("\nDask's overhead per iteration: a reduction over P partitions of 16 rows each "
              "(no work to speak of), 2 workers\n")  # fmt: skip
        print("| partitions | per iteration |")
        print("|---|---|")
        for count, seconds in lost.items():
            print(f"| {count} | {seconds * 1000:.1f} ms |")
        print(f"local engine's command, estimates: {local_json['params']}")


if __name__ == "__main__":
    main()
