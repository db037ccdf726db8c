"""`adcli codegen`: the module it writes runs without adcli and gives grad's numbers.

Numbers are compared exactly (``==``, ``np.array_equal``), not within a tolerance:
the generated function is the evaluator's own plan printed as text — the same
steps in the same order, the ops' own templates, ``math``/numpy functions and
helpers copied from ``ops.py``/``kernels.py`` — so any difference in a last bit
means the two have drifted apart, which is the bug these tests are for.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import NUMBER_OPS

import adcli
from adcli.ops import OPS
from adcli.render import op_text

SEED_F = "x*sigmoid(x)/(x**2+1)"
SEED_AT_2 = "0.3523188311911529 -0.06369821519594324\n"


def op_expression(name: str) -> tuple[str, list[str]]:
    """The op applied to variables: ``sin(x)``, ``atan2(x, y)``, ``(x)*(y)``, ``(-x)``."""
    op = OPS[name]
    names = ["x", "y", "z"][: op.arity]
    if op.symbol is not None:
        return ("(-x)" if op.arity == 1 else f"(x){op.symbol}(y)"), names
    return f"{name}({', '.join(names)})", names


def load(text: str) -> dict:
    """Run a generated module's text in a namespace of its own (not as __main__)."""
    namespace = {"__name__": "generated"}
    exec(compile(text, "<generated>", "exec"), namespace)
    return namespace


def codegen(run, *args: str) -> str:
    r = run("codegen", *args)
    assert r.code == 0, r.err
    return r.out


def python_without_adcli(cwd) -> list[str]:
    """An interpreter in isolated mode (-I) that cannot import adcli: the one this
    virtual environment was made from, else this one without site-packages (-S)."""
    for command in (
        [getattr(sys, "_base_executable", sys.executable), "-I"],
        [sys.executable, "-I", "-S"],
    ):
        probe = subprocess.run(
            [*command, "-c", "import adcli"], capture_output=True, text=True, cwd=cwd
        )
        if probe.returncode != 0 and "No module named 'adcli'" in probe.stderr:
            return command
    pytest.fail("no interpreter here runs without adcli importable")


# --- the acceptance: the seed f without adcli ----------------------------------------------


def test_seed_module_runs_under_python_isolated_without_adcli(shell, tmp_path):
    module = tmp_path / "seed_f.py"
    r = shell("codegen", SEED_F, "-o", str(module))
    assert r.code == 0 and r.out == "" and r.err == ""
    python = python_without_adcli(tmp_path)
    probe = subprocess.run([*python, "-c", "import adcli"], capture_output=True, text=True)
    assert probe.returncode == 1 and "ModuleNotFoundError" in probe.stderr
    assert shell("grad", SEED_F, "--at", "2").out == SEED_AT_2
    for point in (["2"], ["x=2"], ["x=2.0"]):
        out = subprocess.run(
            [*python, str(module), *point], capture_output=True, text=True, cwd=tmp_path
        )
        assert (out.returncode, out.stdout, out.stderr) == (0, SEED_AT_2, "")


def test_module_main_reads_named_points_and_refuses_bad_ones(run, tmp_path):
    module = tmp_path / "two.py"
    module.write_text(codegen(run, "x*y*exp(-(x**2 + y**2))"), encoding="utf-8")
    expected = run("grad", "x*y*exp(-(x**2 + y**2))", "--at", "x=0.5,y=-1").out
    python = python_without_adcli(tmp_path)
    for point in (["0.5", "-1"], ["x=0.5", "y=-1"], ["x=0.5,y=-1"], ["y=-1,x=0.5"]):
        out = subprocess.run([*python, str(module), *point], capture_output=True, text=True)
        assert (out.returncode, out.stdout) == (0, expected), point
    for bad in ([], ["1"], ["x=1"], ["x=1", "z=2"], ["x=1,x=2"], ["x=a", "y=1"]):
        out = subprocess.run([*python, str(module), *bad], capture_output=True, text=True)
        assert out.returncode == 2 and out.stdout == "", bad
        assert out.stderr.startswith("usage:") and "Traceback" not in out.stderr
    out = subprocess.run([*python, str(module), "x=0", "y=1e400"], capture_output=True, text=True)
    assert out.returncode in (0, 1) and "Traceback" not in out.stderr


# --- every op of the table, against grad ---------------------------------------------------


@pytest.mark.parametrize("name", NUMBER_OPS)
def test_every_op_matches_grad_at_random_points(run, name):
    text, names = op_expression(name)
    f = load(codegen(run, text))["f"]
    e = adcli.compile(text)
    lo, hi = OPS[name].domain
    rng = random.Random(f"codegen {name}")
    for _ in range(6):
        point = [rng.uniform(lo, hi) for _ in names]
        value, grad = f(*point)
        want_value, want_grad = e.grad(**dict(zip(names, point)))
        assert value == want_value and list(grad) == [want_grad[v] for v in names], point
        assert all(isinstance(v, float) for v in (value, *grad))
    at = ",".join(f"{v}={x!r}" for v, x in zip(names, point))
    cli = run("grad", text, "--at", at)
    assert cli.out == " ".join(repr(v) for v in (value, *grad)) + "\n"


