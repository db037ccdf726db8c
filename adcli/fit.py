"""Fitting a model to data (SPEC §9, ``adcli fit "TARGET ~ MODEL"``): least squares on
adcli's exact Jacobian, and the statistics of the estimates.

The Jacobian has one row per data row and one column per parameter: each column is
the forward-mode tangent of the model along one parameter (a number, broadcast over
the rows), so it is exact, not a difference quotient. The minimiser is SciPy's:
MINPACK's Levenberg–Marquardt (``lm``) and the trust-region reflective method
(``trf``, which takes bounds), well kept and the reference of the NIST results. A
run tries both from the start and polishes the better one, since each fails where
the other does not (BoxBOD from its first start needs ``trf``).

Many rows (or rows on a Dask cluster) are not handed to the solvers: the R factor of
[J r] is built a block of rows at a time, and the solvers run on its p + 1 rows,
which give them the same JᵀJ, Jᵀr and ‖r‖ (``reduced_least_squares``). Either way
the answer ends with a Gauss–Newton polish (``_polish``), and the statistics come
from R, never from the normal equations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .displayed import Displayed
from .errors import UsageError

METHODS = ("auto", "lm", "trf")
TOLERANCE = 2.220446049250313e-16  # MINPACK's smallest: machine epsilon
# For many rows a relative change of 1e-12 in the cost is far below what the data can
# tell, and the last iterations to machine epsilon cost as much as the fit
LARGE_TOLERANCE = 1e-12
MAX_EVALUATIONS = 20000  # per solver run; NIST's hardest problems take a few hundred
SMALL = 10**5  # rows × parameters below which auto also runs trf (milliseconds there)
BLOCK_ROWS = 1 << 16  # rows of [J r] decomposed at a time


def split(text: str) -> tuple[str, str]:
    """``"y ~ a*x + b"`` → ``("y", "a*x + b")``; a ``UsageError`` without one ``~``."""
    parts = text.split("~")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        what = (
            "no ~" if len(parts) == 1 else "more than one ~" if len(parts) > 2 else "an empty side"
        )
        raise UsageError(
            f"a fit is TARGET ~ MODEL, and {text.strip()!r} has {what}",
            "write the column to fit, ~, then the model: y ~ a*exp(-b*x) + c",
        )
    return parts[0].strip(), parts[1].strip()


class Fit(Displayed):
    """A least-squares fit: the estimates and what they are worth. It shows itself as
    the terminal draws it (``displayed``): the parameter table and the statistics."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.estimates: list[float] = []
        self.stderr: list[float] = []
        self.tvalues: list[float] = []
        self.ci95: list[tuple[float, float]] = []
        self.cov: list[list[float]] = []
        self.corr: list[list[float]] = []
        self.rss = math.nan
        self.n = 0
        self.dof = 0
        self.sigma = math.nan  # the residual standard error, √(RSS/dof)
        self.r2 = math.nan
        self.iterations = 0  # Jacobian evaluations
        self.evaluations = 0  # residual evaluations
        self.method = ""
        self.reason = ""
        self.converged = False
        self.notes: list[str] = []  # what the statistics say is doubtful (identifiability)
        self.fitted: Any = None  # the model at the estimates, by row
        self.residuals: Any = None  # target − fitted, by row
        self.loss = "squares"
        self.deviance = math.nan  # likelihood losses: twice the negative log-likelihood
        self.accuracy = math.nan  # logistic: the share of rows on the right side of 0.5


