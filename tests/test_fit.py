"""adcli fit (SPEC §9): least squares on the exact Jacobian, and its statistics."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import BACKENDS

import adcli

X = np.linspace(-1, 1, 100)
Y = X * 3 + np.random.default_rng(2).standard_normal(100) * 0.5


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open("line.csv", "w") as f:
        f.write("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(X, Y)))
    return tmp_path


def closed_form(A: np.ndarray, y: np.ndarray, w: np.ndarray | None = None):
    """Least squares by the book: estimates and s²(AᵀWA)⁻¹'s standard errors."""
    w = np.ones(len(y)) if w is None else w
    Aw, yw = A * np.sqrt(w)[:, None], y * np.sqrt(w)
    coef = np.linalg.solve(Aw.T @ Aw, Aw.T @ yw)
    rss = float(np.sum((yw - Aw @ coef) ** 2))
    cov = rss / (len(y) - A.shape[1]) * np.linalg.inv(Aw.T @ Aw)
    return coef, np.sqrt(np.diag(cov)), rss


def test_seed_002_fit_is_the_least_squares_line(run, here):
    r = run("fit", "y ~ w*x + b", "--data", "line.csv", "--start", "w=1,b=0", "-f", "json")
    assert r.code == 0, r
    got = json.loads(r.out)
    coef, se, rss = closed_form(np.c_[X, np.ones(100)], Y)
    assert [got["params"]["w"], got["params"]["b"]] == pytest.approx(coef, rel=1e-10, abs=1e-12)
    assert [got["stderr"]["w"], got["stderr"]["b"]] == pytest.approx(se, rel=1e-10)
    assert got["rss"] == pytest.approx(rss, rel=1e-12)
    assert got["dof"] == 98 and got["converged"] is True
    low, high = got["ci95"]["w"]
    assert (high - low) / 2 == pytest.approx(1.984467454 * se[0], rel=1e-8)  # t(0.975, 98)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_linear_model_of_three_parameters_equals_the_closed_form(backend):
    rng = np.random.default_rng(5)
    x, z = rng.normal(size=50), rng.normal(size=50)
    y = 1.5 + 2 * x - 0.7 * z + rng.normal(scale=0.1, size=50)
    f = adcli.compile("a + b*x + c*z", shapes={"x": (None,), "z": (None,)}, backend=backend)
    fit = f.fit(y, {"x": x, "z": z})
    coef, se, rss = closed_form(np.c_[np.ones(50), x, z], y)
    assert fit.estimates == pytest.approx(coef, rel=1e-10)
    assert fit.stderr == pytest.approx(se, rel=1e-10)
    assert fit.rss == pytest.approx(rss, rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_weights_are_the_weighted_least_squares(run, here, backend):
    w = np.linspace(0.5, 2, 100)
    np.savez("d.npz", x=X, y=Y, w=w)
    r = run("fit", "y ~ a*x + c", "--data", "d.npz", "--weights", "w", "-f", "json",
            "--backend", backend)  # fmt: skip
    got = json.loads(r.out)
    coef, se, _ = closed_form(np.c_[X, np.ones(100)], Y, w)
    assert [got["params"]["a"], got["params"]["c"]] == pytest.approx(coef, rel=1e-10)
    assert [got["stderr"]["a"], got["stderr"]["c"]] == pytest.approx(se, rel=1e-10)


def test_a_nonlinear_fit_recovers_its_parameters(run, here):
    rng = np.random.default_rng(7)
    t = np.linspace(0, 4, 200)
    y = 2.5 * np.exp(-1.3 * t) + 0.4 + rng.normal(scale=1e-3, size=200)
    np.savez("decay.npz", t=t, y=y)
    r = run("fit", "y ~ a*exp(-k*t) + c", "--data", "decay.npz", "--start", "a=1,k=1,c=0")
    assert r.code == 0, r
    a, k, c = map(float, r.out.split())
    assert (a, k, c) == pytest.approx((2.5, 1.3, 0.4), abs=5e-3)
    assert "reason: converged" in r.err


def test_bounds_keep_the_estimates_inside(run, here):
    r = run("fit", "y ~ w*x + b", "--data", "line.csv", "--bounds", "w=0:2.5", "-f", "json")
    got = json.loads(r.out)
    assert got["params"]["w"] == pytest.approx(2.5) and got["method"] == "trf"


def test_predict_writes_the_rows_with_fitted_and_residual(run, here):
    r = run("fit", "y ~ w*x + b", "--data", "line.csv", "--predict", "-f", "csv")
    lines = r.out.splitlines()
    assert lines[0] == "y,x,fitted,residual" and len(lines) == 101
    y, x, fitted, residual = map(float, lines[1].split(","))
    assert (y, x) == (Y[0], X[0]) and residual == pytest.approx(y - fitted, abs=1e-15)


def test_a_saved_fit_predicts_new_data_through_eval(run, here):
    r = run("fit", "y ~ w*x + b", "--data", "line.csv", "--save", "fit.json")
    assert r.code == 0 and "saved the fit to fit.json" in r.err
    (here / "new.csv").write_text("x\n0\n1\n")
    w, b = map(float, r.out.split())
    p = run("eval", "w*x + b", "--at", "@new.csv", "--with", "@fit.json")
    assert p.out == f"{b!r}\n{w + b!r}\n"


def test_every_output_format(run, here):
    table = run("fit", "y ~ w*x + b", "--data", "line.csv", "-f", "table", "--corr")
    assert "95 % interval" in table.out and "residual standard error" in table.out
    assert "98 degrees of freedom" in table.out and "R²: 0.929" in table.out
    csv = run("fit", "y ~ w*x + b", "--data", "line.csv", "-f", "csv").out.splitlines()
    assert csv[0] == "parameter,estimate,stderr,t,ci95_low,ci95_high" and len(csv) == 3
    for fmt in ("markdown", "latex"):
        assert "2.94444" in run("fit", "y ~ w*x + b", "--data", "line.csv", "-f", fmt).out


def test_starts_not_given_are_1_and_said(run, here):
    r = run("fit", "y ~ w*x + b", "--data", "line.csv", "--start", "w=2")
    assert "note: b starts at 1 (give --start b=...; the data's columns are " in r.err


@pytest.mark.parametrize("args, message", [
    (["y = w*x + b"], "a fit is TARGET ~ MODEL, and 'y = w*x + b' has no ~"),
    (["q ~ w*x + b"], "the target reads q, which no --data file has"),
    (["y ~ w*x + b", "--start", "z=1"], "z is given a start value but is not a parameter"),
    (["y ~ x"], "the model has no parameters to fit"),
    (["y ~ w*x", "--weights", "v"], "--weights v: no --data file has that column"),
    (["y ~ w*x", "--bounds", "w=3:1"], "--bounds 'w=3:1' is not NAME=LOW:HIGH"),
    (["y ~ w*x", "--method", "newton"], "unknown method 'newton'"),
    (["y ~ w*x", "--save", "f.txt"], "a fit is saved as .json"),
])  # fmt: skip
def test_fit_mistakes_are_named(run, here, args, message):
    r = run("fit", *args[:1], "--data", "line.csv", *args[1:])
    assert r.code == 2, r
    assert message in r.err and "Traceback" not in r.err


def test_a_non_numeric_cell_and_no_data_are_input_errors(run, here):
    (here / "bad.csv").write_text("x,y\n1,2\n2,abc\n")
    r = run("fit", "y ~ w*x", "--data", "bad.csv")
    assert r.code == 2 and "line 3 of bad.csv, column y: 'abc' is not a number" in r.err
    assert run("fit", "y ~ w*x").code == 2


def test_a_fit_that_does_not_converge_exits_1_with_its_estimates(run, here):
    r = run("fit", "y ~ exp(w*x*1000)", "--data", "line.csv", "--start", "w=1")
    assert r.code == 1, r
    assert "reason: not converged" in r.err and r.out.strip()


def newton_glm(X: np.ndarray, t: np.ndarray, kind: str):
    """The maximum-likelihood estimate of a logistic or poisson GLM by the book
    (Newton's iteration), and its standard errors from the analytic Hessian XᵀWX."""
    beta = np.zeros(X.shape[1])
    for _ in range(100):
        eta = X @ beta
        mu = 1 / (1 + np.exp(-eta)) if kind == "logistic" else np.exp(eta)
        weight = mu * (1 - mu) if kind == "logistic" else mu
        hessian = X.T @ (X * weight[:, None])
        beta = beta + np.linalg.solve(hessian, X.T @ (t - mu))
    return beta, np.sqrt(np.diag(np.linalg.inv(hessian)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["logistic", "poisson"])
def test_a_likelihood_fit_is_the_maximum_likelihood_estimate(run, here, kind, backend):
    rng = np.random.default_rng(3)
    x = rng.normal(size=400)
    if kind == "logistic":
        t = (rng.uniform(size=400) < 1 / (1 + np.exp(-(0.5 + 1.5 * x)))).astype(float)
    else:
        t = rng.poisson(np.exp(0.3 + 0.8 * x)).astype(float)
    np.savez("glm.npz", x=x, t=t)
    r = run("fit", "t ~ a + b*x", "--data", "glm.npz", "--loss", kind, "-f", "json",
            "--backend", backend)  # fmt: skip
    assert r.code == 0, r
    got = json.loads(r.out)
    beta, se = newton_glm(np.c_[np.ones(400), x], t, kind)
    assert [got["params"]["a"], got["params"]["b"]] == pytest.approx(beta, rel=1e-6)
    assert [got["stderr"]["a"], got["stderr"]["b"]] == pytest.approx(se, rel=1e-6)
    assert got["loss"] == kind and got["converged"] is True
    if kind == "logistic":
        p = 1 / (1 + np.exp(-(beta[0] + beta[1] * x)))
        deviance = -2 * np.sum(t * np.log(p) + (1 - t) * np.log(1 - p))
        assert got["deviance"] == pytest.approx(deviance, rel=1e-9)
        assert got["accuracy"] == pytest.approx(np.mean((p > 0.5) == (t == 1)))


def test_likelihood_targets_are_checked(run, here):
    np.savez("d.npz", x=np.arange(4.0), t=np.array([0, 1, 2, 1.0]))
    r = run("fit", "t ~ a + b*x", "--data", "d.npz", "--loss", "logistic")
    assert r.code == 2 and "a logistic fit's target is 0 or 1 in every row" in r.err
    r = run("fit", "t ~ a + b*x", "--data", "d.npz", "--loss", "cauchy")
    assert r.code == 2 and "unknown loss 'cauchy'" in r.err


def test_plot_draws_the_data_the_curve_and_the_residuals(run, here):
    r = run("fit", "y ~ w*x + b", "--data", "line.csv", "--plot")
    assert r.code == 0, r
    assert "y ~ w*x + b" in r.out and "residuals" in r.out and "fit" in r.out
    png = run("fit", "y ~ w*x + b", "--data", "line.csv", "-o", "fit.png")
    assert png.code == 0 and (here / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    np.savez("two.npz", x=X, z=X**2, y=Y)
    two = run("fit", "y ~ a*x + c*z", "--data", "two.npz", "--plot")
    assert two.code == 2 and "--plot draws a model of one input column" in two.err
    assert two.out == ""  # said before the fit, not after it


def test_parameters_that_are_not_separately_identifiable_are_named(run, here):
    r = run("fit", "y ~ a*b*x + c", "--data", "line.csv", "--start", "a=1,b=2,c=0")
    assert "note: a and b are not separately identifiable: correlation 1.00000" in r.err
    fine = run("fit", "y ~ w*x + b", "--data", "line.csv")
    assert "identifiable" not in fine.err


@pytest.fixture
def outliers(here):
    rng = np.random.default_rng(4)
    x = np.linspace(0, 10, 200)
    y = 2 * x + 1 + rng.normal(scale=0.5, size=200)
    y[::20] += 30  # one row in twenty far off
    np.savez("outliers.npz", x=x, y=y)
    return x, y


@pytest.mark.parametrize("backend", BACKENDS)
def test_huber_is_the_m_estimate_with_hubers_standard_errors(run, outliers, backend):
    from scipy import optimize

    x, y = outliers
    r = run("fit", "y ~ a*x + b", "--data", "outliers.npz", "--loss", "huber", "-f", "json",
            "--backend", backend)  # fmt: skip
    assert r.code == 0, r
    got = json.loads(r.out)
    a, b = got["params"]["a"], got["params"]["b"]
    assert (a, b) == pytest.approx((2.0, 1.0), abs=0.1)  # the outliers do not pull it
    # independently: the scale from the least-squares residuals, then Huber's loss
    ls = np.polyfit(x, y, 1)
    res = y - np.polyval(ls, x)
    delta = 1.345 * 1.4826 * np.median(np.abs(res - np.median(res)))

    def huber(p):
        e = y - (p[0] * x + p[1])
        return np.sum(np.where(np.abs(e) <= delta, 0.5 * e**2, delta * (np.abs(e) - delta / 2)))

    tight = {"xatol": 1e-12, "fatol": 1e-14, "maxiter": 20000}
    want = optimize.minimize(huber, ls, method="Nelder-Mead", options=tight).x
    assert (a, b) == pytest.approx(tuple(want), rel=1e-7)
    e = y - (a * x + b)
    psi, slope = np.clip(e, -delta, delta), (np.abs(e) <= delta).astype(float)
    K = 1 + 2 / 200 * slope.var() / slope.mean() ** 2
    J = np.c_[x, np.ones(200)]
    cov = K**2 * (psi @ psi) / 198 / slope.mean() ** 2 * np.linalg.inv(J.T @ J)
    assert [got["stderr"]["a"], got["stderr"]["b"]] == pytest.approx(
        np.sqrt(np.diag(cov)), rel=1e-6
    )


def test_absolute_is_the_least_absolute_deviations_line(run, outliers):
    from scipy import optimize

    x, y = outliers
    r = run("fit", "y ~ a*x + b", "--data", "outliers.npz", "--loss", "absolute", "-f", "json")
    got = json.loads(r.out)
    n = len(x)  # the L1 line as a linear program: min Σ(u + v), a·x + b + u − v = y
    c = np.r_[0, 0, np.ones(2 * n)]
    A = np.c_[x, np.ones(n), np.eye(n), -np.eye(n)]
    bounds = [(None, None)] * 2 + [(0, None)] * (2 * n)
    lp = optimize.linprog(c, A_eq=A, b_eq=y, bounds=bounds, method="highs")
    a, b = lp.x[:2]
    assert np.sum(np.abs(y - got["params"]["a"] * x - got["params"]["b"])) == pytest.approx(
        lp.fun, rel=1e-9)  # fmt: skip
    assert (got["params"]["a"], got["params"]["b"]) == pytest.approx((a, b), abs=1e-4)
    assert "no standard errors for least absolute deviations" in r.err or got["notes"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_with_word_labels_is_multinomial_logistic_regression(run, here, backend):
    from scipy import optimize

    rng = np.random.default_rng(8)
    x = rng.normal(size=300)
    logits = np.c_[np.zeros(300), 0.5 + 1.2 * x, -0.3 - 0.8 * x]
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    label = np.array([rng.choice(3, p=row) for row in p])
    words = np.array(["cat", "dog", "eel"])[label]  # sorted: cat = 0, dog = 1, eel = 2
    rows = "".join(f"{float(a)!r},{w}\n" for a, w in zip(x, words))
    (here / "pets.csv").write_text("x,kind\n" + rows)
    r = run("fit", "kind ~ 0, a1 + b1*x, a2 + b2*x", "--data", "pets.csv", "--loss", "softmax",
            "-f", "json", "--backend", backend)  # fmt: skip
    assert r.code == 0, r
    got = json.loads(r.out)

    def nll(q):
        z = np.c_[np.zeros(300), q[0] + q[1] * x, q[2] + q[3] * x]
        top = z.max(1)
        return np.sum(top + np.log(np.exp(z - top[:, None]).sum(1)) - z[np.arange(300), label])

    want = optimize.minimize(nll, np.zeros(4), method="BFGS", options={"gtol": 1e-10}).x
    assert [got["params"][n] for n in ("a1", "b1", "a2", "b2")] == pytest.approx(want, abs=1e-5)
    assert got["deviance"] == pytest.approx(2 * nll(want), rel=1e-9)
    assert "classes, in sorted order: cat = 0, dog = 1, eel = 2" in got["notes"]
    wrong = run("fit", "kind ~ 0, a1 + b1*x", "--data", "pets.csv", "--loss", "softmax")
    assert wrong.code == 2 and "the model gives 2 logits and the target has 3 classes" in wrong.err
