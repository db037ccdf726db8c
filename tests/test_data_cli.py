"""The command line on data and arrays (SPEC §9, §10): ``--data``, ``--with``,
``--seed``, ``--save``, minibatches, and the mistakes a user makes with them.

Every data file is written by the test into its own folder (the tests run there, so
messages name files as a user typed them)."""

from __future__ import annotations

import json

import numpy as np
import pytest

# --- data every test can write ---------------------------------------------------------

# Seed 002's rows: x = linspace(-1, 1, 100), y = 3x + 0.5·noise, the noise drawn with a
# fixed seed (the seed itself draws it unseeded).
X = np.linspace(-1, 1, 100)
Y = 3 * X + 0.5 * np.random.default_rng(2).standard_normal(100)
LOSS = "sum((x*w + b - y)**2)"


def write_csv(path, columns: dict[str, np.ndarray]) -> None:
    """A CSV with every number in full (repr), so it reads back bit for bit."""
    names = list(columns)
    lines = [",".join(names)]
    lines += [",".join(repr(float(v)) for v in row) for row in zip(*columns.values())]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def here(tmp_path, monkeypatch):
    """The test's folder, made the working directory, with seed 002's rows in line.csv
    and a small table s.csv (x = 1, 2, 3; y = 2, 4, 7)."""
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "line.csv", {"x": X, "y": Y})
    (tmp_path / "s.csv").write_text("x,y\n1,2\n2,4\n3,7\n")
    return tmp_path


def numbers(line: str, separator: str = " ") -> list[float]:
    return [float(v) for v in line.split(separator)]


def clean_failure(r, code: int = 2, first: bool = True) -> None:
    """An input mistake: its exit status, one message (``first``: before anything else),
    never a traceback."""
    assert r.code == code, r
    assert "Traceback" not in r.err, r.err
    assert "failed unexpectedly" not in r.err, r.err
    assert r.err.startswith("error: ") if first else "\nerror: " in r.err, r.err


# --- seed 002 --------------------------------------------------------------------------


def simpleflow_loop(x, y, lr=0.005, steps=20):
    """Seed 002's loop in numpy: the loss at each step, then the update by its gradient.
    Returns [(w, b, loss)] at each step and at the final point."""
    w, b = 1.0, 0.0
    log = []
    for _ in range(steps):
        r = x * w + b - y
        log.append((w, b, float(np.sum(r**2))))
        w, b = w - lr * float(np.sum(2 * r * x)), b - lr * float(np.sum(2 * r))
    log.append((w, b, float(np.sum((x * w + b - y) ** 2))))
    return log


SEED_002 = ["minimize", LOSS, "--data", "line.csv", "--start", "w=1,b=0", "--lr", "0.005",
            "--steps", "20", "--tol", "0"]  # fmt: skip


def test_seed_002_csv_trace_is_simpleflows_log(run, here):
    r = run(*SEED_002, "--format", "csv", "--trace")
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "step,w,b,loss,loss_per_row,grad_norm"
    rows = [numbers(line, ",") for line in lines[1:]]
    log = simpleflow_loop(X, Y)
    assert len(rows) == 21  # step 0 (the start) to step 20 (the final point)
    for k, (row, (w, b, loss)) in enumerate(zip(rows, log)):
        assert row[0] == k
        assert row[1:3] == pytest.approx([w, b], rel=1e-12, abs=1e-15)
        assert row[3] == pytest.approx(loss, rel=1e-12)
        assert row[4] == pytest.approx(loss / 100, rel=1e-12)  # the mse
    assert "reason: max-steps" in r.err
    assert "the loss fell from 151.097232165406" in r.err


def test_seed_002_json_trace_and_result(run, here):
    r = run(*SEED_002, "--format", "json")
    assert r.code == 0, r
    *steps, result = [json.loads(line) for line in r.out.splitlines()]
    log = simpleflow_loop(X, Y)
    assert [s["step"] for s in steps] == list(range(21))
    for s, (w, b, loss) in zip(steps, log):
        assert s["at"]["w"] == pytest.approx(w, rel=1e-12)
        assert s["at"]["b"] == pytest.approx(b, rel=1e-12, abs=1e-15)
        assert s["loss"] == pytest.approx(loss, rel=1e-12)
        assert s["loss_per_row"] == pytest.approx(loss / 100, rel=1e-12)
    w, b, loss = log[-1]
    result = result["result"]
    assert result["params"]["w"] == pytest.approx(w, rel=1e-12)
    assert result["params"]["b"] == pytest.approx(b, rel=1e-12)
    assert result["loss"] == pytest.approx(loss, rel=1e-12)
    assert result["steps"] == 20 and result["reason"] == "max-steps"


