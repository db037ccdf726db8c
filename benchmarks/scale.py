"""Scale: programs of 10^3 … 10^5 statements and 10^5-deep nesting, through the API.

Each program is the forward pass written statement by statement, as the seeds
write it (one or two operations per statement, cycling through the seed's shapes:
sigmoid, a product with a variable, a square plus one, a reciprocal, a product of
two earlier statements). Times: parse (text → graph), differentiate (the reverse
transform → adjoint nodes), and evaluate value + gradient once (compile + run).
Target (issue 3): a 10^5-statement program parsed and differentiated in ≤ 2 s,
growing linearly. The reference is the 10^3 program measured in the same run:
the `per-statement` column should stay flat.

    python benchmarks/scale.py
"""

from __future__ import annotations

import time

import adcli

SHAPES = [
    "t{i} = sigmoid(t{j})",
    "t{i} = t{j}*x",
    "t{i} = t{j}**2 + 1",
    "t{i} = 1/t{j}",
    "t{i} = t{j}*t{k} + y",
]


def program(n: int) -> str:
    lines = ["t0 = x + y"]
    for i in range(1, n):
        lines.append(SHAPES[i % len(SHAPES)].format(i=i, j=i - 1, k=max(i - 2, 0)))
    return "\n".join(lines)


def measure(text: str, at: dict[str, float]) -> tuple[float, float, float, int]:
    start = time.perf_counter()
    f = adcli.compile(text)
    parsed = time.perf_counter()
    f.gradient()
    differentiated = time.perf_counter()
    f.grad(**at)
    evaluated = time.perf_counter()
    return parsed - start, differentiated - parsed, evaluated - differentiated, len(f.ir)


def main() -> None:
    columns = ["input", "parse", "differentiate", "parse + differentiate", "per statement"]
    print("| " + " | ".join([*columns, "evaluate once", "nodes"]) + " |")
    print("|---|---|---|---|---|---|---|")
    adcli.compile("x")  # load the grammar's tables once, outside the timings
    reference = None
    for n in (10**3, 10**4, 10**5):
        p, d, e, nodes = measure(program(n), {"x": 0.5, "y": 0.25})
        per = (p + d) / n
        reference = reference or per
        print(
            f"| {n} statements | {p:.2f} s | {d:.2f} s | {p + d:.2f} s | "
            f"{per * 1e6:.1f} µs ({per / reference:.2f}× the 10^3 row) | {e:.2f} s | {nodes} |"
        )
    depth = 10**5
    for name, text in [
        ("parentheses", "(" * depth + "x" + ")" * depth),
        ("sin(", "sin(" * depth + "x" + ")" * depth),
    ]:
        p, d, e, nodes = measure(text, {"x": 0.5})
        times = f"{p:.2f} s | {d:.2f} s | {p + d:.2f} s"
        print(f"| {depth} nested {name} | {times} | | {e:.2f} s | {nodes} |")


if __name__ == "__main__":
    main()
