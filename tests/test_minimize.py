"""Gradient descent (SPEC §3 minimize, issue 4): the textbook loop, exactly, and its diagnoses.

References are the seeds' own loops, transcribed here in plain Python floats.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time

import pytest
from conftest import installed_adcli, on_terminal, seed_000_passes

import adcli

SEED_F = "x*sigmoid(x)/(x**2+1)"


def seed_loop(x: float, lr: float = 1.0, steps: int = 100) -> float:
    for _ in range(steps):
        x -= lr * seed_000_passes(x)[1]
    return x


def numbers(text: str) -> list[float]:
    return [float(v) for v in text.split()]


# --- f(x) = x², seed 000's first example --------------------------------------------


def test_gd_on_a_square_is_bit_identical_to_the_python_loop(run):
    r = run(
        "minimize", "x**2", "--start", "1", "--lr", "0.1", "--steps", "10", "--tol", "0", "--trace"
    )
    rows = [numbers(line) for line in r.out.splitlines()[:-1]]
    x = 1.0
    expected = [x]
    for _ in range(10):
        x -= 0.1 * (2 * x)
        expected.append(x)
    assert [row[1] for row in rows] == expected  # every iterate, to the last bit
    assert numbers(r.out.splitlines()[-1])[0] == 0.10737418240000003
    assert r.code == 0


def test_learning_rate_one_oscillates(run):
    r = run("minimize", "x**2", "--start", "1", "--lr", "1.0", "--steps", "10", "--tol", "0")
    assert r.code == 0
    assert numbers(r.out)[0] == 1.0  # back where it started after an even number of jumps
    assert "oscillation" in r.err and "lr·f'' = 2 ≥ 2" in r.err


def test_learning_rate_past_two_over_curvature_grows_without_diverging(run):
    # SPEC §8: f = 38.3 after 10 steps is far under the divergence bound 1e12·max(1, |f0|):
    # max-steps, exit 0, and a diagnosis that says it grows and to lower --lr.
    r = run("minimize", "x**2", "--start", "1", "--lr", "1.1", "--steps", "10", "--tol", "0")
    assert r.code == 0
    assert "reason: max-steps" in r.err
    assert "growing" in r.err and "lr·f'' = 2.2 ≥ 2, lower --lr" in r.err
    assert "raise --lr" not in r.err
    assert numbers(r.out)[0] == pytest.approx(1.2**10 * (-1) ** 10)


def test_divergence_past_the_bound_names_its_step():
    result = adcli.compile("x**2").minimize({"x": 1.0}, lr=1.1, steps=500, tol=0)
    assert result.reason == "diverged"
    k = result.final.k
    assert abs(result.final.value) > 1e12 >= abs(result.steps[-2].value)
    assert f"step {k}" in result.diagnosis


# --- the seed f from the four starts of seed 000 --------------------------------------


@pytest.mark.parametrize(
    ("start", "rel", "diagnosis"),
    [
        (-5.0, 1e-12, "plateau"),
        (1.3306, 1e-12, "minimum"),
        (1.3307, 1e-9, "moving right"),
        (1.330696146306314, 1e-12, "maximum"),
    ],
)
def test_seed_descents_end_where_the_seed_loop_ends(start, rel, diagnosis):
    result = adcli.compile(SEED_F).minimize({"x": start}, lr=1, steps=100, tol=0)
    expected = seed_loop(start)
    assert result.final.point[0] == pytest.approx(expected, rel=rel)
    assert diagnosis in result.diagnosis
    assert result.reason == "max-steps"


def test_the_seed_ends_match_the_issue_numbers():
    f = adcli.compile(SEED_F)
    ends = {-5.0: -4.832845365106556, 1.3306: -0.6399042108387073, 1.3307: 3.82928805715556}
    for start, end in ends.items():
        x = f.minimize({"x": start}, lr=1, steps=100, tol=0).final.point[0]
        assert x == pytest.approx(end, rel=1e-9)
    stuck = f.minimize({"x": 1.330696146306314}, lr=1, steps=100, tol=0)
    assert stuck.final.point[0] == pytest.approx(1.330696146306314, rel=1e-12)
    assert stuck.diagnosis.startswith("maximum")


def test_the_design_card_line_on_a_pipe_and_on_a_terminal(shell, run):
    r = shell("minimize", SEED_F, "--lr", "1", "--start", "1.33")
    x, value = numbers(r.out)
    assert r.code == 0 and x == pytest.approx(-0.6399, abs=1e-4)
    assert "reason: converged" in r.err and "minimum" in r.err
    t = run("minimize", SEED_F, "--lr", "1", "--start", "1.33", "--format", "table")
    assert "step" in t.out and "‖∇f‖" in t.out and "converged: minimum" in t.out


# --- methods -------------------------------------------------------------------------

QUADRATIC = "(x - 1)**2 + 10*(y + 2)**2"
ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"


@pytest.mark.parametrize("method", ["momentum", "nesterov", "adam"])
def test_methods_converge_on_a_quadratic_and_on_rosenbrock(method):
    q = adcli.compile(QUADRATIC).minimize({"x": 0.0, "y": 0.0}, method=method, lr=0.01, steps=20000)
    assert q.reason == "converged" and "minimum" in q.diagnosis
    assert q.final.point == pytest.approx((1.0, -2.0), abs=1e-6)
    lr = 0.001 if method != "adam" else 0.01
    r = adcli.compile(ROSENBROCK).minimize({"x": -1.2, "y": 1.0}, method=method, lr=lr, steps=50000)
    assert r.reason == "converged", (method, r.final.k, r.diagnosis)
    assert r.final.point == pytest.approx((1.0, 1.0), abs=1e-5)


@pytest.mark.parametrize("method", ["momentum", "nesterov"])
def test_beta_zero_is_gd_bit_for_bit(method):
    f = adcli.compile(ROSENBROCK)
    gd = f.minimize({"x": -1.2, "y": 1.0}, method="gd", lr=0.001, steps=300, tol=0)
    other = f.minimize({"x": -1.2, "y": 1.0}, method=method, beta=0.0, lr=0.001, steps=300, tol=0)
    assert [s.point for s in other.steps] == [s.point for s in gd.steps]


def test_maximize_climbs():
    r = adcli.compile("-(x - 3)**2").minimize({"x": 0.0}, lr=0.1, steps=1000, maximize=True)
    assert r.reason == "converged" and r.final.point[0] == pytest.approx(3.0)
    assert r.diagnosis.startswith("maximum")  # a maximum is what ascent is after


def test_saddle_is_named():
    r = adcli.compile("x**2 - y**2").minimize({"x": 1.0, "y": 0.0}, lr=0.1, steps=1000)
    assert r.reason == "converged" and r.diagnosis.startswith("saddle")


# --- seed 002: linear regression fitted by gradient descent ----------------------------


def regression(n: int = 20, seed: int = 1) -> tuple[str, list[float], list[float]]:
    """y = 3x + noise, the sum-of-squares loss of seed 002 as an adcli expression."""
    rng = random.Random(seed)
    xs = [i / n * 2 - 1 for i in range(n)]
    ys = [3 * x + rng.gauss(0, 0.1) for x in xs]
    loss = " + ".join(f"(w*{x!r} + b - {y!r})**2" for x, y in zip(xs, ys))
    return loss, xs, ys


def simpleflow_loop(xs, ys, lr, steps, decay=1.0):
    """Seed 002's optimizer: var -= learning_rate * grad, with an optional decayed rate."""
    w = b = 0.0
    for k in range(steps):
        gw = sum(2 * (w * x + b - y) * x for x, y in zip(xs, ys))
        gb = sum(2 * (w * x + b - y) for x, y in zip(xs, ys))
        rate = lr * decay**k
        w, b = w - rate * gw, b - rate * gb
    return w, b