def least_squares(
    model: Callable[..., tuple[Any, list[Any]]],
    target: Any,
    names: Sequence[str],
    start: Sequence[float],
    *,
    weights: Any = None,
    bounds: tuple[Sequence[float], Sequence[float]] | None = None,
    method: str = "auto",
) -> Fit:
    """Minimise Σ wᵢ(tᵢ − mᵢ)² over the parameters, from ``start``. ``model(p)`` gives
    the model's values by row and its derivative by each parameter (arrays of the
    rows, or numbers where one does not depend on the row); ``model(p, rows)`` the
    same for a slice of the rows."""
    import numpy as np

    target = np.asarray(target, dtype=np.float64)
    n, p = target.size, len(names)
    root_w = None if weights is None else np.sqrt(np.asarray(weights, dtype=np.float64))
    if root_w is not None and not (np.isfinite(root_w).all() and (root_w >= 0).all()):
        raise UsageError("weights must be finite numbers ≥ 0")

    at = _last(model)  # residuals and Jacobian want the model at the same x

    def residuals(x: np.ndarray) -> np.ndarray:
        m, _ = at(x)
        r = target - np.broadcast_to(m, target.shape)
        return r if root_w is None else root_w * r

    def jacobian_t(x: np.ndarray) -> np.ndarray:
        """Jᵀ, a row per parameter: MINPACK's own layout (no copy on its way in)."""
        _, dm = at(x)
        Jt = np.empty((p, n))  # a new one each time: a solver may keep the last
        for i, d in enumerate(dm):
            np.negative(np.broadcast_to(d, target.shape), out=Jt[i])
            if root_w is not None:
                Jt[i] *= root_w
        return Jt

    total = _spread(target, None if weights is None else np.asarray(weights, dtype=np.float64))
    if n * p > SMALL:  # many rows: the solvers on the R of [J r], made a block at a time
        fit = reduced_least_squares(
            lambda x: augmented_r(lambda rows: model(x, rows), target, root_w), n, names, start,
            total=total, bounds=bounds, method=method,
        )  # fmt: skip
        x = np.asarray(fit.estimates)
    else:  # the solvers on the rows; the R of [J r] cut from the model they made
        best = _minimise(residuals, jacobian_t, n, start, bounds, method)
        fit = _outcome(best, names)
        with np.errstate(all="ignore"):  # a fit that failed has non-finite statistics
            x, R, rss = _polish(
                fit, best.x, lambda x: augmented_r(sliced(*at(x), n), target, root_w), bounds
            )  # fmt: skip
            _statistics(fit, x, rss, R[:p, :p], n, total)
    with np.errstate(all="ignore"):
        m, _ = at(x)
        fit.fitted = np.broadcast_to(m, target.shape).copy()
        fit.residuals = target - fit.fitted
    return fit


