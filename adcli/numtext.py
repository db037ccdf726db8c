"""Numbers as text: in full for machines, rounded for people.

``full`` is the shortest text that reads back to the same float; ``rounded`` keeps
``--digits`` significant digits; ``shorter`` is how a narrow table shows a number
whole. A zero prints as ``0.0`` / ``0`` whatever its sign (SPEC §8); JSON keeps the
float as computed, and spells non-finite numbers as strings so it stays valid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Num = Callable[[Any], str]  # how a table writes one number (None: an empty cell)


def full(value: float) -> str:
    """The shortest text that reads back to the same float; a zero is ``0.0`` whatever
    its sign (SPEC §8: no ``-0.0`` where the exact answer is 0)."""
    value = float(value)
    return "0.0" if value == 0 else repr(value)


SHOWN_WHOLE = 4  # an array of at most this many elements is shown in full in a table
JSON_WHOLE = 10_000  # and in JSON as nested lists; larger ones as a summary


def rounded(value: float | None, digits: int) -> str:
    """``digits`` significant digits; a zero, of either sign, is ``0``. An array: its
    elements so (nested brackets), or when large its shape and range (SPEC §10)."""
    if value is None:
        return ""
    if getattr(value, "ndim", 0):
        return array_text(value, lambda v: rounded(v, digits))
    value = float(value)
    if value == 0:
        return "0"
    return f"{value:.{digits}g}" if math.isfinite(value) else repr(value)


def shorter(value: float | None, digits: int, fewer: int) -> str:
    """``rounded(value, digits)``, or the value with only ``fewer`` significant digits
    (in scientific form with a bare exponent, ``1.2e-5``, if that is shorter still)
    when that takes fewer characters: a narrow table's way to show a number whole."""
    if getattr(value, "ndim", 0):
        return array_text(value, lambda v: shorter(v, digits, fewer))
    text = rounded(value, digits)
    if value is None or fewer >= digits or not math.isfinite(value) or value == 0:
        return text
    options = [text, _bare_exponent(f"{value:.{fewer}g}"), _bare_exponent(f"{value:.{fewer - 1}e}")]
    return min(options, key=len)  # the first of the shortest: whole digits win a tie


def _bare_exponent(text: str) -> str:
    """``1.2e+05`` → ``1.2e5``, ``1.2e-05`` → ``1.2e-5``: the same float, fewer characters."""
    mantissa, e, exponent = text.partition("e")
    if not e:
        return text
    sign = "-" if exponent.startswith("-") else ""
    return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"


def numbers(digits: int, fewer: int | None = None) -> Num:
    """How a table writes its numbers: ``rounded`` to ``digits``, or ``shorter`` with
    ``fewer`` digits when the table must shrink."""
    if fewer is None or fewer >= digits:
        return lambda v: rounded(v, digits)
    return lambda v: shorter(v, digits, fewer)


def array_text(array: Any, write: Callable[[float], str]) -> str:
    """``[1, 2.5]``, ``[[1, 2], [3, 4]]`` for a few elements; else the shape and the
    range, ``[128×32] 0…3.71`` (a nan or an inf among them is named)."""
    if array.size <= SHOWN_WHOLE:
        return _nested(array.tolist(), write)
    shape = "×".join(str(d) for d in array.shape)
    finite = array[_isfinite(array)]
    if finite.size == 0:
        return f"[{shape}] no finite element"
    text = f"[{shape}] {write(finite.min())}…{write(finite.max())}"
    return text if finite.size == array.size else f"{text}, and nan/inf"


def _isfinite(array: Any) -> Any:
    import numpy as np

    return np.isfinite(array)


def _nested(values: Any, write: Callable[[float], str]) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v, write) for v in values) + "]"
    return write(values)


def json_number(value: float) -> float | str | list | dict:
    """A number for JSON (non-finite ones as strings); an array as nested lists up to
    ``JSON_WHOLE`` elements, beyond as its shape and summary statistics."""
    if getattr(value, "ndim", 0):
        if value.size <= JSON_WHOLE:
            return _nested_json(value.tolist())
        finite = value[_isfinite(value)]
        summary = (
            {"min": finite.min(), "max": finite.max(), "mean": finite.mean()} if finite.size else {}
        )
        return {"shape": list(value.shape), **{k: float(v) for k, v in summary.items()},
                "nonfinite": int(value.size - finite.size)}  # fmt: skip
    value = float(value)
    return value if math.isfinite(value) else repr(value)


def _nested_json(values: Any) -> Any:
    if isinstance(values, list):
        return [_nested_json(v) for v in values]
    return values if math.isfinite(values) else repr(values)