@pytest.mark.parametrize("name", NUMBER_OPS)
def test_every_op_numpy_module_matches_the_array_path(run, name):
    text, names = op_expression(name)
    f = load(codegen(run, text, "--numpy"))["f"]
    e = adcli.compile(text)
    lo, hi = OPS[name].domain
    rng = np.random.default_rng(sum(map(ord, name)))
    # several chunks and a short last one; then a broadcast grid; then no points
    shapes = [[(10_000,)] * 3, [(3, 1), (4,), (3, 4)], [(0,)] * 3]
    for shape in shapes:
        arrays = [rng.uniform(lo, hi, size=s) for s in shape[: len(names)]]
        value, grad = f(*arrays)
        want_value, want_grad = e.grad(**dict(zip(names, arrays)))
        assert value.shape == want_value.shape
        assert np.array_equal(value, want_value)
        for got, v in zip(grad, names, strict=True):
            assert got.shape == want_grad[v].shape and np.array_equal(got, want_grad[v]), v


def test_every_helper_is_self_contained_under_python_isolated(run, tmp_path):
    """One module using every op, run where only the standard library is importable."""
    parts, at = [], []
    for i, name in enumerate(NUMBER_OPS):
        op = OPS[name]
        lo, hi = op.domain
        names = [f"x{i}", f"y{i}", f"z{i}"][: op.arity]
        call = f"{name}({', '.join(names)})"
        if op.symbol is not None:
            call = f"(-{names[0]})" if op.arity == 1 else f"(({names[0]}){op.symbol}({names[1]}))"
        parts.append(call)
        at += [f"{v}={lo + (hi - lo) * (0.3 + 0.4 * k)!r}" for k, v in enumerate(names)]
    text = " + ".join(parts)
    module = tmp_path / "every_op.py"
    module.write_text(codegen(run, text), encoding="utf-8")
    out = subprocess.run(
        [*python_without_adcli(tmp_path), str(module), *at], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == run("grad", text, "--at", ",".join(at)).out


# --- the shape of the code -----------------------------------------------------------------


def statements(module: str, name: str = "f") -> list[str]:
    """The function's lines that compute a node (scalar: ``v = ...``; numpy: ``op(..., out=)``)."""
    body = module.split(f"\ndef {name}(", 1)[1].split("\n\n\n", 1)[0]
    return [line.strip() for line in body.splitlines() if re.search(r"  # #\d+ ", line)]


@pytest.mark.parametrize("numpy", [False, True])
def test_one_line_per_node_numbered_as_the_table(run, numpy):
    text = "t1 = sigmoid(x); t2 = t1*x; b2 = x**2 + 1; b3 = 1/b2; y = t2*b3"
    module = codegen(run, text, *(["--numpy"] if numpy else []))
    e = adcli.compile(text)
    steps = e.compiled(e.value_and_grad_nodes()).steps
    lines = statements(module)
    assert len(lines) == len(steps) == 18  # 6 forward nodes, 12 backward
    comments = [line.split("  # ", 1)[1] for line in lines]
    table = [f"#{r.number} {op_text(r)}" for r in e.node_table([2.0]) if r.op != "var"]
    assert comments[: len(table)] == table  # the forward pass, in the table's order
    assert table[0] == "#2 sigmoid(#1)" and table[-1] == "#7 mul(#3, #6)"
    backward = comments[len(table) :]
    numbers = {f"#{n}" for n in e.numbers.values()}
    assert all(c.split()[0] in numbers and "∂" in c for c in backward)
    assert backward[-1] == "#1 ∂f/∂#1 = the sum of 3 terms"  # x feeds #2, #3 and #4
    if not numpy:  # the program's own names, and dx as seed 000 calls it
        assert lines[0].startswith("t1 = _sigmoid(x)") and lines[-1].startswith("dx = ")
        assert "    return y, (dx,)" in module


def test_no_numpy_import_and_only_the_helpers_used(run):
    scalar = codegen(run, SEED_F)
    assert "import numpy" not in scalar and "\nimport math\n" in scalar
    assert "def _sigmoid(x):" in scalar and "_softplus" not in scalar
    assert "import math" not in codegen(run, "x*y + 1")
    array = codegen(run, "relu(x) + erf(x)", "--numpy")
    assert "import numpy as np" in array and "def relu(x, out=None):" in array
    assert "def erf(" in array and "_erf = np.frompyfunc(math.erf, 1, 1)" in array
    assert "def sigmoid(" not in array and not re.search(r"^(import|from) adcli", array, re.M)
    script = (
        "import sys; from adcli.cli import main; code = main(sys.argv[1:]); "
        "print('numpy' in sys.modules, file=sys.stderr); sys.exit(code)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, "codegen", "sigmoid(x)*erf(x)", "--numpy"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and out.stderr == "False\n"


# --- options ------------------------------------------------------------------------------


def test_name_wrt_and_output_file(run, tmp_path):
    text = "x**2*y + sin(y)"
    module = codegen(run, text, "--name", "value_and_grad", "--wrt", "y")
    assert "\ndef value_and_grad(x, y):\n" in module and "\ndef f(" not in module
    value, grad = load(module)["value_and_grad"](1.5, 0.25)
    want_value, want_grad = adcli.compile(text).grad(["y"], x=1.5, y=0.25)
    assert value == want_value and grad == (want_grad["y"],)
    target = tmp_path / "m.py"
    assert run("codegen", text, "--numpy", "-o", str(target)).out == ""
    assert target.read_text(encoding="utf-8") == codegen(run, text, "--numpy")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("1f", "not a Python identifier"),
        ("my-f", "not a Python identifier"),
        ("class", "not a Python identifier"),
        ("", "not a Python identifier"),
        ("print", "would hide Python's print"),
        ("__builtins__", "would hide Python's __builtins__"),
        ("sys", "is taken: the module uses it"),
        ("_sigmoid", "is taken: the module uses it"),
        ("_main", "is taken: the module uses it"),
    ],
)
def test_bad_name_is_a_usage_error(run, name, message):
    r = run("codegen", SEED_F, "--name", name)
    assert r.code == 2 and r.out == "" and message in r.err and "Traceback" not in r.err