def test_seed_002_plain_prints_the_final_w_and_b(run, here):
    r = run(*SEED_002)
    assert r.code == 0, r
    assert len(r.out.splitlines()) == 1  # no trace in plain unless asked
    w, b, loss = numbers(r.out.strip())
    fw, fb, floss = simpleflow_loop(X, Y)[-1]
    assert w == pytest.approx(fw, rel=1e-12)
    assert b == pytest.approx(fb, rel=1e-12)
    assert loss == pytest.approx(floss, rel=1e-12)
    assert abs(w - 3) < 0.1  # the slope of the rows, nearly
    # with --trace, plain writes a line per step first (step, w, b, loss, mse, ‖∇‖)
    traced = run(*SEED_002, "--trace").out.splitlines()
    assert len(traced) == 22 and traced[-1] == r.out.strip()
    residual = X - Y  # at w=1, b=0
    gnorm = float(np.hypot(np.sum(2 * residual * X), np.sum(2 * residual)))
    loss0 = simpleflow_loop(X, Y)[0][2]
    assert numbers(traced[0]) == pytest.approx([0, 1, 0, loss0, loss0 / 100, gnorm], rel=1e-12)


def test_seed_002_from_standard_input_through_the_installed_script(shell, here):
    """``--data -`` reads CSV from stdin, in the console script a user runs."""
    args = [a if a != "line.csv" else "-" for a in SEED_002]
    r = shell(*args, stdin=(here / "line.csv").read_text())
    assert r.code == 0, r
    w, b, _ = numbers(r.out.strip())
    fw, fb, _ = simpleflow_loop(X, Y)[-1]
    assert (w, b) == pytest.approx((fw, fb), rel=1e-12)


def test_trace_every_k_steps_and_the_table(run, here):
    r = run(*SEED_002, "--trace", "--every", "5")
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert [int(line.split()[0]) for line in lines[:-1]] == [0, 5, 10, 15, 20]
    table = run(*SEED_002, "--format", "table")
    assert table.code == 0, table
    for text in ("loss/n", "‖∇‖", "151.097", "w = 2.943966498364707", "after 20 steps",
                 "max-steps"):  # fmt: skip
        assert text in table.out, table.out


# --- minibatches -----------------------------------------------------------------------

MEAN_LOSS = "mean((x*w + b - y)**2)"


def test_minibatches_in_file_order_and_shuffled_by_seed(run, here):
    args = ["minimize", MEAN_LOSS, "--data", "line.csv", "--start", "w=0,b=0", "--lr", "0.1",
            "--batch-size", "30", "--epochs", "2", "--trace", "--format", "csv"]  # fmt: skip
    ordered = run(*args, "--no-shuffle")
    assert ordered.code == 0, ordered
    lines = ordered.out.splitlines()
    assert lines[0] == "step,epoch,w,b,loss,grad_norm"  # a mean: no loss per row beside it
    rows = [numbers(line, ",") for line in lines[1:]]
    assert [r[:2] for r in rows] == [[0, 0], [1, 0], [2, 0], [3, 0], [4, 1], [5, 1], [6, 1],
                                     [7, 1]]  # ⌈100/30⌉ = 4 steps an epoch  # fmt: skip
    # the first step sees the first 30 rows; the last of an epoch the 10 left
    assert rows[0][4] == pytest.approx(float(np.mean(Y[:30] ** 2)), rel=1e-12)
    assert rows[3][4] == pytest.approx(
        float(np.mean((X[90:] * rows[3][2] + rows[3][3] - Y[90:]) ** 2)), rel=1e-12
    )
    shuffled = [run(*args, "--seed", seed).out for seed in ("1", "1", "2")]
    assert shuffled[0] == shuffled[1]  # the same seed, the same run
    assert shuffled[0] != shuffled[2] and shuffled[0] != ordered.out