def _last(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``function`` that gives its last answer again for the same x (an array): a
    solver asks for the residuals, the Jacobian, the gradient at one x in turn."""
    last: list = [None, None]

    def remembered(x: Any) -> Any:
        key = x.tobytes()
        if last[0] != key:
            last[0], last[1] = key, function(x)
        return last[1]

    return remembered


def _spread(target: Any, w: Any = None) -> float:
    """Σ wᵢ(tᵢ − t̄)², t̄ the weighted mean: what R² measures the residuals against."""
    import numpy as np

    if w is None:
        return float(np.sum(np.square(target - np.mean(target)))) if target.size else math.nan
    total = float(np.sum(w))
    if not total > 0:
        return math.nan
    return float(np.sum(w * np.square(target - float(np.dot(w, target)) / total)))


def augmented_r(evaluate: Callable[[slice], tuple[Any, Sequence[Any]]], target: Any,
                root_w: Any = None) -> tuple[Any, float]:  # fmt: skip
    """The R factor of the QR of [J r] over the rows of ``target`` (J the residuals'
    Jacobian, −∂m by each parameter; r = target − m; each row times its root weight),
    and rᵀr. Its top left is J's R; its last column Qᵀr, whose norm is ‖r‖.

    A block of rows at a time: ``evaluate(rows)`` gives the model's values and its
    derivatives on a slice of rows (numbers where one is the same on every row), so
    that no array of every row is made, and each block's work stays in cache."""
    import numpy as np
    from scipy.linalg.lapack import dgeqrf as geqrf

    rows = np.size(target)
    factors, rss, A = [], 0.0, None
    for start in range(0, rows, BLOCK_ROWS):
        block = slice(start, min(start + BLOCK_ROWS, rows))
        size = block.stop - block.start
        m, dm = evaluate(block)
        if A is None:  # LAPACK's layout: no copy on the way in
            A = np.empty((min(rows, BLOCK_ROWS), len(dm) + 1), order="F")
        a, p = A[:size], len(dm)
        for i, d in enumerate(dm):
            np.negative(np.broadcast_to(d, (size,)), out=a[:, i])
        np.subtract(target[block], np.broadcast_to(m, (size,)), out=a[:, p])
        if root_w is not None:
            a *= root_w[block, None]
        rss += float(a[:, p] @ a[:, p])
        if not np.isfinite(a).all():  # the solver sees it, and stops
            return np.full((min(rows, p + 1), p + 1), math.nan), rss
        # LAPACK's QR in place, its R alone: numpy's qr copies the block and makes more
        qr, tau, work, info = geqrf(a, overwrite_a=True)
        factors.append(np.triu(qr[: p + 1]))
    if len(factors) == 1:
        return factors[0], rss
    return np.linalg.qr(np.vstack(factors), mode="r"), rss


def sliced(m: Any, dm: Sequence[Any], rows: int) -> Callable[[slice], tuple[Any, list[Any]]]:
    """``augmented_r``'s ``evaluate`` for values already made for every row."""
    import numpy as np

    def cut(value: Any, block: slice) -> Any:
        return value[block] if np.ndim(value) else value

    return lambda block: (cut(m, block), [cut(d, block) for d in dm])


def reduced_least_squares(
    system: Callable[[Any], tuple[Any, float]],
    n: int,
    names: Sequence[str],
    start: Sequence[float],
    *,
    total: float,
    bounds: tuple[Sequence[float], Sequence[float]] | None = None,
    method: str = "auto",
) -> Fit:
    """The least-squares fit of ``least_squares`` when the rows are elsewhere (the
    partitions of ``--engine dask``): ``system(x)`` gives the R factor of the QR of
    [J r] over all ``n`` rows (its p + 1 columns: J's, then the residuals') and the
    residual sum of squares; ``total`` is the target's weighted sum of squares about
    its mean (for R²).

    With f = R[:, p] and J̃ = R[:, :p], J̃ᵀJ̃ = JᵀJ, J̃ᵀf = Jᵀr and ‖f‖ = ‖r‖: every
    number MINPACK and trf take from the residuals and the Jacobian is the same, so
    the solvers take the same steps as on the rows themselves (to rounding), and the
    statistics come from the same R."""
    import numpy as np

    p = len(names)
    at = _last(system)

    def residuals(x: np.ndarray) -> np.ndarray:
        return at(x)[0][:, p].copy()

    def jacobian_t(x: np.ndarray) -> np.ndarray:
        return at(x)[0][:, :p].T.copy()

    best = _minimise(residuals, jacobian_t, n, start, bounds, method)
    fit = _outcome(best, names)
    with np.errstate(all="ignore"):
        x, R, rss = _polish(fit, best.x, at, bounds)
        _statistics(fit, x, rss, R[:p, :p], n, total)
    return fit


POLISH_STEPS = 4
POLISH_REACH = 1e-6  # a polishing step moves no estimate by more than this, relatively


def _polish(fit: Fit, x: Any, system, bounds) -> tuple[Any, Any, float]:
    """Gauss–Newton steps from the solver's answer while they keep the cost: the
    solvers stop once the cost stops falling by more than its rounding, which leaves
    the estimates wherever that happens in a valley flat to rounding (up to 1e-7 apart
    from merely reordering the rows on NIST's hard problems). The Gauss–Newton step,
    −R⁻¹Qᵀr from the R of [J r], is as exact as the residuals are, and lands on the
    point where Jᵀr vanishes: the same point from any order of the rows, on any
    engine. Only small steps are taken (a polish, not a search), none out of bounds,
    and only from a fit that converged. The estimates, and the R and rᵀr there."""
    import numpy as np
    from scipy.linalg import solve_triangular

    R, rss = system(x)
    if not fit.converged:
        return x, R, rss
    p = len(x)
    lower, upper = bounds if bounds is not None else ([-np.inf] * p, [np.inf] * p)
    gap = float(np.linalg.norm(R[:p, p]))  # ‖Qᵀr‖, whose square a Gauss–Newton step gains
    for _ in range(POLISH_STEPS):
        try:
            step = -solve_triangular(R[:p, :p], R[:p, p])
        except (ValueError, np.linalg.LinAlgError):
            break
        if not (np.isfinite(step).all() and (np.abs(step) <= POLISH_REACH * np.abs(x)).all()):
            break
        if (np.abs(step) <= 4 * np.finfo(float).eps * np.abs(x)).all():
            break  # there already, to rounding
        ahead = x + step
        if (ahead < lower).any() or (ahead > upper).any():
            break
        R_ahead, rss_ahead = system(ahead)
        fit.evaluations += 1
        fit.iterations += 1
        if not rss_ahead <= rss * (1.0 + 1e-12):  # no worse, to rounding
            break
        x, R, rss = ahead, R_ahead, rss_ahead
        gap, before = float(np.linalg.norm(R[:p, p])), gap
        if not gap <= 0.5 * before:  # the gain is down to rounding: no step pays now
            break
    return x, R, rss


def _minimise(residuals, jacobian_t, n: int, start, bounds, method: str) -> Any:
    """The best of the solver runs ``method`` asks for, from ``start``: SciPy's result,
    its ``method`` the solver that found it."""
    import numpy as np
    from scipy import optimize

    p = len(start)
    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}", "choose one of: " + ", ".join(METHODS))
    if n < p:
        raise UsageError(f"{p} parameters cannot be fitted to {n} rows",
                         "a fit needs at least as many rows as parameters")  # fmt: skip
    lower, upper = bounds if bounds is not None else ([-np.inf] * p, [np.inf] * p)
    bounded = any(math.isfinite(v) for v in (*lower, *upper))
    if method == "lm" and bounded:
        raise UsageError(
            "lm takes no bounds", "leave out {method=lm}: trf keeps the bounds", options=True
        )
    x0 = np.clip(np.asarray(start, dtype=np.float64), lower, upper)
    # auto: lm, and trf beside it where a run costs little (or where lm failed), since
    # each stops short where the other does not (BoxBOD from its first start needs
    # trf); the better of the two is polished by lm
    tries = ["trf"] if bounded else [method] if method != "auto" else ["lm"]
    runs = []
    with np.errstate(all="ignore"):
        tol = TOLERANCE if n * p <= SMALL else LARGE_TOLERANCE
        for kind in tries:
            runs.append(_solve(optimize, residuals, jacobian_t, x0, kind, (lower, upper), tol))
        if method == "auto" and not bounded and (n * p <= SMALL or not runs[0].success):
            runs.append(_solve(optimize, residuals, jacobian_t, x0, "trf", (lower, upper), tol))
        best = min(runs, key=lambda r: r.cost if math.isfinite(r.cost) else math.inf)
        if not bounded and method == "auto" and best.method == "trf":
            polished = _solve(optimize, residuals, jacobian_t, best.x, "lm", (lower, upper), tol)
            polished.nfev += best.nfev
            polished.njev = (polished.njev or 0) + (best.njev or 0)
            if polished.cost <= best.cost:
                best = polished
    return best


