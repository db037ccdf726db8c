"""Deep input through every command that prints: ``sin(sin(…(x)…))`` 10^4 deep.

Printing used to be quadratic in the depth (each node's whole text kept, each
table label printed from its node's whole subgraph); these runs check that the
output of each command is right at a depth where quadratic work would be minutes.
No timing is asserted: the hang guard only stops a run that would never end. The
cost itself is checked without a clock, by counting what the printer builds.
"""

from __future__ import annotations

import json
import math
import signal
import tracemalloc

import pytest

import adcli
from adcli import printing
from adcli.printing import Labels, Ropes, to_program
from adcli.simplify import simplified

DEPTH = 10_000
X = 0.5
GUARD = 300  # seconds: far beyond what a linear run takes, far below a quadratic one


def chain(depth: int) -> str:
    return "sin(" * depth + "x" + ")" * depth


@pytest.fixture(scope="module")
def deep_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("deep") / "deep.txt"
    path.write_text(chain(DEPTH) + "\n")
    return f"@{path}"


@pytest.fixture(scope="module")
def expected():
    """The value and derivative of the chain, and each node's value, by plain floats."""
    values = [X]
    for _ in range(DEPTH):
        values.append(math.sin(values[-1]))
    value, grad = adcli.compile(chain(DEPTH)).grad(x=X)
    slope = 1.0
    for v in values[:-1]:
        slope *= math.cos(v)
    assert value == values[-1] and grad["x"] == pytest.approx(slope, rel=1e-9)
    return value, grad["x"], values


@pytest.fixture(autouse=True)
def hang_guard():
    """Fail a run that hangs (as a quadratic printer at this depth would)."""

    def stop(signum, frame):
        raise TimeoutError(f"more than {GUARD} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(GUARD)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def label(k: int) -> str:
    """The node column of node ``sin^k(x)``: its formula cut to 28 characters."""
    text = "sin(" * k + "x" + ")" * k
    return text if len(text) <= 28 else text[:27] + "…"


@pytest.mark.slow
def test_diff_of_a_deep_chain_parses_back_to_the_gradient(run, deep_file, expected):
    r = run("diff", deep_file)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    # the named form: each shared sin(...) once, so the text is linear in the depth
    assert lines[0] == "t1 = sin(x)" and lines[1] == "t2 = sin(t1)"
    assert len(r.out) < 100 * DEPTH
    derivative = adcli.compile(r.out)
    assert derivative(x=X) == pytest.approx(expected[1], rel=1e-12)


@pytest.mark.slow
def test_diff_plain_and_latex_of_a_deep_chain(run, deep_file):
    refused = run("diff", deep_file, "--no-cse")  # quadratic text: over MAX_LINE
    assert refused.code == 2 and "--no-cse" in refused.err
    latex = run("diff", deep_file, "--format", "latex")
    assert latex.code == 0, latex.err
    assert latex.out.startswith(r"t_{1} = \sin\left(x\right)")


@pytest.mark.parametrize("fmt", ["markdown", "table"])
def test_the_per_node_table_of_a_deep_chain(run, deep_file, expected, fmt):
    depth = DEPTH if fmt == "markdown" else 2000  # rich draws a row in about 1 ms
    source = deep_file
    if fmt == "table":
        source = chain(depth)
    r = run("grad", source, "--at", str(X), "--format", fmt, "--no-color")
    assert r.code == 0, r.err
    rows = [ln for ln in r.out.splitlines() if ln.replace("|", " ").split()[:1] != []]
    numbered = [ln.replace("|", " ").split()[0] for ln in rows]
    assert [k for k in numbered if k.isdigit()] == [str(k) for k in range(1, depth + 2)]
    if fmt == "markdown":
        cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in rows]
        cells = [c for c in cells if c[0].isdigit()]
        assert [c[1] for c in cells] == [label(k) for k in range(depth + 1)]
        assert repr(expected[1]) in r.out  # ∂f/∂x under the table
    else:
        assert "sin(sin(sin(" in r.out and "…" in r.out  # cut to fit 80 columns