# --- seed 003: the digits network ------------------------------------------------------

NET = """param W1 = he(64, 32)
param b1 = zeros(32)
param W2 = glorot(32, 10)
param b2 = zeros(10)
mean(xent(relu(X @ W1 + b1) @ W2 + b2, label))
"""
ACCURACY = "mean(argmax(relu(X @ W1 + b1) @ W2 + b2, 1) == label)"


@pytest.fixture
def digits(here):
    """scikit-learn's 8×8 digits, X/16, split by a fixed permutation into 1500 training
    rows and 297 held out, as train.npz and test.npz; the network in net.adcli."""
    from sklearn.datasets import load_digits

    data = load_digits()
    features, label = data.data / 16.0, data.target.astype(np.float64)
    order = np.random.default_rng(0).permutation(len(label))
    train, test = order[:1500], order[1500:]
    np.savez(here / "train.npz", X=features[train], label=label[train])
    np.savez(here / "test.npz", X=features[test], label=label[test])
    (here / "net.adcli").write_text(NET)
    return here


def train_net(run, seed: str, save: str):
    r = run("minimize", "@net.adcli", "--data", "train.npz", "--batch-size", "32",
            "--epochs", "20", "--lr", "0.1", "--method", "momentum", "--seed", seed,
            "--save", save)  # fmt: skip
    assert r.code == 0, r
    assert f"saved the parameters to {save}" in r.err
    return r


def accuracy(run, params: str) -> float:
    r = run("eval", ACCURACY, "--data", "test.npz", "--with", f"@{params}")
    assert r.code == 0, r
    return float(r.out)


def test_seed_003_digits_network_learns_and_repeats(run, digits):
    first = train_net(run, "0", "params.npz")
    assert "reason: max-steps" in first.err and "in 940 steps" in first.err  # 20·⌈1500/32⌉
    score = accuracy(run, "params.npz")
    assert score >= 0.95
    assert score * 297 == pytest.approx(round(score * 297), abs=1e-9)  # a share of 297 rows
    saved = dict(np.load("params.npz"))
    assert {n: a.shape for n, a in saved.items()} == {
        "W1": (64, 32), "b1": (32,), "W2": (32, 10), "b2": (10,)
    }  # fmt: skip
    train_net(run, "0", "again.npz")
    again = dict(np.load("again.npz"))
    for name in saved:
        assert saved[name].tobytes() == again[name].tobytes(), name  # bit for bit
    train_net(run, "1", "other.npz")
    other = np.load("other.npz")
    assert not np.array_equal(saved["W1"], other["W1"])
    # JSON keeps every digit: the same run saved as .json scores the same
    train_net(run, "0", "params.json")
    doc = json.loads((digits / "params.json").read_text())
    assert np.array_equal(np.array(doc["params"]["W2"]), saved["W2"])
    assert accuracy(run, "params.json") == score


def test_start_from_saved_params(run, digits):
    """``--start @params.npz`` starts from saved arrays: with no step taken, the loss
    reported is the loss ``eval`` gives with ``--with`` the same file."""
    rng = np.random.default_rng(4)
    arrays = {"W1": rng.normal(size=(64, 32)) * 0.1, "b1": np.zeros(32),
              "W2": rng.normal(size=(32, 10)) * 0.1, "b2": np.full(10, 0.5)}  # fmt: skip
    np.savez("start.npz", **arrays)
    r = run("minimize", "@net.adcli", "--data", "test.npz", "--start", "@start.npz",
            "--steps", "0")  # fmt: skip
    assert r.code == 0, r
    loss = run("eval", NET, "--data", "test.npz", "--with", "@start.npz")
    assert loss.code == 0, loss
    assert float(r.out) == float(loss.out)
    # a start of the wrong shape is named
    np.save("w1.npy", np.zeros(3))
    wrong = run("minimize", "@net.adcli", "--data", "test.npz", "--start", "W1=@w1.npy")
    clean_failure(wrong)
    assert "W1 has shape [3]; the expression takes [64, 32]" in wrong.err


# --- eval on data ----------------------------------------------------------------------