def _outcome(best: Any, names: Sequence[str]) -> Fit:
    fit = Fit(names)
    fit.method = "lm" if best.method == "lm" else "trf"
    fit.evaluations = int(best.nfev)
    fit.iterations = int(best.njev or best.nfev)
    fit.converged = bool(best.success) and math.isfinite(best.cost)
    fit.reason = _reason(best)
    return fit


def _solve(optimize: Any, residuals, jacobian_t, x0, kind: str, bounds, tol: float) -> Any:
    """One SciPy run: ``lm`` by MINPACK's own driver (``leastsq``, as ``curve_fit``
    calls it: Jᵀ goes in as it is, scaled by its columns like ``x_scale="jac"``),
    ``trf`` by ``least_squares``. A run that fails on its own (a start where the model
    is not finite) is a failed result, not an exception."""
    import numpy as np

    try:
        if kind == "lm":
            x, _, info, message, status = optimize.leastsq(
                residuals, x0, Dfun=jacobian_t, col_deriv=True, full_output=True,
                ftol=tol, xtol=tol, gtol=tol, maxfev=MAX_EVALUATIONS,
            )  # fmt: skip
            result = optimize.OptimizeResult(
                x=x, cost=0.5 * float(info["fvec"] @ info["fvec"]), success=status in (1, 2, 3, 4),
                status=_LEASTSQ_STATUS.get(status, -1), message=message, nfev=info["nfev"],
                njev=info.get("njev", 0),
            )  # fmt: skip
        else:
            result = optimize.least_squares(
                residuals, x0, jac=lambda x: jacobian_t(x).T, method=kind, x_scale="jac",
                ftol=tol, xtol=tol, gtol=tol, max_nfev=MAX_EVALUATIONS, bounds=bounds,
            )  # fmt: skip
    except (ValueError, np.linalg.LinAlgError) as error:
        result = optimize.OptimizeResult(x=x0, cost=math.inf, success=False, status=-1,
                                         message=str(error), nfev=0, njev=0)  # fmt: skip
    result.method = kind
    return result