def test_usage_errors_exit_2_without_a_traceback(run, tmp_path):
    for args in (
        ["x*y", "--wrt", "z"],
        ["x*", "--numpy"],
        ["x", "-o", str(tmp_path / "missing" / "m.py")],
    ):
        r = run("codegen", *args)
        assert r.code == 2 and r.out == "" and r.err.startswith("error:"), args
        assert "Traceback" not in r.err


def test_names_python_would_not_take_are_renamed(run):
    text = "np*math + v2*dx + p1*sin(x) + lambda*range + shape*a0*b0*o0*value*start*CHUNK*α"
    e = adcli.compile(text)
    rng = np.random.default_rng(3)
    point = rng.uniform(0.5, 1.5, len(e.variables))
    want_value, want_grad = e.grad(**dict(zip(e.variables, point)))
    scalar = load(codegen(run, text))["f"]
    value, grad = scalar(*point)
    assert value == want_value and list(grad) == [want_grad[v] for v in e.variables]
    arrays = [np.full(5, p) for p in point]
    value, grad = load(codegen(run, text, "--numpy"))["f"](*arrays)
    assert np.array_equal(value, np.full(5, want_value))
    assert [g[0] for g in grad] == [want_grad[v] for v in e.variables]


def test_constant_and_identity_expressions(run):
    assert load(codegen(run, "2**10"))["f"]() == (1024.0, ())
    value, grad = load(codegen(run, "2**10", "--numpy"))["f"]()
    assert value.shape == () and value == 1024.0 and grad == ()
    assert load(codegen(run, "x"))["f"](3.0) == (3.0, (1.0,))
    value, (dx,) = load(codegen(run, "x", "--numpy"))["f"]([1.0, 2.0])
    assert value.tolist() == [1.0, 2.0] and dx.tolist() == [1.0, 1.0]


def test_a_program_of_ten_thousand_statements(run):
    lines = ["t0 = x + y"]
    shapes = ["t{i} = sigmoid(t{j})", "t{i} = t{j}*x", "t{i} = t{j}**2 + 1", "t{i} = 1/t{j}"]
    for i in range(1, 10_000):
        lines.append(shapes[i % 4].format(i=i, j=i - 1))
    text = "\n".join(lines)
    e = adcli.compile(text)
    module = codegen(run, text)
    assert len(statements(module)) == len(e.compiled(e.value_and_grad_nodes()).steps)
    value, grad = load(module)["f"](0.3, 0.2)
    want_value, want_grad = e.grad(x=0.3, y=0.2)
    assert value == want_value and list(grad) == [want_grad["x"], want_grad["y"]]


def test_generated_module_is_not_run_on_import(run, tmp_path):
    (tmp_path / "gen_seed.py").write_text(codegen(run, SEED_F, "--numpy"), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", "import gen_seed; print(gen_seed.f(2.0)[0])"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert out.returncode == 0 and out.stdout == "0.3523188311911529\n"