def test_eval_per_row_in_every_format(run, here):
    args = ["eval", "x*w + b", "--data", "s.csv", "--with", "w=2", "--at", "b=1"]
    plain = run(*args)
    assert plain.code == 0, plain
    assert plain.out == "3.0\n5.0\n7.0\n"
    csv = run(*args, "--format", "csv")
    assert csv.out == "x,value\n1.0,3.0\n2.0,5.0\n3.0,7.0\n"  # the vector columns it reads
    lines = [json.loads(line) for line in run(*args, "--format", "json").out.splitlines()]
    assert lines == [{"at": {"x": 1.0}, "value": 3.0}, {"at": {"x": 2.0}, "value": 5.0},
                     {"at": {"x": 3.0}, "value": 7.0}]  # fmt: skip


def test_eval_a_reduced_value_is_printed_once(run, here):
    r = run("eval", "sum(x*w)", "--data", "s.csv", "--with", "w=2")
    assert (r.code, r.out) == (0, "12.0\n")
    r = run("eval", "mean((x - y)**2)", "--data", "s.csv", "--format", "json")
    assert json.loads(r.out) == {"value": pytest.approx((1 + 4 + 16) / 3, rel=1e-15)}
    # a per-row output beside a reduced one: the reduced value on every row
    r = run("eval", "x*w, sum(y)", "--data", "s.csv", "--with", "w=2")
    assert r.out == "2.0 13.0\n4.0 13.0\n6.0 13.0\n"


def test_eval_binds_scalars_with_with_and_at(run, here):
    both = run("eval", "sum(x*w + b)", "--data", "s.csv", "--with", "w=2", "--at", "b=0.5")
    assert (both.code, both.out) == (0, "13.5\n")
    # inside a program, --with overrides a param's start value
    r = run("eval", "param w = 1.0; sum(x*w)", "--data", "s.csv", "--with", "w=3")
    assert r.out == "18.0\n"


def test_eval_a_matrix_output(run, here):
    m = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.savez("m.npz", M=m)
    expected = m.T @ m
    plain = run("eval", "transpose(M) @ M", "--data", "m.npz")
    assert plain.code == 0, plain
    assert [numbers(line) for line in plain.out.splitlines()] == expected.tolist()
    as_json = json.loads(run("eval", "transpose(M) @ M", "--data", "m.npz", "-f", "json").out)
    assert as_json == {"value": expected.tolist()}
    # a param of two dimensions, without data
    r = run("eval", "param A = full(2, 2, 3); A*x", "--at", "x=2", "-f", "json")
    assert json.loads(r.out) == {"value": [[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]}


def test_eval_per_row_of_a_matrix_column_and_the_held_out_predictions(run, digits):
    r = run("eval", "X[:, 0:3]", "--data", "test.npz", "-f", "csv")
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "value_1,value_2,value_3" and len(lines) == 1 + 297
    assert numbers(lines[1], ",") == np.load("test.npz")["X"][0, :3].tolist()


# --- grad on data ----------------------------------------------------------------------

LINEAR = """param W = full(0.5, 2, 3)
param c = zeros(3)
sum((M @ W + c)**2)
"""
M = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def linear_gradients():
    w, c = np.full((2, 3), 0.5), np.zeros(3)
    r = M @ w + c
    return float(np.sum(r**2)), M.T @ (2 * r), np.sum(2 * r, axis=0)


@pytest.fixture
def linear(here):
    np.savez(here / "m.npz", M=M)
    (here / "lin.adcli").write_text(LINEAR)
    return here


def test_grad_plain_prints_the_value_and_scalar_gradients(run, here):
    r = run("grad", LOSS, "--data", "s.csv", "--at", "w=1,b=0")
    assert r.code == 0, r
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])
    res = x - y
    assert numbers(r.out) == [np.sum(res**2), np.sum(2 * res * x), np.sum(2 * res)]
    csv = run("grad", LOSS, "--data", "s.csv", "--at", "w=1,b=0", "-f", "csv")
    assert csv.out.splitlines()[0] == "value,grad_w,grad_b"


