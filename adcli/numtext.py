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


def rounded(value: float | None, digits: int) -> str:
    """``digits`` significant digits; a zero, of either sign, is ``0``."""
    if value is None:
        return ""
    value = float(value)
    if value == 0:
        return "0"
    return f"{value:.{digits}g}" if math.isfinite(value) else repr(value)


def shorter(value: float | None, digits: int, fewer: int) -> str:
    """``rounded(value, digits)``, or the value with only ``fewer`` significant digits
    (in scientific form with a bare exponent, ``1.2e-5``, if that is shorter still)
    when that takes fewer characters: a narrow table's way to show a number whole."""
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


def json_number(value: float) -> float | str:
    value = float(value)
    return value if math.isfinite(value) else repr(value)