# MINPACK's info (leastsq's ier) as least_squares' status: 1 the value (ftol), 2 the
# step (xtol), 3 both, 4 the gradient (gtol); 5 too many evaluations
_LEASTSQ_STATUS = {1: 2, 2: 3, 3: 4, 4: 1, 5: 0}


def _reason(result: Any) -> str:
    """SciPy's stop, in the words of SPEC §9's result."""
    if not math.isfinite(result.cost):
        return "the model is not finite at the start"
    return {
        -1: "failed", 0: "max-evaluations", 1: "gradient", 2: "value", 3: "step",
        4: "value and step",
    }.get(result.status, str(result.message))  # fmt: skip


def _statistics(fit: Fit, x, rss: float, R, n: int, total: float) -> None:
    """Standard errors from s²(JᵀJ)⁻¹ (as NIST certifies them), t values, 95 %
    intervals from the t distribution, RSS, σ, R², and the correlations. ``R`` has
    JᵀJ = RᵀR (J itself, or the R of its QR); ``total`` is the target's weighted sum
    of squares about its mean."""
    import numpy as np
    from scipy import special  # its t quantile, without scipy.stats' import (0.5 s)

    p = len(x)
    fit.n, fit.dof = n, n - p
    fit.estimates = [float(v) for v in x]
    fit.rss = float(rss)
    fit.sigma = math.sqrt(fit.rss / fit.dof) if fit.dof > 0 else math.nan
    fit.r2 = 1.0 - fit.rss / total if total > 0 else math.nan
    if p == 0:
        return
    if not np.isfinite(R).all():  # a fit that failed: no statistics to speak of
        fit.stderr, fit.tvalues = [math.nan] * p, [math.nan] * p
        fit.ci95 = [(math.nan, math.nan)] * p
        fit.cov = fit.corr = [[math.nan] * p for _ in range(p)]
        return
    # (JᵀJ)⁻¹ from the SVD of R: no normal equations, whose condition is the square
    _, s, vt = np.linalg.svd(R, full_matrices=False)
    tiny = s[0] * max(n, p) * np.finfo(float).eps if s.size else 0.0
    inverse = (vt.T / np.where(s > tiny, s, np.inf) ** 2) @ vt
    cov = inverse * (fit.sigma**2 if fit.dof > 0 else math.nan)
    se = np.sqrt(np.diag(cov))
    fit.cov = cov.tolist()
    fit.stderr = se.tolist()
    with np.errstate(all="ignore"):
        corr = cov / np.outer(se, se)
    fit.corr = corr.tolist()
    fit.tvalues = (x / se).tolist()
    quantile = special.stdtrit(fit.dof, 0.975) if fit.dof > 0 else math.nan
    fit.ci95 = [(float(v - quantile * e), float(v + quantile * e)) for v, e in zip(x, se)]
    if (s <= tiny).any():
        fit.notes.append("the parameters are not separately identifiable here: JᵀJ is singular")
    for i in range(p):
        for j in range(i):
            if abs(corr[i, j]) > 0.9999:
                fit.notes.append(f"{fit.names[j]} and {fit.names[i]} are not separately "
                                 f"identifiable: correlation {corr[i, j]:.5f}")  # fmt: skip


# --- likelihood losses: Newton's method on the exact gradient and Hessian ------------------

LIKELIHOODS = ("logistic", "poisson")
NORMAL_975 = 1.959963984540054  # the standard normal's 97.5 % quantile: Wald intervals