def test_grad_json_gives_arrays_of_the_params_shapes(run, linear):
    r = run("grad", "@lin.adcli", "--data", "m.npz", "--format", "json")
    assert r.code == 0, r
    value, dw, dc = linear_gradients()
    got = json.loads(r.out)
    assert got["value"] == value
    assert np.array(got["grad"]["W"]).shape == (2, 3)
    assert got["grad"]["W"] == dw.tolist()
    assert got["grad"]["c"] == dc.tolist()
    # plain prints the value and says where the array gradients are
    plain = run("grad", "@lin.adcli", "--data", "m.npz")
    assert plain.out == f"{value!r}\n"
    assert "W [2, 3], c [3] are arrays" in plain.err and "--save FILE.npz" in plain.err


def test_grad_save_writes_the_gradients(run, linear):
    r = run("grad", "@lin.adcli", "--data", "m.npz", "--save", "g.npz")
    assert r.code == 0, r
    _, dw, dc = linear_gradients()
    saved = np.load("g.npz")
    assert sorted(saved.files) == ["W", "c"]
    assert np.array_equal(saved["W"], dw) and np.array_equal(saved["c"], dc)
    assert "are arrays" not in r.err  # no advice to do what was done


def test_grad_table_has_a_shape_column(run, linear):
    r = run("grad", "@lin.adcli", "--data", "m.npz", "--format", "table")
    assert r.code == 0, r
    header = next(line for line in r.out.splitlines() if "node" in line)
    assert "shape" in header.split()
    assert "[2, 3]" in r.out and "[3, 2]" in r.out  # W, and M's rows by its columns
    assert "∂f/∂W = [2×3] 79…100" in r.out  # a summary of the 6 elements


# --- mistakes: exit 2, the thing named, the fix given ----------------------------------


def test_shape_mismatch_shows_both_shapes_and_the_operator(run, digits):
    text = "param W = zeros(32, 10); sum(X @ W)"
    r = run("eval", text, "--data", "train.npz")
    clean_failure(r)
    assert "shapes [rows, 64] and [32, 10] don't fit for @ (64 ≠ 32)" in r.err
    assert "transpose" not in r.err  # it would not fit either
    assert "the left's last axis must match the right's first" in r.err
    lines = r.err.splitlines()
    source = next(i for i, line in enumerate(lines) if line.strip() == text)
    assert lines[source + 1].index("^") == lines[source].index("@")  # the caret under @
    flipped = run("eval", "param W = zeros(10, 64); sum(X @ W)", "--data", "train.npz")
    assert "did you mean transpose(...)?" in flipped.err  # where it would fit


@pytest.mark.parametrize("command", [["minimize", "--start", "w=1"], ["grad", "--at", "w=1"]])
def test_a_per_row_loss_is_named(run, here, command):
    r = run(command[0], "(x*w - y)**2", "--data", "s.csv", *command[1:])
    clean_failure(r)
    assert "one value per data row" in r.err
    assert "mean(...)" in r.err and "sum(...)" in r.err


@pytest.mark.parametrize("command,option", [("eval", "--at"), ("grad", "--at"),
                                            ("minimize", "--start")])  # fmt: skip
def test_a_variable_neither_column_nor_given(run, here, command, option):
    r = run(command, "sum((x*w + q - y)**2)", "--data", "s.csv", option, "w=1")
    clean_failure(r)
    assert "no value for q" in r.err
    assert f"{option} q=..." in r.err and "the data has x, y" in r.err


def test_a_ragged_row_names_its_line(run, here):
    (here / "rag.csv").write_text("x,y\n1,2\n2,4,5\n3,7\n")
    r = run("eval", "sum(x)", "--data", "rag.csv")
    clean_failure(r)
    assert "line 3 of rag.csv has 3 fields; the header has 2" in r.err


def test_a_non_numeric_cell_names_line_and_column(run, here):
    (here / "bad.csv").write_text("x,y\n1,2\n2,abc\n3,7\n")
    r = run("minimize", LOSS, "--data", "bad.csv", "--start", "w=1,b=0")
    clean_failure(r)
    assert "line 3 of bad.csv, column y: 'abc' is not a number" in r.err
    # a column the expression does not read is not converted
    unused = run("eval", "sum(x)", "--data", "bad.csv")
    assert (unused.code, unused.out) == (0, "6.0\n")


def test_row_counts_differ_across_files(run, here):
    (here / "z.csv").write_text("z\n1\n2\n")
    r = run("eval", "sum(x*z)", "--data", "s.csv", "--data", "z.csv")
    clean_failure(r)
    assert "x has 3 rows (s.csv) and z has 2 (z.csv)" in r.err


