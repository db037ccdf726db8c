"""What Jupyter shows of adcli's objects (SPEC §12), by IPython's display protocol.

A result class takes ``Displayed`` as a base: Jupyter then asks it for HTML
(``_repr_html_``), and ``repr`` elsewhere gives the text the terminal shows. The
answers come from ``notebook.py`` (the terminal's own writers, into HTML or into
text), which the package installs as ``Displayed.show`` when it is imported: the
core writes no HTML, draws no table and imports nothing of IPython.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Displayed:
    """An object that shows itself: HTML in Jupyter, the terminal's text as ``repr``."""

    # notebook.show(obj, "html" | "text") -> str | None; None until the package is imported
    show: Callable[[Any, str], str | None] | None = None

    def _repr_html_(self) -> str | None:
        return shown(self, "html")

    def __repr__(self) -> str:
        text = shown(self, "text")
        return text if text is not None else object.__repr__(self)


def shown(obj: Any, kind: str) -> str | None:
    """What ``obj`` shows as ``kind``; None if nothing is installed or showing fails (a
    repr must not raise: tracebacks and debuggers call it)."""
    if Displayed.show is None:
        return None
    try:
        return Displayed.show(obj, kind)
    except Exception:
        return None