@pytest.mark.parametrize("decay", [1.0, 0.95])
def test_fixed_and_decayed_steps_follow_seed_002s_optimizer(decay):
    loss, xs, ys = regression()
    r = adcli.compile(loss).minimize({"w": 0.0, "b": 0.0}, lr=0.01, steps=20, tol=0, decay=decay)
    assert r.final.point == pytest.approx(simpleflow_loop(xs, ys, 0.01, 20, decay), rel=1e-12)
    values = [s.value for s in r.steps]
    assert all(b < a for a, b in zip(values, values[1:]))  # the loss falls at every step


def test_line_search_stops_on_the_gradient_norm_like_seed_002():
    loss, xs, ys = regression()
    r = adcli.compile(loss).minimize(
        {"w": 0.0, "b": 0.0}, lr=1.0, steps=500, tol=1e-6, line_search=True
    )
    assert r.reason == "converged" and r.final.gnorm <= 1e-6  # ‖d‖ ≤ ε ends the search
    values = [s.value for s in r.steps]
    assert all(b <= a for a, b in zip(values, values[1:]))  # Armijo: never uphill
    assert r.final.point[0] == pytest.approx(3.0, abs=0.1)


# --- output ----------------------------------------------------------------------------


def test_json_trace_then_result(run):
    r = run("minimize", "x**2", "--start", "1", "--lr", "0.25", "--steps", "5", "--format", "json")
    lines = [json.loads(line) for line in r.out.splitlines()]
    assert [row["step"] for row in lines[:-1]] == [0, 1, 2, 3, 4, 5]
    result = lines[-1]["result"]
    assert result["reason"] == "max-steps" and result["steps"] == 5
    assert result["at"]["x"] == 1 / 2**5 and "diagnosis" in result


