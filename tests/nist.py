"""The NIST StRD nonlinear regression problems (tests/data/nist/*.dat), parsed.

``load("misra1a")`` reads one of NIST's 27 files as it is published and gives its data,
its model in adcli's syntax (taken from the file's own "Model:" section, brackets made
parentheses, ``arctan`` made ``atan``), the two certified starting points, and the
certified estimates with their standard deviations, RSS, residual SD and degrees of
freedom. ``problems()`` names the 27 in NIST's order (by level of difficulty).

``rss(problem, values)`` is the residual sum of squares of the model at ``values``,
evaluated by adcli itself: at ``problem.certified`` it gives back ``problem.rss``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data" / "nist"

# NIST's order: the table of datasets on the StRD nonlinear regression page.
_ORDER = (
    "Misra1a Chwirut2 Chwirut1 Lanczos3 Gauss1 Gauss2 DanWood Misra1b "
    "Kirby2 Hahn1 Nelson MGH17 Lanczos1 Lanczos2 Gauss3 Misra1c Misra1d Roszman1 ENSO "
    "MGH09 Thurber BoxBOD Rat42 MGH10 Eckerle4 Rat43 Bennett5"
).split()


@dataclass(frozen=True)
class Problem:
    name: str  # NIST's spelling: "Misra1a", "MGH09", ...
    model: str  # adcli syntax, in the parameters and x (Nelson: x1 and x2)
    response: str  # what the model predicts: "y", or "log(y)" for Nelson
    params: tuple[str, ...]  # b1 ... bk
    start1: list[float]
    start2: list[float]
    certified: list[float]
    certified_sd: list[float]
    rss: float
    residual_sd: float
    dof: int
    n: int
    x: np.ndarray | dict[str, np.ndarray]  # a dict of columns where there are several
    y: np.ndarray
    difficulty: str  # "Lower", "Average" or "Higher"
    model_text: str  # the model as the file writes it

    def values(self, point) -> dict[str, float]:
        """``{b1: ..., bk: ...}`` of a list of parameter values (a start, the estimates)."""
        return dict(zip(self.params, point))

    def data(self) -> dict[str, np.ndarray]:
        """The predictors by the model's names: ``{"x": ...}`` or ``{"x1": ..., "x2": ...}``."""
        return dict(self.x) if isinstance(self.x, dict) else {"x": self.x}

    def target(self) -> np.ndarray:
        """The observations the model is fitted to: ``y``, or ``log(y)`` for Nelson."""
        return np.log(self.y) if self.response == "log(y)" else self.y


def problems() -> list[str]:
    """The 27 problem names in NIST's order."""
    return list(_ORDER)


def path(name: str) -> Path:
    return DATA / f"{_canonical(name).lower()}.dat"


def _canonical(name: str) -> str:
    for known in _ORDER:
        if known.lower() == name.lower():
            return known
    raise KeyError(f"no NIST StRD problem {name!r}; the problems are {', '.join(_ORDER)}")


def _span(lines: list[str], label: str) -> tuple[int, int]:
    """The 1-based line span the header gives for ``label`` ("Data", "Starting Values")."""
    for line in lines[:10]:
        m = re.search(rf"{label}\s+\(lines\s+(\d+)\s+to\s+(\d+)\)", line)
        if m:
            return int(m.group(1)), int(m.group(2))
    raise ValueError(f"no {label!r} line span in the header")


def _number(lines: list[str], label: str) -> str:
    for line in lines:
        if line.startswith(label + ":"):
            return line.split(":", 1)[1].strip()
    raise ValueError(f"no {label!r} line")


def _model(lines: list[str]) -> tuple[str, str, str]:
    """(response, adcli formula, the file's text) from the "Model:" section: the lines
    from the one with ``=`` (not ``pi = ...``) up to the ``+ e`` that ends it."""
    start = next(i for i, line in enumerate(lines) if line.startswith("Model:"))
    parts: list[str] = []
    for line in lines[start + 1 :]:
        text = line.strip()
        if not parts:
            if "=" not in text or text.startswith("pi ="):
                continue  # the class, the parameter count, blanks, pi's value
        parts.append(text)
        if re.search(r"\+\s*e$", text):
            break
    else:
        raise ValueError("the model has no closing '+ e'")
    original = " ".join(parts)
    lhs, rhs = original.split("=", 1)
    rhs = re.sub(r"\+\s*e$", "", rhs.strip()).strip()
    response = lhs.strip().replace("[", "(").replace("]", ")")
    formula = rhs.replace("[", "(").replace("]", ")")
    formula = re.sub(r"\barctan\b", "atan", formula)
    formula = re.sub(r"\(\s+", "(", formula)
    formula = re.sub(r"\s+\)", ")", formula)
    formula = re.sub(r"\s+", " ", formula)
    return response, formula, original


@cache
def load(name: str) -> Problem:
    """The problem ``name`` (any case: "misra1a", "Misra1a", "MGH09")."""
    canonical = _canonical(name)
    lines = path(canonical).read_text(encoding="ascii").splitlines()

    first, last = _span(lines, "Starting Values")
    params, start1, start2, certified, sd = [], [], [], [], []
    for line in lines[first - 1 : last]:
        m = re.match(r"\s*(b\d+)\s*=\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", line)
        if not m:
            raise ValueError(f"{canonical}: not a parameter line: {line!r}")
        params.append(m.group(1))
        for column, text in zip((start1, start2, certified, sd), m.groups()[1:]):
            column.append(float(text))

    first, last = _span(lines, "Data")
    header = lines[first - 2].split()
    if header[0] != "Data:" or header[1] != "y":
        raise ValueError(f"{canonical}: unexpected data header {lines[first - 2]!r}")
    table = np.array([[float(v) for v in line.split()] for line in lines[first - 1 : last]])
    columns = {label: table[:, i] for i, label in enumerate(header[1:])}
    y = columns.pop("y")
    x = columns["x"] if list(columns) == ["x"] else columns

    level = next(line.split()[0] for line in lines if "Level of Difficulty" in line)
    response, formula, original = _model(lines)
    return Problem(
        name=canonical,
        model=formula,
        response=response,
        params=tuple(params),
        start1=start1,
        start2=start2,
        certified=certified,
        certified_sd=sd,
        rss=float(_number(lines, "Residual Sum of Squares")),
        residual_sd=float(_number(lines, "Residual Standard Deviation")),
        dof=int(_number(lines, "Degrees of Freedom")),
        n=int(_number(lines, "Number of Observations")),
        x=x,
        y=y,
        difficulty=level,
        model_text=original,
    )


def rss(problem: Problem, point) -> float:
    """The residual sum of squares of ``problem``'s model at the parameters ``point``,
    evaluated with adcli."""
    import adcli

    f = adcli.compile(problem.model)
    predicted = f(**problem.values(point), **problem.data())
    residual = problem.target() - np.broadcast_to(predicted, problem.y.shape)
    return float(np.sum(residual**2))