def test_save_with_an_unknown_extension(run, here):
    r = run("minimize", "sum((x*w - y)**2)", "--data", "s.csv", "--start", "w=1",
            "--lr", "0.01", "--save", "p.txt")  # fmt: skip
    clean_failure(r)
    assert "--save p.txt: unknown format" in r.err and ".npz or .json" in r.err
    assert not (here / "p.txt").exists()


def test_with_naming_a_data_column(run, here):
    r = run("eval", "sum(x*w)", "--data", "s.csv", "--with", "x=1,w=2")
    clean_failure(r)
    assert "--with gives x, but x is a column of s.csv" in r.err


def test_batch_size_zero(run, here):
    r = run("minimize", MEAN_LOSS, "--data", "s.csv", "--start", "w=1,b=0", "--batch-size", "0")
    clean_failure(r)
    assert "--batch-size must be a whole number ≥ 1, got 0" in r.err


def test_a_diverging_run_on_data_exits_1(run, here):
    r = run("minimize", "sum((x*w - y)**2)", "--data", "s.csv", "--start", "w=1", "--lr", "1")
    assert r.code == 1, r
    assert "reason: diverged" in r.err and "lower --lr" in r.err
    assert "Traceback" not in r.err
    as_json = run("minimize", "sum((x*w - y)**2)", "--data", "s.csv", "--start", "w=1",
                  "--lr", "1", "-f", "json")  # fmt: skip
    assert as_json.code == 1
    assert json.loads(as_json.out.splitlines()[-1])["result"]["reason"] == "diverged"


# --- found while using it: mistakes that once went unnoticed -------------------------


def test_minibatch_diagnosis_compares_like_with_like(run, here):
    """From w=b=0 the loss over all 100 rows falls (from sum(y²) ≈ 330 to about 280),
    but the first batch holds 10 rows, so its loss is about 32."""
    r = run("minimize", LOSS, "--data", "line.csv", "--start", "w=0,b=0", "--lr", "0.001",
            "--batch-size", "10", "--epochs", "1")  # fmt: skip
    assert r.code == 0, r
    assert float(r.out.split()[-1]) < float(np.sum(Y**2))
    assert "the loss fell" in r.err, r.err


def test_maximize_on_data_speaks_of_rising(run, here):
    r = run("minimize", "0 - " + LOSS, "--data", "line.csv", "--start", "w=1,b=0",
            "--lr", "0.005", "--steps", "20", "--tol", "0", "--maximize")  # fmt: skip
    assert r.code == 0, r
    assert float(r.out.split()[-1]) > -151  # it rose from -151.1 to -22.5
    assert "did not" not in r.err, r.err


def test_save_extension_is_checked_before_training(run, here):
    r = run("minimize", "sum((x*w - y)**2)", "--data", "s.csv", "--start", "w=1",
            "--lr", "0.01", "--save", "p.txt")  # fmt: skip
    clean_failure(r)
    assert r.out == "" and "reason:" not in r.err, r


def test_two_at_on_data_is_an_error(run, here):
    r = run("eval", "sum(x*w)", "--data", "s.csv", "--at", "w=1", "--at", "w=2")
    clean_failure(r)


def test_with_an_array_of_the_wrong_shape(run, here):
    np.savez("w3.npz", W=np.zeros(3))
    r = run("eval", "param W = zeros(2); sum((W - 3)**2)", "--with", "@w3.npz")
    clean_failure(r)
    assert "[3]" in r.err and "[2]" in r.err


def test_with_a_number_for_an_array_param(run, here):
    r = run("grad", "param W = zeros(2); sum((W - 3)**2)", "--with", "W=1", "-f", "json")
    assert r.code == 2 or json.loads(r.out)["grad"]["W"] == [-4.0, -4.0], r


def test_minimize_params_without_data(run, here):
    r = run("minimize", "param W = zeros(2); sum((W - 3)**2)", "--steps", "100", "-f", "json")
    assert r.code == 0, r
    result = json.loads(r.out.splitlines()[-1])["result"]
    assert result["params"]["W"] == pytest.approx([3.0, 3.0], abs=1e-8)


