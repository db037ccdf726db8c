"""NIST StRD (SPEC §9): every nonlinear regression problem, from both certified starts,
fitted by `Expression.fit` to the certified estimates (LRE ≥ 6), standard errors
(LRE ≥ 4) and residual sum of squares (LRE ≥ 6). Lanczos1's certified RSS, 1.4e-25,
is below what float64 residuals can reach: there its RSS and standard errors need
LRE ≥ 2, its estimates still 6."""

from __future__ import annotations

import math

import nist
import pytest

import adcli


def lre(got: float, want: float) -> float:
    """The log relative error: the number of significant digits that agree."""
    error = abs(got - want) / abs(want)
    return min(15.0, -math.log10(error)) if error else 15.0


RUNS = [(name, start) for name in nist.problems() for start in (1, 2)]


@pytest.mark.parametrize("name, start", RUNS, ids=[f"{n}-start{s}" for n, s in RUNS])
def test_nist_problem_from_its_certified_start(name, start):
    p = nist.load(name)
    data = p.data()
    model = adcli.compile(p.model, shapes={column: (None,) for column in data})
    fit = model.fit(p.target(), data, p.values(p.start1 if start == 1 else p.start2))
    assert fit.converged, fit.reason
    estimates = dict(zip(fit.names, fit.estimates))
    errors = dict(zip(fit.names, fit.stderr))
    digits = {
        "estimates": min(lre(estimates[b], c) for b, c in zip(p.params, p.certified)),
        "stderr": min(lre(errors[b], c) for b, c in zip(p.params, p.certified_sd)),
        "rss": lre(fit.rss, p.rss),
    }
    floor = {"estimates": 6, "stderr": 2, "rss": 2} if name == "Lanczos1" else {
        "estimates": 6, "stderr": 4, "rss": 6}  # fmt: skip
    assert all(digits[k] >= floor[k] for k in floor), digits