def maximum_likelihood(
    value_grad_hess: Callable[[Sequence[float]], tuple[float, Any, Any]],
    names: Sequence[str],
    start: Sequence[float],
    n: int,
) -> Fit:
    """Minimise a negative log-likelihood by a trust-region Newton method (SciPy's
    ``trust-exact``) on its exact gradient and Hessian; standard errors from the
    inverse Hessian at the estimate, Wald 95 % intervals (±1.96 σ)."""
    import numpy as np
    from scipy import optimize

    evaluate = _last(value_grad_hess)

    with np.errstate(all="ignore"):
        result = optimize.minimize(
            lambda x: evaluate(x)[0], np.asarray(start, dtype=np.float64),
            jac=lambda x: np.asarray(evaluate(x)[1], dtype=np.float64),
            hess=lambda x: np.asarray(evaluate(x)[2], dtype=np.float64),
            method="trust-exact", options={"gtol": 1e-10, "maxiter": 1000},
        )  # fmt: skip
        fit = Fit(names)
        fit.method = "newton"
        fit.n, fit.dof = n, n - len(names)
        fit.evaluations = int(result.nfev)
        fit.iterations = int(result.nit)
        # SciPy stops with "a bad approximation" once the trust region cannot shrink
        # further at the optimum: the gradient there says whether it converged
        f, g, _ = evaluate(result.x)
        small = float(np.linalg.norm(g)) <= 1e-8 * max(1.0, abs(f))
        fit.converged = math.isfinite(f) and (bool(result.success) or small)
        fit.reason = "gradient" if fit.converged else str(result.message)
        fit.estimates = [float(v) for v in result.x]
        fit.deviance = 2.0 * float(result.fun)
        hessian = np.asarray(evaluate(result.x)[2], dtype=np.float64)
        cov = np.linalg.pinv(hessian, hermitian=True)
        se = np.sqrt(np.diag(cov))
        fit.cov, fit.stderr = cov.tolist(), se.tolist()
        fit.corr = (cov / np.outer(se, se)).tolist()
        fit.tvalues = (result.x / se).tolist()
        fit.ci95 = [(float(v - NORMAL_975 * e), float(v + NORMAL_975 * e))
                    for v, e in zip(result.x, se)]  # fmt: skip
    return fit


# --- robust losses: huber, absolute -------------------------------------------------------

ROBUST = ("huber", "absolute")
HUBER_K = 1.345  # Huber's constant: 95 % efficiency at normal errors
MAD_TO_SIGMA = 1.4826  # the MAD of normal errors times this is their σ


def robust_scale(residuals: Any) -> float:
    """σ of the residuals from their median absolute deviation, which outliers do not
    move (0 where half the residuals are 0)."""
    import numpy as np

    r = np.asarray(residuals, dtype=np.float64)
    return MAD_TO_SIGMA * float(np.median(np.abs(r - np.median(r))))


def huber_statistics(fit: Fit, J: Any, r: Any, delta: float) -> None:
    """Huber's (1981) covariance of an M-estimate: K² · Σψ²/(n − p) / (mean ψ′)² ·
    (JᵀJ)⁻¹, with ψ the residuals clipped at ±δ and K = 1 + (p/n)·var ψ′/(mean ψ′)²."""
    import numpy as np
    from scipy import special

    n, p = J.shape
    psi = np.clip(r, -delta, delta)
    slope = (np.abs(r) <= delta).astype(np.float64)
    mean = float(np.mean(slope))
    if mean == 0.0 or n <= p:
        fit.notes.append("no standard errors: no residual is within the Huber scale")
        fit.stderr = [math.nan] * p
        return
    K = 1.0 + (p / n) * float(np.var(slope)) / mean**2
    factor = K**2 * float(psi @ psi) / (n - p) / mean**2
    inverse = np.linalg.pinv(J.T @ J, hermitian=True)
    cov = factor * inverse
    se = np.sqrt(np.diag(cov))
    x = np.asarray(fit.estimates)
    fit.cov, fit.stderr = cov.tolist(), se.tolist()
    with np.errstate(all="ignore"):
        fit.corr = (cov / np.outer(se, se)).tolist()
        fit.tvalues = (x / se).tolist()
    quantile = special.stdtrit(n - p, 0.975)
    fit.ci95 = [(float(v - quantile * e), float(v + quantile * e)) for v, e in zip(x, se)]