@pytest.mark.parametrize("args", [
    ["eval", "x*2", "--data", "empty.csv"],
    ["minimize", "mean((x*w)**2)", "--data", "empty.csv", "--start", "w=1", "--batch-size", "2",
     "--epochs", "1"],
])  # fmt: skip
def test_a_data_file_without_rows(run, here, args):
    (here / "empty.csv").write_text("x\n")
    r = run(*args)
    assert r.code in (0, 2), r
    assert "failed unexpectedly" not in r.err


def test_a_negative_seed(run, here):
    r = run("eval", "param w = normal(1, 2); sum(w)", "--seed", "-1")
    clean_failure(r)
    assert "--seed" in r.err


def test_csv_of_a_reduced_value_has_a_header(run, here):
    r = run("eval", "sum(x)", "--data", "s.csv", "--format", "csv")
    assert r.out == "value\n6.0\n"


def test_compare_on_data_is_run_or_refused(run, here):
    r = run(*SEED_002, "--compare", "gd,adam")
    assert r.code == 2 or r.out.splitlines()[0].startswith("gd "), r


def test_a_column_named_like_a_constant(run, here):
    (here / "e.csv").write_text("x,e\n1,2\n2,4\n")
    r = run("eval", "sum(x*e)", "--data", "e.csv")
    assert r.code == 2 or "constant" in r.err, r


def test_nan_in_the_data_is_not_blamed_on_the_learning_rate(run, here):
    (here / "nan.csv").write_text("x,y\n1,2\nnan,4\n3,7\n")
    r = run("minimize", "sum((x*w - y)**2)", "--data", "nan.csv", "--start", "w=1",
            "--lr", "0.01")  # fmt: skip
    assert r.code in (1, 2), r
    assert "lower --lr" not in r.err, r.err


def test_with_a_saved_fit_predicts_at_new_points(run, here):
    """SPEC §9: `adcli eval MODEL --at @new.csv --with @fit.json` predicts from a saved
    fit: the numbers of --with are held at every point, --at gives the rest."""
    (here / "new.csv").write_text("x\n1\n2\n3\n")
    (here / "fit.json").write_text('{"params": {"a": 2.0, "b": 0.5}, "rss": 1.0}\n')
    r = run("eval", "a*x + b", "--at", "@new.csv", "--with", "@fit.json")
    assert (r.code, r.out) == (0, "2.5\n4.5\n6.5\n"), r
    g = run("grad", "a*x + b", "--at", "x=1:3:3", "--with", "a=2,b=1", "--wrt", "x")
    assert g.out == "3.0 2.0\n5.0 2.0\n7.0 2.0\n"  # value, ∂/∂x
    bad = run("eval", "a*x", "--at", "1", "--with", "a=2,c=3")
    clean_failure(bad)
    assert "--with gives c, which the expression does not use" in bad.err


def test_minimize_holds_with_values_fixed(run, here):
    r = run("minimize", "(x-a)**2", "--start", "x=0", "--with", "a=3", "--steps", "200",
            "--format", "json")  # fmt: skip
    assert r.code == 0, r
    result = json.loads(r.out.splitlines()[-1])["result"]
    assert list(result["params"]) == ["x"] and result["params"]["x"] == pytest.approx(3.0)


def test_per_row_outputs_beside_values_without_rows(run, here):
    np.savez("d.npz", X=np.arange(6.0).reshape(3, 2))
    r = run("eval", "X[:, 0], sum(X, 0)", "--data", "d.npz")
    assert r.out == "0.0 6.0 9.0\n2.0 6.0 9.0\n4.0 6.0 9.0\n"


def test_what_the_arrays_path_does_not_do_is_refused(run, here):
    np.savez("d.npz", X=np.arange(6.0).reshape(3, 2))
    for args, message in [
        (["grad", "sum(X*w)", "--data", "d.npz", "--at", "w=1", "--mode", "forward"],
         "--mode forward is for programs of numbers"),
        (["grad", "sum(X*w)", "--data", "d.npz", "--at", "w=1", "--explain"],
         "--explain is for programs of numbers"),
        (["hessian", "sum(X**2)", "--data", "d.npz", "--wrt", "X"],
         "X has a value per data row"),
    ]:  # fmt: skip
        r = run(*args)
        clean_failure(r)
        assert message in r.err, (args, r.err)
