"""The errors adcli raises. Each kind says what went wrong and how to fix it.

The CLI maps ``exit_code`` to the process status (SPEC §5): 2 for wrong input,
1 for a computation that failed at a point.
"""

from __future__ import annotations


class AdcliError(Exception):
    """Base of every error adcli raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The text shown to a user: the message, then the hint if any."""
        return self.message + (f"\n{self.hint}" if self.hint else "")


class ParseError(AdcliError):
    """The expression text is not valid; carries the position (1-based)."""

    def __init__(
        self, message: str, text: str, line: int, column: int, hint: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.text = text
        self.line = line
        self.column = column

    def render(self) -> str:
        lines = self.text.split("\n")
        source = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        column = self.column
        # Keep the caret readable when the line is enormous (a million characters).
        if len(source) > 100:
            start = max(0, column - 50)
            source = ("…" if start else "") + source[start : start + 100]
            column = column - start + (1 if start else 0)
        where = f"line {self.line}, column {self.column}"
        parts = [f"{self.message} ({where})", "  " + source, "  " + " " * (column - 1) + "^"]
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


class BindingError(AdcliError):
    """A point does not fit the expression: a missing, unknown or constant name."""


def not_a_variable(name: str, variables) -> BindingError:
    """A binding or --wrt name that is not a free variable: say what the variables are,
    and which of them only looks like it (a Cyrillic х for a Latin x)."""
    from .ops import CONSTANTS

    listed = ", ".join(variables) if variables else "none"
    if name in CONSTANTS:
        return BindingError(f"{name} is a constant and cannot be bound (variables: {listed})")
    twin = next((v for v in variables if look_alike(v, name)), None)
    hint = None
    if twin is not None:
        hint = f"the expression's {twin} is {spelled(twin)}; you wrote {spelled(name)}"
    return BindingError(f"{name} is not a variable of the expression (variables: {listed})", hint)


# Letters of other scripts drawn like Latin ones: a formula typed on a Cyrillic or
# Greek keyboard can hold a variable that looks like x and is not.
_SKELETON = str.maketrans(
    "аеорсухіјѕԁһԛԝАВЕКМНОРСТХІЈЅαοιкνυτ",
    "aeopcyxijsdhqwABEKMHOPCTXIJSaoiKvuT",
)


def skeleton(name: str) -> str:
    """The name with look-alike letters of other scripts read as Latin ones."""
    return name.translate(_SKELETON)


def look_alike(a: str, b: str) -> bool:
    """Two different names that are drawn the same."""
    return a != b and skeleton(a) == skeleton(b)


def spelled(name: str) -> str:
    """``х (U+0445)``: a name with the code points of its non-ASCII letters."""
    codes = ", ".join(f"U+{ord(c):04X}" for c in name if not c.isascii())
    return f"{name} ({codes})" if codes else f"{name} (ASCII)"


def no_value(name: str, hint: str | None = None) -> BindingError:
    hint = hint or f"give it one: --at {name}=... (or {name}=... in Python)"
    return BindingError(f"no value for {name}", hint)


class UsageError(AdcliError):
    """An option or a point line is wrong."""


class EvaluationError(AdcliError):
    """The computation produced a non-finite number at a point."""

    exit_code = 1