def test_graph_json_of_a_deep_chain(run, deep_file):
    r = run("graph", deep_file, "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert [n["id"] for n in data["nodes"]] == list(range(1, DEPTH + 2))
    assert [n["node"] for n in data["nodes"]] == [label(k) for k in range(DEPTH + 1)]
    assert len(data["edges"]) == DEPTH and data["outputs"] == [DEPTH + 1]


def test_graph_json_at_a_point_of_a_deep_chain(run, deep_file, expected):
    value, grad, values = expected
    r = run("graph", deep_file, "--at", str(X), "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    nodes = data["nodes"]
    assert len(nodes) == DEPTH + 1
    assert [n["value"] for n in nodes] == values
    assert nodes[0]["adjoint"] == grad and nodes[-1]["adjoint"] == 1.0
    assert [n["node"] for n in nodes[:3]] == ["x", "sin(x)", "sin(sin(x))"]
    assert all(e["local"] == math.cos(values[e["from"] - 1]) for e in data["edges"])


def _load(text: str) -> dict:
    namespace: dict = {"__name__": "generated"}
    exec(compile(text, "generated.py", "exec"), namespace)  # noqa: S102 - our own output
    return namespace


@pytest.mark.slow
def test_codegen_of_a_deep_chain_runs_and_matches_grad(run, deep_file, expected):
    r = run("codegen", deep_file)
    assert r.code == 0, r.err
    f = _load(r.out)["f"]
    assert f(X) == (expected[0], (expected[1],))  # the same steps: the same bits
    plain = run("grad", deep_file, "--at", str(X), "--format", "plain")
    assert plain.out.split() == [repr(expected[0]), repr(expected[1])]


@pytest.mark.slow
def test_codegen_numpy_of_a_deep_chain_runs_and_matches_grad(run, deep_file, expected):
    np = pytest.importorskip("numpy")
    r = run("codegen", deep_file, "--numpy")
    assert r.code == 0, r.err
    f = _load(r.out)["f"]
    points = np.array([X, 0.25, -1.0])
    value, (grad,) = f(points)
    want_value, want_grad = adcli.compile(chain(DEPTH)).grad(x=points)
    assert value[0] == pytest.approx(expected[0], rel=1e-12)
    assert grad[0] == pytest.approx(expected[1], rel=1e-9)
    assert np.allclose(value, want_value, rtol=1e-12, atol=0)
    assert np.allclose(grad, want_grad["x"], rtol=1e-9, atol=0)


# --- the printer's work, counted --------------------------------------------------------


def _derivative(depth: int):
    e = adcli.compile(chain(depth))
    return simplified(e.ir, e.derivative_nodes(["x"]))


@pytest.fixture
def operations(monkeypatch):
    """How many times the printer makes a node's text from its inputs' texts."""
    made = [0]
    real = printing._operation

    def counted(g, n, parts):
        made[0] += 1
        return real(g, n, parts)

    monkeypatch.setattr(printing, "_operation", counted)
    return made


def test_printing_a_deep_derivative_makes_each_node_once(operations):
    g, roots = _derivative(DEPTH)
    statements, formulas = to_program(g, roots)
    needed = sum(1 for n, on in enumerate(g.ancestors(roots)) if on)
    # the named form and the measured plain form: one rope per node each
    assert operations[0] <= 2 * needed
    text = "\n".join([*statements, *formulas])
    assert len(text) < 100 * DEPTH


def test_every_label_of_a_deep_table_costs_one_operation(operations):
    e = adcli.compile(chain(DEPTH))
    labels = [e.label(n) for n in e.numbers]
    assert labels[-1] == label(DEPTH)
    assert operations[0] == DEPTH  # one per sin node, not one per node of each subgraph
    assert [e.label(n, 60) for n in e.numbers][:2] == ["x", "sin(x)"]
    assert operations[0] == 2 * DEPTH


@pytest.mark.slow
def test_labels_of_a_deep_left_sum_are_linear(operations):
    """``x + x**2 + …``: the text starts at the bottom of the chain, so cutting a
    label from the whole rope would walk the chain for each row."""
    depth = DEPTH
    text = " + ".join(f"x**{k}" for k in range(1, depth + 1)).replace("x**1 ", "x ", 1)
    e = adcli.compile(text)
    rows = [e.label(n) for n in e.numbers]
    assert rows[-1] == text[:27] + "…"
    g = e.ir
    assert operations[0] == sum(1 for op in g.op if op not in ("const", "var"))
    for n in list(e.numbers)[:: depth // 7]:  # the rope printer cuts them the same way
        assert e.label(n) == printing.to_text(g, n, names=True, limit=28)


@pytest.mark.slow
def test_printing_memory_is_linear_in_the_depth():
    """The old printer kept every node's text: 2.5·n² bytes, 250 MB at 10^4."""
    peaks = []
    for depth in (DEPTH // 2, DEPTH):
        g, roots = _derivative(depth)
        tracemalloc.start()
        try:
            to_program(g, roots)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        peaks.append(peak)
    assert peaks[1] < 3 * peaks[0]  # twice the depth: about twice, not four times
    assert peaks[1] < 2000 * len(g)


def test_a_rope_spells_out_only_what_is_asked():
    g, roots = _derivative(DEPTH)
    ropes = Ropes(g, roots)
    (root,) = roots
    assert ropes.size[root] > 10**8  # the plain form is quadratic in the depth
    head = ropes.text(root, limit=40)
    assert len(head) == 40 and head.endswith("…")
    assert Labels(g)(root, 40) == head


def test_an_exponential_text_is_measured_without_huge_numbers():
    """``t = t*x + t`` 200 times: a text of 2^200 characters, never made."""
    program = "\n".join(["t0 = x + 1"] + [f"t{k} = t{k - 1}*x + t{k - 1}" for k in range(1, 201)])
    e = adcli.compile(program)
    ropes = Ropes(e.ir, e.outputs)
    assert ropes.size[e.outputs[0]] == printing.CAP
    statements, _ = to_program(e.ir, e.outputs)
    assert len(statements) == 200


def test_a_node_read_twice_by_one_operation_is_named_when_printed():
    # t*t writes t's text twice: 40 such statements printed without names would be
    # 2^40 characters long, so t is a shared part (str() hung before)
    program = "t0 = x + 1\n" + "\n".join(f"t{k} = t{k - 1}*t{k - 1} + 1" for k in range(1, 41))
    text = str(adcli.compile(program))
    assert len(text) < 2000 and text.count("\n") == 40
    assert adcli.compile(text)(x=0.1) == adcli.compile(program)(x=0.1)
