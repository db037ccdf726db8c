"""The NIST StRD nonlinear regression files (tests/data/nist) and their parser
(tests/nist.py): every problem loads, and its model, written in adcli's syntax and
evaluated by adcli at the certified estimates, gives the certified residual sum of
squares."""

from __future__ import annotations

import math

import nist
import numpy as np
import pytest

# Lanczos1's certified RSS (1.4e-25) is below what its 13-digit data can show.
ABSOLUTE_RSS = {"Lanczos1": 1e-20}

# NIST's Rat43 file says 9 degrees of freedom for 15 observations and 4 parameters;
# its residual standard deviation is computed with 11.
DOF_AS_PUBLISHED = {"Rat43": 9}


def test_the_27_problems_in_nists_order():
    names = nist.problems()
    assert len(names) == len(set(names)) == 27
    assert names[0] == "Misra1a" and names[-1] == "Bennett5"
    files = sorted(path.name for path in nist.DATA.glob("*.dat"))
    assert files == sorted(nist.path(n).name for n in names)


@pytest.mark.parametrize("name", nist.problems())
def test_problem_loads(name):
    p = nist.load(name.lower())
    k = len(p.params)
    assert p.name == name
    assert p.params == tuple(f"b{i}" for i in range(1, k + 1))
    for point in (p.start1, p.start2, p.certified, p.certified_sd):
        assert len(point) == k and all(math.isfinite(v) for v in point)
    assert p.start1 != p.start2
    assert p.difficulty in ("Lower", "Average", "Higher")
    assert p.y.shape == (p.n,) and np.all(np.isfinite(p.y))
    columns = p.data()
    assert list(columns) == (["x1", "x2"] if name == "Nelson" else ["x"])
    assert all(c.shape == (p.n,) for c in columns.values())
    assert p.dof == DOF_AS_PUBLISHED.get(name, p.n - k)
    assert p.residual_sd == pytest.approx(math.sqrt(p.rss / (p.n - k)), rel=1e-9)
    for word in ("[", "]", "arctan", "+ e"):
        assert word not in p.model


@pytest.mark.parametrize("name", nist.problems())
def test_model_at_certified_estimates_gives_certified_rss(name):
    p = nist.load(name)
    rss = nist.rss(p, p.certified)
    if name in ABSOLUTE_RSS:
        assert abs(rss - p.rss) <= ABSOLUTE_RSS[name]
    else:
        assert rss == pytest.approx(p.rss, rel=1e-6)
    # and not at a start, so the check has teeth
    assert nist.rss(p, p.start1) > rss


def test_models_as_read_from_the_files():
    assert nist.load("misra1a").model == "b1*(1-exp(-b2*x))"
    assert nist.load("roszman1").model == "b1 - b2*x - atan(b3/(x-b4))/pi"
    nelson = nist.load("nelson")
    assert (nelson.response, nelson.model) == ("log(y)", "b1 - b2*x1 * exp(-b3*x2)")
    assert all(nist.load(n).response == "y" for n in nist.problems() if n != "Nelson")
