"""The errors adcli raises. Each kind says what went wrong and how to fix it.

The CLI maps ``exit_code`` to the process status (SPEC §5): 2 for wrong input,
1 for a computation that failed at a point.

The library names options the way its caller does: a text written with ``options``
names them as ``{lr}`` or ``{method=central}``; ``spell`` writes them as the Python
API's keywords (``lr``, ``method="central"``), or with the spelling the caller
gives (the command line's flags, ``--lr``, are spelled in cli.py). So the core
words no command-line flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Spelling = Callable[[str, "str | None"], str]  # (option, value or None) -> its text

_OPTION = re.compile(r"\{([a-z_]+)(?:=([^{}\s]*))?\}")  # {lr}, {method=central}
_KEYWORDS = {"at": "", "maximize": "maximize=True"}  # API spellings other than the name


def keyword(name: str, value: str | None) -> str:
    """An option as the Python API spells it: ``lr``, ``method="central"``, ``cse=False``."""
    if value is None:
        return _KEYWORDS.get(name, name)
    plain = value in ("True", "False") or value.replace(".", "", 1).replace("e-", "").isdigit()
    return f"{name}={value}" if plain else f'{name}="{value}"'


def spell(text: str, spelling: Spelling | None = None) -> str:
    """A text naming options as ``{lr}`` or ``{method=central}``, the options spelled
    by ``spelling`` (default: as the API's keywords); any other brace is left alone."""
    if "{" not in text:
        return text
    spelling = spelling or keyword
    return _OPTION.sub(lambda m: spelling(m.group(1), m.group(2)), text)


class AdcliError(Exception):
    """Base of every error adcli raises on purpose. With ``options``, the message and
    the hint name options as ``{lr}`` (see ``spell``): ``message`` and ``hint`` are
    the API's wording; ``render(spelling)`` spells them another way."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None, *, options: bool = False) -> None:
        self._texts = (message, hint) if options else None
        if options:
            message, hint = spell(message), spell(hint) if hint else hint
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self, spelling: Spelling | None = None) -> str:
        """The text shown to a user: the message, then the hint if any; options
        spelled by ``spelling`` (the command line's flags) where the text names them."""
        message, hint = self.message, self.hint
        if spelling is not None and self._texts is not None:
            message = spell(self._texts[0], spelling)
            hint = spell(self._texts[1], spelling) if self._texts[1] else None
        return message + (f"\n{hint}" if hint else "")

    def __reduce__(self):
        # Whole, whatever the subclass's __init__ takes: a Dask worker's error reaches
        # the client pickled (SPEC §11), and must say there what it said on the worker.
        return _rebuilt, (type(self), self.args, self.__dict__)

    def prefixed(self, where: str) -> AdcliError:
        """The same error, its message starting with ``where`` (``line 3 of f.csv: ``)."""
        self.message = where + self.message
        if self._texts is not None:
            self._texts = (where + self._texts[0], self._texts[1])
        return self


def _rebuilt(kind: type, args: tuple, state: dict) -> AdcliError:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class ParseError(AdcliError):
    """The expression text is not valid; carries the position (1-based)."""

    def __init__(
        self, message: str, text: str, line: int, column: int, hint: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.text = text
        self.line = line
        self.column = column

    def render(self, spelling: Spelling | None = None) -> str:
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


def not_a_variable(name: str, variables, constants=()) -> BindingError:
    """A binding or wrt name that is not a free variable: say what the variables are,
    which of them only looks like it (a Cyrillic х for a Latin x), or that it is one of
    the language's ``constants``."""
    listed = ", ".join(variables) if variables else "none"
    if name in constants:
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
    """A variable without a value; ``hint`` names options as ``{at}``."""
    return BindingError(f"no value for {name}", hint or f"give it one: {{at}}{name}=...",
                        options=True)  # fmt: skip


class UsageError(AdcliError):
    """An option or a point line is wrong."""


class ShapeError(AdcliError):
    """Shapes that do not fit together (SPEC §10); the parser adds where."""


class EvaluationError(AdcliError):
    """The computation produced a non-finite number at a point."""

    exit_code = 1