def test_every_and_csv_trace(run):
    r = run("minimize", "x**2", "--start", "1", "--steps", "100", "--tol", "0", "--every", "30",
            "--trace", "--format", "csv")  # fmt: skip
    lines = r.out.splitlines()
    assert lines[0] == "step,x,value,grad_norm"
    assert [int(line.split(",")[0]) for line in lines[1:]] == [0, 30, 60, 90, 100]


def test_auto_every_keeps_about_twenty_rows(run):
    r = run("minimize", "x**2", "--start", "1", "--steps", "1000", "--tol", "0", "--trace")
    steps = [int(line.split()[0]) for line in r.out.splitlines()[:-1]]
    assert steps[0] == 0 and steps[-1] == 1000 and 18 <= len(steps) <= 23


def test_compare_prints_one_line_per_method(run):
    r = run("minimize", QUADRATIC, "--start", "x=0,y=0", "--lr", "0.01", "--steps", "5000",
            "--compare", "gd,momentum,adam")  # fmt: skip
    lines = [line.split() for line in r.out.splitlines()]
    assert [line[0] for line in lines] == ["gd", "momentum", "adam"]
    assert all(line[-1] == "converged" for line in lines)
    assert float(lines[0][1]) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["minimize", "x**2", "--start", "1", "--method", "newton"], "unknown method"),
        (["minimize", "x*y", "--start", "1"], "x, y"),
        (["minimize", "x*y", "--start", "x=1"], "no value for y"),
        (["minimize", "x, y", "--start", "x=1,y=1"], "one output"),
        (["minimize", "x**2", "--start", "x=0:1:3"], "one point"),
    ],
)
def test_minimize_input_mistakes_exit_2(run, args, message):
    r = run(*args)
    assert r.code == 2 and message in r.err


@pytest.mark.slow
def test_ctrl_c_prints_the_result_so_far_and_exits_130():
    proc = subprocess.Popen(
        [*installed_adcli(), "minimize", "x**2", "--start", "1", "--lr", "1e-9",
         "--steps", "100000000", "--tol", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(3)  # well past start-up, even on a busy machine
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    x, value = numbers(out)
    assert 0 < x < 1 and "interrupted" in err and "Traceback" not in err


def test_markdown_trace(run):
    r = run("minimize", "x**2", "--start", "1", "--steps", "3", "--format", "markdown")
    lines = r.out.splitlines()
    assert lines[:3] == ["| step | x | f | ‖∇f‖ |", "|---:|---:|---:|---:|", "| 0 | 1 | 1 | 2 |"]
    assert "**max-steps**" in r.out


def test_progress_bar_only_when_stderr_is_a_terminal():
    args = ["minimize", "x**2", "--start", "1", "--lr", "1e-9", "--steps", "400000", "--tol", "0"]
    assert "descending" in on_terminal(args, {"TERM": "xterm", "COLUMNS": "80"})
    piped = subprocess.run([*installed_adcli(), *args], capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and "descending" not in piped.stderr
